"""Local projects as requirements: ``./pkgs/lib``, ``/abs/path``, ``name @ file:///…``, ``-e PATH``.

Pure: :func:`local_reference` tells a requirement that names a project on disk
from one an index serves, and keeps what the build needs to find it; the build
turns each into a wheel built here and a ``name==version`` requirement on it.
An editable line means the same as its path: a wheelhouse holds wheels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

__all__ = [
    "DynamicProject",
    "LocalProject",
    "is_local_text",
    "local_reference",
    "moved_path",
    "uv_disk_sources",
]

_EXTRAS = re.compile(r"^(?P<path>.*?)(?:\[(?P<extras>[^\]]*)\])?$")


@dataclass(frozen=True, kw_only=True, slots=True)
class LocalProject:
    """A project on disk to build: a directory, or an sdist or wheel file.

    ``path`` is as written (a relative one is the working directory's, as pip
    and uv read requirements files); ``name`` is the one the line gives
    (``name @ file:…``), else the built wheel's. ``origin`` and ``location``
    are as for any requirement.
    """

    path: str
    origin: str
    location: str
    name: str | None = None
    extras: frozenset[str] = frozenset()
    marker: Marker | None = None
    editable: bool = False

    def label(self) -> str:
        """How messages and the manifest name it: the path as given."""
        return self.path


@dataclass(frozen=True, kw_only=True, slots=True)
class DynamicProject:
    """A ``-r pyproject.toml`` whose dependencies its build backend computes.

    ``extras`` are the chosen extras (``None`` for all); the build learns the
    dependencies from the metadata the backend prepares.
    """

    path: str  # the pyproject.toml
    extras: frozenset[str] | None = frozenset()


def is_local_text(text: str) -> bool:
    """Whether a requirement line names a path rather than a project (pip's rule).

    A path starts with ``.``, ``/`` or ``~``, or holds a path separator before any
    ``@``, ``;`` or space; ``name @ file:…`` is told by :func:`local_reference`.
    """
    head = re.split(r"[\s;@]", text.strip(), maxsplit=1)[0]
    return head.startswith((".", "/", "~")) or "/" in head or "\\" in head


def local_reference(
    text: str, base: PurePath | None, *, origin: str, location: str, editable: bool = False
) -> LocalProject | None:
    """The local project a line names, else None (a plain requirement, or a remote URL).

    ``base`` is a directory relative paths are joined to (None: they stay as
    written, for the working directory). Raises ``ValueError`` with the reason
    for a line that names a path in a form this tool does not take.
    """
    text = text.strip()
    if not editable and not is_local_text(text):
        return _file_url(text, base, origin=origin, location=location)
    if editable and text.startswith("file:"):
        return _from_url(text, None, frozenset(), None, base, origin, location, editable=True)
    spec, _, marker_text = text.partition(";")
    match = _EXTRAS.match(spec.strip())
    path = match["path"] if match else spec.strip()
    if "://" in path or path.startswith(("git+", "hg+", "svn+", "bzr+")):
        raise ValueError(f"{path!r} is not a local path: only local projects are built")
    extras = _extras(match["extras"] if match else None)
    marker = Marker(marker_text) if marker_text.strip() else None
    return LocalProject(
        path=_join(base, path),
        origin=origin,
        location=location,
        extras=extras,
        marker=marker,
        editable=editable,
    )


def moved_path(text: str, move: Callable[[str], str]) -> str:
    """A command-line requirement with the path of the local project it names passed
    through ``move``; any other requirement as it is.

    How the manifest records ``./pkgs/liba`` or ``-e ./pkgs/liba`` apart from the
    working directory, and reads it back. A ``~`` path and a ``file:`` URL are
    absolute already; a relative result keeps a leading ``./``, so it still reads
    as a path.
    """
    words = text.split(maxsplit=1)
    flag = ""
    if len(words) == 2 and words[0] in ("-e", "--editable"):
        flag, text = f"{words[0]} ", words[1]
    if not is_local_text(text) or text.lstrip().startswith(("~", "file:")):
        return flag + text
    spec, sep, marker = text.partition(";")
    match = _EXTRAS.match(spec.strip())
    path = match["path"] if match else spec.strip()
    extras = spec.strip()[len(path) :]
    moved = move(path)
    if not PurePosixPath(moved).is_absolute() and not moved.startswith("."):
        moved = f"./{moved}"
    return f"{flag}{moved}{extras}{sep}{marker}"


def _file_url(
    text: str, base: PurePath | None, *, origin: str, location: str
) -> LocalProject | None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    if not requirement.url or not requirement.url.startswith("file:"):
        return None
    extras = frozenset(requirement.extras)
    return _from_url(
        requirement.url, requirement.name, extras, requirement.marker, base, origin, location
    )


def _from_url(
    url: str,
    name: str | None,
    extras: frozenset[str],
    marker: Marker | None,
    base: PurePath | None,
    origin: str,
    location: str,
    *,
    editable: bool = False,
) -> LocalProject:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"{url!r} names a file on another host")
    path = unquote(parts.path)
    return LocalProject(
        path=_join(base, path),
        origin=origin,
        location=location,
        name=canonicalize_name(name) if name else None,
        extras=extras,
        marker=marker,
        editable=editable,
    )


def _extras(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    names = [part.strip() for part in text.split(",") if part.strip()]
    return frozenset(canonicalize_name(name) for name in names)


def _join(base: PurePath | None, path: str) -> str:
    if base is None or PurePosixPath(path).is_absolute() or path.startswith("~"):
        return path
    return str(base / path)


def uv_disk_sources(document: Mapping[str, Any]) -> dict[NormalizedName, str]:
    """The dependencies a pyproject.toml takes from disk with uv, and where (``""``: its
    workspace).

    Only ``[tool.uv.sources]`` entries that are a workspace member or a path
    and that its dependencies or optional dependencies name: those a plain
    requirement would take from the index instead.
    """
    uv = document.get("tool", {}).get("uv", {})
    sources = uv.get("sources", {}) if isinstance(uv, dict) else {}
    project = document.get("project", {})
    texts = list(project.get("dependencies", []))
    texts += [t for group in project.get("optional-dependencies", {}).values() for t in group]
    named = {canonicalize_name(_name(text)) for text in texts if isinstance(text, str)}
    found: dict[NormalizedName, str] = {}
    for name, entries in sources.items() if isinstance(sources, dict) else ():
        for entry in entries if isinstance(entries, list) else [entries]:
            disk = isinstance(entry, dict) and (entry.get("workspace") or "path" in entry)
            if disk and canonicalize_name(name) in named:
                found[canonicalize_name(name)] = str(entry.get("path", ""))
    return found


def _name(text: str) -> str:
    return re.split(r"[\s\[<>=!~;@(]", text.strip(), maxsplit=1)[0]
