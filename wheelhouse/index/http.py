"""HTTP for the index client: one httpx client, retries with backoff, ranges, verified downloads.

Failures worth another try (connection errors, timeouts, 5xx and 429 answers,
bodies shorter than their Content-Length) are retried with exponential backoff
before an error names the URL. Ranges and hashes are about the bytes as stored,
so those requests ask for no content encoding.

Nothing an index sends is trusted to be small or quick (:class:`Limits`): every
body is streamed with a cap, pages and metadata are decompressed here, a bounded
amount at a time, and every answer has a deadline, a fixed one for pages,
metadata and ranges, a minimum average rate for downloads
(:mod:`~wheelhouse.index.bodies` reads them). A breach raises
:class:`LimitExceeded`, never retried: an index that sent it once would again.
Redirects are followed wherever they lead, as pip does (indexes keep files on
storage services, and a page could link there anyway; file bytes are checked
against the page's digest wherever they come from), except from https to plain
http, which would let anyone on the way rewrite a page and its digests.
Credentials (:mod:`~wheelhouse.index.credentials`) follow no redirect to another
host: httpx drops the header there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import TypeVar

import httpx

from wheelhouse import __version__
from wheelhouse.house.layout import part_name
from wheelhouse.index.bodies import (
    ENCODINGS,
    Cap,
    Clock,
    Retry,
    check_complete,
    decoded_body,
    partial_body,
    raise_for_retry,
    raw_body,
    spool,
)
from wheelhouse.index.credentials import Credentials
from wheelhouse.index.errors import (
    AccessDenied,
    DownloadError,
    HashMismatch,
    IndexUnreachable,
    Untrusted,
)
from wheelhouse.index.tls import verified_context
from wheelhouse.index.transport import DeadlineTransport
from wheelhouse.model.limits import Limits

__all__ = [
    "IDENTITY",
    "Fetched",
    "Http",
    "Tail",
]

_V = TypeVar("_V")

#: Headers for ranges and hashed downloads: the bytes as stored, never a re-encoded body.
IDENTITY = {"Accept-Encoding": "identity"}


@dataclass(frozen=True, slots=True)
class Fetched:
    """A whole answer: its status, final URL, headers and (for a 2xx) decoded body."""

    status: int
    url: str
    headers: httpx.Headers
    content: bytes


#: The end of a wheel: (start, total size, bytes), or the whole file from a server
#: that ignores ranges, spooled (the caller closes it).
Tail = tuple[int, int, bytes] | SpooledTemporaryFile[bytes]


class Http:
    """One thread-safe httpx client, and the retries and limits every request goes through.

    ``index_url`` is the URL a certificate bundle that cannot be loaded is
    reported against. ``transport`` replaces the network, TLS included;
    ``http2`` defaults to on when the ``h2`` package is importable.
    ``credentials`` authenticate each request to its own host (without them, only
    credentials in a request's URL are sent).
    """

    def __init__(
        self,
        index_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        http2: bool | None = None,
        limits: Limits | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self._retries, self._backoff = retries, backoff
        self._credentials = credentials
        self.limits = limits or Limits()
        http2 = _h2_available() if http2 is None else http2
        verify: ssl.SSLContext | bool = True
        if transport is None:
            verify = context = verified_context(index_url)
            transport = DeadlineTransport(context, http2=http2)
        self._client = httpx.Client(
            transport=transport,
            verify=verify,  # for the transports httpx makes itself, through a proxy
            http2=http2,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=True,
            auth=credentials,
            headers={"User-Agent": f"wheelhouse/{__version__}"},
            event_hooks={"response": [_refuse_downgrade]},
        )

    def close(self) -> None:
        self._client.close()

    def attempts(
        self,
        url: str,
        action: Callable[[], _V],
        error: type[IndexUnreachable] = IndexUnreachable,
    ) -> _V:
        """Run ``action``, retrying transient failures with exponential backoff."""
        reason = ""
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                return action()
            except (
                Retry,
                httpx.TimeoutException,
                httpx.NetworkError,
                httpx.RemoteProtocolError,
            ) as exc:
                reason = str(exc) or type(exc).__name__
            except httpx.HTTPError as exc:
                raise error(url, str(exc) or type(exc).__name__) from None
        raise error(url, f"{reason} (tried {self._retries + 1} times)")

    def fetch(self, url: str, headers: Mapping[str, str], *, limit: str) -> Fetched:
        """The whole answer to a GET, retried; a 2xx body decoded, within a size limit.

        ``limit`` names the field of :class:`Limits` that bounds the body
        (``page_size``, ``metadata_size``). Any status but a retried one is the
        caller's.
        """
        cap = Cap(getattr(self.limits, limit), self.limits.describe(limit))
        return self.attempts(url, partial(self._fetch_once, url, headers, cap))

    def _fetch_once(self, url: str, headers: Mapping[str, str], cap: Cap) -> Fetched:
        clock = Clock(url, self.limits)
        headers = {"Accept-Encoding": ", ".join(ENCODINGS), **headers}
        with clock.watching(), self.stream(url, headers) as response:
            body = decoded_body(response, url, cap, clock) if response.status_code < 300 else b""
            return Fetched(response.status_code, str(response.url), response.headers, body)

    @contextmanager
    def stream(self, url: str, headers: Mapping[str, str]) -> Iterator[httpx.Response]:
        """One streamed GET, not retried: a status worth a retry raises for :meth:`attempts`.

        A 401 or 403 raises :class:`AccessDenied`, saying where the credentials sent
        came from.
        """
        with self._client.stream("GET", url, headers=headers) as response:
            raise_for_retry(response)
            if response.status_code in (401, 403):
                raise AccessDenied(url, self._refusal(response))
            yield response

    def _refusal(self, response: httpx.Response) -> str:
        status = f"HTTP {response.status_code}"
        if self._credentials is None:
            return status
        return f"{status}; {self._credentials.describe(str(response.url))}"

    def range(self, url: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``url``, retried like every request."""
        got, _total, data = self.attempts(
            url, partial(self._range_once, url, start, end), DownloadError
        )
        if got != start or len(data) != end - start:
            raise DownloadError(url, f"asked for bytes {start}-{end - 1}, got another range")
        return data

    def _range_once(self, url: str, start: int, end: int) -> tuple[int, int, bytes]:
        clock = Clock(url, self.limits)
        headers = {**IDENTITY, "Range": f"bytes={start}-{end - 1}"}
        with clock.watching(), self.stream(url, headers) as response:
            return partial_body(response, url, end - start, clock)

    def tail(self, url: str, size: int) -> Tail:
        """The last ``size`` bytes of ``url``; a server that ignores ranges sends it all."""
        return self.attempts(url, partial(self._tail_once, url, size), DownloadError)

    def _tail_once(self, url: str, size: int) -> Tail:
        # A server that ignores the range sends the whole wheel: time it as a download.
        clock = Clock(url, self.limits, rate=True)
        with clock.watching(), self.stream(url, {**IDENTITY, "Range": f"bytes=-{size}"}) as answer:
            if answer.status_code == 200:
                return spool(answer, self._download_body(answer, url, None, clock))
            return partial_body(answer, url, size, Clock(url, self.limits))

    def download(
        self,
        url: str,
        dest: Path,
        *,
        sha256: str | None = None,
        size: int | None = None,
        progress: Callable[[int], None] | None = None,
        check: Callable[[Path, str], None] | None = None,
    ) -> str:
        """Download ``url`` to ``dest`` atomically and return its sha256 (hex).

        The body goes to a temporary file beside ``dest`` and is moved into
        place only once complete, matching ``sha256`` (when given), no larger
        than ``size`` (when the index declared one), and passed by ``check``
        (given the temporary file and its digest), so ``dest`` never holds a
        partial or refused file. ``progress`` receives each chunk's size, and
        the negative total of an attempt that is retried. Raises
        :class:`HashMismatch`, :class:`DownloadError`, :class:`LimitExceeded`,
        or what ``check`` raises.
        """
        temp = dest.with_name(part_name(dest.name))
        try:
            digest = self.attempts(
                url, partial(self._download_once, url, temp, size, progress), DownloadError
            )
            if sha256 and digest != sha256:
                raise HashMismatch(url, sha256, digest)
            if check is not None:
                check(temp, digest)
            os.replace(temp, dest)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = str(dest)  # a full disk names no file; the user needs one
            raise
        return digest

    def _download_once(
        self, url: str, temp: Path, size: int | None, progress: Callable[[int], None] | None
    ) -> str:
        digest, received = hashlib.sha256(), 0
        clock = Clock(url, self.limits, rate=True)
        try:
            with clock.watching(), self.stream(url, IDENTITY) as response, temp.open("wb") as out:
                if response.status_code != 200:
                    raise DownloadError(url, f"HTTP {response.status_code}")
                for chunk in self._download_body(response, url, size, clock):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
                check_complete(response, received)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            if progress is not None and received:
                progress(-received)
            raise
        return digest.hexdigest()

    def _download_body(
        self, response: httpx.Response, url: str, size: int | None, clock: Clock
    ) -> Iterator[bytes]:
        """A file's raw bytes, no more than it may have, no slower than the minimum rate."""
        cap = Cap(self.limits.file_size, self.limits.describe("file_size"))
        if size is not None and size < cap.size:
            cap = Cap(size, f"{size} bytes, the size its index page gives")
        declared = response.headers.get("content-length", "")
        if declared.isdigit():
            cap.check(url, int(declared))  # refused before a byte is read
        received = 0
        for chunk in raw_body(response):
            received += len(chunk)
            clock.check(received)
            cap.check(url, received)
            yield chunk


def _h2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


def _refuse_downgrade(response: httpx.Response) -> None:
    """A redirect from https to http would hand the answer to anyone on the way."""
    location = response.headers.get("location")
    if response.is_redirect and location and response.url.scheme == "https":
        target = response.url.join(location)
        if target.scheme != "https":
            raise Untrusted(
                str(response.url), f"redirected from https to {target.scheme}: {target}"
            )
