"""What an install changes: the locked files, the diff against what is installed, the shares.

The diff is pure (pip-tools' ``sync.diff()``); applying it is a backend's job.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

__all__ = ["MAX_WORKERS", "Change", "LockedFile", "balanced", "plan", "usable_cores"]

#: Processes at once at most: beyond this, disk and memory, not cores, set the pace.
MAX_WORKERS = 8


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedFile:
    """The one file of a pin that this interpreter gets, as a pip requirement line."""

    name: NormalizedName
    version: Version
    path: Path
    sha256: str

    @property
    def line(self) -> str:
        return f"{self.path} --hash=sha256:{self.sha256}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """What installing one file does: ``install``, ``upgrade``, ``downgrade`` or ``keep``."""

    file: LockedFile
    action: str
    installed: str | None = None


def plan(files: Iterable[LockedFile], installed: Mapping[str, str]) -> tuple[Change, ...]:
    """What installing ``files`` changes, given what is installed (name to version)."""
    return tuple(_change(file, installed.get(file.name)) for file in files)


def _change(file: LockedFile, installed: str | None) -> Change:
    try:
        current = Version(installed) if installed is not None else None
    except InvalidVersion:
        current = None  # pip replaces what it cannot compare
    action = "install" if installed is None else "upgrade"
    if current is not None and current >= file.version:
        action = "keep" if current == file.version else "downgrade"
    return Change(file=file, action=action, installed=installed)


def usable_cores() -> int:
    """CPUs this process may use (a container's cpuset, not the host's count), at most 8."""
    if hasattr(os, "sched_getaffinity"):
        return min(len(os.sched_getaffinity(0)), MAX_WORKERS)
    return min(os.cpu_count() or 1, MAX_WORKERS)


def balanced(files: Sequence[LockedFile], count: int) -> list[list[LockedFile]]:
    """Split ``files`` into at most ``count`` groups of about equal size, biggest first.

    Unpacking and byte-compiling cost about as much as a wheel weighs, so equal
    weights finish together.
    """
    groups: list[list[LockedFile]] = [[] for _ in range(max(1, min(count, len(files))))]
    loads = [0] * len(groups)
    for file in sorted(files, key=lambda file: (-_size(file.path), file.name)):
        lightest = loads.index(min(loads))
        groups[lightest].append(file)
        loads[lightest] += _size(file.path)
    return groups


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
