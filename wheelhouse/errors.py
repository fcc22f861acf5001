"""The base of every error the tool explains, and operating-system errors.

Every error the tool reports on purpose derives from :class:`WheelhouseError`.
``str(error)`` is the one-line message; ``error.hint`` says what to do next.
The CLI prints them as ``error: ...`` and ``hint: ...`` in one place. Errors live
with their feature, in the ``errors`` module of each subpackage.
"""

from __future__ import annotations

import errno

__all__ = ["FileSystemError", "WheelhouseError"]


class WheelhouseError(Exception):
    """Base class of every error the tool explains to its user."""

    hint: str = ""


_WRITABLE = "choose a writable location (-w, --tmp-dir, --cache-dir) or fix its permissions"


_ERRNO_HINTS = {
    errno.ENOSPC: "free some disk space, or point the command at another filesystem",
    errno.EACCES: _WRITABLE,
    errno.EPERM: _WRITABLE,
    errno.EROFS: _WRITABLE,
    errno.ENOENT: "check that the path exists",
    errno.ENOTDIR: "check that every parent of the path is a directory",
}


class FileSystemError(WheelhouseError):
    """An operating-system error: a missing directory, no permission, a full disk."""

    def __init__(self, path: str | None, reason: str, code: int | None = None) -> None:
        super().__init__(path, reason, code)
        self.path, self.reason, self.code = path, reason, code
        self.hint = _ERRNO_HINTS.get(code or 0, "check the path and its permissions, then retry")

    @classmethod
    def from_os_error(cls, exc: OSError) -> FileSystemError:
        """The error an ``OSError`` stands for, naming its file when it has one."""
        path = None if exc.filename is None else str(exc.filename)
        return cls(path, exc.strerror or str(exc) or type(exc).__name__, exc.errno)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason
