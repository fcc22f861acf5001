"""Lock files as build input: their exact pins per target, with the files they name.

Pure: each reader takes the document (a dict for TOML, text for a requirements
file) and the path it came from; :mod:`wheelhouse.inputs` reads the file. A
lock's :meth:`~LockSource.select` gives, for one target and the extras and
groups chosen, exactly the locked versions whose markers hold there. Nothing is
resolved: which of a pin's files a target takes is the caller's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker, UndefinedEnvironmentName
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock, PylockValidationError
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelhouse.model.errors import InputFileError
from wheelhouse.model.pyproject import Choice
from wheelhouse.model.targets import Target, Truth

__all__ = [
    "FlatLock",
    "LockSource",
    "LockedFile",
    "LockedPin",
    "check_target",
    "filename_of",
    "lock_truth",
    "pylock_lock",
    "requirements_lock",
]

#: Marker variables a lock file may use that a requirements line cannot carry.
_LOCK_VARIABLES = ("extras", "dependency_groups", "extra")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_LOCAL_ADVICE = (
    "export the lock without the project itself (uv export --no-emit-project), "
    "or build local projects from their own requirements"
)
_EXPORT_ADVICE = (
    "lock files name exact versions with sha256 hashes: pip-compile --generate-hashes, "
    "uv export, uv lock or a PEP 751 pylock.toml"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedFile:
    """A file a lock names, with its sha256: by URL, else by name, else by hash alone.

    Without a URL, the file is looked up on the index among the pin's files.
    """

    sha256: str
    filename: str | None = None
    url: str | None = None
    size: int | None = None
    upload_time: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedPin:
    """One locked version a target takes, with every file the lock names for it.

    ``marker`` is set when the pin holds for some but not all of the target's
    interpreters (a ``python_full_version`` marker).
    """

    name: NormalizedName
    version: Version
    files: tuple[LockedFile, ...]
    via: tuple[str, ...]
    marker: Marker | None = None
    dependencies: tuple[NormalizedName, ...] = ()
    requires_python: str | None = None
    #: A project of the lock's own tree (a workspace member): its files are the wheels
    #: built here, and its version theirs.
    local: bool = False


class LockSource(Protocol):
    """A lock file read as input."""

    @property
    def path(self) -> str: ...

    @property
    def index_urls(self) -> tuple[str, ...]:
        """Indexes the lock file names (``-i`` lines), where files named by hash are found."""
        ...

    def select(self, target: Target, choice: Choice) -> list[LockedPin]: ...


def lock_truth(
    target: Target, marker: Marker | None, extras: frozenset[str], groups: frozenset[str]
) -> Truth:
    """A lock file's marker over the target's interpreters, with the chosen extras and groups."""
    if marker is None:
        return Truth.ALWAYS
    text = str(marker)
    spread = "python_full_version" in text or "implementation_version" in text
    versions = target.full_versions if spread else target.full_versions[-1:]
    chosen: dict[str, str | Set[str]] = {"extras": extras, "dependency_groups": groups, "extra": ""}
    try:
        results = {
            marker.evaluate({**target.environment(full), **chosen}, context="lock_file")
            for full in versions
        }
    except UndefinedEnvironmentName as exc:
        raise ValueError(f"marker {text!r}: {exc}") from None
    if results == {True}:
        return Truth.ALWAYS
    return Truth.SOMETIMES if True in results else Truth.NEVER


def pin_marker(marker: Marker | None, truth: Truth) -> Marker | None:
    """What a target's lock says of a pin: a marker only when it sometimes holds.

    A marker that reads extras or groups cannot go into a requirements line; the
    pin is then taken on every interpreter of the target.
    """
    if truth is not Truth.SOMETIMES or marker is None:
        return None
    return None if any(name in str(marker) for name in _LOCK_VARIABLES) else marker


def check_target(
    path: str, target: Target, requires_python: str | None, environments: Sequence[Marker] = ()
) -> None:
    """Refuse a target the lock was not made for: its Python, or none of its environments."""
    if requires_python and not target.allows_python(requires_python):
        reason = f"it locks for Python {requires_python}, which target {target.name} is not"
        raise InputFileError(path, reason, advice="relock for this Python, or drop the target")
    empty: frozenset[str] = frozenset()
    if environments and all(
        lock_truth(target, marker, empty, empty) is Truth.NEVER for marker in environments
    ):
        reason = f"none of its environments is target {target.name}'s"
        raise InputFileError(path, reason, advice="relock for this target, or drop the target")


def filename_of(url: str) -> str:
    """The last segment of a URL's path, unquoted: a distribution's file name."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


@dataclass(frozen=True, kw_only=True, slots=True)
class _FlatPackage:
    name: NormalizedName
    version: Version
    marker: Marker | None
    files: tuple[LockedFile, ...]
    requires_python: str | None = None


@dataclass(frozen=True, kw_only=True)
class FlatLock:
    """A lock whose packages each carry the marker that says when to install them.

    A PEP 751 ``pylock.toml`` (markers may read ``extras`` and ``dependency_groups``)
    or a hashed requirements file (``extras`` is None: it has none to choose).
    """

    path: str
    packages: tuple[_FlatPackage, ...]
    extras: frozenset[NormalizedName] | None = None
    groups: frozenset[NormalizedName] = frozenset()
    default_groups: frozenset[NormalizedName] = frozenset()
    index_urls: tuple[str, ...] = ()
    requires_python: str | None = None
    environments: tuple[Marker, ...] = ()

    def select(self, target: Target, choice: Choice) -> list[LockedPin]:
        """The packages whose markers hold on ``target``; two versions of one are refused."""
        check_target(self.path, target, self.requires_python, self.environments)
        extras, groups = self._chosen(choice)
        pins: dict[NormalizedName, LockedPin] = {}
        for package in self.packages:
            try:
                truth = lock_truth(target, package.marker, extras, groups)
            except ValueError as exc:
                raise InputFileError(self.path, f"{package.name}: {exc}") from None
            if truth is Truth.NEVER:
                continue
            if package.name in pins:
                raise _two_versions(self.path, package.name, pins[package.name].version, target)
            pins[package.name] = LockedPin(
                name=package.name,
                version=package.version,
                files=package.files,
                via=(f"--from-lock {self.path}",),
                marker=pin_marker(package.marker, truth),
                requires_python=package.requires_python,
            )
        return list(pins.values())

    def _chosen(self, choice: Choice) -> tuple[frozenset[str], frozenset[str]]:
        """The extras and groups markers see; names the lock does not declare are refused."""
        if self.extras is None:
            if choice:
                reason = "a requirements file has no extras or groups to choose"
                advice = "export the lock with the extras and groups you want in it"
                raise InputFileError(self.path, reason, advice=advice)
            return frozenset(), frozenset()
        extras = self.extras if choice.all_extras else _names(choice.extras)
        groups = _names(choice.groups) if choice.groups else self.default_groups
        for kind, wanted, declared in (
            ("extra", extras, self.extras),
            ("dependency group", groups, self.groups | self.default_groups),
        ):
            if unknown := sorted(wanted - declared):
                have = ", ".join(sorted(declared)) or "none"
                raise InputFileError(
                    self.path, f"it declares no {kind} {', '.join(unknown)} (it has: {have})"
                )
        return frozenset(extras), frozenset(groups)


def _names(names: Iterable[str]) -> frozenset[NormalizedName]:
    return frozenset(canonicalize_name(name) for name in names)


def _two_versions(path: str, name: str, first: Version, target: Target) -> InputFileError:
    return InputFileError(
        path,
        f"it selects two versions of {name} for target {target.name} ({first} and another)",
        advice="relock so that the markers of the two versions exclude each other",
    )


# PEP 751


def pylock_lock(document: Mapping[str, Any], path: str) -> FlatLock:
    """Read a ``pylock.toml``, validated by ``packaging.pylock``."""
    try:
        pylock = Pylock.from_dict(document)
    except PylockValidationError as exc:
        raise InputFileError(path, f"not a valid PEP 751 lock: {exc}") from None
    return FlatLock(
        path=path,
        packages=tuple(_pylock_package(package, path) for package in pylock.packages),
        extras=_names(pylock.extras or ()),
        groups=_names(pylock.dependency_groups or ()),
        default_groups=_names(pylock.default_groups or ()),
        requires_python=str(pylock.requires_python) if pylock.requires_python else None,
        environments=tuple(pylock.environments or ()),
    )


def _pylock_package(package: Package, path: str) -> _FlatPackage:
    for kind in ("vcs", "directory", "archive"):
        if getattr(package, kind) is not None:
            raise _not_from_index(path, package.name, kind)
    if package.version is None:
        raise InputFileError(path, f"{package.name} has no version")
    sources: list[PackageWheel | PackageSdist] = [*(package.wheels or ())]
    if package.sdist is not None:
        sources.append(package.sdist)
    return _FlatPackage(
        name=package.name,
        version=package.version,
        marker=package.marker,
        files=tuple(_pylock_file(source, package.name, path) for source in sources),
        requires_python=str(package.requires_python) if package.requires_python else None,
    )


def _pylock_file(source: PackageWheel | PackageSdist, name: str, path: str) -> LockedFile:
    sha256 = source.hashes.get("sha256")
    if not sha256:
        raise InputFileError(path, f"{source.filename} of {name} has no sha256 hash")
    uploaded = source.upload_time
    return LockedFile(
        sha256=sha256,
        filename=source.filename,
        url=source.url,
        size=source.size,
        upload_time=uploaded.isoformat() if uploaded else None,
    )


def _not_from_index(path: str, name: str, kind: str) -> InputFileError:
    return InputFileError(
        path,
        f"{name} comes from a {kind}, not from an index: a lock imports index files only",
        advice=_LOCAL_ADVICE,
    )


# Hashed requirements files (pip-compile --generate-hashes, uv export)


def requirements_lock(text: str, path: str) -> FlatLock:
    """Read a requirements file whose every requirement is pinned ``==`` with ``--hash``."""
    packages: list[_FlatPackage] = []
    indexes: list[str] = []
    for lineno, line in _logical_lines(text):
        if line.startswith("-"):
            indexes += _option(line, path, lineno)
        else:
            packages.append(_pinned(line, path, lineno))
    return FlatLock(path=path, packages=tuple(packages), index_urls=tuple(indexes))


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Join continuation lines, drop comments, keep the first line's number."""
    pending: list[str] = []
    start = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        start = start if pending else lineno
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        if joined := " ".join([*pending, line]).strip():
            yield start, joined
        pending = []
    if joined := " ".join(pending).strip():
        yield start, joined


def _option(line: str, path: str, lineno: int) -> list[str]:
    """An index option is taken; any other option has no place in a lock."""
    option, _, value = line.replace("=", " ", 1).partition(" ")
    if option in ("-i", "--index-url", "--extra-index-url") and value.strip():
        return [value.strip()]
    if option in ("-e", "--editable"):
        reason = f"line {lineno}: {line!r} is a local project, not an index file"
        raise InputFileError(path, reason, advice=_LOCAL_ADVICE)
    reason = f"line {lineno}: option {option} is not supported in a lock"
    raise InputFileError(path, reason, advice=_EXPORT_ADVICE)


def _pinned(line: str, path: str, lineno: int) -> _FlatPackage:
    text, *options = line.split(" --")
    named = [option.strip().replace(" ", "=", 1).partition("=") for option in options]
    hashes = [value.split(":", 1)[1] for name, _, value in named if value.startswith("sha256:")]
    if any(name != "hash" for name, _, _ in named) or not hashes:
        raise _not_pinned(path, lineno, text, "it needs --hash=sha256:... and no other option")
    try:
        requirement = Requirement(text)
        specs = list(requirement.specifier)
        exact = not requirement.url and len(specs) == 1 and specs[0].operator in ("==", "===")
        version = Version(specs[0].version) if exact else None
    except (InvalidRequirement, InvalidMarker, InvalidVersion) as exc:
        raise _not_pinned(path, lineno, text, str(exc).splitlines()[0]) from None
    if version is None:
        raise _not_pinned(path, lineno, text, "not pinned to one version with ==")
    return _FlatPackage(
        name=canonicalize_name(requirement.name),
        version=version,
        marker=requirement.marker,
        files=tuple(LockedFile(sha256=digest.strip()) for digest in hashes),
    )


def _not_pinned(path: str, lineno: int, text: str, why: str) -> InputFileError:
    return InputFileError(path, f"line {lineno}: {text!r}: {why}", advice=_EXPORT_ADVICE)
