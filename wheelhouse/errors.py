"""Errors that carry their data and explain themselves.

Every error the tool reports on purpose derives from :class:`WheelhouseError`.
``str(error)`` is the one-line message; ``error.hint`` says what to do next.
The CLI prints them as ``error: ...`` and ``hint: ...`` in one place.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass, field

from wheelhouse.urls import redact

__all__ = [
    "BackendUnavailable",
    "BadDirectory",
    "BadSdist",
    "BuildFailed",
    "CannotBuildHere",
    "CannotServe",
    "ConflictCause",
    "ConflictingFiles",
    "ConflictingInputs",
    "ConflictingPins",
    "DownloadError",
    "FileSystemError",
    "HashMismatch",
    "IndexUnreachable",
    "InstallFailed",
    "InterpreterNotFound",
    "InvalidFilename",
    "LockUnusable",
    "NoFileForTarget",
    "NoMatchingTarget",
    "NoUploadTimes",
    "NoVersionFound",
    "NotALockSource",
    "NotAWheelhouse",
    "NotInLock",
    "PinMismatch",
    "RequirementFileError",
    "ResolutionConflict",
    "ResolutionTooComplex",
    "SdistBuildFailed",
    "UnreadableFile",
    "VerifyFailed",
    "WheelhouseBusy",
    "WheelhouseError",
]


class WheelhouseError(Exception):
    """Base class of every error the tool explains to its user."""

    hint: str = ""


class RequirementFileError(WheelhouseError):
    """A requirement or constraint line that does not parse."""

    def __init__(self, path: str, lineno: int, line: str, reason: str) -> None:
        super().__init__(path, lineno, line, reason)
        self.path, self.lineno, self.line, self.reason = path, lineno, line, reason
        self.hint = "fix the line; the syntax is pip's requirements file format"

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: invalid line {self.line!r}: {self.reason}"


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


class IndexUnreachable(WheelhouseError):
    """The index did not answer usefully after the retries."""

    def __init__(self, url: str, reason: str) -> None:
        # Logs and CI output outlive the run: no index token may reach them.
        url, reason = redact(url), redact(reason)
        super().__init__(url, reason)
        self.url, self.reason = url, reason
        self.hint = "check the index URL (--index-url) and the network, then run again"

    def __str__(self) -> str:
        return f"cannot fetch {self.url}: {self.reason}"


class DownloadError(IndexUnreachable):
    """A file could not be downloaded."""


class HashMismatch(WheelhouseError):
    """A downloaded file's digest differs from the one the index announced."""

    def __init__(self, url: str, expected: str, actual: str) -> None:
        url = redact(url)
        super().__init__(url, expected, actual)
        self.url, self.expected, self.actual = url, expected, actual
        self.hint = "the file was discarded; the index or a proxy serves corrupted data"

    def __str__(self) -> str:
        return f"sha256 of {self.url} is {self.actual}, expected {self.expected}"


class InvalidFilename(WheelhouseError):
    """A file name from an index that is not a distribution of the project asked for."""

    def __init__(
        self, filename: str, project: str, reason: str, *, suspicious: bool = True
    ) -> None:
        super().__init__(filename, project, reason)
        self.filename, self.project, self.reason = filename, project, reason
        # A path or another project's file is worth a warning; an old file whose
        # name predates today's rules (the public index keeps many) is not.
        self.suspicious = suspicious
        self.hint = "the index serves a file it should not; the file was refused"

    def __str__(self) -> str:
        return f"refused file {self.filename!r} listed for {self.project}: {self.reason}"


class NotAWheelhouse(WheelhouseError):
    """A directory that is neither empty nor a wheelhouse."""

    def __init__(
        self, path: str, reason: str = "it is not empty and has no wheelhouse.toml"
    ) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason
        self.hint = "pass -w with an empty or new directory, or an existing wheelhouse"

    def __str__(self) -> str:
        return f"{self.path} is not a wheelhouse: {self.reason}"


