"""The write lock of a directory: an exclusive, non-blocking lock on one open file.

``flock`` where there is one; on Windows a lock on the file's first byte.
"""

from __future__ import annotations

import sys
from typing import IO

__all__ = ["try_lock", "unlock"]

if sys.platform == "win32":  # no flock there: a lock on the lock file's first byte
    import msvcrt

    def try_lock(handle: IO[str]) -> bool:
        handle.seek(0)  # both calls must name the same byte
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(handle: IO[str]) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
