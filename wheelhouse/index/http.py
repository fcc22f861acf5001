"""HTTP for the index client: one httpx client, retries with backoff, ranges, verified downloads.

Failures worth another try (connection errors, timeouts, 5xx and 429 answers,
bodies shorter than their Content-Length) are retried with exponential backoff
before an error names the URL. Ranges and hashes are about the bytes as stored,
so those requests ask for no content encoding.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import TypeVar

import httpx
from pip._internal.models.index import PyPI

from wheelhouse import __version__
from wheelhouse.house.layout import part_name
from wheelhouse.index.errors import DownloadError, HashMismatch, IndexUnreachable

__all__ = [
    "CERT_VARIABLES",
    "IDENTITY",
    "Http",
    "default_index_url",
    "index_url_from",
    "partial_body",
    "spool",
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


class Http:
    """One thread-safe httpx client, and the retries every request goes through.

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
    ) -> None:
        self._retries, self._backoff = retries, backoff
        self._client = httpx.Client(
            transport=transport,
            verify=_verify(index_url) if transport is None else True,
            http2=_h2_available() if http2 is None else http2,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=True,
            headers={"User-Agent": f"wheelhouse/{__version__}"},
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

    def get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        """The whole answer to a GET, retried; any status but a retried one is the caller's."""
        return self.attempts(url, partial(self._get_once, url, headers))

    def _get_once(self, url: str, headers: dict[str, str]) -> httpx.Response:
        response = self._client.get(url, headers=headers)
        _raise_for_retry(response)
        _check_complete(response, response.num_bytes_downloaded or len(response.content))
        return response

    @contextmanager
    def stream(self, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
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
        with self.stream(url, {**IDENTITY, "Range": f"bytes={start}-{end - 1}"}) as response:
            return partial_body(response, url)

    def download(
        self,
        url: str,
        dest: Path,
        *,
        sha256: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> str:
        """Download ``url`` to ``dest`` atomically and return its sha256 (hex).

        The body goes to a temporary file beside ``dest`` and is moved into
        place only once complete and matching ``sha256`` (when given), so
        ``dest`` never holds a partial file. ``progress`` receives each chunk's
        size, and the negative total of an attempt that is retried. Raises
        :class:`HashMismatch` or :class:`DownloadError`.
        """
        temp = dest.with_name(part_name(dest.name))
        try:
            digest = self.attempts(
                url, partial(self._download_once, url, temp, progress), DownloadError
            )
            if sha256 and digest != sha256:
                raise HashMismatch(url, sha256, digest)
            os.replace(temp, dest)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = str(dest)  # a full disk names no file; the user needs one
            raise
        return digest

    def _download_once(self, url: str, temp: Path, progress: Callable[[int], None] | None) -> str:
        digest, received = hashlib.sha256(), 0
        try:
            with self.stream(url, IDENTITY) as response, temp.open("wb") as out:
                if response.status_code != 200:
                    raise DownloadError(url, f"HTTP {response.status_code}")
                for chunk in _raw_body(response):
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


def _verify(index_url: str) -> ssl.SSLContext:
    try:
        return ssl_context()
    except OSError as exc:
        names = ", ".join(CERT_VARIABLES)
        reason = f"cannot load the certificates {names} name: {exc}"
        raise IndexUnreachable(index_url, reason) from None


def _h2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


def _raise_for_retry(response: httpx.Response) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise _Retry(f"HTTP {response.status_code}")


def _check_complete(response: httpx.Response, received: int) -> None:
    """A body shorter than its Content-Length is a dropped connection: worth a retry."""
    expected = response.headers.get("content-length", "")
    if expected.isdigit() and int(expected) != received:
        raise _Retry(f"truncated body: {received} of {expected} bytes")


def _raw_body(response: httpx.Response) -> Iterator[bytes]:
    """The body's bytes as sent; an answer built in memory (a test's) is already read."""
    if response.is_stream_consumed:
        yield response.content
    else:
        yield from response.iter_raw(CHUNK_SIZE)


def partial_body(response: httpx.Response, url: str) -> tuple[int, int, bytes]:
    """Start, total size and bytes of a 206 answer to a single range."""
    if response.status_code != 206:
        raise DownloadError(url, f"HTTP {response.status_code} to a range request")
    match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
    if not match:
        raise DownloadError(url, "a partial answer without a usable Content-Range")
    data = b"".join(_raw_body(response))
    _check_complete(response, len(data))
    return int(match[1]), int(match[3]), data


def spool(response: httpx.Response) -> SpooledTemporaryFile[bytes]:
    """The whole body, in memory while small; the caller closes it."""
    spooled: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=SPOOL_SIZE)  # noqa: SIM115
    try:
        for chunk in _raw_body(response):
            spooled.write(chunk)
        _check_complete(response, spooled.tell())
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled
