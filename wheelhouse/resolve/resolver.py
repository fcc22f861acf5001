"""Resolve requirements for one target: the only user of resolvelib.

Requirements and candidates own the matching; the provider is a thin adapter.
Metadata is read lazily, only for candidates the resolver visits, through a
:class:`~wheelhouse.finder.Finder` shared by every target so each page and
metadata file is fetched once per run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from wheelhouse.errors import WheelhouseError
from wheelhouse.model.distributions import DistFile, Selection
from wheelhouse.model.reqfile import InputRequirement, Inputs
from wheelhouse.model.targets import Target, Truth
from wheelhouse.resolve.errors import (
    ConflictCause,
    NoFileForTarget,
    NoVersionFound,
    ResolutionConflict,
    ResolutionTooComplex,
)
from wheelhouse.resolve.finder import Finder, Index, SdistMetadata

__all__ = ["Finder", "Index", "Resolution", "ResolvedPin", "SdistMetadata", "resolve"]

ROOT = "the user's input"
#: resolvelib's rounds before it gives up; real trees need a few hundred.
MAX_ROUNDS = 20000


@dataclass(frozen=True, kw_only=True, slots=True)
class Req:
    """A requirement as the resolver sees it: a base name plus extras."""

    name: NormalizedName
    extras: frozenset[str]
    specifier: SpecifierSet
    parent: Candidate | None
    origin: str
    marker: Marker | None = None

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        return f"{self.name}{extras}{self.specifier}"

    def allows_yanked(self) -> bool:
        return any(
            spec.operator in ("==", "===") and "*" not in spec.version for spec in self.specifier
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """One version of one project (with extras, as a separate identifier)."""

    name: NormalizedName
    version: Version
    extras: frozenset[str]
    files: tuple[DistFile, ...]

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def _identifier(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


@dataclass(frozen=True, kw_only=True, slots=True)
class ResolvedPin:
    """A resolved project for one target, with the edges that brought it in."""

    name: NormalizedName
    version: Version
    files: tuple[DistFile, ...]
    via: tuple[str, ...]
    dependencies: tuple[NormalizedName, ...]
    marker: Marker | None


@dataclass(frozen=True, kw_only=True)
class Resolution:
    target: Target
    pins: dict[NormalizedName, ResolvedPin] = field(default_factory=dict)


class Provider(AbstractProvider):  # type: ignore[type-arg]
    """Adapts requirements and candidates of one target to resolvelib."""

    def __init__(
        self,
        finder: Finder,
        target: Target,
        inputs: Inputs,
        preferred: Mapping[str, Version] | None = None,
    ) -> None:
        self.finder, self.target, self.pre = finder, target, inputs.pre
        self.preferred = preferred or {}
        self.constraints: dict[str, list[InputRequirement]] = {}
        for item in inputs.constraints:
            if target.evaluate(item.requirement.marker) is not Truth.NEVER:
                key = canonicalize_name(item.requirement.name)
                self.constraints.setdefault(key, []).append(item)
        # Per identifier, the first requirement that brought it in: the chain an
        # error names is walked up from there.
        self.introduced: dict[str, Req] = {}
        self._dependencies: dict[tuple[str, Version], list[Req]] = {}

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Any],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        infos = list(information[identifier])
        pinned = any(info.requirement.allows_yanked() for info in infos)
        direct = any(info.parent is None for info in infos)
        causes = {cause.requirement.name for cause in backtrack_causes}
        return (identifier.split("[")[0] not in causes, not pinned, not direct, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        name = reqs[0].name if reqs else canonicalize_name(identifier.split("[")[0])
        extras = reqs[0].extras if reqs else frozenset()
        if extras:
            reqs += list(requirements.get(name, iter(())))
        specifiers = [req.specifier for req in reqs]
        specifiers += [c.requirement.specifier for c in self.constraints.get(name, [])]
        allow_yanked = any(req.allows_yanked() for req in reqs)
        bad = {candidate.version for candidate in incompatibilities[identifier]}
        selection = self.finder.selection(name, self.target)
        candidates = [
            Candidate(name=name, version=version, extras=extras, files=tuple(files))
            for version, files in self._usable(selection, specifiers, allow_yanked)
            if version not in bad
        ]
        held = self.preferred.get(name)
        # A held pin is tried first; newer versions remain as fallbacks.
        return sorted(candidates, key=lambda candidate: candidate.version != held)

    def _usable(
        self, selection: Selection, specifiers: list[SpecifierSet], allow_yanked: bool
    ) -> Iterator[tuple[Version, list[DistFile]]]:
        versions = selection.versions()
        pre = self.pre or any(spec.prereleases for spec in specifiers)
        if not pre and not any(not v.is_prerelease for v in versions):
            pre = True  # like pip: only prereleases exist, so take them
        for version in versions:
            if version.is_prerelease and not pre:
                continue
            if not all(spec.contains(version, prereleases=True) for spec in specifiers):
                continue
            files = [f for f in selection.by_version[version] if allow_yanked or f.yanked is None]
            if files:
                yield version, files

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if requirement.name != candidate.name:
            return False
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        key = (candidate.identifier, candidate.version)
        if key not in self._dependencies:
            self._dependencies[key] = list(self._compute_dependencies(candidate))
            for dep in self._dependencies[key]:
                self.introduced.setdefault(dep.identifier, dep)
            self.finder.speculate(self._dependencies[key], self.target)
        return self._dependencies[key]

    def chain(self, requirement: Req) -> list[str]:
        """Who asked for ``requirement``: the input it started from, then each pin down to it."""
        chain: list[str] = []
        seen: set[str] = set()
        while requirement.parent is not None and requirement.parent.identifier not in seen:
            seen.add(requirement.parent.identifier)
            chain.append(requirement.parent.pin)
            above = self.introduced.get(requirement.parent.identifier)
            if above is None:
                break
            requirement = above
        if requirement.parent is None:
            chain.append(requirement.origin)
        return chain[::-1]

    def _compute_dependencies(self, candidate: Candidate) -> Iterator[Req]:
        if candidate.extras:
            base = SpecifierSet(f"=={candidate.version}")
            yield Req(
                name=candidate.name,
                extras=frozenset(),
                specifier=base,
                parent=candidate,
                origin=candidate.name,
            )
        for requirement in self.finder.requires(candidate.files[0], self.target):
            truth = self.target.evaluate(requirement.marker, candidate.extras)
            if truth is Truth.NEVER:
                continue
            if candidate.extras and self.target.evaluate(requirement.marker) is not Truth.NEVER:
                continue  # a dependency of the base candidate, not of the extra
            marker = requirement.marker if truth is Truth.SOMETIMES else None
            if marker is not None and "extra" in str(marker):
                marker = None  # an extra cannot be expressed in a lock; install it always
            yield _req(requirement, candidate, candidate.name, marker)


def _req(
    requirement: Requirement, parent: Candidate | None, origin: str, marker: Marker | None
) -> Req:
    return Req(
        name=canonicalize_name(requirement.name),
        extras=frozenset(canonicalize_name(extra) for extra in requirement.extras),
        specifier=requirement.specifier,
        parent=parent,
        origin=origin,
        marker=marker,
    )


def resolve(
    finder: Finder,
    target: Target,
    inputs: Inputs,
    reporter: BaseReporter[Req, Candidate, str] | None = None,
    *,
    preferred: Mapping[str, Version] | None = None,
    max_rounds: int = MAX_ROUNDS,
) -> Resolution:
    """Resolve ``inputs`` for ``target``; raise an explained error when impossible.

    ``preferred`` maps project names to versions to keep when they still fit.
    """
    provider = Provider(finder, target, inputs, preferred)
    roots = _root_requirements(target, inputs)
    for root in roots:
        provider.introduced.setdefault(root.identifier, root)
    finder.speculate(roots, target)
    resolver: Resolver[Req, Candidate, str] = Resolver(provider, reporter or BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        raise _explain(exc, provider, target) from None
    except ResolutionTooDeep as exc:
        raise ResolutionTooComplex(target.name, exc.round_count) from None
    return _resolution(target, result.mapping, provider, roots, inputs)


def _root_requirements(target: Target, inputs: Inputs) -> list[Req]:
    roots: list[Req] = []
    for item in inputs.requirements:
        truth = target.evaluate(item.requirement.marker)
        if truth is not Truth.NEVER:
            marker = item.requirement.marker if truth is Truth.SOMETIMES else None
            roots.append(_req(item.requirement, None, item.origin, marker))
    return roots


def _explain(
    exc: ResolutionImpossible[Req, Candidate], provider: Provider, target: Target
) -> WheelhouseError:
    causes = [info for info in exc.causes if info.requirement is not None]
    names = {info.requirement.name for info in causes}
    if len(names) == 1:
        requirement = causes[0].requirement
        selection = provider.finder.selection(requirement.name, target)
        if not _conflicting_parents(causes):
            return _missing(requirement, provider.chain(requirement), selection, target)
    return ResolutionConflict(
        target.name,
        [
            ConflictCause(
                requirement=str(info.requirement), parent=info.parent.pin if info.parent else None
            )
            for info in causes
        ],
    )


def _conflicting_parents(causes: Sequence[Any]) -> bool:
    return len({str(info.requirement.specifier) for info in causes}) > 1


def _missing(
    requirement: Req, chain: list[str], selection: Selection, target: Target
) -> WheelhouseError:
    fitting = sorted(
        {
            skip.file.version
            for skip in selection.skips
            if requirement.specifier.contains(skip.file.version, prereleases=True)
        },
        reverse=True,
    )
    if fitting and not selection.by_version:
        version = fitting[0]
        reasons = sorted({str(skip) for skip in selection.skips if skip.file.version == version})
        return NoFileForTarget(requirement.name, str(version), target.name, reasons)
    tried = [f"{version}" for version in selection.versions()]
    tried += sorted({str(skip) for skip in selection.skips})[:10]
    return NoVersionFound(str(requirement), target.name, chain, tried)


def _resolution(
    target: Target,
    mapping: Mapping[str, Candidate],
    provider: Provider,
    roots: list[Req],
    inputs: Inputs,
) -> Resolution:
    incoming: dict[NormalizedName, list[tuple[NormalizedName | None, Marker | None, str]]] = {}
    for req in roots:
        incoming.setdefault(req.name, []).append((None, req.marker, req.origin))
    children: dict[NormalizedName, set[NormalizedName]] = {}
    for candidate in mapping.values():
        for dep in provider.get_dependencies(candidate):
            if dep.name != candidate.name:
                incoming.setdefault(dep.name, []).append((candidate.name, dep.marker, dep.origin))
                children.setdefault(candidate.name, set()).add(dep.name)
    markers = _pin_markers(incoming)
    constrained = {name: [c.origin for c in items] for name, items in provider.constraints.items()}
    pins = {}
    for candidate in mapping.values():
        if candidate.extras:
            continue
        name = candidate.name
        via = sorted({origin for _, _, origin in incoming.get(name, [])} - {name})
        via += sorted(set(constrained.get(name, [])))
        pins[name] = ResolvedPin(
            name=name,
            version=candidate.version,
            files=candidate.files[:1],
            via=tuple(via),
            dependencies=tuple(sorted(children.get(name, set()) - {name})),
            marker=markers.get(name),
        )
    return Resolution(target=target, pins=pins)


def _pin_markers(
    incoming: Mapping[NormalizedName, list[tuple[NormalizedName | None, Marker | None, str]]],
) -> dict[NormalizedName, Marker | None]:
    """A pin's marker: when, over the target's interpreters, some path requires it."""
    memo: dict[NormalizedName, str | None] = {}

    def condition(name: NormalizedName, visiting: frozenset[NormalizedName]) -> str | None:
        if name in memo:
            return memo[name]
        terms: set[str] = set()
        for parent, marker, _origin in incoming.get(name, []):
            if parent in visiting:
                continue
            above = condition(parent, visiting | {name}) if parent is not None else None
            parts = [f"({text})" for text in (above, str(marker) if marker else None) if text]
            if not parts:
                memo[name] = None
                return None
            terms.add(" and ".join(parts))
        result = " or ".join(sorted(terms)) if terms else None
        memo[name] = result
        return result

    return {
        name: Marker(text) if (text := condition(name, frozenset())) else None for name in incoming
    }
