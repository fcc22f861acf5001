"""Errors of resolution: no version, a conflict, no file for a target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wheelhouse.errors import WheelhouseError

__all__ = [
    "ConflictCause",
    "NoFileForTarget",
    "NoUploadTimes",
    "NoVersionFound",
    "ResolutionConflict",
    "ResolutionTooComplex",
    "format_chain",
]


def format_chain(chain: Sequence[str]) -> str:
    """Render who asked for a requirement, nearest requirer last."""
    return " -> ".join(chain) if chain else "the command line"


class NoVersionFound(WheelhouseError):
    """A project is unknown, or none of its versions satisfies the requirement."""

    def __init__(
        self, requirement: str, target: str, chain: Sequence[str], tried: Sequence[str]
    ) -> None:
        super().__init__(requirement, target, chain, tried)
        self.requirement, self.target = requirement, target
        self.chain, self.tried = list(chain), list(tried)
        self.hint = (
            "check the name and the version range; was the index reachable and is it the "
            "right one (--index-url)?"
        )

    def __str__(self) -> str:
        tried = "; ".join(self.tried) if self.tried else "the index has no such project"
        return (
            f"no version of {self.requirement} for target {self.target} "
            f"(required by {format_chain(self.chain)}). Tried: {tried}"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ConflictCause:
    """One requirement taking part in a conflict, and who asked for it."""

    requirement: str
    parent: str | None  # "name==version" of the requirer, None for the user's input


class ResolutionConflict(WheelhouseError):
    """The requirements cannot all be satisfied at once."""

    def __init__(self, target: str, causes: Sequence[ConflictCause]) -> None:
        super().__init__(target, causes)
        self.target, self.causes = target, list(causes)
        self.hint = "loosen one of the conflicting requirements or constraints"

    def __str__(self) -> str:
        lines = [f"cannot resolve for target {self.target}; the conflict is caused by:"]
        for cause in self.causes:
            who = cause.parent or "the user's input"
            lines.append(f"    {who} requires {cause.requirement}")
        return "\n".join(lines)


class NoFileForTarget(WheelhouseError):
    """A pinned version has no file the target can install."""

    def __init__(self, project: str, version: str, target: str, reasons: Sequence[str]) -> None:
        super().__init__(project, version, target, reasons)
        self.project, self.version, self.target = project, version, target
        self.reasons = list(reasons)
        only_sdist = any("sdist" in reason for reason in self.reasons)
        self.hint = (
            "pass --build to build the sdist into a wheel"
            if only_sdist
            else "pin another version, or drop this target (--python/--platform)"
        )

    def __str__(self) -> str:
        why = "; ".join(self.reasons) if self.reasons else "no files"
        return f"no file of {self.project} {self.version} for target {self.target}: {why}"


class NoUploadTimes(WheelhouseError):
    """--exclude-newer asked of an index that does not say when files were uploaded."""

    def __init__(self, project: str) -> None:
        super().__init__(project)
        self.project = project
        self.hint = "drop --exclude-newer, or use an index that serves PEP 700 upload times"

    def __str__(self) -> str:
        return f"--exclude-newer needs upload times, and the index gives none for {self.project}"


class ResolutionTooComplex(WheelhouseError):
    """The resolver gave up: it backtracked for too many rounds without an answer."""

    def __init__(self, target: str, rounds: int) -> None:
        super().__init__(target, rounds)
        self.target, self.rounds = target, rounds
        self.hint = (
            "add constraints (-c) that pin or bound the projects it keeps trying, "
            "or narrow the requirements' version ranges"
        )

    def __str__(self) -> str:
        return (
            f"cannot resolve for target {self.target}: no answer found in "
            f"{self.rounds} rounds of backtracking"
        )
