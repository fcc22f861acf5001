"""The resolvelib provider: a thin adapter over requirements, candidates and the finder.

Matching belongs to :mod:`~wheelhouse.resolve.candidates`; the provider asks the
:class:`~wheelhouse.resolve.finder.Finder` for files and metadata, lazily, and
remembers which requirement brought each identifier in, so errors can name the
chain that led to a requirement.

Which project to decide next makes the difference between seconds and hours on
a real list of ``name>=x`` lines. The order is pip's: a project that keeps
conflicting, then what the user pinned, exact pins, upper bounds (decided early,
a ceiling keeps the newest versions of its project from being tried and built
upon), the user's order, any bound, the name. After a conflict, the projects of
that conflict are decided before the rest. Requires-Python is no project here:
the finder leaves out the files whose Requires-Python excludes the target.

An input whose every version leads, through the dependencies read so far, to a
requirement that no version meets raises :class:`DeadEnd` at once: resolvelib
would take it for a conflict with earlier choices and try all their combinations.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from wheelhouse.model.reqfile import InputRequirement, Inputs
from wheelhouse.model.targets import Target, Truth
from wheelhouse.resolve.candidates import Candidate, Req, VersionFiles, matching_versions
from wheelhouse.resolve.finder import Finder

if TYPE_CHECKING:
    from resolvelib.providers import Preference
    from resolvelib.structs import RequirementInformation

    Information = RequirementInformation[Req, Candidate]

__all__ = ["PROMOTE_AFTER", "DeadEnd", "Priorities", "Provider"]

#: Rounds a project of a conflict waits undecided before it is decided ahead of the others.
PROMOTE_AFTER = 5


class DeadEnd(Exception):
    """A requirement of the user's can never be met: ``requirement``, below it, fits nothing."""

    def __init__(self, requirement: Req) -> None:
        super().__init__(str(requirement))
        self.requirement = requirement


@dataclass(frozen=True, kw_only=True, slots=True)
class Priorities:
    """What the user's input says about the order in which to decide projects.

    ``order`` maps each input's identifier, and its project name, to its place in
    the input; ``pinned`` holds the identifiers the user pinned to one version,
    in a requirement or a constraint.
    """

    order: Mapping[str, int] = field(default_factory=dict)
    pinned: frozenset[str] = frozenset()


