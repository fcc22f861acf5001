"""Errors of a wheelhouse directory: not one, busy, unreadable files and archives."""

from __future__ import annotations

from wheelhouse.errors import WheelhouseError

__all__ = [
    "BadDirectory",
    "CannotServe",
    "MetadataError",
    "NotALockSource",
    "NotAWheelhouse",
    "UnreadableFile",
    "WheelhouseBusy",
]


class NotAWheelhouse(WheelhouseError):
    """A directory that is neither empty nor a wheelhouse."""

    def __init__(
        self, path: str, reason: str = "it is not empty and has no wheelhouse.toml"
    ) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason
        self.hint = "pass -w with an empty or new directory, or an existing wheelhouse"

    def __str__(self) -> str:
        return f"{self.path} is not a wheelhouse: {self.reason}"


class WheelhouseBusy(WheelhouseError):
    """Another process holds the wheelhouse's lock."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path
        self.hint = "wait for the other build to finish, then run again"

    def __str__(self) -> str:
        return f"{self.path} is being written by another process"


class BadDirectory(WheelhouseError):
    """A directory argument that is missing, not a directory, or lacks what is needed."""

    def __init__(
        self, path: str, reason: str, hint: str = "pass a directory of wheels and sdists"
    ) -> None:
        super().__init__(path, reason)
        self.path, self.reason, self.hint = path, reason, hint

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class CannotServe(WheelhouseError):
    """The server cannot listen on the address asked for."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(host, port, reason)
        self.host, self.port, self.reason = host, port, reason
        self.hint = "pick another --port (0 picks a free one) or --host"

    def __str__(self) -> str:
        return f"cannot listen on {self.host}:{self.port}: {self.reason}"


class NotALockSource(WheelhouseError):
    """A diff argument that is neither a wheelhouse nor a lock file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason
        self.hint = "pass a wheelhouse directory (with wheelhouse.toml) or a locks/<target>.txt"

    def __str__(self) -> str:
        return f"{self.path} is neither a wheelhouse nor a lock file: {self.reason}"


class UnreadableFile(WheelhouseError):
    """A lock or manifest of a wheelhouse that does not parse."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason
        self.hint = "rebuild the wheelhouse (wheelhouse build) to rewrite its locks and manifest"

    def __str__(self) -> str:
        return f"cannot read {self.path}: {self.reason}"


class MetadataError(ValueError):
    """A distribution archive whose core metadata cannot be read, and why.

    Not shown to users as such: each caller turns it into its own error
    (a skipped file, a corrupt file, a failed download, a bad sdist).
    """

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(file, reason)
        self.file, self.reason = file, reason

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}" if self.file else self.reason
