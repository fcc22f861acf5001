"""Requirements and candidates as the resolver sees them; they own the matching.

A :class:`Req` knows which candidates satisfy it; a :class:`Candidate` knows the
requirements it brings for a target; :func:`matching_versions` picks the
versions of a selection that fit. A finished resolution is a :class:`Resolution`
of :class:`ResolvedPin`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from wheelhouse.model.distributions import DistFile, Selection
from wheelhouse.model.targets import Target, Truth

__all__ = ["Candidate", "Req", "Resolution", "ResolvedPin", "VersionFiles", "matching_versions"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Req:
    """A requirement as the resolver sees it: a base name plus extras."""

    name: NormalizedName
    extras: frozenset[str]
    specifier: SpecifierSet
    parent: Candidate | None
    origin: str
    marker: Marker | None = None

    @classmethod
    def from_requirement(
        cls, requirement: Requirement, parent: Candidate | None, origin: str, marker: Marker | None
    ) -> Req:
        return cls(
            name=canonicalize_name(requirement.name),
            extras=frozenset(canonicalize_name(extra) for extra in requirement.extras),
            specifier=requirement.specifier,
            parent=parent,
            origin=origin,
            marker=marker,
        )

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        return f"{self.name}{extras}{self.specifier}"

    def allows_yanked(self) -> bool:
        """PEP 592: a yanked file is taken only for an exact pin."""
        return self.is_pinned()

    def is_pinned(self) -> bool:
        """An exact version (``==`` without a wildcard, or ``===``): one candidate at most."""
        return any(
            spec.operator in ("==", "===") and "*" not in spec.version for spec in self.specifier
        )

    def is_upper_bounded(self) -> bool:
        """A ceiling (``<``, ``<=``, ``~=``, ``==x.*``) that rules out the newest versions."""
        return any(
            spec.operator in ("<", "<=", "~=") or (spec.operator == "==" and "*" in spec.version)
            for spec in self.specifier
        )

    def is_satisfied_by(self, candidate: Candidate) -> bool:
        if self.name != candidate.name:
            return False
        return self.specifier.contains(candidate.version, prereleases=True)


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """One version of one project (with extras, as a separate identifier).

    ``files`` are usable files, best first; from a selection they are made
    when first read (:class:`VersionFiles`), as most candidates never are.
    """

    name: NormalizedName
    version: Version
    extras: frozenset[str]
    files: Sequence[DistFile] = field(compare=False)

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"

    def dependencies(self, requires: Iterable[Requirement], target: Target) -> Iterator[Req]:
        """What this candidate needs on ``target``, given its metadata's ``requires``.

        A candidate with extras needs its base at the same version, then only
        what its extras add.
        """
        if self.extras:
            base = SpecifierSet(f"=={self.version}")
            yield Req(
                name=self.name,
                extras=frozenset(),
                specifier=base,
                parent=self,
                origin=self.name,
            )
        for requirement in requires:
            truth = target.evaluate(requirement.marker, self.extras)
            if truth is Truth.NEVER:
                continue
            if self.extras and target.evaluate(requirement.marker) is not Truth.NEVER:
                continue  # a dependency of the base candidate, not of the extra
            marker = requirement.marker if truth is Truth.SOMETIMES else None
            if marker is not None and "extra" in str(marker):
                marker = None  # an extra cannot be expressed in a lock; install it always
            yield Req.from_requirement(requirement, self, self.name, marker)


def _identifier(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def matching_versions(
    selection: Selection, specifiers: list[SpecifierSet], *, pre: bool, allow_yanked: bool
) -> Iterator[tuple[Version, VersionFiles]]:
    """The versions of ``selection`` every specifier allows, each with its usable files.

    The files are made only when read: matching looks at versions alone.
    """
    versions = selection.versions()
    pre = pre or any(spec.prereleases for spec in specifiers)
    if not pre and not any(not v.is_prerelease for v in versions):
        pre = True  # like pip: only prereleases exist, so take them
    for version in versions:
        if version.is_prerelease and not pre:
            continue
        if not all(spec.contains(version, prereleases=True) for spec in specifiers):
            continue
        if selection.has_file(version, allow_yanked=allow_yanked):
            yield version, VersionFiles(selection, version, allow_yanked=allow_yanked)


class VersionFiles(Sequence[DistFile]):
    """One version's usable files, best first, made from the selection when first read."""

    __slots__ = ("_allow_yanked", "_files", "_selection", "_version")

    def __init__(self, selection: Selection, version: Version, *, allow_yanked: bool) -> None:
        self._selection, self._version = selection, version
        self._allow_yanked = allow_yanked
        self._files: tuple[DistFile, ...] | None = None

    def _all(self) -> tuple[DistFile, ...]:
        if self._files is None:
            files = self._selection.by_version[self._version]
            self._files = tuple(f for f in files if self._allow_yanked or f.yanked is None)
        return self._files

    @overload
    def __getitem__(self, index: int) -> DistFile: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[DistFile, ...]: ...

    def __getitem__(self, index: int | slice) -> DistFile | tuple[DistFile, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


@dataclass(frozen=True, kw_only=True, slots=True)
class ResolvedPin:
    """A resolved project for one target, with the edges that brought it in."""

    name: NormalizedName
    version: Version
    files: tuple[DistFile, ...]
    via: tuple[str, ...]
    dependencies: tuple[NormalizedName, ...]
    marker: Marker | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolution:
    """The pins of one target, by project name."""

    target: Target
    pins: dict[NormalizedName, ResolvedPin] = field(default_factory=dict)
