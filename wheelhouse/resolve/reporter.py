"""What the resolver did: rounds, conflicts, versions tried, counted per project.

When resolution gives up, the projects it kept going back on are the ones a
user should constrain; :class:`Tally` counts them through resolvelib's reporter
hooks and passes every event on to the caller's own reporter. :class:`Watch`
is such a reporter: it tells a plain callback, round by round, where the
resolution is, so callers get progress without knowing resolvelib.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName
from packaging.version import Version
from resolvelib import BaseReporter

from wheelhouse.resolve.candidates import Candidate, Req

if TYPE_CHECKING:
    from resolvelib.resolvers.criterion import Criterion
    from resolvelib.structs import RequirementInformation, State

__all__ = ["Round", "Tally", "Watch"]


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Round:
    """Where a resolution is when a round starts."""

    number: int
    #: Projects the resolution has met so far (requirements added, at any depth).
    projects: int
    #: The project of the most conflicts so far, while there have been any.
    backtracking_on: str | None


class Watch(BaseReporter[Req, Candidate, str]):
    """Tells ``seen`` where the resolution is at the start of every round.

    Whatever ``seen`` raises ends the resolution there, which is how a caller
    stops one that is no longer wanted.
    """

    def __init__(self, seen: Callable[[Round], None]) -> None:
        self.seen = seen
        self.projects: set[NormalizedName] = set()
        self.conflicts: Counter[NormalizedName] = Counter()

    def starting_round(self, index: int) -> None:
        busiest = self.conflicts.most_common(1)
        self.seen(
            Round(
                number=index + 1,
                projects=len(self.projects),
                backtracking_on=busiest[0][0] if busiest else None,
            )
        )

    def adding_requirement(self, requirement: Req, parent: Candidate | None) -> None:
        self.projects.add(requirement.name)

    def resolving_conflicts(
        self, causes: Collection[RequirementInformation[Req, Candidate]]
    ) -> None:
        self.conflicts.update(info.requirement.name for info in causes)
