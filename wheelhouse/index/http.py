"""HTTP for the index client: one httpx client, retries with backoff, ranges, verified downloads.

Failures worth another try (connection errors, timeouts, 5xx and 429 answers,
bodies shorter than their Content-Length) are retried with exponential backoff
before an error names the URL. Ranges and hashes are about the bytes as stored,
so those requests ask for no content encoding.

Nothing an index sends is trusted to be small or quick (:class:`Limits`): every
body is streamed with a cap, pages and metadata are decompressed here, a bounded
amount at a time, and every answer has a deadline, a fixed one for pages,
metadata and ranges, a minimum average rate for downloads. A breach raises
:class:`LimitExceeded`, never retried: an index that sent it once would again.
Redirects are followed wherever they lead, as pip does (indexes keep files on
storage services, and a page could link there anyway; file bytes are checked
against the page's digest wherever they come from), except from https to plain
http, which would let anyone on the way rewrite a page and its digests.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import ssl
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import TypeVar

import httpx
from pip._internal.models.index import PyPI

from wheelhouse import __version__
from wheelhouse.house.layout import part_name
from wheelhouse.index.errors import (
    DownloadError,
    HashMismatch,
    IndexUnreachable,
    LimitExceeded,
    Untrusted,
)
from wheelhouse.index.transport import DeadlineTransport, deadline
from wheelhouse.model.limits import Limits

__all__ = [
    "CERT_VARIABLES",
    "IDENTITY",
    "Fetched",
    "Http",
    "Tail",
    "default_index_url",
    "index_url_from",
    "ssl_context",
]

_V = TypeVar("_V")

CHUNK_SIZE = 64 * 1024
#: A wheel read whole (the server ignores ranges) stays in memory up to this size.
SPOOL_SIZE = 8 * 1024 * 1024
#: Most specific first: a bundle given for pip, then for requests, then for OpenSSL.
CERT_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
#: Headers for ranges and hashed downloads: the bytes as stored, never a re-encoded body.
IDENTITY = {"Accept-Encoding": "identity"}
#: The encodings pages and metadata may come in: those decoded here, with a bound.
_ENCODINGS = {"gzip": 31, "x-gzip": 31, "deflate": 47}  # zlib's wbits for each
#: The most one decompression step gives: a bomb grows the body a piece at a time.
_PIECE = 1024 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def default_index_url() -> str:
    """The public index's simple URL as pip knows it, so this repository never spells it."""
    return PyPI.simple_url


def index_url_from(option: str | None) -> str:
    """The index URL: ``--index-url``, else ``WHEELHOUSE_INDEX_URL``, ``PIP_INDEX_URL``, pip's."""
    candidates = (option, os.environ.get("WHEELHOUSE_INDEX_URL"), os.environ.get("PIP_INDEX_URL"))
    return next((url for url in candidates if url), None) or default_index_url()


def ssl_context() -> ssl.SSLContext:
    """Verify TLS with the bundle a variable of :data:`CERT_VARIABLES` names, else the OS store.

    ``ssl.create_default_context()`` loads the system's certificates, which is
    what a corporate proxy's users have configured (certifi's bundle is not).
    """
    for variable in CERT_VARIABLES:
        path = os.environ.get(variable)
        if path and os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        if path:
            return ssl.create_default_context(cafile=path)
    return ssl.create_default_context()


class _Retry(Exception):
    """A failure worth another attempt: a 5xx or 429 answer, or a truncated body."""


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
    ) -> None:
        self._retries, self._backoff = retries, backoff
        self.limits = limits or Limits()
        http2 = _h2_available() if http2 is None else http2
        verify: ssl.SSLContext | bool = True
        if transport is None:
            verify = context = _verify(index_url)
            transport = DeadlineTransport(context, http2=http2)
        self._client = httpx.Client(
            transport=transport,
            verify=verify,  # for the transports httpx makes itself, through a proxy
            http2=http2,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=True,
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
                _Retry,
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
        cap = _Cap(getattr(self.limits, limit), self.limits.describe(limit))
        return self.attempts(url, partial(self._fetch_once, url, headers, cap))

    def _fetch_once(self, url: str, headers: Mapping[str, str], cap: _Cap) -> Fetched:
        clock = _Clock(url, self.limits)
        headers = {"Accept-Encoding": ", ".join(_ENCODINGS), **headers}
        with clock.watching(), self.stream(url, headers) as response:
            body = _body(response, url, cap, clock) if response.status_code < 300 else b""
            return Fetched(response.status_code, str(response.url), response.headers, body)

    @contextmanager
    def stream(self, url: str, headers: Mapping[str, str]) -> Iterator[httpx.Response]:
        """One streamed GET, not retried: a status worth a retry raises for :meth:`attempts`."""
        with self._client.stream("GET", url, headers=headers) as response:
            _raise_for_retry(response)
            yield response

    def range(self, url: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``url``, retried like every request."""
        got, _total, data = self.attempts(
            url, partial(self._range_once, url, start, end), DownloadError
        )
        if got != start or len(data) != end - start:
            raise DownloadError(url, f"asked for bytes {start}-{end - 1}, got another range")
        return data

    def _range_once(self, url: str, start: int, end: int) -> tuple[int, int, bytes]:
        clock = _Clock(url, self.limits)
        headers = {**IDENTITY, "Range": f"bytes={start}-{end - 1}"}
        with clock.watching(), self.stream(url, headers) as response:
            return _partial(response, url, end - start, clock)

    def tail(self, url: str, size: int) -> Tail:
        """The last ``size`` bytes of ``url``; a server that ignores ranges sends it all."""
        return self.attempts(url, partial(self._tail_once, url, size), DownloadError)

    def _tail_once(self, url: str, size: int) -> Tail:
        # A server that ignores the range sends the whole wheel: time it as a download.
        clock = _Clock(url, self.limits, rate=True)
        with clock.watching(), self.stream(url, {**IDENTITY, "Range": f"bytes=-{size}"}) as answer:
            if answer.status_code == 200:
                return self._spool(answer, url, clock)
            return _partial(answer, url, size, _Clock(url, self.limits))

    def _spool(
        self, response: httpx.Response, url: str, clock: _Clock
    ) -> SpooledTemporaryFile[bytes]:
        """The whole body, in memory while small, read as a download is; the caller closes it."""
        spooled: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=SPOOL_SIZE)  # noqa: SIM115
        try:
            for chunk in self._download_body(response, url, None, clock):
                spooled.write(chunk)
            _check_complete(response, spooled.tell())
        except BaseException:
            spooled.close()
            raise
        spooled.seek(0)
        return spooled

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
        clock = _Clock(url, self.limits, rate=True)
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
                _check_complete(response, received)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            if progress is not None and received:
                progress(-received)
            raise
        return digest.hexdigest()

    def _download_body(
        self, response: httpx.Response, url: str, size: int | None, clock: _Clock
    ) -> Iterator[bytes]:
        """A file's raw bytes, no more than it may have, no slower than the minimum rate."""
        cap = _Cap(self.limits.file_size, self.limits.describe("file_size"))
        if size is not None and size < cap.size:
            cap = _Cap(size, f"{size} bytes, the size its index page gives")
        declared = response.headers.get("content-length", "")
        if declared.isdigit():
            cap.check(url, int(declared))  # refused before a byte is read
        received = 0
        for chunk in _raw_body(response):
            received += len(chunk)
            clock.check(received)
            cap.check(url, received)
            yield chunk


@dataclass(frozen=True, slots=True)
class _Cap:
    """A body's largest size, and how a message names it."""

    size: int
    text: str

    def check(self, url: str, size: int) -> None:
        if size > self.size:
            raise LimitExceeded(url, f"the answer is larger than {self.text}")


class _Clock:
    """An answer's deadline: a fixed one, or (``rate``) one that moves as bytes arrive.

    A download has the fixed deadline's time in hand, then must keep up the
    minimum average rate since it started.
    """

    def __init__(self, url: str, limits: Limits, *, rate: bool = False) -> None:
        self._url, self._limits, self._rate = url, limits, rate
        self._start, self._received = time.monotonic(), 0

    def ends(self) -> float:
        """The moment (``time.monotonic``) by which the answer must be done, as of now."""
        allowed = self._limits.deadline
        if self._rate:
            allowed = max(allowed, self._received / self._limits.min_rate)
        return self._start + allowed

    def check(self, received: int) -> None:
        """Raise :class:`LimitExceeded` once ``received`` bytes came too late."""
        self._received = received
        if time.monotonic() > self.ends():
            raise self._breach()

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Hold the network calls inside to :meth:`ends`; a timeout after it is the breach."""
        try:
            with deadline(self.ends):
                yield
        except httpx.TimeoutException:
            if time.monotonic() >= self.ends():
                raise self._breach() from None
            raise

    def _breach(self) -> LimitExceeded:
        if not self._rate:
            breach = f"no whole answer within {self._limits.describe('deadline')}"
        else:
            rate = self._limits.describe("min_rate")
            breach = f"it arrives slower than {rate} after {self._limits.deadline:g} s"
        return LimitExceeded(self._url, breach)


def _verify(index_url: str) -> ssl.SSLContext:
    try:
        return ssl_context()
    except OSError as exc:
        names = ", ".join(CERT_VARIABLES)
        reason = f"cannot load the certificates {names} name: {exc}"
        raise IndexUnreachable(index_url, reason) from None


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


def _raise_for_retry(response: httpx.Response) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise _Retry(f"HTTP {response.status_code}")


def _check_complete(response: httpx.Response, received: int) -> None:
    """A body shorter than its Content-Length is a dropped connection: worth a retry."""
    expected = response.headers.get("content-length", "")
    if expected.isdigit() and int(expected) != received:
        raise _Retry(f"truncated body: {received} of {expected} bytes")


def _raw_body(response: httpx.Response) -> Iterator[bytes]:
    """The body's bytes as sent, each network read as it comes (so a deadline is checked
    between reads); an answer built in memory (a test's) is already read."""
    if response.is_stream_consumed:
        yield response.content
    else:
        yield from response.iter_raw()


def _body(response: httpx.Response, url: str, cap: _Cap, clock: _Clock) -> bytes:
    """The body decoded as its Content-Encoding says, never more than ``cap`` bytes of it."""
    if response.is_stream_consumed:  # built in memory (a test's): httpx decoded it
        cap.check(url, len(response.content))
        _check_complete(response, len(response.content))
        return response.content
    decoder = _Decoder(url, response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if decoder.identity and declared.isdigit():
        cap.check(url, int(declared))  # refused before a byte is read
    body, received = bytearray(), 0
    for chunk in response.iter_raw():
        received += len(chunk)
        clock.check(received)
        for piece in decoder.decode(chunk):
            body += piece
            cap.check(url, len(body))
    _check_complete(response, received)
    return bytes(body)


class _Decoder:
    """Undo one Content-Encoding, giving at most as many bytes as asked for at a time."""

    def __init__(self, url: str, encoding: str) -> None:
        names = [name.strip().lower() for name in encoding.split(",")]
        names = [name for name in names if name and name != "identity"]
        if len(names) > 1 or (names and names[0] not in _ENCODINGS):
            raise Untrusted(url, f"a Content-Encoding this tool did not ask for: {encoding}")
        self._url, self._encoding = url, encoding
        self._zlib = zlib.decompressobj(_ENCODINGS[names[0]]) if names else None

    @property
    def identity(self) -> bool:
        return self._zlib is None

    def decode(self, chunk: bytes) -> Iterator[bytes]:
        """What ``chunk`` decodes to, a bounded piece at a time: a caller that stops
        reading (over its cap) has not had the rest decompressed."""
        if self._zlib is None:
            yield chunk
            return
        while chunk:
            try:
                yield self._zlib.decompress(chunk, _PIECE)
            except zlib.error as exc:
                raise Untrusted(self._url, f"a corrupt {self._encoding} body ({exc})") from None
            chunk = self._zlib.unconsumed_tail


def _partial(
    response: httpx.Response, url: str, most: int, clock: _Clock
) -> tuple[int, int, bytes]:
    """Start, total size and bytes of a 206 answer to a single range of at most ``most`` bytes."""
    if response.status_code != 206:
        raise DownloadError(url, f"HTTP {response.status_code} to a range request")
    match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
    if not match:
        raise DownloadError(url, "a partial answer without a usable Content-Range")
    data = bytearray()
    for chunk in _raw_body(response):
        data += chunk
        clock.check(len(data))
        if len(data) > most:
            raise Untrusted(url, f"more than the {most} bytes asked for in a range request")
    _check_complete(response, len(data))
    return int(match[1]), int(match[3]), bytes(data)
