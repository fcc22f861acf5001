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

__all__ = ["MAX_TOML_DEPTH", "check_manifest", "load_toml", "lock_pins", "read_lock"]

#: How deep tables and arrays of a manifest or lock may nest: ours nest five deep;
#: a document far deeper would make readers and writers recurse past Python's limit.
MAX_TOML_DEPTH = 32
_TOO_DEEP = f"its tables or arrays nest more than {MAX_TOML_DEPTH} deep"


def load_toml(path: Path) -> dict[str, Any]:
    """A TOML document; :class:`UnreadableFile` when it cannot be read or parsed.

    A document nested deeper than :data:`MAX_TOML_DEPTH` is refused too: the parser
    may recurse too deep on it, and so would everything that walks it after.
    """
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:  # its strerror: str() would name the path a second time
        raise UnreadableFile(str(path), exc.strerror or str(exc)) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UnreadableFile(str(path), str(exc)) from None
    except RecursionError:
        raise UnreadableFile(str(path), _TOO_DEEP) from None
    if _depth(document) > MAX_TOML_DEPTH:
        raise UnreadableFile(str(path), _TOO_DEEP)
    return document


def _depth(document: dict[str, Any]) -> int:
    """How deep tables and arrays nest in ``document``, counted without recursion."""
    deepest = 0
    pending: list[tuple[dict[str, Any] | list[Any], int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        deepest = max(deepest, depth)
        children = value.values() if isinstance(value, dict) else value
        pending += [(child, depth + 1) for child in children if isinstance(child, (dict, list))]
    return deepest


def read_lock(path: Path) -> list[LockedRequirement]:
    """The pins of one ``locks/<target>.txt``; :class:`UnreadableFile` when it does not parse."""
    try:
        return parse_requirements_lock(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UnreadableFile(str(path), exc.strerror or str(exc)) from None
    except (UnicodeDecodeError, ValueError) as exc:
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
    if key == "built":  # from an sdist kept here, or from a local project's source
        return isinstance(entry.get("sdist", entry.get("source")), str)
    files = entry.get("files") if key == "build-requirements" else []
    return isinstance(files, list) and all(isinstance(name, str) for name in files)
