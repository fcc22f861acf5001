"""The base of every error the tool explains, and operating-system errors.

Every error the tool reports on purpose derives from :class:`WheelhouseError`.
Each is a dataclass whose fields are its data, in the order of its positional
arguments; ``str(error)`` is the message and ``error.hint`` says what to do
next. The CLI prints them as ``error: ...`` and ``hint: ...`` in one place.
Errors live with their feature, in the ``errors`` module of each subpackage.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, fields

__all__ = ["FileSystemError", "WheelhouseError", "printable"]


def printable(text: str) -> str:
    """``text`` with every character a terminal or a parser could act on escaped, as repr does.

    Line breaks, escape sequences and bidirectional controls in a name or a request
    line come out as ``\\n``, ``\\x1b``, ``\\u202e``: a log or a comment line stays one
    harmless line. Backslashes are escaped too, so an escape cannot be forged.
    """
    return "".join(
        char if char.isprintable() and char != "\\" else repr(char)[1:-1] for char in text
    )


@dataclass(eq=False)
class WheelhouseError(Exception):
    """Base class of every error the tool explains to its user.

    Not frozen, since raising sets ``__traceback__`` and friends; ``eq=False``
    keeps the identity hash that exception handling relies on.
    """

    def __post_init__(self) -> None:
        # ``args`` holds the data, as for any exception; only the positional
        # fields, so that ``cls(*args)`` (how exceptions are copied) still works.
        positional = (field.name for field in fields(self) if not field.kw_only)
        super().__init__(*(getattr(self, name) for name in positional))

    @property
    def hint(self) -> str:
        """What the user can do next; empty when there is no advice."""
        return ""


_WRITABLE = "choose a writable location (-w, --tmp-dir, --cache-dir) or fix its permissions"


_ERRNO_HINTS = {
    errno.ENOSPC: "free some disk space, or point the command at another filesystem",
    errno.EACCES: _WRITABLE,
    errno.EPERM: _WRITABLE,
    errno.EROFS: _WRITABLE,
    errno.ENOENT: "check that the path exists",
    errno.ENOTDIR: "check that every parent of the path is a directory",
}


@dataclass(eq=False)
class FileSystemError(WheelhouseError):
    """An operating-system error: a missing directory, no permission, a full disk."""

    path: str | None
    reason: str
    code: int | None = None

    @classmethod
    def from_os_error(cls, exc: OSError) -> FileSystemError:
        """The error an ``OSError`` stands for, naming its file when it has one."""
        path = None if exc.filename is None else str(exc.filename)
        return cls(path, exc.strerror or str(exc) or type(exc).__name__, exc.errno)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason

    @property
    def hint(self) -> str:
        return _ERRNO_HINTS.get(self.code or 0, "check the path and its permissions, then retry")
