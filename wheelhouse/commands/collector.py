"""How a long command sets Python's garbage collector while it runs.

A resolution makes and drops millions of small objects, none of them in
reference cycles that matter; with the default setting the collector runs every
700 allocations and, in its full passes, walks every object the run holds
(imported modules, parsed pages). Freezing what exists once the imports are done
hides those from every pass, and a higher first threshold makes the passes rare.
Memory freed by reference counting, nearly all of it, is freed at once as before.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["FIRST_THRESHOLD", "collecting_rarely"]

#: Allocations between two collections of the youngest generation (Python's default: 700).
FIRST_THRESHOLD = 50_000


@contextlib.contextmanager
def collecting_rarely(first: int = FIRST_THRESHOLD) -> Iterator[None]:
    """Freeze the objects alive now and collect rarely until the block ends.

    For a command's whole run, entered once its modules are imported; the
    collector's settings are restored on the way out.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(first, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
