"""Errors of the commands: merging and verifying wheelhouses, and hashes in the inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wheelhouse.errors import WheelhouseError
from wheelhouse.resolve.errors import NoFileForTarget

__all__ = [
    "CannotFetch",
    "ConflictingFiles",
    "ConflictingInputs",
    "ConflictingPins",
    "FileNotHashed",
    "NoLockedFile",
    "NotPublishable",
    "NothingRecorded",
    "UnpinnedHashedRequirement",
    "VerifyFailed",
]


_MERGE_HINT = "merge only wheelhouses built from the same inputs, index and options"


@dataclass(eq=False)
class ConflictingInputs(WheelhouseError):
    """Two wheelhouses to merge that were built from different inputs or options.

    ``differences`` maps each key of the table that differs to its value in the
    first wheelhouse (A) and in the second (B), None where one lacks it; the
    message says how the first few differ, each within a few items.
    """

    section: str
    first: str
    second: str
    differences: Mapping[str, tuple[Any, Any]]

    def __post_init__(self) -> None:
        self.differences = dict(self.differences)
        super().__post_init__()

    def __str__(self) -> str:
        keys = list(self.differences)
        told = [_difference(key, *self.differences[key]) for key in keys[:_SHOWN]]
        if len(keys) > _SHOWN:
            more = len(keys) - _SHOWN
            told.append(f"and {more} more {'key' if more == 1 else 'keys'}")
        return (
            f"cannot merge {self.second} (B) with {self.first} (A): their manifests differ in "
            f"[{self.section}]: {'; '.join(told)}"
        )

    @property
    def hint(self) -> str:
        return f"{_MERGE_HINT}; nothing was written"


#: How many differing keys, and how many items of a list, a merge refusal shows.
_SHOWN = 3
#: How an item of these input lists is written on a command line.
_AS_OPTION = {"requirement-files": "-r {}", "constraint-files": "-c {}"}


def _difference(key: str, first: Any, second: Any) -> str:
    """``key: only in A [x], only in B [y]``, or ``key: A has x, B has y``."""
    if isinstance(first, list) and isinstance(second, list):
        only_a = [_brief(item, key) for item in first if item not in second]
        only_b = [_brief(item, key) for item in second if item not in first]
        told = [
            f"only in {side} [{_few(items)}]"
            for side, items in (("A", only_a), ("B", only_b))
            if items
        ]
        return f"{key}: {', '.join(told) if told else 'the same entries in another order'}"
    return f"{key}: A has {_brief(first, key)}, B has {_brief(second, key)}"


def _few(items: Sequence[str]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


def _brief(value: Any, key: str = "") -> str:
    """A value as the manifest holds it, in at most 60 characters."""
    if value is None:
        return "none"
    text = _AS_OPTION[key].format(value) if key in _AS_OPTION else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(eq=False)
class ConflictingPins(WheelhouseError):
    """One target that two wheelhouses to merge lock differently."""

    target: str
    first: str
    second: str
    packages: Sequence[str]

    def __post_init__(self) -> None:
        self.packages = list(self.packages)
        super().__post_init__()

    def __str__(self) -> str:
        what = (
            "pins " + ", ".join(self.packages)
            if self.packages
            else "the same pins with different files or annotations"
        )
        return f"target {self.target} differs between {self.first} and {self.second}: {what}"

    @property
    def hint(self) -> str:
        return f"{_MERGE_HINT} (and --exclude-newer), or leave one of them out"


@dataclass(eq=False)
class ConflictingFiles(WheelhouseError):
    """One file name with different contents in two wheelhouses to merge."""

    filename: str
    first: str
    second: str

    def __str__(self) -> str:
        return f"{self.filename} has a different sha256 in {self.first} and in {self.second}"

    @property
    def hint(self) -> str:
        return "one of them holds a different or corrupted file: run `wheelhouse verify` on each"


@dataclass(eq=False)
class VerifyFailed(WheelhouseError):
    """``wheelhouse verify`` found problems (listed before this error)."""

    path: str
    kinds: Sequence[str]

    def __post_init__(self) -> None:
        self.kinds = list(self.kinds)
        super().__post_init__()

    def __str__(self) -> str:
        count = len(self.kinds)
        return f"{self.path}: {count} problem{'s' if count != 1 else ''} found"

    @property
    def hint(self) -> str:
        return "; ".join(_VERIFY_HINTS[key] for key in _verify_hint_keys(self.kinds))


_VERIFY_HINTS = {
    "finish": "run any write command (wheelhouse prune, build or refresh) to finish the "
    "interrupted commit",
    "rebuild": "rebuild to restore files, locks and index (wheelhouse build or refresh)",
    "prune": "`wheelhouse prune` removes stray and partial files",
    "target": "build a target for the interpreter (wheelhouse build --python ...)",
}


def _verify_hint_keys(kinds: Sequence[str]) -> list[str]:
    """Which advice fits the kinds of problems found, in a stable order."""
    fixes = {
        "stray file": "prune",
        "partial file": "prune",
        "no target for interpreter": "target",
        "interrupted commit": "finish",
    }
    wanted = {fixes.get(kind, "rebuild") for kind in kinds}
    return [key for key in _VERIFY_HINTS if key in wanted]


@dataclass(eq=False)
class NothingRecorded(WheelhouseError):
    """``refresh`` of a wheelhouse whose manifest records no inputs or no targets."""

    path: str
    missing: str

    def __str__(self) -> str:
        return (
            f"{self.path} records {self.missing}: there is nothing to refresh; nothing was changed"
        )

    @property
    def hint(self) -> str:
        return "build the wheelhouse with requirements first (wheelhouse build REQ... or -r FILE)"


@dataclass(eq=False)
class NotPublishable(WheelhouseError):
    """A wheelhouse that fails ``verify``: publishing it would spread what is wrong."""

    path: str
    problems: Sequence[str]

    def __str__(self) -> str:
        count = len(self.problems)
        first = self.problems[0] if self.problems else "?"
        return (
            f"{self.path} fails verify ({count} problem{'s' if count != 1 else ''}, first: "
            f"{first}); nothing was published"
        )

    @property
    def hint(self) -> str:
        return f"`wheelhouse verify -w {self.path}` lists every problem; fix them, then publish"


@dataclass(eq=False)
class CannotFetch(WheelhouseError):
    """Files the locks need that ``fetch`` has no recorded origin to download from."""

    path: str
    problems: Sequence[str]

    def __post_init__(self) -> None:
        self.problems = list(self.problems)
        super().__post_init__()

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"cannot fetch {count} file{'s' if count != 1 else ''} the locks need"
        return f"{head} ({self.path}): " + "; ".join(self.problems)

    @property
    def hint(self) -> str:
        return (
            "nothing was downloaded; rebuild the wheelhouse (wheelhouse build with no "
            "requirements builds the recorded inputs again) to restore them"
        )


@dataclass(eq=False)
class NoLockedFile(NoFileForTarget):
    """A locked version none of whose locked files the target can install."""

    @property
    def hint(self) -> str:
        if any("sdist" in reason for reason in self.reasons):
            return "pass --build to build the locked sdist into a wheel"
        return (
            "relock with this target's platform and Python among the lock's environments, "
            "or drop this target (--python/--platform)"
        )


@dataclass(eq=False)
class UnpinnedHashedRequirement(WheelhouseError):
    """A requirement with ``--hash`` options that does not pin one version."""

    location: str
    requirement: str

    def __str__(self) -> str:
        return (
            f"{self.location}: {self.requirement} has --hash options but pins no version: "
            "hashes are checked for an exact version only (==)"
        )

    @property
    def hint(self) -> str:
        return "pin it with ==, as pip-compile --generate-hashes writes it, or drop its hashes"


@dataclass(eq=False)
class FileNotHashed(WheelhouseError):
    """A hashed requirement whose pin has no file for a target with one of its hashes."""

    location: str
    project: str
    version: str
    target: str
    files: Sequence[tuple[str, str]]  # (file name, its sha256)
    hashes: Sequence[str]

    def __post_init__(self) -> None:
        self.files, self.hashes = list(self.files), list(self.hashes)
        super().__post_init__()

    def __str__(self) -> str:
        files = ", ".join(f"{name} (sha256:{digest})" for name, digest in self.files)
        return (
            f"{self.location}: no file of {self.project} {self.version} for target "
            f"{self.target} matches its --hash options: {files or 'no file'} against "
            f"{', '.join(self.hashes)}"
        )

    @property
    def hint(self) -> str:
        return (
            "the index serves other files than the ones hashed: check where the hashes came "
            "from, or regenerate them; nothing was written"
        )
