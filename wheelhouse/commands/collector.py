"""How a long command sets Python's garbage collector, and glibc's allocator, while it runs.

A resolution makes and drops millions of small objects, none of them in
reference cycles that matter; with the default setting the collector runs every
700 allocations and, in its full passes, walks every object the run holds
(imported modules, parsed pages). Freezing what exists once the imports are done
hides those from every pass, and a higher first threshold makes the passes rare.
Memory freed by reference counting, nearly all of it, is freed at once as before.

A run also reads pages of megabytes, each body one large block freed once the
page is parsed. glibc maps a large block on its own (and gives it back when
freed) only up to a threshold it raises each time such a block is freed: after
the first large page, the next ones come from its heaps, whose freed space it
mostly keeps. On glibc, the threshold is held at its starting value (128 KiB)
for the rest of the process, so the resident set follows what the run holds.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
from collections.abc import Iterator

__all__ = ["FIRST_THRESHOLD", "MMAP_THRESHOLD", "collecting_rarely", "hold_mmap_threshold"]

#: Allocations between two collections of the youngest generation (Python's default: 700).
FIRST_THRESHOLD = 50_000
#: Blocks at least this large are mapped on their own (glibc's starting threshold).
MMAP_THRESHOLD = 128 * 1024
#: glibc's ``mallopt`` parameter for it.
_M_MMAP_THRESHOLD = -3


@contextlib.contextmanager
def collecting_rarely(first: int = FIRST_THRESHOLD) -> Iterator[None]:
    """Freeze the objects alive now and collect rarely until the block ends.

    For a command's whole run, entered once its modules are imported; the
    collector's settings are restored on the way out. On glibc, large blocks
    are mapped on their own from now on (:func:`hold_mmap_threshold`).
    """
    hold_mmap_threshold()
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(first, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def hold_mmap_threshold() -> bool:
    """On glibc, map every block of :data:`MMAP_THRESHOLD` or more on its own, for good.

    Whether the setting was made: not on another C library, nor when glibc
    refuses it. It stays for the process (glibc cannot say what it was), which
    costs a mapping per large block and keeps no freed large block resident.
    """
    if not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False
