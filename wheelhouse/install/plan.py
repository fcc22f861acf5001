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

__all__ = [
    "BATCH_BYTES",
    "BATCH_FILES",
    "MAX_WORKERS",
    "Change",
    "LockedFile",
    "balanced",
    "batches",
    "plan",
    "usable_cores",
]

#: Processes at once at most: beyond this, disk and memory, not cores, set the pace.
MAX_WORKERS = 8
#: A batch of files to byte-compile holds about this much source, or this many files: enough
#: that a task's round trip is a small part of it, few enough that the last ones end together.
BATCH_BYTES = 128 * 1024
BATCH_FILES = 64


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


def batches(
    sources: Sequence[tuple[str, int]], most: int = BATCH_BYTES, files: int = BATCH_FILES
) -> list[list[str]]:
    """Paths to byte-compile, in order, in batches of at most ``most`` bytes and ``files`` files.

    A file larger than ``most`` is a batch of its own.
    """
    found: list[list[str]] = []
    size = 0
    for path, weight in sources:
        if not found or size + weight > most or len(found[-1]) >= files:
            found.append([])
            size = 0
        found[-1].append(path)
        size += weight
    return found
