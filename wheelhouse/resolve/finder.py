"""Candidates and dependencies for the resolver, shared by every target of one run.

Each page and metadata file is fetched once per run. While the resolver works,
the pages and metadata it is likely to ask for next are fetched in the
background; what only that guessing read never counts as consulted, so a
resolution's record does not depend on thread timing.

An index decides the dependency graph, so it could make it endless (``a-1``
needs ``a-2``, which needs ``a-3``...): a run consults at most ``max_projects``
projects, and guessing stops there too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.model.coremeta import dependency_fields
from wheelhouse.model.distributions import DistFile, Keep, Policy, Selection, Skip, select
from wheelhouse.model.errors import InvalidFilename
from wheelhouse.model.pages import ProjectPage
from wheelhouse.model.targets import Target, Truth
from wheelhouse.resolve.errors import NoUploadTimes, TooManyProjects

__all__ = ["Finder", "Index", "SdistMetadata", "Wanted"]


class Index(Protocol):
    """What the resolver needs from an index client."""

    def project_files(self, name: str) -> ProjectPage: ...

    def prefetch(self, names: Iterable[str]) -> None: ...

    def page_digests(self, names: Iterable[str]) -> dict[str, str]: ...

    def metadata(self, file: DistFile) -> bytes: ...

    def keep_only(self, keep: Keep) -> None:
        """Keep, of the pages parsed from now on, only the files ``keep`` keeps whole."""


class Wanted(Protocol):
    """A requirement as speculation reads it (the resolver's requirements are ones)."""

    @property
    def name(self) -> NormalizedName: ...

    @property
    def extras(self) -> frozenset[str]: ...

    @property
    def specifier(self) -> SpecifierSet: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class _Guess:
    """A dependency speculation follows."""

    name: NormalizedName
    extras: frozenset[str]
    specifier: SpecifierSet


#: Core metadata of an sdist for a target (from its PKG-INFO, or from building it).
SdistMetadata = Callable[[DistFile, Target], bytes]


class Finder:
    """Candidates and dependencies, cached for every target of one run.

    ``sdist_metadata`` reads an sdist's metadata when the policy lets sdists in;
    without it, the index is asked as for a wheel. ``max_projects`` bounds the
    projects whose pages the run reads; ``limit_name`` is how errors name it.
    """

    def __init__(
        self,
        index: Index,
        policy: Policy,
        sdist_metadata: SdistMetadata | None = None,
        *,
        jobs: int = 8,
        max_projects: int = 10_000,
        limit_name: str = "",
    ) -> None:
        self.index, self.policy, self.sdist_metadata = index, policy, sdist_metadata
        self.max_projects, self.limit_name = max_projects, limit_name
        self._selections: dict[tuple[str, str], Selection] = {}
        self._refusals: dict[str, tuple[InvalidFilename, ...]] = {}
        self._consulted: set[str] = set()
        self._metadata: dict[str, tuple[list[Requirement], str | None]] = {}
        self._lock = threading.Lock()
        self._jobs, self._closed = jobs, False
        self._pool: ThreadPoolExecutor | None = None
        self._speculated: set[tuple[str, str]] = set()
        self._guessed: set[str] = set()

    def only_for(self, targets: Iterable[Target]) -> None:
        """Tell the index the run's targets: the files none of them can take (under
        the run's policy) are kept by name only, as no resolution of the run needs more.
        """
        self.index.keep_only(Keep.of(targets, self.policy))

    def consulted(self) -> set[str]:
        """Every project whose page a resolution asked for (speculation aside)."""
        with self._lock:
            return set(self._consulted)

    @property
    def refused(self) -> dict[str, InvalidFilename]:
        """The refused entries of the consulted pages, by file name."""
        with self._lock:
            names = sorted(self._consulted)
            return {e.filename: e for name in names for e in self._refusals.get(name, ())}

    def refusals(self, name: NormalizedName) -> tuple[InvalidFilename, ...]:
        """The entries of the project's page that were refused, and why."""
        with self._lock:
            return self._refusals.get(name, ())

    def skipped(self, name: NormalizedName, target: Target) -> list[Skip]:
        """Why each file of the project was passed over for ``target``.

        Only an error's explanation asks, after :meth:`selection` was asked.
        """
        return self._select(name, target).skips

    def selection(self, name: NormalizedName, target: Target) -> Selection:
        """The project's files sorted for ``target``; the resolver's look-ups come here.

        Raises :class:`TooManyProjects` for a project beyond ``max_projects``.
        """
        with self._lock:
            if name not in self._consulted and len(self._consulted) >= self.max_projects:
                raise TooManyProjects(self.max_projects, self.limit_name, name)
        selection = self._select(name, target)
        with self._lock:
            self._consulted.add(name)
        return selection

    def _select(self, name: NormalizedName, target: Target) -> Selection:
        key = (name, target.name)
        if key not in self._selections:
            page = self.index.project_files(name)
            if self.policy.exclude_newer and page.undated:
                raise NoUploadTimes(name)
            selection = select(page.listed, target, self.policy, page.others)
            with self._lock:
                self._refusals[name] = page.refused
                self._selections[key] = selection
        return self._selections[key]

    def speculate(self, wanted: Iterable[Wanted], target: Target) -> None:
        """Fetch, in the background, what the resolver is likely to ask for next.

        For each requirement, the page and the metadata of its newest fitting
        wheel, then the same for that wheel's dependencies: the whole likely
        tree arrives in a few round trips instead of one after another.
        """
        for req in wanted:
            with self._lock:
                key = (req.name, target.name)
                if key in self._speculated or self._closed:
                    continue
                if req.name not in self._guessed and len(self._guessed) >= self.max_projects:
                    return  # a graph this large ends in an error; guessing on costs requests
                self._speculated.add(key)
                self._guessed.add(req.name)
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._jobs, "wheelhouse-speculate")
                pool = self._pool
            pool.submit(self._speculate_one, req, target)

    def _speculate_one(self, req: Wanted, target: Target) -> None:
        try:
            deps = self._likely_dependencies(req, target)
        except Exception:
            return  # a guess that fails costs nothing: the resolver asks again for real
        self.speculate(deps, target)

    def _likely_dependencies(self, req: Wanted, target: Target) -> list[_Guess]:
        """The dependencies of the newest wheel that fits ``req`` (none for an sdist)."""
        selection = self._select(req.name, target)
        version = next(
            (v for v in selection.versions() if req.specifier.contains(v) and not v.is_prerelease),
            None,
        )
        files = [f for f in selection.by_version[version] if f.yanked is None] if version else []
        if not files or not files[0].is_wheel:
            return []  # an sdist is read only when the resolver really needs it
        return [
            _Guess(
                name=canonicalize_name(dep.name),
                extras=frozenset(canonicalize_name(extra) for extra in dep.extras),
                specifier=dep.specifier,
            )
            for dep in self.requires(files[0], target)
            if target.evaluate(dep.marker, req.extras) is not Truth.NEVER
        ]

    def close(self, *, wait: bool = True) -> None:
        """Stop speculating: pending guesses are dropped; ``wait`` for running ones to finish."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def requires(self, file: DistFile, target: Target) -> list[Requirement]:
        """The file's Requires-Dist entries, read once per file (an sdist's once per target)."""
        sdist = not file.is_wheel and self.sdist_metadata is not None
        key = f"{file.url} {target.name}" if sdist else file.url
        with self._lock:
            cached = self._metadata.get(key)
        if cached is None:
            lines, requires_python = dependency_fields(self._read_metadata(file, target))
            cached = (_requirements(lines), requires_python)
            with self._lock:
                self._metadata[key] = cached
        return cached[0]

    def _read_metadata(self, file: DistFile, target: Target) -> bytes:
        if not file.is_wheel and self.sdist_metadata is not None:
            return self.sdist_metadata(file, target)
        return self.index.metadata(file)


#: Requires-Dist lines already parsed (None: no requirement): projects and
#: versions repeat many (``pytest; extra == "test"``). Requirements are never
#: changed once parsed, so one object serves every file that lists the line.
_PARSED: dict[str, Requirement | None] = {}
_PARSED_LIMIT = 1 << 14


def _requirements(lines: Iterable[str]) -> list[Requirement]:
    parsed: list[Requirement] = []
    for line in lines:
        requirement = _PARSED.get(line, _UNREAD)
        if requirement is _UNREAD:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                requirement = None  # pip also passes over one it cannot parse, with a warning
            if len(_PARSED) >= _PARSED_LIMIT:
                _PARSED.clear()
            _PARSED[line] = requirement
        if requirement is not None:
            parsed.append(requirement)
    return parsed


_UNREAD = Requirement("unread")
