"""Reading an answer's body without trusting it: capped, timed, decoded a bounded piece at a time.

Every body is read a network read at a time, under a size cap (:class:`Cap`)
and a deadline (:class:`Clock`); pages and metadata are decompressed here
(:class:`Decoder`), so a small compressed answer cannot grow past its cap
unnoticed. A body shorter than its Content-Length raises :class:`Retry`, which
the HTTP client retries; a breach of a limit raises :class:`LimitExceeded`.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile

import httpx

from wheelhouse.index.errors import DownloadError, LimitExceeded, Untrusted
from wheelhouse.index.transport import deadline
from wheelhouse.model.limits import Limits

__all__ = [
    "ENCODINGS",
    "SPOOL_SIZE",
    "Cap",
    "Clock",
    "Decoder",
    "Retry",
    "check_complete",
    "decoded_body",
    "partial_body",
    "raise_for_retry",
    "raw_body",
    "spool",
]

#: A wheel read whole (the server ignores ranges) stays in memory up to this size.
SPOOL_SIZE = 8 * 1024 * 1024
#: The encodings pages and metadata may come in: those decoded here, with a bound.
ENCODINGS = {"gzip": 31, "x-gzip": 31, "deflate": 47}  # zlib's wbits for each
#: The most one decompression step gives: a bomb grows the body a piece at a time.
_PIECE = 1024 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class Retry(Exception):
    """A failure worth another attempt: a 5xx or 429 answer, or a truncated body."""


@dataclass(frozen=True, slots=True)
class Cap:
    """A body's largest size, and how a message names it."""

    size: int
    text: str

    def check(self, url: str, size: int) -> None:
        if size > self.size:
            raise LimitExceeded(url, f"the answer is larger than {self.text}")


class Clock:
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


def raise_for_retry(response: httpx.Response) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise Retry(f"HTTP {response.status_code}")


def check_complete(response: httpx.Response, received: int) -> None:
    """A body shorter than its Content-Length is a dropped connection: worth a retry."""
    expected = response.headers.get("content-length", "")
    if expected.isdigit() and int(expected) != received:
        raise Retry(f"truncated body: {received} of {expected} bytes")


def raw_body(response: httpx.Response) -> Iterator[bytes]:
    """The body's bytes as sent, each network read as it comes (so a deadline is checked
    between reads); an answer built in memory (a test's) is already read."""
    if response.is_stream_consumed:
        yield response.content
    else:
        yield from response.iter_raw()


def decoded_body(response: httpx.Response, url: str, cap: Cap, clock: Clock) -> bytes:
    """The body decoded as its Content-Encoding says, never more than ``cap`` bytes of it."""
    if response.is_stream_consumed:  # built in memory (a test's): httpx decoded it
        cap.check(url, len(response.content))
        check_complete(response, len(response.content))
        return response.content
    decoder = Decoder(url, response.headers.get("content-encoding", ""))
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
    check_complete(response, received)
    return bytes(body)


class Decoder:
    """Undo one Content-Encoding, giving at most as many bytes as asked for at a time."""

    def __init__(self, url: str, encoding: str) -> None:
        names = [name.strip().lower() for name in encoding.split(",")]
        names = [name for name in names if name and name != "identity"]
        if len(names) > 1 or (names and names[0] not in ENCODINGS):
            raise Untrusted(url, f"a Content-Encoding this tool did not ask for: {encoding}")
        self._url, self._encoding = url, encoding
        self._zlib = zlib.decompressobj(ENCODINGS[names[0]]) if names else None

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


def partial_body(
    response: httpx.Response, url: str, most: int, clock: Clock
) -> tuple[int, int, bytes]:
    """Start, total size and bytes of a 206 answer to a single range of at most ``most`` bytes."""
    if response.status_code != 206:
        raise DownloadError(url, f"HTTP {response.status_code} to a range request")
    match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
    if not match:
        raise DownloadError(url, "a partial answer without a usable Content-Range")
    data = bytearray()
    for chunk in raw_body(response):
        data += chunk
        clock.check(len(data))
        if len(data) > most:
            raise Untrusted(url, f"more than the {most} bytes asked for in a range request")
    check_complete(response, len(data))
    return int(match[1]), int(match[3]), bytes(data)


def spool(response: httpx.Response, chunks: Iterator[bytes]) -> SpooledTemporaryFile[bytes]:
    """``chunks`` of ``response``'s body, in memory while small; the caller closes it."""
    spooled: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=SPOOL_SIZE)  # noqa: SIM115
    try:
        for chunk in chunks:
            spooled.write(chunk)
        check_complete(response, spooled.tell())
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled
