"""Errors of talking to an index: unreachable, a failed download, a hash mismatch."""

from __future__ import annotations

from wheelhouse.errors import WheelhouseError
from wheelhouse.model.urls import redact

__all__ = [
    "DownloadError",
    "HashMismatch",
    "IndexUnreachable",
]


class IndexUnreachable(WheelhouseError):
    """The index did not answer usefully after the retries."""

    def __init__(self, url: str, reason: str) -> None:
        # Logs and CI output outlive the run: no index token may reach them.
        url, reason = redact(url), redact(reason)
        super().__init__(url, reason)
        self.url, self.reason = url, reason
        self.hint = "check the index URL (--index-url) and the network, then run again"

    def __str__(self) -> str:
        return f"cannot fetch {self.url}: {self.reason}"


class DownloadError(IndexUnreachable):
    """A file could not be downloaded."""


class HashMismatch(WheelhouseError):
    """A downloaded file's digest differs from the one the index announced."""

    def __init__(self, url: str, expected: str, actual: str) -> None:
        url = redact(url)
        super().__init__(url, expected, actual)
        self.url, self.expected, self.actual = url, expected, actual
        self.hint = "the file was discarded; the index or a proxy serves corrupted data"

    def __str__(self) -> str:
        return f"sha256 of {self.url} is {self.actual}, expected {self.expected}"
