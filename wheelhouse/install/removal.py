"""Removing an installed version before another one goes in, from its RECORD, as pip does.

Every path the RECORD lists goes, with the ``__pycache__`` files of each listed
``.py`` file, then the directories left empty. A RECORD that names a path
outside the environment's scheme directories is refused before anything is
removed; a distribution outside the environment (a base interpreter's
site-packages seen from a venv) is left alone, as pip leaves it, shadowed.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from wheelhouse.install.errors import CannotUninstall
from wheelhouse.install.probe import InstalledDistribution

__all__ = ["Removal", "plan_removal", "remove"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Removal:
    """The files removing one distribution deletes, and the scheme directories it stays in."""

    name: str
    files: tuple[Path, ...]
    roots: frozenset[Path]


def plan_removal(dist: InstalledDistribution, scheme: Mapping[str, str]) -> Removal | None:
    """What removing ``dist`` deletes; None when it is not in the environment's site-packages.

    Raises :class:`CannotUninstall` when it has no RECORD or one naming a path
    outside ``scheme`` (purelib, platlib, scripts, data, headers).
    """
    roots = frozenset(Path(os.path.normpath(path)) for path in scheme.values())
    libraries = {Path(os.path.normpath(scheme[key])) for key in ("purelib", "platlib")}
    if dist.path is None or dist.path.parent not in libraries:
        return None
    files: list[Path] = []
    for path in _record_paths(dist):
        if not any(root in path.parents for root in roots):
            raise CannotUninstall(dist.name, str(dist.path), f"its RECORD lists {path}")
        files.append(path)
    files += _cached(file for file in files if file.suffix == ".py")
    return Removal(name=dist.name, files=tuple(files), roots=roots)


def _record_paths(dist: InstalledDistribution) -> list[Path]:
    """The RECORD's paths, made absolute; they are relative to the metadata's parent."""
    assert dist.path is not None
    try:
        with open(dist.path / "RECORD", encoding="utf-8", newline="") as stream:
            rows = [row[0] for row in csv.reader(stream) if row]
    except FileNotFoundError:
        raise CannotUninstall(dist.name, str(dist.path), "it has no RECORD file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CannotUninstall(
            dist.name, str(dist.path), f"its RECORD is unreadable: {exc}"
        ) from None
    return [Path(os.path.normpath(dist.path.parent / row)) for row in rows]


def _cached(sources: Iterable[Path]) -> list[Path]:
    """The ``__pycache__`` files of ``sources``, whatever interpreter or optimization wrote them."""
    listings: dict[Path, list[str]] = {}
    found: list[Path] = []
    for source in sources:
        cache = source.parent / "__pycache__"
        if cache not in listings:
            listings[cache] = _listing(cache)
        compiled = re.compile(rf"{re.escape(source.stem)}\.[^.]+(?:\.opt-\d+)?\.pyc")
        found += [cache / name for name in listings[cache] if compiled.fullmatch(name)]
    return found


def _listing(directory: Path) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def remove(removal: Removal) -> None:
    """Delete the files, then every directory they leave empty, up to a scheme directory."""
    for file in removal.files:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
    deepest_first = sorted({file.parent for file in removal.files}, key=lambda p: -len(p.parts))
    for directory in deepest_first:
        _prune(directory, removal.roots)


def _prune(directory: Path, roots: frozenset[Path]) -> None:
    """Remove ``directory`` and its parents while they are empty, stopping at the roots."""
    while directory not in roots and any(root in directory.parents for root in roots):
        try:
            directory.rmdir()
        except OSError:  # not empty (or already gone with a sibling's pruning)
            if directory.exists():
                return
        directory = directory.parent
