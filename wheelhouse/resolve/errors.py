"""Errors of resolution: no version, a conflict, no file for a target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wheelhouse.errors import WheelhouseError

__all__ = [
    "ConflictCause",
    "NoFileForTarget",
    "NoUploadTimes",
    "NoVersionFound",
    "ResolutionConflict",
    "ResolutionTooComplex",
    "TooManyProjects",
    "format_chain",
]


def _versions(count: int) -> str:
    return {0: "no version", 1: "1 version"}.get(count, f"{count} versions")


def format_chain(chain: Sequence[str]) -> str:
    """Render who asked for a requirement, nearest requirer last."""
    return " -> ".join(chain) if chain else "the command line"


@dataclass(eq=False)
class NoVersionFound(WheelhouseError):
    """A project is unknown, or none of its versions satisfies the requirement."""

    requirement: str
    target: str
    chain: Sequence[str]
    tried: Sequence[str]

    def __post_init__(self) -> None:
        self.chain, self.tried = list(self.chain), list(self.tried)
        super().__post_init__()

    def __str__(self) -> str:
        tried = "; ".join(self.tried) if self.tried else "the index has no such project"
        return (
            f"no version of {self.requirement} for target {self.target} "
            f"(required by {format_chain(self.chain)}). Tried: {tried}"
        )

    @property
    def hint(self) -> str:
        return (
            "check the name and the version range; was the index reachable and is it the "
            "right one (--index-url)?"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ConflictCause:
    """One requirement taking part in a conflict, and who asked for it."""

    requirement: str
    parent: str | None  # "name==version" of the requirer, None for the user's input


@dataclass(eq=False)
class ResolutionConflict(WheelhouseError):
    """The requirements cannot all be satisfied at once.

    Its message is a line, then one line per conflicting requirement, as pip
    explains a conflict.
    """

    target: str
    causes: Sequence[ConflictCause]

    def __post_init__(self) -> None:
        self.causes = list(self.causes)
        super().__post_init__()

    def __str__(self) -> str:
        lines = [f"cannot resolve for target {self.target}; the conflict is caused by:"]
        for cause in self.causes:
            who = cause.parent or "the user's input"
            lines.append(f"    {who} requires {cause.requirement}")
        return "\n".join(lines)

    @property
    def hint(self) -> str:
        return "loosen one of the conflicting requirements or constraints"


@dataclass(eq=False)
class NoFileForTarget(WheelhouseError):
    """A pinned version has no file the target can install."""

    project: str
    version: str
    target: str
    reasons: Sequence[str]

    def __post_init__(self) -> None:
        self.reasons = list(self.reasons)
        super().__post_init__()

    def __str__(self) -> str:
        why = "; ".join(self.reasons) if self.reasons else "no files"
        return f"no file of {self.project} {self.version} for target {self.target}: {why}"

    @property
    def hint(self) -> str:
        if any("sdist" in reason for reason in self.reasons):
            return "pass --build to build the sdist into a wheel"
        return "pin another version, or drop this target (--python/--platform)"


@dataclass(eq=False)
class NoUploadTimes(WheelhouseError):
    """--exclude-newer asked of an index that does not say when files were uploaded."""

    project: str

    def __str__(self) -> str:
        return f"--exclude-newer needs upload times, and the index gives none for {self.project}"

    @property
    def hint(self) -> str:
        return "drop --exclude-newer, or use an index that serves PEP 700 upload times"


@dataclass(eq=False)
class ResolutionTooComplex(WheelhouseError):
    """The resolver gave up: it backtracked for too many rounds without an answer.

    ``backtracked`` names the projects it kept going back on, each with how many
    of its versions it tried: constraining those is what helps.
    """

    target: str
    rounds: int
    backtracked: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.backtracked = dict(self.backtracked)
        super().__post_init__()

    def __str__(self) -> str:
        message = (
            f"cannot resolve for target {self.target}: no answer found in "
            f"{self.rounds} rounds of backtracking"
        )
        if not self.backtracked:
            return message
        tried = ", ".join(
            f"{name} ({_versions(count)} tried)" for name, count in self.backtracked.items()
        )
        return f"{message}; it kept going back on {tried}"

    @property
    def hint(self) -> str:
        names = ", ".join(self.backtracked) or "the projects it keeps trying"
        return (
            f"add constraints (-c) that pin or bound {names}, "
            "or narrow the requirements' version ranges"
        )


@dataclass(eq=False)
class TooManyProjects(WheelhouseError):
    """The dependency graph reached more projects than a run may consult.

    An index decides what each release depends on; one that makes every release
    need a new project would keep a resolution going for ever.
    """

    limit: int
    variable: str
    project: str

    def __str__(self) -> str:
        setting = f" ({self.variable})" if self.variable else ""
        return (
            f"the dependency graph reaches more than {self.limit} projects{setting}; "
            f"stopped before reading {self.project}"
        )

    @property
    def hint(self) -> str:
        raise_it = f"raise {self.variable}" if self.variable else "raise the limit"
        return f"an index that makes a graph this large is suspect; if it is genuine, {raise_it}"
