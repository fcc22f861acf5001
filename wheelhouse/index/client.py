"""The index client: project pages, wheel metadata and downloads over one HTTP client.

One :class:`IndexClient` serves every target and thread of a run: pages and
metadata are fetched at most once (a failure is not kept: the next caller tries
again). Every request goes through :class:`~wheelhouse.index.http.Http`, which
retries what is worth another try before an error names the URL, and bounds
what an index may send.

With several indexes, a project's files come from the first index that lists
it (``first-index``, as uv does): a public project cannot shadow a private name,
and later indexes never hear of a name an earlier one has. ``unsafe-best-match``
merges every index's files, as pip does.

Nothing read is trusted before it is checked: metadata must name the project
and version of its file, a downloaded wheel must be a zip whose METADATA names
it too and says what the resolution read (:mod:`~wheelhouse.index.wheelmeta`
checks both), and only what was verified is cached
(:mod:`~wheelhouse.index.cache` says under which keys).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx
from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.house.layout import part_name
from wheelhouse.index.cache import Cache, CachedPage
from wheelhouse.index.credentials import Credentials, Runner
from wheelhouse.index.errors import IndexUnreachable
from wheelhouse.index.http import Fetched, Http
from wheelhouse.index.wheelmeta import WheelMetadata
from wheelhouse.model.distributions import DistFile, Keep
from wheelhouse.model.limits import Limits
from wheelhouse.model.pages import (
    ACCEPT,
    FIRST_INDEX,
    STRATEGIES,
    UNSAFE_BEST_MATCH,
    ProjectPage,
    merge_pages,
    parse_page,
)
from wheelhouse.model.urls import redact

__all__ = ["IndexClient", "ProjectPage"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class IndexClient:
    """Read one main index and any extra indexes through one shared, thread-safe HTTP client.

    Every method may be called from several threads at once. ``transport``
    replaces the network, TLS included (tests pass an ``httpx.MockTransport``);
    ``http2`` defaults to on when the ``h2`` package is importable. Credentials
    in ``index_urls`` stay with the HTTP client's :class:`Credentials`, which
    also reads ``~/.netrc`` and runs ``keyring`` (a :data:`Runner`) when given
    one; every URL this client keeps, caches or reports is without them.
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
        limits: Limits | None = None,
        strategy: str = FIRST_INDEX,
        keyring: Runner | None = None,
    ) -> None:
        if not index_urls:
            raise ValueError("at least one index URL is needed")
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown index strategy {strategy!r}")
        for url in index_urls:
            _check_url(url)
        self.index_urls = tuple(redact(url).rstrip("/") for url in index_urls)
        self.strategy = strategy
        self.limits = limits or Limits.from_environ(os.environ)
        self._jobs, self._cache = jobs, cache
        self._http = Http(
            self.index_urls[0],
            transport=transport,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retries=retries,
            backoff=backoff,
            http2=http2,
            limits=self.limits,
            credentials=Credentials(index_urls, keyring=keyring),
        )
        self._wheels = WheelMetadata(self._http, cache, self.limits)
        self._lock = threading.Lock()
        # One page parsed at a time: parsing holds the interpreter anyway, and a large
        # page's decoded document is many times its size while it lasts.
        self._parsing = threading.Lock()
        self._pages: dict[tuple[str, NormalizedName], Future[ProjectPage]] = {}
        self._raw_pages: dict[tuple[str, NormalizedName], Future[CachedPage | None]] = {}
        # A page's body is let go once parsed (large projects' pages run to megabytes);
        # its digest stays for page_digests.
        self._digests: dict[tuple[str, NormalizedName], bytes] = {}
        self._metadata: dict[str, Future[bytes]] = {}
        self._keep: Keep | None = None
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
        """The files the indexes list for ``name``, as the strategy gathers them.

        Empty when no index knows the project. Raises :class:`IndexUnreachable`
        when an index fails after the retries.
        """
        project = canonicalize_name(name)
        return merge_pages(self._page(index, project) for index in self._sources(project))

    def keep_only(self, keep: Keep) -> None:
        """Keep, of the pages parsed from now on, only the files ``keep`` keeps whole;
        the others by name (:attr:`ProjectPage.others`).

        A resolving run's pages list far more files than its targets can take
        (wheels for other platforms and Pythons, sdists when none are built):
        those need no URL, digest or upload time, only a name to explain with.
        """
        self._keep = keep

    def _sources(self, project: NormalizedName) -> Sequence[str]:
        """The indexes whose pages make the project's: with ``first-index``, the indexes
        up to the first that knows it, asked in order (later ones never hear the name)."""
        if self.strategy == UNSAFE_BEST_MATCH:
            return self.index_urls
        for place, index in enumerate(self.index_urls):
            if self._page(index, project).found:
                return self.index_urls[: place + 1]
        return self.index_urls

    def prefetch(self, names: Iterable[str]) -> None:
        """Start fetching the pages of ``names`` in the background; errors surface later."""
        for name in names:
            project = canonicalize_name(name)
            if not self.has_page(project):
                self._executor().submit(self._sources, project)

    def has_page(self, name: str) -> bool:
        """Whether the first index's page of ``name`` is kept or on its way (with
        ``unsafe-best-match``, every index's); a failed one is not."""
        project = canonicalize_name(name)
        asked = self.index_urls if self.strategy == UNSAFE_BEST_MATCH else self.index_urls[:1]
        return all(self._known(index, project) for index in asked)

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
        """The sha256 of the pages that make each project's (see :meth:`project_files`),
        fetched concurrently.

        Equal digests mean equal pages: what a resolution read has not changed.
        """
        projects = sorted({canonicalize_name(name) for name in names})
        pool = self._executor()
        futures = {project: pool.submit(self._pages_digest, project) for project in projects}
        try:
            return {project: future.result() for project, future in futures.items()}
        except BaseException:
            for future in futures.values():
                future.cancel()  # the first failure decides: the rest would be waited for
            raise

    def _pages_digest(self, project: NormalizedName) -> str:
        if self.strategy == UNSAFE_BEST_MATCH:  # every page counts: no need to parse them
            return _digest(self._page_digest(index, project) for index in self.index_urls)
        return _digest(self._page_digest(index, project) for index in self._sources(project))

    def _page_digest(self, index: str, project: NormalizedName) -> bytes:
        """The sha256 of the page's body (of nothing for an unknown project)."""
        with self._lock:
            digest = self._digests.get((index, project))
        if digest is None:
            page = self._raw_page(index, project)
            with self._lock:  # a parse may have kept the digest and let the body go meanwhile
                digest = self._digests.get((index, project))
            if digest is None:
                digest = hashlib.sha256(page.content if page else b"").digest()
        return digest

    def _page(self, index: str, project: NormalizedName) -> ProjectPage:
        return self._once(self._pages, (index, project), partial(self._parse_page, index, project))

    def _parse_page(self, index: str, project: NormalizedName) -> ProjectPage:
        page = self._raw_page(index, project)
        if page is None:
            return ProjectPage(found=False)
        try:
            with self._parsing:
                parsed = parse_page(page.content, page.content_type, page.url, project, self._keep)
        except ValueError as exc:
            raise IndexUnreachable(f"{index}/{project}/", str(exc)) from None
        self._let_body_go(index, project, page)
        return parsed

    def _let_body_go(self, index: str, project: NormalizedName, page: CachedPage) -> None:
        """Keep a parsed page's digest, not its body: the parsed page is kept instead.

        The entry stays (emptied), so nothing fetches the page again.
        """
        digest = hashlib.sha256(page.content).digest()
        emptied: Future[CachedPage | None] = Future()
        emptied.set_result(dataclasses.replace(page, content=b""))
        with self._lock:
            self._digests[(index, project)] = digest
            self._raw_pages[(index, project)] = emptied

    def _raw_page(self, index: str, project: NormalizedName) -> CachedPage | None:
        fetch = partial(self._fetch_page, index, project)
        return self._once(self._raw_pages, (index, project), fetch)

    def _fetch_page(self, index: str, project: NormalizedName) -> CachedPage | None:
        """The page as served (None for an unknown project), revalidated against the cache."""
        url = f"{index}/{project}/"
        cached = self._cache.page(url) if self._cache else None
        headers = {"Accept": ACCEPT, **(cached.validators() if cached else {})}
        response = self._http.fetch(url, headers, limit="page_size")
        if response.status == 304 and cached is not None:
            return cached
        if response.status == 404:
            return None
        if response.status >= 400:
            raise IndexUnreachable(url, f"HTTP {response.status}")
        page = _cacheable(response)
        if self._cache is not None:
            self._cache.store_page(url, page)
        return page

    # Metadata

    def metadata(self, file: DistFile) -> bytes:
        """The core metadata (``METADATA`` bytes) of a wheel, fetched once per URL.

        Reads the PEP 658 file when the index offers one and it matches its
        digest, else the wheel's zip by range requests, else the whole wheel
        when the server ignores ranges; what it reads must name the file's
        project and version. Raises ``ValueError`` for an sdist, whose metadata
        may be dynamic: only a build can tell it.
        """
        if not file.is_wheel:
            raise ValueError(f"{file.filename} is not a wheel; its metadata needs a build")
        return self._once(self._metadata, file.url, partial(self._wheels.fetch, file))

    # Downloads

    def download(
        self, file: DistFile, dest: Path, progress: Callable[[int], None] | None = None
    ) -> str:
        """Download ``file`` to ``dest`` atomically, or take it from the cache; its sha256 (hex).

        :meth:`Http.download` checks the body against ``file.sha256`` (when
        known) and a wheel against what the index said of it (:meth:`_verify`)
        before it takes ``dest``'s place. ``progress`` receives each chunk's size
        (a cached file's whole size at once) and the negative total of an attempt
        that is retried. Raises :class:`HashMismatch`, :class:`DownloadError`,
        :class:`LimitExceeded` or :class:`Untrusted`.
        """
        check = partial(self._verify, file)
        if self._from_cache(file, dest, check):
            if progress is not None:
                progress(dest.stat().st_size)
            return str(file.sha256)
        digest = self._http.download(
            file.url, dest, sha256=file.sha256, size=file.size, progress=progress, check=check
        )
        if self._cache is not None:
            self._cache.store_file(digest, dest)
        return digest

    def _from_cache(self, file: DistFile, dest: Path, check: Callable[[Path, str], None]) -> bool:
        """Put the cached copy in place, checked as a download is; False when none."""
        if self._cache is None or not file.sha256:
            return False
        temp = dest.with_name(part_name(dest.name))
        if not self._cache.fetch_file(file.sha256, temp):
            return False
        try:
            check(temp, file.sha256)
            os.replace(temp, dest)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return True

    def _verify(self, file: DistFile, path: Path, digest: str) -> None:
        """A wheel must say what the resolution read of it (:meth:`WheelMetadata.verify`)."""
        self._wheels.verify(file, path, digest, partial(self._used_metadata, file))

    def _used_metadata(self, file: DistFile) -> bytes | None:
        """The metadata this run read for ``file``, if it read any."""
        with self._lock:
            future = self._metadata.get(file.url)
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

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


def _check_url(url: str) -> None:
    """Raise :class:`IndexUnreachable` for an index URL that does not parse.

    Neither the URL's userinfo nor the parser's words about it are shown when it
    has one: an unencoded ``/`` in a password makes the rest of it read as a port.
    """
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        scheme, separator, rest = url.partition("://")
        if "@" not in rest:
            raise IndexUnreachable(url, f"not a valid URL ({exc})") from None
        shown = f"{scheme}{separator}{rest.rpartition('@')[2]}"
        reason = "not a valid URL; percent-encode /, ?, # and @ in its user name and password"
        raise IndexUnreachable(shown, reason) from None


def _digest(page_digests: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for page_digest in page_digests:
        digest.update(page_digest)
    return digest.hexdigest()


def _cacheable(response: Fetched) -> CachedPage:
    return CachedPage(
        content=response.content,
        content_type=response.headers.get("content-type", ""),
        url=response.url,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )
