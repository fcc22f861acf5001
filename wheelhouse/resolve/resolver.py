"""Resolve requirements for one target: the only user of resolvelib's resolver.

:func:`resolve` runs resolvelib over the :class:`~wheelhouse.resolve.provider.Provider`,
turns its result into a :class:`~wheelhouse.resolve.candidates.Resolution` (each
pin with the edges that brought it in and the marker that says when it is
needed) and explains a failure; when it gives up after too many rounds, the
error names the projects it kept going back on. Metadata is read lazily, only
for candidates the resolver visits, through a
:class:`~wheelhouse.resolve.finder.Finder` shared by every target so each page
and metadata file is fetched once per run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from packaging.markers import Marker
from packaging.utils import NormalizedName
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from wheelhouse.errors import WheelhouseError
from wheelhouse.model.reqfile import Inputs
from wheelhouse.model.targets import Target, Truth
from wheelhouse.resolve.candidates import Candidate, Req, Resolution, ResolvedPin
from wheelhouse.resolve.errors import (
    ConflictCause,
    NoFileForTarget,
    NoVersionFound,
    ResolutionConflict,
    ResolutionTooComplex,
)
from wheelhouse.resolve.finder import Finder
from wheelhouse.resolve.provider import DeadEnd, Priorities, Provider
from wheelhouse.resolve.reporter import Tally

__all__ = ["MAX_ROUNDS", "resolve"]

#: resolvelib's rounds before it gives up; real trees need a few hundred.
MAX_ROUNDS = 20000


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

    ``preferred`` maps project names to versions to keep when they still fit;
    ``reporter`` hears every event of the resolution (rounds, pins, conflicts).
    """
    roots = _root_requirements(target, inputs)
    provider = Provider(finder, target, inputs, preferred, _priorities(roots, target, inputs))
    for root in roots:
        provider.introduced.setdefault(root.identifier, root)
    finder.speculate(roots, target)
    tally = Tally(reporter)
    resolver: Resolver[Req, Candidate, str] = Resolver(provider, tally)
    try:
        result = resolver.resolve(_distinct(roots), max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        raise _explain(exc, provider, target) from None
    except DeadEnd as exc:
        raise _missing(exc.requirement, provider, target) from None
    except ResolutionTooDeep as exc:
        raise ResolutionTooComplex(target.name, exc.round_count, tally.backtracked()) from None
    return _resolution(target, result.mapping, provider, roots, inputs)


def _root_requirements(target: Target, inputs: Inputs) -> list[Req]:
    roots: list[Req] = []
    for item in inputs.requirements:
        truth = target.evaluate(item.requirement.marker)
        if truth is not Truth.NEVER:
            marker = item.requirement.marker if truth is Truth.SOMETIMES else None
            roots.append(Req.from_requirement(item.requirement, None, item.origin, marker))
    return list(dict.fromkeys(roots))


def _distinct(roots: Sequence[Req]) -> list[Req]:
    """The roots the resolver needs: one per requirement, whichever inputs repeat it.

    resolvelib's cost grows with the square of the requirements on one project,
    so the same line in a thousand files is given once; every origin still
    shows in the locks' ``# via``.
    """
    kept: dict[tuple[str, str, str], Req] = {}
    for root in roots:
        kept.setdefault((root.identifier, str(root.specifier), str(root.marker)), root)
    return list(kept.values())


def _priorities(roots: Sequence[Req], target: Target, inputs: Inputs) -> Priorities:
    """The user's order, and what the user pinned to one version, for the provider."""
    order: dict[str, int] = {}
    for place, root in enumerate(roots):
        order.setdefault(root.identifier, place)
        order.setdefault(root.name, place)
    constraints = [
        Req.from_requirement(item.requirement, None, item.origin, None)
        for item in inputs.constraints
        if target.evaluate(item.requirement.marker) is not Truth.NEVER
    ]
    pinned = frozenset(req.identifier for req in [*roots, *constraints] if req.is_pinned())
    return Priorities(order=order, pinned=pinned)


def _explain(
    exc: ResolutionImpossible[Req, Candidate], provider: Provider, target: Target
) -> WheelhouseError:
    causes = [info for info in exc.causes if info.requirement is not None]
    names = {info.requirement.name for info in causes}
    if len(names) == 1 and not _conflicting_parents(causes):
        return _missing(causes[0].requirement, provider, target)
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


def _missing(requirement: Req, provider: Provider, target: Target) -> WheelhouseError:
    """No version meets ``requirement``: say why, from what the index offers the target."""
    selection = provider.finder.selection(requirement.name, target)
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
    if not tried:  # every entry of the page refused: say why, not that nothing is there
        tried = [str(refusal) for refusal in provider.finder.refusals(requirement.name)[:5]]
    return NoVersionFound(str(requirement), target.name, provider.chain(requirement), tried)


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
            files=tuple(candidate.files[:1]),
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
