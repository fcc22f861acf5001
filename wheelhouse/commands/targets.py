"""The targets of a build: each ``--python`` with each ``--platform``.

A ``--python`` is a version (``3.12``, ``cp312``, ``python3.12``) or an
interpreter to ask for its exact version and native platform.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from packaging.tags import sys_tags

from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.model.targets import Target, canonical_platform, parse_platform, portable_platform

__all__ = ["make_targets"]

_VERSION = re.compile(r"^(?:cp|python)?(\d)\.?(\d+)$")


def make_targets(pythons: Sequence[str], platforms: Sequence[str]) -> list[Target]:
    """Every ``--python`` x ``--platform`` pair; defaults are the running interpreter's."""
    chosen: list[Target] = []
    for python in pythons or [f"{sys.version_info[0]}.{sys.version_info[1]}"]:
        version, full, own_platform = _python(python)
        for platform in map(canonical_platform, platforms or [own_platform]):
            parse_platform(platform)  # reject an unknown tag before any work
            target = Target(python_version=version, platform=platform, python_full_version=full)
            if target.name not in {known.name for known in chosen}:
                chosen.append(target)
    return chosen


def _python(python: str) -> tuple[tuple[int, int], str | None, str]:
    """Version, exact version (for a real interpreter) and native platform of ``--python``."""
    if match := _VERSION.match(python):
        return (int(match[1]), int(match[2])), None, _running_platform()
    found = python if Path(python).exists() else shutil.which(python)
    if not found:
        raise InterpreterNotFound(python, "no such file or command")
    from wheelhouse.install.probe import probe

    info = probe(Path(found))
    return info.version, info.full_version, info.platform


def _running_platform() -> str:
    return portable_platform(tag.platform for tag in sys_tags())