class WheelhouseBusy(WheelhouseError):
    """Another process holds the wheelhouse's lock."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path
        self.hint = "wait for the other build to finish, then run again"

    def __str__(self) -> str:
        return f"{self.path} is being written by another process"


class NoMatchingTarget(WheelhouseError):
    """An interpreter that no target of the wheelhouse serves."""

    def __init__(self, interpreter: str, interpreter_tag: str, targets: Sequence[str]) -> None:
        super().__init__(interpreter, interpreter_tag, targets)
        self.interpreter, self.interpreter_tag = interpreter, interpreter_tag
        self.targets = list(targets)
        self.hint = "build the wheelhouse for this interpreter (wheelhouse build --python ...)"

    def __str__(self) -> str:
        have = ", ".join(self.targets) if self.targets else "none"
        return (
            f"no target of the wheelhouse matches {self.interpreter} "
            f"({self.interpreter_tag}); the wheelhouse has: {have}"
        )


class NotInLock(WheelhouseError):
    """Requirements that name projects the lock does not pin."""

    def __init__(self, names: Sequence[str], lock: str) -> None:
        super().__init__(names, lock)
        self.names, self.lock = list(names), lock
        self.hint = "add them to the wheelhouse's inputs and rebuild it"

    def __str__(self) -> str:
        return f"not in the wheelhouse ({self.lock}): {', '.join(self.names)}"


@dataclass(kw_only=True)
class BuildFailed(WheelhouseError):
    """Several independent failures collected while building."""

    errors: list[WheelhouseError] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    def __post_init__(self) -> None:
        self.hint = self.errors[0].hint if self.errors else ""


class BadDirectory(WheelhouseError):
    """A directory argument that is missing, not a directory, or lacks what is needed."""

    def __init__(
        self, path: str, reason: str, hint: str = "pass a directory of wheels and sdists"
    ) -> None:
        super().__init__(path, reason)
        self.path, self.reason, self.hint = path, reason, hint

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class CannotServe(WheelhouseError):
    """The server cannot listen on the address asked for."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(host, port, reason)
        self.host, self.port, self.reason = host, port, reason
        self.hint = "pick another --port (0 picks a free one) or --host"

    def __str__(self) -> str:
        return f"cannot listen on {self.host}:{self.port}: {self.reason}"


class NoUploadTimes(WheelhouseError):
    """--exclude-newer asked of an index that does not say when files were uploaded."""

    def __init__(self, project: str) -> None:
        super().__init__(project)
        self.project = project
        self.hint = "drop --exclude-newer, or use an index that serves PEP 700 upload times"

    def __str__(self) -> str:
        return f"--exclude-newer needs upload times, and the index gives none for {self.project}"


class InterpreterNotFound(WheelhouseError):
    """A ``--python`` that is not a working interpreter."""

    def __init__(self, python: str, reason: str) -> None:
        super().__init__(python, reason)
        self.python, self.reason = python, reason
        self.hint = "pass a version (--python 3.12) or the path of a working interpreter"

    def __str__(self) -> str:
        return f"cannot use {self.python} as an interpreter: {self.reason}"


class PinMismatch(WheelhouseError):
    """Requirements that the versions pinned by the lock do not satisfy."""

    def __init__(self, mismatches: Sequence[tuple[str, str]], lock: str) -> None:
        super().__init__(mismatches, lock)
        self.mismatches, self.lock = list(mismatches), lock
        self.hint = "ask for the pinned version, or change the inputs and rebuild the wheelhouse"

    def __str__(self) -> str:
        pairs = "; ".join(f"{asked} (the lock pins {pinned})" for asked, pinned in self.mismatches)
        return f"the lock {self.lock} does not satisfy: {pairs}"


class LockUnusable(WheelhouseError):
    """A lock file that is missing, unreadable, or names files the wheelhouse lacks."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason
        self.hint = "run `wheelhouse verify`, then rebuild the wheelhouse"

    def __str__(self) -> str:
        return f"cannot use the lock {self.path}: {self.reason}"


class BackendUnavailable(WheelhouseError):
    """An installer back-end (pip, uv) that cannot run here."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(backend, reason)
        self.backend, self.reason = backend, reason
        self.hint = "install it, or choose the other one (--backend pip|uv)"

    def __str__(self) -> str:
        return f"cannot install with {self.backend}: {self.reason}"


