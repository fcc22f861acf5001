"""Reading a wheelhouse's TOML and lock files: a file that does not parse is an
:class:`~wheelhouse.house.errors.UnreadableFile`, never a raw parser error.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wheelhouse.house.errors import UnreadableFile
from wheelhouse.model.locks import LockedRequirement, parse_requirements_lock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["check_manifest", "load_toml", "lock_pins", "read_lock"]


def load_toml(path: Path) -> dict[str, Any]:
    """A TOML document; :class:`UnreadableFile` when it cannot be read or parsed."""
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UnreadableFile(str(path), str(exc)) from None
    return document


def read_lock(path: Path) -> list[LockedRequirement]:
    """The pins of one ``locks/<target>.txt``; :class:`UnreadableFile` when it does not parse."""
    try:
        return parse_requirements_lock(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UnreadableFile(str(path), str(exc)) from None


def lock_pins(path: Path) -> dict[str, str]:
    """Project name to version in one ``locks/<target>.txt``; :class:`UnreadableFile` as above."""
    return {entry.name: entry.version for entry in read_lock(path)}


def check_manifest(path: str, manifest: Mapping[str, Any]) -> None:
    """Raise :class:`UnreadableFile` unless the tables readers rely on are shaped as written."""
    for key in ("files", "built", "build-requirements"):
        table = manifest.get(key, {})
        if not isinstance(table, dict) or not all(_well_formed(key, e) for e in table.values()):
            raise UnreadableFile(path, f"[{key}] is not a table of tables as a build writes it")
    targets = manifest.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(e, dict) for e in targets):
        raise UnreadableFile(path, "[[targets]] is not a list of tables")


def _well_formed(key: str, entry: object) -> bool:
    """A table, with the fields of a ``[built]`` or ``[build-requirements]`` entry."""
    if not isinstance(entry, dict):
        return False
    if key == "built":
        return isinstance(entry.get("sdist"), str)
    files = entry.get("files") if key == "build-requirements" else []
    return isinstance(files, list) and all(isinstance(name, str) for name in files)
