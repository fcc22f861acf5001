"""Errors of talking to an index: unreachable, a failed download, a hash mismatch, a refusal."""

from __future__ import annotations

from dataclasses import dataclass

from wheelhouse.errors import WheelhouseError
from wheelhouse.model.urls import redact

__all__ = [
    "AccessDenied",
    "DownloadError",
    "HashMismatch",
    "IndexUnreachable",
    "LimitExceeded",
    "Untrusted",
]

#: Where the user reads what is checked, and how to change a limit.
_README = 'the README\'s "Trust model and limits"'


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
class AccessDenied(DownloadError):
    """The index answered 401 or 403: no credentials, or ones it refuses.

    ``reason`` names the status and where the credentials sent came from, never
    the credentials themselves.
    """

    def __str__(self) -> str:
        return f"access denied to {self.url}: {self.reason}"

    @property
    def hint(self) -> str:
        return (
            "credentials are read from the index URL (https://USER:TOKEN@host/simple), "
            "then $NETRC or ~/.netrc (machine HOST), then the keyring command "
            "(keyring get URL USER, for https://USER@host/simple); see the README's "
            '"Private indexes and credentials"'
        )


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


@dataclass(eq=False)
class LimitExceeded(WheelhouseError):
    """An answer that breaks a limit: too large, too slow, too deep; nothing of it is kept.

    ``breach`` says which limit, with its value and the variable that sets it.
    """

    url: str
    breach: str

    def __post_init__(self) -> None:
        self.url = redact(self.url)
        super().__post_init__()

    def __str__(self) -> str:
        return f"refused {self.url}: {self.breach}"

    @property
    def hint(self) -> str:
        return (
            "no real index sends this, so nothing of it was kept; if yours does, raise "
            f"the limit (see {_README})"
        )


@dataclass(eq=False)
class Untrusted(WheelhouseError):
    """A file or its metadata that is not what the index says it is; nothing of it is kept."""

    url: str
    reason: str

    def __post_init__(self) -> None:
        self.url, self.reason = redact(self.url), redact(self.reason)
        super().__post_init__()

    def __str__(self) -> str:
        return f"refused {self.url}: {self.reason}"

    @property
    def hint(self) -> str:
        return (
            "the index (or a proxy) serves a file that is not what its page says; nothing of "
            f"it was kept (see {_README})"
        )
