"""A ``uv.lock`` as build input: its dependency graph walked for one target at a time.

A ``uv.lock`` holds one resolution for every platform, as a graph: the
project's dependencies, extras and groups point at locked packages, whose
edges carry markers. Selecting for a target walks the graph from the project
(the packages of the lock's directory and the workspace members), following
only the edges whose markers can hold there, and takes every index package it
reaches. Local packages (the project, workspace members, path dependencies)
are built here: :meth:`UvLock.local_projects` names them, and a selection
takes each one reached as a local pin. A ``virtual`` package (no build system)
is walked through and not taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelhouse.model.errors import InputFileError
from wheelhouse.model.localproj import LocalProject
from wheelhouse.model.lockfile import LockedFile, LockedPin, check_target, filename_of
from wheelhouse.model.pyproject import Choice
from wheelhouse.model.targets import Target, Truth

__all__ = ["UvLock", "uv_lock"]

#: Sources of packages that are the user's own code: walked through, never taken.
_LOCAL = ("virtual", "editable", "directory")
_VERSION = 1

_Key = tuple[NormalizedName, str]  # name and version ("" for a local package without one)
#: A part of a package: its dependencies (None), an extra's, or a group's.
_Part = tuple[str, str] | None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Edge:
    name: NormalizedName
    version: str | None
    marker: Marker | None
    extras: tuple[NormalizedName, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Package:
    name: NormalizedName
    version: str
    source: Mapping[str, Any]
    files: tuple[LockedFile, ...]
    dependencies: tuple[_Edge, ...]
    extras: Mapping[NormalizedName, tuple[_Edge, ...]] = field(default_factory=dict)
    groups: Mapping[NormalizedName, tuple[_Edge, ...]] = field(default_factory=dict)

    @property
    def key(self) -> _Key:
        return (self.name, self.version)

    @property
    def is_local(self) -> bool:
        return any(kind in self.source for kind in _LOCAL)

    @property
    def is_built(self) -> bool:
        """A local package that is installed: built here into a wheel (not ``virtual``)."""
        return self.is_local and "virtual" not in self.source

    def edges(self, part: _Part) -> tuple[_Edge, ...]:
        if part is None:
            return self.dependencies
        kind, name = part
        return (self.extras if kind == "extra" else self.groups).get(canonicalize_name(name), ())


@dataclass(frozen=True, kw_only=True)
class UvLock:
    """A parsed ``uv.lock``: its packages and the projects a walk starts from."""

    path: str
    packages: tuple[_Package, ...]
    roots: tuple[_Package, ...]
    index_urls: tuple[str, ...] = ()  # every file has its URL: no look-ups
    requires_python: str | None = None

    def select(self, target: Target, choice: Choice) -> list[LockedPin]:
        """Every index package reached from the roots on ``target``, with its marker."""
        check_target(self.path, target, self.requires_python)
        incoming = self._walk(target, self._starts(choice))
        for root in self.roots:
            incoming.setdefault(root.key, [])
        pins: dict[NormalizedName, LockedPin] = {}
        markers = _markers(incoming)
        children = _children(incoming)
        for key in sorted(incoming):
            package = self._package(key)
            if package.is_local and not package.is_built:
                continue
            if package.name in pins:
                raise InputFileError(
                    self.path,
                    f"it selects two versions of {package.name} for target {target.name}",
                )
            pins[package.name] = LockedPin(
                name=package.name,
                version=_version(package),
                local=package.is_local,
                files=package.files,
                via=tuple(sorted({parent[0] for parent, _ in incoming[key]})),
                marker=markers.get(key),
                dependencies=tuple(sorted({child[0] for child in children.get(key, ())})),
            )
        return list(pins.values())

    def local_projects(self) -> tuple[LocalProject, ...]:
        """The packages of the lock's own tree that are built: directories beside the lock."""
        base = self.path.replace("\\", "/").rpartition("/")[0]
        found = []
        for package in self.packages:
            if not package.is_built:
                continue
            kind = next(kind for kind in _LOCAL if kind in package.source)
            relative = str(package.source[kind])
            path = relative if relative.startswith("/") or not base else f"{base}/{relative}"
            found.append(
                LocalProject(
                    path=path,
                    origin=f"--from-lock {self.path}",
                    location=f"{self.path} [{package.name}]",
                    name=package.name,
                    editable=kind == "editable",
                )
            )
        return tuple(found)

    def _starts(self, choice: Choice) -> list[tuple[_Package, _Part]]:
        """The roots' dependencies, and the extras and groups chosen of them."""
        extras = {name for root in self.roots for name in root.extras}
        groups = {name for root in self.roots for name in root.groups}
        wanted_extras = (
            extras if choice.all_extras else {canonicalize_name(e) for e in choice.extras}
        )
        wanted_groups = {canonicalize_name(group) for group in choice.groups}
        for kind, wanted, known in (
            ("extra", wanted_extras, extras),
            ("dependency group", wanted_groups, groups),
        ):
            if unknown := sorted(wanted - known):
                have = ", ".join(sorted(known)) or "none"
                reason = f"the project declares no {kind} {', '.join(unknown)} (it has: {have})"
                raise InputFileError(self.path, reason)
        starts: list[tuple[_Package, _Part]] = [(root, None) for root in self.roots]
        starts += [(root, ("extra", name)) for root in self.roots for name in wanted_extras]
        starts += [(root, ("group", name)) for root in self.roots for name in wanted_groups]
        return starts

    def _walk(
        self, target: Target, starts: Iterable[tuple[_Package, _Part]]
    ) -> dict[_Key, list[tuple[_Key, Marker | None]]]:
        """Each package reached on ``target``, with its incoming edges (parent, marker)."""
        incoming: dict[_Key, list[tuple[_Key, Marker | None]]] = {}
        pending = list(starts)
        seen: set[tuple[_Key, _Part]] = set()
        while pending:
            package, part = pending.pop()
            if (package.key, part) in seen:
                continue
            seen.add((package.key, part))
            for edge in package.edges(part):
                truth = target.evaluate(edge.marker)
                if truth is Truth.NEVER:
                    continue
                dependency = self._find(edge, package)
                marker = edge.marker if truth is Truth.SOMETIMES else None
                incoming.setdefault(dependency.key, []).append((package.key, marker))
                pending.append((dependency, None))
                pending += [(dependency, ("extra", extra)) for extra in edge.extras]
        return incoming

    def _find(self, edge: _Edge, parent: _Package) -> _Package:
        """The package an edge points at: by name, then version when several are locked."""
        found = [p for p in self.packages if p.name == edge.name]
        if edge.version is not None and len(found) > 1:
            found = [p for p in found if p.version == edge.version]
        if len(found) != 1:
            what = "no package" if not found else "several packages"
            reason = f"{parent.name} depends on {edge.name}, for which it locks {what}"
            raise InputFileError(self.path, reason)
        return found[0]

    def _package(self, key: _Key) -> _Package:
        return next(p for p in self.packages if p.key == key)


