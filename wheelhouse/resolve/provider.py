"""The resolvelib provider: a thin adapter over requirements, candidates and the finder.

Matching belongs to :mod:`~wheelhouse.resolve.candidates`; the provider asks the
:class:`~wheelhouse.resolve.finder.Finder` for files and metadata, lazily, and
remembers which requirement brought each identifier in, so errors can name the
chain that led to a requirement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from wheelhouse.model.reqfile import InputRequirement, Inputs
from wheelhouse.model.targets import Target, Truth
from wheelhouse.resolve.candidates import Candidate, Req, matching_versions
from wheelhouse.resolve.finder import Finder

__all__ = ["Provider"]


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
        usable = matching_versions(selection, specifiers, pre=self.pre, allow_yanked=allow_yanked)
        candidates = [
            Candidate(name=name, version=version, extras=extras, files=tuple(files))
            for version, files in usable
            if version not in bad
        ]
        held = self.preferred.get(name)
        # A held pin is tried first; newer versions remain as fallbacks.
        return sorted(candidates, key=lambda candidate: candidate.version != held)

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        return requirement.is_satisfied_by(candidate)

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
