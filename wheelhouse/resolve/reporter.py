"""What the resolver did: rounds, conflicts, versions tried, counted per project.

When resolution gives up, the projects it kept going back on are the ones a
user should constrain; :class:`Tally` counts them through resolvelib's reporter
hooks and passes every event on to the caller's own reporter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName
from packaging.version import Version
from resolvelib import BaseReporter

from wheelhouse.resolve.candidates import Candidate, Req

if TYPE_CHECKING:
    from resolvelib.resolvers.criterion import Criterion
    from resolvelib.structs import RequirementInformation, State

__all__ = ["Tally"]


class Tally(BaseReporter[Req, Candidate, str]):
    """Counts rounds, and per project its conflicts and the versions tried; forwards all."""

    def __init__(self, inner: BaseReporter[Req, Candidate, str] | None = None) -> None:
        self.inner = inner or BaseReporter()
        self.rounds = 0
        self.conflicts: Counter[NormalizedName] = Counter()
        self.tried: dict[NormalizedName, set[Version]] = {}

    def backtracked(self, limit: int = 5) -> dict[str, int]:
        """Up to ``limit`` projects of conflicts, most versions tried first, with that count."""
        ranked = sorted(
            self.conflicts,
            key=lambda name: (-len(self.tried.get(name, ())), -self.conflicts[name], name),
        )
        return {name: len(self.tried.get(name, ())) for name in ranked[:limit]}

    def starting(self) -> None:
        self.inner.starting()

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1
        self.inner.starting_round(index)

    def ending_round(self, index: int, state: State[Req, Candidate, str]) -> None:
        self.inner.ending_round(index, state)

    def ending(self, state: State[Req, Candidate, str]) -> None:
        self.inner.ending(state)

    def adding_requirement(self, requirement: Req, parent: Candidate | None) -> None:
        self.inner.adding_requirement(requirement, parent)

    def resolving_conflicts(
        self, causes: Collection[RequirementInformation[Req, Candidate]]
    ) -> None:
        names = {info.requirement.name for info in causes}
        names |= {info.parent.name for info in causes if info.parent is not None}
        self.conflicts.update(names)
        self.inner.resolving_conflicts(causes)

    def rejecting_candidate(
        self, criterion: Criterion[Req, Candidate], candidate: Candidate
    ) -> None:
        self.tried.setdefault(candidate.name, set()).add(candidate.version)
        self.inner.rejecting_candidate(criterion, candidate)

    def pinning(self, candidate: Candidate) -> None:
        self.tried.setdefault(candidate.name, set()).add(candidate.version)
        self.inner.pinning(candidate)
