"""Errors of the commands that combine wheelhouses: merge and verify."""

from __future__ import annotations

from collections.abc import Sequence

from wheelhouse.errors import WheelhouseError

__all__ = [
    "ConflictingFiles",
    "ConflictingInputs",
    "ConflictingPins",
    "NotPublishable",
    "VerifyFailed",
]


_MERGE_HINT = "merge only wheelhouses built from the same inputs, index and options"


class ConflictingInputs(WheelhouseError):
    """Two wheelhouses to merge that were built from different inputs or options."""

    def __init__(self, section: str, key: str, first: str, second: str) -> None:
        super().__init__(section, key, first, second)
        self.section, self.key, self.first, self.second = section, key, first, second
        self.hint = f"{_MERGE_HINT}; nothing was written"

    def __str__(self) -> str:
        return (
            f"cannot merge {self.second} with {self.first}: their manifests differ in "
            f"[{self.section}] {self.key}"
        )


class ConflictingPins(WheelhouseError):
    """One target that two wheelhouses to merge lock differently."""

    def __init__(self, target: str, first: str, second: str, packages: Sequence[str]) -> None:
        super().__init__(target, first, second, packages)
        self.target, self.first, self.second = target, first, second
        self.packages = list(packages)
        self.hint = f"{_MERGE_HINT} (and --exclude-newer), or leave one of them out"

    def __str__(self) -> str:
        what = (
            "pins " + ", ".join(self.packages)
            if self.packages
            else "the same pins with different files or annotations"
        )
        return f"target {self.target} differs between {self.first} and {self.second}: {what}"


class ConflictingFiles(WheelhouseError):
    """One file name with different contents in two wheelhouses to merge."""

    def __init__(self, filename: str, first: str, second: str) -> None:
        super().__init__(filename, first, second)
        self.filename, self.first, self.second = filename, first, second
        self.hint = (
            "one of them holds a different or corrupted file: run `wheelhouse verify` on each"
        )

    def __str__(self) -> str:
        return f"{self.filename} has a different sha256 in {self.first} and in {self.second}"


class VerifyFailed(WheelhouseError):
    """``wheelhouse verify`` found problems (listed before this error)."""

    def __init__(self, path: str, kinds: Sequence[str]) -> None:
        super().__init__(path, kinds)
        self.path, self.kinds = path, list(kinds)
        self.hint = "; ".join(_VERIFY_HINTS[key] for key in _verify_hint_keys(self.kinds))

    def __str__(self) -> str:
        count = len(self.kinds)
        return f"{self.path}: {count} problem{'s' if count != 1 else ''} found"


_VERIFY_HINTS = {
    "rebuild": "rebuild to restore files, locks and index (wheelhouse build or refresh)",
    "prune": "`wheelhouse prune` removes stray and partial files",
    "target": "build a target for the interpreter (wheelhouse build --python ...)",
}


def _verify_hint_keys(kinds: Sequence[str]) -> list[str]:
    """Which advice fits the kinds of problems found, in a stable order."""
    fixes = {"stray file": "prune", "partial file": "prune", "no target for interpreter": "target"}
    wanted = {fixes.get(kind, "rebuild") for kind in kinds}
    return [key for key in _VERIFY_HINTS if key in wanted]


class NotPublishable(WheelhouseError):
    """A wheelhouse that fails ``verify``: publishing it would spread what is wrong."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        super().__init__(path, problems)
        self.path, self.problems = path, list(problems)
        self.hint = f"`wheelhouse verify -w {path}` lists every problem; fix them, then publish"

    def __str__(self) -> str:
        count = len(self.problems)
        return (
            f"{self.path} fails verify ({count} problem{'s' if count != 1 else ''}, first: "
            f"{self.problems[0]}); nothing was published"
        )