def _version(package: _Package) -> Version:
    """A package's locked version; a local package may have none (its wheel's stands)."""
    try:
        return Version(package.version)
    except InvalidVersion:
        if package.is_local:
            return Version("0")
        raise


def _markers(
    incoming: Mapping[_Key, Sequence[tuple[_Key, Marker | None]]],
) -> dict[_Key, Marker | None]:
    """A package's marker: when, over the target's interpreters, some path reaches it."""
    memo: dict[_Key, str | None] = {}

    def condition(key: _Key, visiting: frozenset[_Key]) -> str | None:
        if key in memo:
            return memo[key]
        terms: set[str] = set()
        for parent, marker in incoming.get(key, ()):
            if parent in visiting:
                continue
            above = condition(parent, visiting | {key})
            parts = [f"({text})" for text in (above, str(marker) if marker else None) if text]
            if not parts:
                memo[key] = None
                return None
            terms.add(" and ".join(parts))
        memo[key] = " or ".join(sorted(terms)) if terms else None
        return memo[key]

    return {
        key: Marker(text) if (text := condition(key, frozenset())) else None for key in incoming
    }


def _children(
    incoming: Mapping[_Key, Sequence[tuple[_Key, Marker | None]]],
) -> dict[_Key, set[_Key]]:
    children: dict[_Key, set[_Key]] = {}
    for key, parents in incoming.items():
        for parent, _ in parents:
            if parent != key:
                children.setdefault(parent, set()).add(key)
    return children