class Provider(AbstractProvider[Req, Candidate, str]):
    """Adapts requirements and candidates of one target to resolvelib."""

    def __init__(
        self,
        finder: Finder,
        target: Target,
        inputs: Inputs,
        preferred: Mapping[str, Version] | None = None,
        priorities: Priorities | None = None,
    ) -> None:
        self.finder, self.target, self.pre = finder, target, inputs.pre
        self.preferred = preferred or {}
        self.priorities = priorities or Priorities()
        self.constraints: dict[str, list[InputRequirement]] = {}
        for item in inputs.constraints:
            if target.evaluate(item.requirement.marker) is not Truth.NEVER:
                key = canonicalize_name(item.requirement.name)
                self.constraints.setdefault(key, []).append(item)
        # Per identifier, the first requirement that brought it in: the chain an
        # error names is walked up from there.
        self.introduced: dict[str, Req] = {}
        self._dependencies: dict[tuple[str, Version], list[Req]] = {}
        self._conflicts: Counter[str] = Counter()
        self.promoted: set[str] = set()
        # resolvelib asks, every round, whether each pin still meets each of its
        # requirements: the same objects again and again. Keyed by identity, each
        # entry keeps both objects alive, so an identity is never reused meanwhile.
        self._satisfied: dict[tuple[int, int], tuple[Req, Candidate, bool]] = {}
        self._kinds: dict[int, tuple[Req, bool, bool, bool]] = {}
        self._matches: dict[tuple[str, frozenset[SpecifierSet]], list[Candidate]] = {}

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.identifier

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Information]],
        backtrack_causes: Sequence[Information],
    ) -> Iterable[str]:
        """The projects of the last conflict first, else those that keep conflicting.

        The last conflict stays until one of its projects changes, so whatever
        is decided before that may have to be decided again.
        """
        involved = self._involved(backtrack_causes, resolutions)
        for name in involved & information.keys():
            self._check_inputs([info.requirement for info in information[name]])
        undecided = list(identifiers)
        return (
            [name for name in undecided if name in involved]
            or [name for name in undecided if name in self.promoted]
            or undecided
        )

    def _involved(
        self, causes: Sequence[Information], resolutions: Mapping[str, Candidate]
    ) -> set[str]:
        """The projects of the last conflict.

        Each round one of them waits undecided counts toward promoting it: a
        project that keeps conflicting is then decided early, so its bounds
        apply before the others pick their versions.
        """
        involved = {cause.requirement.identifier for cause in causes}
        involved |= {cause.parent.identifier for cause in causes if cause.parent is not None}
        for name in involved - resolutions.keys():
            self._conflicts[name] += 1
            if self._conflicts[name] >= PROMOTE_AFTER:
                self.promoted.add(name)
        return involved

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Information]],
        backtrack_causes: Sequence[Information],
    ) -> Preference:
        """A sort key: the lowest is decided first (see the module's docstring)."""
        traits = [self._traits(info.requirement) for info in information[identifier]]
        return (
            identifier not in self.promoted,
            identifier not in self.priorities.pinned,
            not any(pinned for _req, pinned, _upper, _bound in traits),
            not any(upper for _req, _pinned, upper, _bound in traits),
            self._input_order(identifier),
            not any(bound for _req, _pinned, _upper, bound in traits),
            identifier,
        )

    def _traits(self, req: Req) -> tuple[Req, bool, bool, bool]:
        """Whether ``req`` is pinned, upper-bounded, bounded at all: asked every round."""
        traits = self._kinds.get(id(req))
        if traits is None:
            traits = (req, req.is_pinned(), req.is_upper_bounded(), bool(req.specifier))
            self._kinds[id(req)] = traits  # keeps req alive: its identity is not reused
        return traits

    def _input_order(self, identifier: str) -> float:
        order = self.priorities.order
        return order.get(identifier, order.get(identifier.split("[")[0], math.inf))

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
        bad = {candidate.version for candidate in incompatibilities[identifier]}
        distinct = _distinct_specifiers(reqs)
        fitting = self._matching(identifier, name, extras, distinct)
        candidates = [candidate for candidate in fitting if candidate.version not in bad]
        if not candidates:
            self._check_inputs(reqs)
        held = self.preferred.get(name)
        # A held pin is tried first; newer versions remain as fallbacks.
        return sorted(candidates, key=lambda candidate: candidate.version != held)

    def _matching(
        self, identifier: str, name: NormalizedName, extras: frozenset[str], reqs: list[Req]
    ) -> list[Candidate]:
        """Every candidate that fits ``reqs`` (distinct specifiers), newest first.

        resolvelib asks again each time a requirement on the project is added,
        mostly with specifiers it asked about before: the answer for a set of
        specifiers is kept, candidates and all.
        """
        key = (identifier, frozenset(req.specifier for req in reqs))
        known = self._matches.get(key)
        if known is None:
            # PEP 592, as pip and uv read it: an exact pin, by a requirement or a constraint.
            allow_yanked = any(req.allows_yanked() for req in reqs) or self._pinned(name)
            known = [
                Candidate(name=name, version=version, extras=extras, files=files)
                for version, files in self._fitting(name, reqs, pre=self.pre, yanked=allow_yanked)
            ]
            self._matches[key] = known
        return known

    def _pinned(self, name: NormalizedName) -> bool:
        """Whether a constraint of the user's pins the project to one version."""
        return any(
            Req.from_requirement(item.requirement, None, item.origin, None).is_pinned()
            for item in self.constraints.get(name, [])
        )

    def _fitting(
        self, name: NormalizedName, reqs: list[Req], *, pre: bool, yanked: bool
    ) -> Iterator[tuple[Version, VersionFiles]]:
        """The versions that every one of ``reqs`` and the user's constraints allow."""
        specifiers = [req.specifier for req in reqs]
        specifiers += [c.requirement.specifier for c in self.constraints.get(name, [])]
        selection = self.finder.selection(name, self.target)
        return matching_versions(selection, specifiers, pre=pre, allow_yanked=yanked)

    def _check_inputs(self, reqs: list[Req]) -> None:
        """Stop when one of the user's requirements can never be met, whatever else is chosen.

        resolvelib takes an input whose every version fails for a reason of its
        own for a conflict with earlier choices, and tries every combination of
        those before it gives up; this tells it apart, from what was read.
        """
        for req in reqs:
            if req.parent is None and (dead := self._dead_end(req, {})) is not None:
                raise DeadEnd(dead)

    def _dead_end(self, req: Req, memo: dict[tuple[str, Version], Req | None]) -> Req | None:
        """A requirement no version meets that rules out every version fitting ``req``.

        ``req`` itself when nothing fits it; None when a fitting version may still
        work, as far as the dependencies read so far tell. Prereleases and yanked
        versions count as fitting: another requirement could let them in.
        """
        found = None
        for version, _files in self._fitting(req.name, [req], pre=True, yanked=True):
            dead = self._ruled_out((req.identifier, version), memo)
            if dead is None:
                return None
            found = found or dead
        return found or req

    def _ruled_out(
        self, key: tuple[str, Version], memo: dict[tuple[str, Version], Req | None]
    ) -> Req | None:
        """The dead end below one of the candidate's dependencies, if any is known."""
        if key not in memo:
            memo[key] = None  # being looked at: a cycle proves nothing
            dependencies = self._dependencies.get(key, [])  # unread: nothing is known
            dead_ends = (self._dead_end(dep, memo) for dep in dependencies)
            memo[key] = next(filter(None, dead_ends), None)
        return memo[key]

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        key = (id(requirement), id(candidate))
        known = self._satisfied.get(key)
        if known is None:
            known = (requirement, candidate, requirement.is_satisfied_by(candidate))
            self._satisfied[key] = known
        return known[2]

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        key = (candidate.identifier, candidate.version)
        if key not in self._dependencies:
            requires = self.finder.requires(candidate.files[0], self.target)
            self._dependencies[key] = list(candidate.dependencies(requires, self.target))
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


def _distinct_specifiers(reqs: Iterable[Req]) -> list[Req]:
    """One requirement per distinct specifier (all that matching looks at).

    resolvelib asks for matches once per requirement added, with every one added
    so far: the same line in many files would make each ask cost as many
    version checks as lines, and the whole resolution their square.
    """
    return list({req.specifier: req for req in reqs}.values())
