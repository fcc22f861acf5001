"""Reading the user's input files from disk, for the pure parsers of :mod:`wheelhouse.model`.

Requirements files, a project's ``pyproject.toml`` (``-r pyproject.toml``) and
lock files (``--from-lock``): each read with a size cap, its errors naming it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePath
from typing import Any

from packaging.pylock import is_valid_pylock_path

from wheelhouse.model import reqfile
from wheelhouse.model.errors import InputFileError
from wheelhouse.model.lockfile import LockSource, pylock_lock, requirements_lock
from wheelhouse.model.pyproject import Choice, is_pyproject, project_requirements
from wheelhouse.model.reqfile import Inputs
from wheelhouse.model.uvlock import uv_lock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "MAX_INPUT_FILE",
    "parse_inputs",
    "read_lock_file",
    "read_requirements_file",
    "read_toml",
]

#: The largest input file read: thousands of pins fit in a small part of it.
MAX_INPUT_FILE = 16 * 1024 * 1024


def read_requirements_file(path: PurePath) -> tuple[str, str]:
    """A requirements file's real path (to find loops) and its text, read with a cap.

    Raises ``OSError`` for a file larger than :data:`MAX_INPUT_FILE` (or endless,
    such as ``/dev/zero``) and ``UnicodeDecodeError`` for one that is not UTF-8.
    """
    real = Path(path).resolve()
    with real.open("rb") as stream:
        data = stream.read(MAX_INPUT_FILE + 1)
    if len(data) > MAX_INPUT_FILE:
        raise OSError(f"it is larger than {MAX_INPUT_FILE // (1024 * 1024)} MiB")
    return str(real), data.decode("utf-8")


def _text(path: Path) -> str:
    """A whole input file's text; :class:`InputFileError` naming it when it cannot be read."""
    try:
        return read_requirements_file(path)[1]
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputFileError(str(path), f"cannot read it: {reason}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML input file; :class:`InputFileError` naming it when it does not parse."""
    try:
        document: dict[str, Any] = tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(str(path), f"not valid TOML: {exc}") from None
    return document


def read_lock_file(path: Path) -> LockSource:
    """A ``uv.lock``, a ``pylock.toml`` or a hashed requirements file, told by its name."""
    if path.name == "uv.lock":
        return uv_lock(read_toml(path), str(path))
    if is_valid_pylock_path(path):
        return pylock_lock(read_toml(path), str(path))
    if path.suffix == ".toml":
        reason = "a TOML lock is named uv.lock, pylock.toml or pylock.NAME.toml"
        raise InputFileError(str(path), reason)
    return requirements_lock(_text(path), str(path))


def parse_inputs(
    requirements: list[str],
    requirement_files: list[Path],
    constraint_files: list[Path],
    choice: Choice | None = None,
) -> Inputs:
    """Command-line requirements and requirement/constraint files, read from disk.

    A ``-r`` naming a ``pyproject.toml`` takes the project's dependencies and the
    extras and groups of ``choice``; its requirements follow the others.
    """
    projects = [path for path in requirement_files if is_pyproject(str(path))]
    inputs = reqfile.parse_inputs(
        requirements,
        [path for path in requirement_files if path not in projects],
        list(constraint_files),
        read=read_requirements_file,
        environ=os.environ,
    )
    for path in projects:
        document, chosen = read_toml(path), choice or Choice()
        inputs.requirements += project_requirements(
            document, str(path), chosen, inputs.dynamic_projects
        )
        inputs.files.append(str(path))
    return inputs
