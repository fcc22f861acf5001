"""Errors of installing: no interpreter, no matching target, an unusable lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wheelhouse.errors import WheelhouseError

__all__ = [
    "BackendUnavailable",
    "CannotCompile",
    "CannotUninstall",
    "EngineFailed",
    "ExtraNotInLock",
    "FilesDiffer",
    "HashNotListed",
    "InstallFailed",
    "InterpreterNotFound",
    "LockUnusable",
    "NotInLock",
    "PinMismatch",
    "PipNotPinned",
]


@dataclass(eq=False)
class NotInLock(WheelhouseError):
    """Requirements that name projects the lock does not pin."""

    names: Sequence[str]
    lock: str

    def __post_init__(self) -> None:
        self.names = list(self.names)
        super().__post_init__()

    def __str__(self) -> str:
        return f"not in the wheelhouse ({self.lock}): {', '.join(self.names)}"

    @property
    def hint(self) -> str:
        return "add them to the wheelhouse's inputs and rebuild it"


@dataclass(eq=False)
class ExtraNotInLock(WheelhouseError):
    """An extra asked for that the lock cannot honour: the project lacks it, or the lock
    pins none (or not all) of what it adds: the wheelhouse was built without it."""

    project: str
    extra: str
    lock: str
    missing: Sequence[str]  # what the extra adds that the lock lacks; empty: no such extra

    def __post_init__(self) -> None:
        self.missing = list(self.missing)
        super().__post_init__()

    def __str__(self) -> str:
        if not self.missing:
            return f"{self.project} has no extra {self.extra!r} ({self.lock})"
        lacks = ", ".join(self.missing)
        return f"{self.project}[{self.extra}] needs what the lock {self.lock} lacks: {lacks}"

    @property
    def hint(self) -> str:
        if not self.missing:
            return "check the extra's name against the project's metadata"
        return (
            f"rebuild the wheelhouse with {self.project}[{self.extra}] among its inputs "
            "(or install without the extra)"
        )


@dataclass(eq=False)
class InterpreterNotFound(WheelhouseError):
    """A ``--python`` that is not a working interpreter."""

    python: str
    reason: str

    def __str__(self) -> str:
        return f"cannot use {self.python} as an interpreter: {self.reason}"

    @property
    def hint(self) -> str:
        return "pass a version (--python 3.12) or the path of a working interpreter"


@dataclass(eq=False)
class PinMismatch(WheelhouseError):
    """Requirements that the versions pinned by the lock do not satisfy."""

    mismatches: Sequence[tuple[str, str]]  # (what was asked, what the lock pins)
    lock: str

    def __post_init__(self) -> None:
        self.mismatches = list(self.mismatches)
        super().__post_init__()

    def __str__(self) -> str:
        pairs = "; ".join(f"{asked} (the lock pins {pinned})" for asked, pinned in self.mismatches)
        return f"the lock {self.lock} does not satisfy: {pairs}"

    @property
    def hint(self) -> str:
        return "ask for the pinned version, or change the inputs and rebuild the wheelhouse"


@dataclass(eq=False)
class LockUnusable(WheelhouseError):
    """A lock file that is missing, unreadable, or names files the wheelhouse lacks."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"cannot use the lock {self.path}: {self.reason}"

    @property
    def hint(self) -> str:
        return "run `wheelhouse verify`, then rebuild the wheelhouse"


@dataclass(eq=False)
class CannotCompile(WheelhouseError):
    """An interpreter that cannot compile bytecode ahead (the engine cannot run in it)."""

    python: str
    reason: str

    def __str__(self) -> str:
        return f"cannot compile bytecode with {self.python}: {self.reason}"

    @property
    def hint(self) -> str:
        return "installs into it compile their own .pyc files; leave it out of --python"


@dataclass(eq=False)
class BackendUnavailable(WheelhouseError):
    """An installer back-end (pip, uv) that cannot run here."""

    backend: str
    reason: str

    def __str__(self) -> str:
        return f"cannot install with {self.backend}: {self.reason}"

    @property
    def hint(self) -> str:
        return "install it, or choose another one (--backend wheelhouse|pip|uv)"


@dataclass(eq=False)
class InstallFailed(WheelhouseError):
    """pip or uv ran and failed; its own output says why."""

    backend: str
    returncode: int

    def __str__(self) -> str:
        return f"{self.backend} exited with status {self.returncode}"

    @property
    def hint(self) -> str:
        return f"read {self.backend}'s output above; only locked, hash-checked files were offered"


@dataclass(eq=False)
class FilesDiffer(WheelhouseError):
    """Locked files whose sha256 is not the lock's: nothing was installed or removed."""

    paths: Sequence[str]
    lock: str

    def __post_init__(self) -> None:
        self.paths = list(self.paths)
        super().__post_init__()

    def __str__(self) -> str:
        return f"refused, their sha256 is not the one in {self.lock}: {', '.join(self.paths)}"

    @property
    def hint(self) -> str:
        return "nothing was installed; run `wheelhouse verify`, then `wheelhouse fetch` or rebuild"


@dataclass(eq=False)
class CannotUninstall(WheelhouseError):
    """An installed version that must go first, but cannot be removed safely from its RECORD."""

    name: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"cannot remove the installed {self.name} ({self.path}): {self.reason}"

    @property
    def hint(self) -> str:
        return "remove it yourself (pip uninstall), or install with --backend pip"


@dataclass(eq=False)
class EngineFailed(WheelhouseError):
    """The install engine's worker failed on a wheel, or could not run at all."""

    reason: str
    path: str | None = None

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"installing{where} failed: {self.reason}"

    @property
    def hint(self) -> str:
        return "what other workers installed stays; fix the cause and run the install again"


@dataclass(eq=False)
class HashNotListed(WheelhouseError):
    """A requirement with ``--hash`` options whose locked file none of them names."""

    location: str
    project: str
    version: str
    filename: str
    sha256: str
    hashes: Sequence[str]

    def __post_init__(self) -> None:
        self.hashes = list(self.hashes)
        super().__post_init__()

    def __str__(self) -> str:
        return (
            f"{self.location}: the lock's {self.project} {self.version} is {self.filename} "
            f"(sha256:{self.sha256}), which none of its --hash options names: "
            f"{', '.join(self.hashes)}"
        )

    @property
    def hint(self) -> str:
        return (
            "nothing was installed; the wheelhouse holds another file than the one hashed: "
            "rebuild it with these hashes in its inputs, or update them"
        )


@dataclass(eq=False)
class PipNotPinned(WheelhouseError):
    """``env --check``: pip's configuration does not give it the wheelhouse's settings."""

    python: str
    wrong: Sequence[str]  # "find-links comes from PIP_FIND_LINKS", one per setting

    def __post_init__(self) -> None:
        self.wrong = list(self.wrong)
        super().__post_init__()

    def __str__(self) -> str:
        return f"pip of {self.python} would not install only from the wheelhouse: " + "; ".join(
            self.wrong
        )

    @property
    def hint(self) -> str:
        return (
            "unset or correct what is named; PIP_* variables beat every pip.conf, and "
            "PIP_CONFIG_FILE beats the user's and the site's files"
        )