class InstallFailed(WheelhouseError):
    """pip or uv ran and failed; its own output says why."""

    def __init__(self, backend: str, returncode: int) -> None:
        super().__init__(backend, returncode)
        self.backend, self.returncode = backend, returncode
        self.hint = f"read {backend}'s output above; only locked, hash-checked files were offered"

    def __str__(self) -> str:
        return f"{self.backend} exited with status {self.returncode}"


class NotALockSource(WheelhouseError):
    """A diff argument that is neither a wheelhouse nor a lock file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason
        self.hint = "pass a wheelhouse directory (with wheelhouse.toml) or a locks/<target>.txt"

    def __str__(self) -> str:
        return f"{self.path} is neither a wheelhouse nor a lock file: {self.reason}"


class UnreadableFile(WheelhouseError):
    """A lock or manifest of a wheelhouse that does not parse."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason
        self.hint = "rebuild the wheelhouse (wheelhouse build) to rewrite its locks and manifest"

    def __str__(self) -> str:
        return f"cannot read {self.path}: {self.reason}"


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


class CannotBuildHere(WheelhouseError):
    """Sdists a target needs built, and no interpreter here that can build for it.

    ``foreign`` is the target's platform when this machine cannot build for it at
    all; None when only an interpreter of the target's Python is missing.
    """

    def __init__(
        self, target: str, python: str, packages: Sequence[str], foreign: str | None = None
    ) -> None:
        super().__init__(target, python, packages, foreign)
        self.target, self.python, self.foreign = target, python, foreign
        self.packages = list(packages)
        keep = "or pass --keep-sdist to lock the sdists, which pip then builds when installing"
        self.hint = (
            f"build this target on a {foreign} machine with Python {python} and "
            f"`wheelhouse merge` the wheelhouses; {keep}"
            if foreign
            else f"pass --python PATH of a Python {python}, or install Python {python}; {keep}"
        )

    def __str__(self) -> str:
        why = (
            f"this machine cannot build wheels for {self.foreign}"
            if self.foreign
            else f"no Python {self.python} interpreter was found to build them"
        )
        packages = ", ".join(self.packages)
        return f"target {self.target} needs wheels built from sdists ({packages}), and {why}"


class SdistBuildFailed(WheelhouseError):
    """pip could not build a wheel from an sdist, or built one the target cannot use."""

    def __init__(self, sdist: str, python: str, detail: str) -> None:
        super().__init__(sdist, python, detail)
        self.sdist, self.python, self.detail = sdist, python, detail
        self.hint = (
            "read pip's output above; the sdist may need system libraries or a compiler, or "
            "a wheel of another version (pin one that has wheels)"
        )

    def __str__(self) -> str:
        return f"cannot build a wheel from {self.sdist} with {self.python}: {self.detail}"


class BadSdist(WheelhouseError):
    """An sdist whose archive or declarations cannot be read."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(filename, reason)
        self.filename, self.reason = filename, reason
        self.hint = "pin another version of the project, or one that ships wheels"

    def __str__(self) -> str:
        return f"cannot read the sdist {self.filename}: {self.reason}"


_WRITABLE = "choose a writable location (-w, --tmp-dir, --cache-dir) or fix its permissions"
_ERRNO_HINTS = {
    errno.ENOSPC: "free some disk space, or point the command at another filesystem",
    errno.EACCES: _WRITABLE,
    errno.EPERM: _WRITABLE,
    errno.EROFS: _WRITABLE,
    errno.ENOENT: "check that the path exists",
    errno.ENOTDIR: "check that every parent of the path is a directory",
}


class FileSystemError(WheelhouseError):
    """An operating-system error: a missing directory, no permission, a full disk."""

    def __init__(self, path: str | None, reason: str, code: int | None = None) -> None:
        super().__init__(path, reason, code)
        self.path, self.reason, self.code = path, reason, code
        self.hint = _ERRNO_HINTS.get(code or 0, "check the path and its permissions, then retry")

    @classmethod
    def from_os_error(cls, exc: OSError) -> FileSystemError:
        """The error an ``OSError`` stands for, naming its file when it has one."""
        path = None if exc.filename is None else str(exc.filename)
        return cls(path, exc.strerror or str(exc) or type(exc).__name__, exc.errno)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


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
