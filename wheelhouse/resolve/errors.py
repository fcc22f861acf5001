"""Errors of resolution: no version, a conflict, no file for a target.

Their words are built here from their data; :mod:`wheelhouse.resolve.explain`
finds the data (who asked for what, why each file was passed over). Every
message names its target through :func:`for_targets`, so the same failure on
many targets of a matrix reads as one (``also`` holds the others).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wheelhouse.errors import WheelhouseError

__all__ = [
    "MAX_SHOWN",
    "ConflictCause",
    "NoFileForTarget",
    "NoUploadTimes",
    "NoVersionFound",
    "ResolutionConflict",
    "ResolutionFailures",
    "ResolutionTooComplex",
    "TooManyProjects",
    "for_targets",
    "format_chain",
]

#: How many items a message lists before it says "and N more".
MAX_SHOWN = 3


#: How many requirements a conflict lists before it says how many more there are.
MAX_CAUSES = 10
#: How many distinct failures of a run are shown.
MAX_FAILURES = 5


def _versions(count: int) -> str:
    return {0: "no version", 1: "1 version"}.get(count, f"{count} versions")


def format_chain(chain: Sequence[str]) -> str:
    """Render who asked for a requirement, nearest requirer last."""
    return " -> ".join(chain) if chain else "the command line"


def shortened(items: Sequence[str], shown: int = MAX_SHOWN) -> str:
    """``a, b, c and 12 more``: the first few of a list, and how many are left out."""
    more = len(items) - shown
    head = ", ".join(items[:shown])
    return f"{head} and {more} more" if more > 0 else head


def for_targets(target: str, also: Sequence[str] = ()) -> str:
    """``target X``, or ``4 targets (X, Y, Z and 1 more)`` when others failed alike."""
    if not also:
        return f"target {target}"
    names = [target, *also]
    return f"{len(names)} targets ({shortened(names)})"


@dataclass(eq=False)
class NoVersionFound(WheelhouseError):
    """A project is unknown, or none of its versions is in the range asked for.

    ``offered`` counts the versions the index lists (0: it has no such project)
    and ``newest`` is the newest of them; ``refused`` holds why each entry of a
    page whose every file was refused was refused (the first few).
    """

    requirement: str
    target: str
    chain: Sequence[str]
    offered: int = 0
    newest: str = ""
    refused: Sequence[str] = field(default_factory=list, kw_only=True)
    also: Sequence[str] = field(default_factory=list, kw_only=True)

    def __post_init__(self) -> None:
        self.chain, self.refused, self.also = list(self.chain), list(self.refused), list(self.also)
        super().__post_init__()

    @property
    def project(self) -> str:
        return re.split(r"[\[<>=!~; ]", self.requirement, maxsplit=1)[0]

    def __str__(self) -> str:
        head = (
            f"no version of {self.requirement} for {for_targets(self.target, self.also)} "
            f"(required by {format_chain(self.chain)})"
        )
        if self.refused:
            refused = shortened(self.refused)
            return f"{head}: every file the index lists for it was refused: {refused}"
        if not self.offered:
            return f"{head}: the index has no project named {self.project}"
        return (
            f"{head}: none of the index's {_versions(self.offered)} of {self.project} is in "
            f"that range (the newest is {self.newest})"
        )

    @property
    def hint(self) -> str:
        if self.refused:
            return "use an index whose files are named as the project's distributions"
        if not self.offered:
            return (
                "check the name; was the index reachable and is it the right one "
                "(--index-url, --extra-index-url)?"
            )
        return f"ask for a version the index has ({self.project} {self.newest} is the newest)"


@dataclass(frozen=True, kw_only=True, slots=True)
class ConflictCause:
    """One requirement taking part in a conflict, and who asked for it.

    ``parent`` is the requirer's ``name==version``; for the user's own input it is
    None and ``where`` says where it was written (``the command line (argument 2)``,
    ``requirements.txt:3``, ``constraint constraints.txt:1``).
    """

    requirement: str
    parent: str | None
    where: str = ""

    def __str__(self) -> str:
        who = self.parent or self.where or "the user's input"
        return f"{who} requires {self.requirement}"


@dataclass(eq=False)
class ResolutionConflict(WheelhouseError):
    """The requirements cannot all be satisfied at once.

    Its message is a line, then one line per conflicting requirement, as pip
    explains a conflict; ``project`` is the project they disagree on, when one.
    """

    target: str
    causes: Sequence[ConflictCause]
    project: str = field(default="", kw_only=True)
    also: Sequence[str] = field(default_factory=list, kw_only=True)

    def __post_init__(self) -> None:
        self.causes, self.also = list(self.causes), list(self.also)
        super().__post_init__()

    def __str__(self) -> str:
        what = f"{self.project} " if self.project else ""
        lines = [
            f"cannot resolve {what}for {for_targets(self.target, self.also)}; "
            "the conflict is caused by:"
        ]
        shown = self.causes[:MAX_CAUSES]
        lines += [f"    {cause}" for cause in shown]
        if len(self.causes) > len(shown):
            lines.append(f"    and {len(self.causes) - len(shown)} more requirements")
        return "\n".join(lines)

    @property
    def hint(self) -> str:
        return "loosen one of the conflicting requirements or constraints"


#: Why a version had no file for a target, as :class:`NoFileForTarget` advises on it.
SDIST, PLATFORM, PYTHON, OTHER = "sdist", "platform", "python", "other"
NEWER, FORMAT, YANKED, PRERELEASE = "newer", "format", "yanked", "prerelease"
#: The advice for each kind that needs no more than the project's name.
_ADVICE = {
    PYTHON: "pin a version of {} that supports the target's Python, or drop the target (--python)",
    NEWER: "pin a version of {} uploaded before --exclude-newer, or move that date later",
    FORMAT: "change the --no-binary/--only-binary line that names {} in the requirements file",
    YANKED: "pin the yanked version exactly (==) to take it anyway, or ask for another of {}",
    PRERELEASE: "pass --pre, or pin the prerelease of {} exactly (==)",
}


@dataclass(eq=False)
class NoFileForTarget(WheelhouseError):
    """Versions in range, and no file of theirs the target can install.

    ``reasons`` say why ``version`` (the newest in range) has none; ``kind`` is
    the first reason's (:data:`SDIST`, :data:`PLATFORM`, :data:`PYTHON`), which
    the hint follows. ``sdist`` says an sdist of it exists that ``--build``
    would take, and ``buildable`` whether this machine can build for the target
    (None: not asked).
    ``narrowed`` names the requirements or constraints that left only the
    versions in range; ``tried`` the next versions in range, ``more`` how many
    more there are.
    """

    project: str
    version: str
    target: str
    reasons: Sequence[str]
    kind: str = field(default=OTHER, kw_only=True)
    chain: Sequence[str] = field(default_factory=list, kw_only=True)
    narrowed: Sequence[str] = field(default_factory=list, kw_only=True)
    tried: Sequence[str] = field(default_factory=list, kw_only=True)
    more: int = field(default=0, kw_only=True)
    sdist: bool = field(default=False, kw_only=True)
    buildable: bool | None = field(default=None, kw_only=True)
    also: Sequence[str] = field(default_factory=list, kw_only=True)

    def __post_init__(self) -> None:
        self.reasons, self.chain, self.also = list(self.reasons), list(self.chain), list(self.also)
        self.narrowed, self.tried = list(self.narrowed), list(self.tried)
        super().__post_init__()

    def __str__(self) -> str:
        where = for_targets(self.target, self.also)
        by = f" (required by {format_chain(self.chain)})" if self.chain else ""
        if self.narrowed:
            allow = "allows" if len(self.narrowed) == 1 else "allow"
            by += f", the newest version that {' and '.join(self.narrowed)} {allow}"
        why = "; ".join(self.reasons) if self.reasons else "no files"
        message = f"no file of {self.project} {self.version} for {where}{by}: {why}"
        if self.tried:
            more = f" and {self.more} more" if self.more else ""
            message += f"; also tried {', '.join(self.tried)}{more}"
        return message

    @property
    def hint(self) -> str:
        if self.kind in _ADVICE:
            return _ADVICE[self.kind].format(self.project)
        if self.sdist and self.buildable:
            return f"pass --build to build {self.project} {self.version} from its sdist"
        if self.sdist and self.buildable is None:
            return (
                f"pass --build to build {self.project} {self.version} from its sdist, on a "
                "machine of the target's platform with the target's Python"
            )
        if self.sdist:
            return (
                f"this machine cannot build {self.project} for the target: build it with "
                "--build on a machine of the target's platform and `wheelhouse merge` the "
                "wheelhouses, or pin a version that has wheels for it"
            )
        return (
            f"pin a version of {self.project} that has a wheel for the target, "
            "or drop the target (--python/--platform)"
        )


@dataclass(eq=False)
class ResolutionFailures(WheelhouseError):
    """Several targets failed, each failure said once with every target it holds for.

    Only the first :data:`MAX_FAILURES` are shown, so a large matrix stays readable.
    """

    errors: Sequence[WheelhouseError]

    def __post_init__(self) -> None:
        self.errors = list(self.errors)
        super().__post_init__()

    def __str__(self) -> str:
        shown = [str(error) for error in self.errors[:MAX_FAILURES]]
        if len(self.errors) > MAX_FAILURES:
            more = len(self.errors) - MAX_FAILURES
            shown.append(f"and {more} more failures; build fewer targets to see them")
        return "\n".join(shown)

    @property
    def hint(self) -> str:
        hints = dict.fromkeys(error.hint for error in self.errors[:MAX_FAILURES] if error.hint)
        return "; ".join(list(hints)[:2])


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
