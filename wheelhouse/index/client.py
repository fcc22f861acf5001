"""The index client: project pages, wheel metadata and downloads over one HTTP client.

One :class:`IndexClient` serves every target and thread of a run: pages and
metadata are fetched at most once (a failure is not kept: the next caller tries
again). Every request goes through :class:`~wheelhouse.index.http.Http`, which
retries what is worth another try before an error names the URL.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import TypeVar

import httpx
from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.house.errors import MetadataError
from wheelhouse.house.layout import metadata_name
from wheelhouse.house.metadata import wheel_metadata
from wheelhouse.index.cache import Cache, CachedPage
from wheelhouse.index.errors import DownloadError, IndexUnreachable
from wheelhouse.index.http import IDENTITY, Http, partial_body, spool
from wheelhouse.index.rangezip import RangeFile
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.pages import ACCEPT, ProjectPage, merge_pages, parse_page

__all__ = ["IndexClient", "ProjectPage"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

#: The first read of a remote wheel: its end holds the zip's central directory,
#: and usually the ``.dist-info`` files, which wheel builders write last.
TAIL_SIZE = 64 * 1024


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
        self._jobs, self._cache = jobs, cache
        self._http = Http(
            self.index_urls[0],
            transport=transport,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retries=retries,
            backoff=backoff,
            http2=http2,
        )
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, NormalizedName], Future[ProjectPage]] = {}
        self._raw_pages: dict[tuple[str, NormalizedName], Future[CachedPage | None]] = {}
        self._metadata: dict[str, Future[bytes]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

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
                if not self._known(index, project):
                    self._executor().submit(self._page, index, project)

    def has_page(self, name: str) -> bool:
        """Whether every index's page of ``name`` is kept or on its way; a failed one is not."""
        project = canonicalize_name(name)
        return all(self._known(index, project) for index in self.index_urls)

    def _known(self, index: str, project: NormalizedName) -> bool:
        with self._lock:
            return (index, project) in self._pages

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
        response = self._http.get(url, headers)
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
        response = self._http.get(url, {})
        if response.status_code >= 400:
            return None
        if file.metadata_sha256 and _sha256(response.content) != file.metadata_sha256:
            return None
        return response.content

    def _metadata_from_wheel(self, file: DistFile) -> bytes:
        source = self._http.attempts(file.url, partial(self._open_wheel, file.url), DownloadError)
        try:
            return wheel_metadata(source, file.project)
        except MetadataError as exc:
            raise DownloadError(file.url, f"cannot read the wheel's metadata: {exc}") from None
        finally:
            source.close()

    def _open_wheel(self, url: str) -> RangeFile | SpooledTemporaryFile[bytes]:
        """Fetch a wheel's tail; a server that ignores ranges sends, and we keep, it all."""
        headers = {**IDENTITY, "Range": f"bytes=-{TAIL_SIZE}"}
        with self._http.stream(url, headers) as response:
            if response.status_code == 200:
                return spool(response)
            start, total, data = partial_body(response, url)
        remote = RangeFile(total, partial(self._http.range, url))
        remote.add(start, data)
        return remote

    # Downloads

    def download(
        self, file: DistFile, dest: Path, progress: Callable[[int], None] | None = None
    ) -> str:
        """Download ``file`` to ``dest`` atomically, or take it from the cache; its sha256 (hex).

        :meth:`Http.download` checks the body against ``file.sha256`` (when
        known) before it takes ``dest``'s place. ``progress`` receives each
        chunk's size (a cached file's whole size at once) and the negative total
        of an attempt that is retried. Raises :class:`HashMismatch` or
        :class:`DownloadError`.
        """
        cache, digest = self._cache, file.sha256
        if cache is not None and digest and cache.fetch_file(digest, dest):
            if progress is not None:
                progress(dest.stat().st_size)
            return digest
        digest = self._http.download(file.url, dest, sha256=file.sha256, progress=progress)
        if self._cache is not None:
            self._cache.store_file(digest, dest)
        return digest

    # Plumbing

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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
