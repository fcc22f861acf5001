"""Errors of talking to an index: unreachable, a failed download, a hash mismatch."""

from __future__ import annotations

from dataclasses import dataclass

from wheelhouse.errors import WheelhouseError
from wheelhouse.model.urls import redact

__all__ = [
    "DownloadError",
    "HashMismatch",
    "IndexUnreachable",
]


@dataclass(eq=False)
class IndexUnreachable(WheelhouseError):
    """The index did not answer usefully after the retries."""

    url: str
    reason: str

    def __post_init__(self) -> None:
        # Logs and CI output outlive the run: no index token may reach them.
        self.url, self.reason = redact(self.url), redact(self.reason)
        super().__post_init__()

    def __str__(self) -> str:
        return f"cannot fetch {self.url}: {self.reason}"

    @property
    def hint(self) -> str:
        return "check the index URL (--index-url) and the network, then run again"


@dataclass(eq=False)
class DownloadError(IndexUnreachable):
    """A file could not be downloaded."""


@dataclass(eq=False)
class HashMismatch(WheelhouseError):
    """A downloaded file's digest differs from the one the index announced."""

    url: str
    expected: str
    actual: str

    def __post_init__(self) -> None:
        self.url = redact(self.url)
        super().__post_init__()

    def __str__(self) -> str:
        return f"sha256 of {self.url} is {self.actual}, expected {self.expected}"

    @property
    def hint(self) -> str:
        return "the file was discarded; the index or a proxy serves corrupted data"