# Reading


def uv_lock(document: Mapping[str, Any], path: str) -> UvLock:
    """Read a ``uv.lock`` (version 1); :class:`InputFileError` for anything else."""
    if document.get("version") != _VERSION:
        reason = f"lock version {document.get('version')!r} is not one this tool reads ({_VERSION})"
        raise InputFileError(path, reason, advice="relock with a uv that writes version 1")
    try:
        packages = tuple(_package(entry) for entry in document.get("package", []))
    except (KeyError, TypeError, ValueError, InvalidMarker, InvalidVersion) as exc:
        raise InputFileError(path, f"not a uv.lock this tool can read: {exc!r}") from None
    for package in packages:
        if not package.is_local and "registry" not in package.source:
            raise InputFileError(
                path,
                f"{package.name} {package.version} comes from {_kind(package.source)}, "
                "not from an index: a lock imports index files only",
            )
    requires_python = document.get("requires-python")
    return UvLock(
        path=path,
        packages=packages,
        roots=_roots(document, packages, path),
        requires_python=str(requires_python) if requires_python else None,
        index_urls=_build_indexes(packages),
    )


def _build_indexes(packages: Sequence[_Package]) -> tuple[str, ...]:
    """The lock's registries, when it has local packages to build: their build
    requirements come from there, as uv takes them."""
    if not any(package.is_built for package in packages):
        return ()
    urls = (str(p.source["registry"]) for p in packages if "registry" in p.source)
    return tuple(dict.fromkeys(urls))


def _roots(
    document: Mapping[str, Any], packages: Sequence[_Package], path: str
) -> tuple[_Package, ...]:
    """The projects of the lock's directory, else the workspace's members."""
    here = [p for p in packages if any(p.source.get(kind) == "." for kind in _LOCAL)]
    members = {canonicalize_name(name) for name in document.get("manifest", {}).get("members", [])}
    roots = here or [p for p in packages if p.name in members and p.is_local]
    if not roots:
        raise InputFileError(path, "it locks no project to start from (no package at '.')")
    return tuple(roots)


def _kind(source: Mapping[str, Any]) -> str:
    return next(iter(source), "an unknown source")


def _package(entry: Mapping[str, Any]) -> _Package:
    name = canonicalize_name(entry["name"])
    version = str(entry.get("version", ""))
    if "registry" in entry["source"]:
        Version(version)  # an index package's version must parse
    return _Package(
        name=name,
        version=version,
        source=entry["source"],
        files=_files(entry),
        dependencies=_edges(entry.get("dependencies", [])),
        extras=_parts(entry.get("optional-dependencies", {})),
        groups=_parts(entry.get("dev-dependencies", {})),
    )


def _parts(table: Mapping[str, Any]) -> dict[NormalizedName, tuple[_Edge, ...]]:
    return {canonicalize_name(name): _edges(edges) for name, edges in table.items()}


def _edges(entries: Iterable[Mapping[str, Any]]) -> tuple[_Edge, ...]:
    return tuple(
        _Edge(
            name=canonicalize_name(entry["name"]),
            version=str(entry["version"]) if "version" in entry else None,
            marker=Marker(entry["marker"]) if entry.get("marker") else None,
            extras=tuple(canonicalize_name(extra) for extra in entry.get("extra", [])),
        )
        for entry in entries
    )


def _files(entry: Mapping[str, Any]) -> tuple[LockedFile, ...]:
    sources = [*entry.get("wheels", [])]
    if "sdist" in entry:
        sources.append(entry["sdist"])
    return tuple(_file(source) for source in sources)


def _file(source: Mapping[str, Any]) -> LockedFile:
    algorithm, _, digest = str(source["hash"]).partition(":")
    if algorithm != "sha256" or not digest:
        raise ValueError(f"a file with no sha256 hash: {source!r}")
    location = source.get("url") or source.get("path") or source.get("filename")
    return LockedFile(
        sha256=digest,
        filename=filename_of(str(location)) if location else None,
        url=source.get("url"),
        size=source.get("size"),
        upload_time=source.get("upload-time"),
    )
