"""Errors of installing: no interpreter, no matching target, an unusable lock."""

from __future__ import annotations

from collections.abc import Sequence

from wheelhouse.errors import WheelhouseError

__all__ = [
    "BackendUnavailable",
    "InstallFailed",
    "InterpreterNotFound",
    "LockUnusable",
    "NotInLock",
    "PinMismatch",
]


class NotInLock(WheelhouseError):
    """Requirements that name projects the lock does not pin."""

    def __init__(self, names: Sequence[str], lock: str) -> None:
        super().__init__(names, lock)
        self.names, self.lock = list(names), lock
        self.hint = "add them to the wheelhouse's inputs and rebuild it"

    def __str__(self) -> str:
        return f"not in the wheelhouse ({self.lock}): {', '.join(self.names)}"


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
