"""Errors of a wheelhouse directory: not one, busy, unreadable files and archives."""

from __future__ import annotations

from dataclasses import dataclass

from wheelhouse.errors import WheelhouseError

__all__ = [
    "BadDirectory",
    "CannotServe",
    "MetadataError",
    "MetadataTooLarge",
    "NotALockSource",
    "NotAWheelhouse",
    "UnreadableFile",
    "WheelhouseBusy",
]


@dataclass(eq=False)
class NotAWheelhouse(WheelhouseError):
    """A directory that is neither empty nor a wheelhouse."""

    path: str
    reason: str = "it is not empty and has no wheelhouse.toml"

    def __str__(self) -> str:
        return f"{self.path} is not a wheelhouse: {self.reason}"

    @property
    def hint(self) -> str:
        return "pass -w with an empty or new directory, or an existing wheelhouse"


@dataclass(eq=False)
class WheelhouseBusy(WheelhouseError):
    """Another process holds the wheelhouse's lock."""

    path: str

    def __str__(self) -> str:
        return f"{self.path} is being written by another process"

    @property
    def hint(self) -> str:
        return "wait for the other build to finish, then run again"


@dataclass(eq=False)
class BadDirectory(WheelhouseError):
    """A directory argument that is missing, not a directory, or lacks what is needed.

    The caller knows what the directory was for, so it may give its own ``hint``.
    """

    path: str
    reason: str
    hint: str = "pass a directory of wheels and sdists"

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(eq=False)
class CannotServe(WheelhouseError):
    """The server cannot listen on the address asked for."""

    host: str
    port: int
    reason: str

    def __str__(self) -> str:
        return f"cannot listen on {self.host}:{self.port}: {self.reason}"

    @property
    def hint(self) -> str:
        return "pick another --port (0 picks a free one) or --host"


@dataclass(eq=False)
class NotALockSource(WheelhouseError):
    """A diff argument that is neither a wheelhouse nor a lock file."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} is neither a wheelhouse nor a lock file: {self.reason}"

    @property
    def hint(self) -> str:
        return "pass a wheelhouse directory (with wheelhouse.toml) or a locks/<target>.txt"


@dataclass(eq=False)
class UnreadableFile(WheelhouseError):
    """A lock or manifest of a wheelhouse that does not parse."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"cannot read {self.path}: {self.reason}"

    @property
    def hint(self) -> str:
        return "rebuild the wheelhouse (wheelhouse build) to rewrite its locks and manifest"


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


class MetadataTooLarge(MetadataError):
    """An archive member larger than the limit once decompressed: a compressed bomb."""
