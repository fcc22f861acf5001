"""The index client: project pages, wheel metadata and downloads over one HTTP client.

This is the only module that speaks HTTP. One :class:`IndexClient` serves every
target and thread of a run: pages and metadata are fetched at most once (a
failure is not kept: the next caller tries again), and failures worth another
try (connection errors, timeouts, 5xx, truncated bodies) are retried with
exponential backoff before an error names the URL.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import TypeVar

import httpx
from packaging.utils import NormalizedName, canonicalize_name
from pip._internal.models.index import PyPI

from wheelhouse import __version__
from wheelhouse.house.errors import MetadataError
from wheelhouse.house.layout import metadata_name, part_name
from wheelhouse.house.metadata import wheel_metadata
from wheelhouse.index.cache import Cache, CachedPage
from wheelhouse.index.errors import DownloadError, HashMismatch, IndexUnreachable
from wheelhouse.index.rangezip import RangeFile
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.pages import ACCEPT, ProjectPage, merge_pages, parse_page

__all__ = [
    "IndexClient",
    "ProjectPage",
    "default_index_url",
    "index_url_from",
    "ssl_context",
]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

#: The first read of a remote wheel: its end holds the zip's central directory,
#: and usually the ``.dist-info`` files, which wheel builders write last.
TAIL_SIZE = 64 * 1024
CHUNK_SIZE = 64 * 1024
#: A wheel read whole (the server ignores ranges) stays in memory up to this size.
SPOOL_SIZE = 8 * 1024 * 1024
#: Most specific first: a bundle given for pip, then for requests, then for OpenSSL.
CERT_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# Ranges and hashes are about the bytes as stored, never a re-encoded body.
_IDENTITY = {"Accept-Encoding": "identity"}


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


class IndexClient:
    """Read one main index and any extra indexes through one shared, thread-safe HTTP client.

    Every method may be called from several threads at once. ``transport``
    replaces the network, TLS included (tests pass an ``httpx.MockTransport``);
    ``http2`` defaults to on when the ``h2`` package is importable.
    """

    def __init__(
        self,
        index_urls: Sequence[str],
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        jobs: int = 8,
        http2: bool | None = None,
        cache: Cache | None = None,
    ) -> None:
        if not index_urls:
            raise ValueError("at least one index URL is needed")
        self.index_urls = tuple(url.rstrip("/") for url in index_urls)
        self._retries, self._backoff, self._jobs = retries, backoff, jobs
        self._cache = cache
        self._http = httpx.Client(
            transport=transport,
            verify=self._verify() if transport is None else True,
            http2=_h2_available() if http2 is None else http2,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=True,
            headers={"User-Agent": f"wheelhouse/{__version__}"},
        )
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, NormalizedName], Future[ProjectPage]] = {}
        self._raw_pages: dict[tuple[str, NormalizedName], Future[CachedPage | None]] = {}
        self._metadata: dict[str, Future[bytes]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    def _verify(self) -> ssl.SSLContext:
        try:
            return ssl_context()
        except OSError as exc:
            names = ", ".join(CERT_VARIABLES)
            reason = f"cannot load the certificates {names} name: {exc}"
            raise IndexUnreachable(self.index_urls[0], reason) from None

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        # A failure or Ctrl-C must not wait for background work nobody will read.
        self.close(wait=exc_type is None)

    def close(self, *, wait: bool = True) -> None:
        """Cancel pending prefetches, close the connections; ``wait`` for running ones first."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
        self._http.close()

    # Project pages

    def project_files(self, name: str) -> ProjectPage:
        """The files every index lists for ``name`` (main index first); empty when unknown.

        Raises :class:`IndexUnreachable` when an index fails after the retries.
        """
        project = canonicalize_name(name)
        return merge_pages(self._page(index, project) for index in self.index_urls)

    def prefetch(self, names: Iterable[str]) -> None:
        """Start fetching the pages of ``names`` in the background; errors surface later."""
        for name in names:
            project = canonicalize_name(name)
            for index in self.index_urls:
                with self._lock:
                    known = (index, project) in self._pages
                if not known:
                    self._executor().submit(self._page, index, project)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the index client is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._jobs, thread_name_prefix="wheelhouse-index")
            return self._pool

    def page_digests(self, names: Iterable[str]) -> dict[str, str]:
        """The sha256 of every index's page of each project, fetched concurrently, not parsed.

        Equal digests mean equal pages: what a resolution read has not changed.
        """
        projects = sorted({canonicalize_name(name) for name in names})
        pool = self._executor()
        futures = {
            project: [pool.submit(self._raw_page, index, project) for index in self.index_urls]
            for project in projects
        }
        try:
            return {
                project: _digest(future.result() for future in pending)
                for project, pending in futures.items()
            }
        except BaseException:
            for future in (future for pending in futures.values() for future in pending):
                future.cancel()  # the first failure decides: the rest would be waited for
            raise

    def _page(self, index: str, project: NormalizedName) -> ProjectPage:
        return self._once(self._pages, (index, project), partial(self._parse_page, index, project))

    def _parse_page(self, index: str, project: NormalizedName) -> ProjectPage:
        page = self._raw_page(index, project)
        if page is None:
            return ProjectPage()
        try:
            return parse_page(page.content, page.content_type, page.url, project)
        except ValueError as exc:
            raise IndexUnreachable(f"{index}/{project}/", str(exc)) from None

    def _raw_page(self, index: str, project: NormalizedName) -> CachedPage | None:
        fetch = partial(self._fetch_page, index, project)
        return self._once(self._raw_pages, (index, project), fetch)

    def _fetch_page(self, index: str, project: NormalizedName) -> CachedPage | None:
        """The page as served (None for an unknown project), revalidated against the cache."""
        url = f"{index}/{project}/"
        cached = self._cache.page(url) if self._cache else None
        headers = {"Accept": ACCEPT, **(cached.validators() if cached else {})}
        response = self._attempts(url, partial(self._get, url, headers))
        if response.status_code == 304 and cached is not None:
            return cached
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise IndexUnreachable(url, f"HTTP {response.status_code}")
        page = _cacheable(response)
        if self._cache is not None:
            self._cache.store_page(url, page)
        return page

    # Metadata

    def metadata(self, file: DistFile) -> bytes:
        """The core metadata (``METADATA`` bytes) of a wheel, fetched once per URL.

        Reads the PEP 658 file when the index offers one and it matches its
        digest, else the wheel's zip by range requests, else the whole wheel
        when the server ignores ranges. Raises ``ValueError`` for an sdist,
        whose metadata may be dynamic: only a build can tell it.
        """
        if not file.is_wheel:
            raise ValueError(f"{file.filename} is not a wheel; its metadata needs a build")
        return self._once(self._metadata, file.url, partial(self._fetch_metadata, file))

    def _fetch_metadata(self, file: DistFile) -> bytes:
        cached = self._cache.metadata(file.sha256) if self._cache and file.sha256 else None
        if cached is not None:
            return cached
        data = self._metadata_file(file) if file.has_metadata_file else None
        if data is None:
            data = self._metadata_from_wheel(file)
        if self._cache is not None and file.sha256:
            self._cache.store_metadata(file.sha256, data)
        return data

    def _metadata_file(self, file: DistFile) -> bytes | None:
        """The PEP 658 file, or None when missing or corrupt (the wheel itself still tells)."""
        url = metadata_name(file.url)  # PEP 658 names it as the wheelhouse does
        response = self._attempts(url, partial(self._get, url, {}))
        if response.status_code >= 400:
            return None
        if file.metadata_sha256 and _sha256(response.content) != file.metadata_sha256:
            return None
        return response.content

    def _metadata_from_wheel(self, file: DistFile) -> bytes:
        source = self._attempts(file.url, partial(self._open_wheel, file.url), DownloadError)
        try:
            return wheel_metadata(source, file.project)
        except MetadataError as exc:
            raise DownloadError(file.url, f"cannot read the wheel's metadata: {exc}") from None
        finally:
            source.close()

    def _open_wheel(self, url: str) -> RangeFile | SpooledTemporaryFile[bytes]:
        """Fetch a wheel's tail; a server that ignores ranges sends, and we keep, it all."""
        headers = {**_IDENTITY, "Range": f"bytes=-{TAIL_SIZE}"}
        with self._http.stream("GET", url, headers=headers) as response:
            _raise_for_retry(response)
            if response.status_code == 200:
                return _spool(response)
            start, total, data = _partial_body(response, url)
        remote = RangeFile(total, partial(self._range, url))
        remote.add(start, data)
        return remote

    def _range(self, url: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``url``, retried like every request."""
        got, _total, data = self._attempts(
            url, partial(self._range_once, url, start, end), DownloadError
        )
        if got != start or len(data) != end - start:
            raise DownloadError(url, f"asked for bytes {start}-{end - 1}, got another range")
        return data

    def _range_once(self, url: str, start: int, end: int) -> tuple[int, int, bytes]:
        headers = {**_IDENTITY, "Range": f"bytes={start}-{end - 1}"}
        with self._http.stream("GET", url, headers=headers) as response:
            _raise_for_retry(response)
            return _partial_body(response, url)

    # Downloads

    def download(
        self, file: DistFile, dest: Path, progress: Callable[[int], None] | None = None
    ) -> str:
        """Download ``file`` to ``dest`` atomically and return its sha256 (hex).

        The body goes to a temporary file beside ``dest`` and is moved into
        place only once complete and matching ``file.sha256`` (when known), so
        ``dest`` never holds a partial file. ``progress`` receives each chunk's
        size, and the negative total of an attempt that is retried. Raises
        :class:`HashMismatch` or :class:`DownloadError`.
        """
        cache, digest = self._cache, file.sha256
        if cache is not None and digest and cache.fetch_file(digest, dest):
            if progress is not None:
                progress(dest.stat().st_size)
            return digest
        temp = dest.with_name(part_name(dest.name))
        try:
            digest = self._attempts(
                file.url, partial(self._download_once, file.url, temp, progress), DownloadError
            )
            if file.sha256 and digest != file.sha256:
                raise HashMismatch(file.url, file.sha256, digest)
            os.replace(temp, dest)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = str(dest)  # a full disk names no file; the user needs one
            raise
        if self._cache is not None:
            self._cache.store_file(digest, dest)
        return digest

    def _download_once(self, url: str, temp: Path, progress: Callable[[int], None] | None) -> str:
        digest, received = hashlib.sha256(), 0
        try:
            with (
                self._http.stream("GET", url, headers=_IDENTITY) as response,
                temp.open("wb") as out,
            ):
                _raise_for_retry(response)
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

    # Plumbing

    def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        response = self._http.get(url, headers=headers)
        _raise_for_retry(response)
        _check_complete(response, response.num_bytes_downloaded or len(response.content))
        return response

    def _attempts(
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

    def _once(self, table: dict[_K, Future[_V]], key: _K, compute: Callable[[], _V]) -> _V:
        """Compute ``table[key]`` once; concurrent callers wait for the first one's result.

        A success is kept for the whole run, a failure only for the callers that waited on it.
        """
        with self._lock:
            future = table.get(key)
            owner = future is None
            if future is None:
                future = table[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                # Callers already waiting share the failure; a later one tries again,
                # so a failed speculative fetch never stands in for the real request.
                with self._lock:
                    table.pop(key, None)
                future.set_exception(exc)
                raise
        return future.result()


def _digest(pages: Iterable[CachedPage | None]) -> str:
    digest = hashlib.sha256()
    for page in pages:
        digest.update(hashlib.sha256(page.content if page else b"").digest())
    return digest.hexdigest()


def _cacheable(response: httpx.Response) -> CachedPage:
    return CachedPage(
        content=response.content,
        content_type=response.headers.get("content-type", ""),
        url=str(response.url),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


def _h2_available() -> bool:
    return importlib.util.find_spec("h2") is not None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _partial_body(response: httpx.Response, url: str) -> tuple[int, int, bytes]:
    """Start, total size and bytes of a 206 answer to a single range."""
    if response.status_code != 206:
        raise DownloadError(url, f"HTTP {response.status_code} to a range request")
    match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
    if not match:
        raise DownloadError(url, "a partial answer without a usable Content-Range")
    data = b"".join(_raw_body(response))
    _check_complete(response, len(data))
    return int(match[1]), int(match[3]), data


def _spool(response: httpx.Response) -> SpooledTemporaryFile[bytes]:
    """The whole body, in memory while small; the caller closes it."""
    spool: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=SPOOL_SIZE)  # noqa: SIM115
    try:
        for chunk in _raw_body(response):
            spool.write(chunk)
        _check_complete(response, spool.tell())
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool
