"""Index a flat directory of distributions: PEP 658 metadata files and simple pages.

The directory is read, never trusted: every ``*.whl``, ``*.tar.gz`` and
``*.zip`` is hashed and its core metadata read from inside the archive, unless
the caller passes what it already knows about the file (``known``, keyed by file
name), which skips the rehash. Files that are not valid distributions are
reported and skipped. Every write goes through the wheelhouse's one write step
(:meth:`~wheelhouse.house.directory.Wheelhouse.write`), only when the bytes change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import BadDirectory, MetadataError
from wheelhouse.house.files import local_file, sha256_of
from wheelhouse.house.layout import PAGE_NAMES, SIMPLE, metadata_name, metadata_owner, page_name
from wheelhouse.house.metadata import (
    PKG_INFO,
    check_identity,
    core_metadata,
    sdist_members,
    wheel_metadata,
)
from wheelhouse.model import simple
from wheelhouse.model.distributions import DistFile, is_distribution_filename, parse_filename

__all__ = ["IndexResult", "SkippedFile", "index_directory"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedFile:
    """A file that looks like a distribution but is not a valid one, and why."""

    filename: str
    reason: str

    def __str__(self) -> str:
        return f"{self.filename}: {self.reason}"


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexResult:
    """What indexing found and changed; paths are relative to the indexed directory."""

    files: tuple[DistFile, ...]
    skipped: tuple[SkippedFile, ...]
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]

    def summary(self) -> str:
        """One line for the user."""
        projects = len({file.project for file in self.files})
        pages = sum(path.startswith(f"{SIMPLE}/") for path in self.written)
        return (
            f"indexed {len(self.files)} files of {projects} projects: wrote {pages} pages "
            f"and {len(self.written) - pages} metadata files, {self.unchanged} pages unchanged, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Inspected:
    file: DistFile
    metadata: bytes | None  # PEP 658 bytes to write beside the wheel, None when up to date


class _Invalid(Exception):
    """A file that is not a valid distribution; the message says why."""


def index_directory(house: Wheelhouse, known: Mapping[str, DistFile] | None = None) -> IndexResult:
    """Write ``<wheel>.metadata`` files and the ``simple/`` pages over the directory.

    Files named in ``known`` keep its sha256, size, upload time, yanked state,
    Requires-Python and metadata digest without being reread (the fast path for a
    build that just downloaded them); every other file is hashed and opened.
    Called inside :meth:`Wheelhouse.committing`, the pages are committed with the
    rest and metadata files of vanished wheels are removed after the commit.
    """
    root = house.root
    if not root.exists():
        raise BadDirectory(str(root), "no such directory")
    if not root.is_dir():
        raise BadDirectory(str(root), "not a directory")
    present = house.present()
    names = sorted(name for name in present if is_distribution_filename(name))
    inspected, skipped = _inspect_all(root, names, known or {}, present)
    try:
        written = _write_metadata(house, inspected)
        removed = _remove_orphan_metadata(house, present)
        pages = simple.render_pages(item.file for item in inspected)
        wrote, unchanged, dropped = _write_pages(house, pages)
    except OSError as exc:
        raise BadDirectory(str(root), f"cannot write the index: {exc}") from exc
    return IndexResult(
        files=tuple(item.file for item in inspected),
        skipped=tuple(skipped),
        written=tuple(written + wrote),
        unchanged=unchanged,
        removed=tuple(removed + dropped),
    )


def _inspect_all(
    root: Path, names: list[str], known: Mapping[str, DistFile], present: set[str]
) -> tuple[list[_Inspected], list[SkippedFile]]:
    def inspect(name: str) -> _Inspected | SkippedFile:
        try:
            has_metadata = metadata_name(name) in present
            return _inspect_file(root / name, known.get(name), has_metadata=has_metadata)
        except _Invalid as exc:
            return SkippedFile(filename=name, reason=str(exc))

    # One thread: on small wheels a pool spent more on the GIL than it saved (2.5x slower).
    results = [inspect(name) for name in names]
    inspected = [item for item in results if isinstance(item, _Inspected)]
    return inspected, [item for item in results if isinstance(item, SkippedFile)]


def _inspect_file(path: Path, known: DistFile | None, *, has_metadata: bool) -> _Inspected:
    """The index entry of one file and the PEP 658 bytes to write, if any.

    Raises ``_Invalid`` for a file that is not a valid distribution.
    """
    try:
        if known is not None and known.filename == path.name:
            return _trust(path, known, has_metadata)
        return _read(path, has_metadata)
    except MetadataError as exc:
        raise _Invalid(exc.reason) from None
    except OSError as exc:
        raise _Invalid(f"unreadable archive ({exc})") from None


def _trust(path: Path, known: DistFile, has_metadata: bool) -> _Inspected:
    """Take what the caller knows; hash or read only what it does not."""
    sha256 = known.sha256 or sha256_of(path)
    size = known.size if known.size is not None else path.stat().st_size
    # Only wheels get a metadata file here; "" (offered without a digest) means hash it.
    metadata_sha256 = known.metadata_sha256 if known.is_wheel else None
    metadata = None
    if known.is_wheel and not (has_metadata and metadata_sha256):
        if has_metadata:
            metadata_sha256 = hashlib.sha256(_metadata_path(path).read_bytes()).hexdigest()
        else:
            metadata = wheel_metadata(path, known.project)
            metadata_sha256 = hashlib.sha256(metadata).hexdigest()
    file = replace(known, url=path.name, sha256=sha256, size=size, metadata_sha256=metadata_sha256)
    return _Inspected(file=file, metadata=metadata)


def _read(path: Path, has_metadata: bool) -> _Inspected:
    """Hash the file and take its core metadata from inside the archive."""
    try:
        project, version, tags = parse_filename(path.name)
    except ValueError as exc:
        raise _Invalid(f"not a distribution file name ({exc})") from None
    is_wheel = path.name.endswith(".whl")
    # An old sdist has no PKG-INFO: pip and uv build it for its metadata, and so may a reader.
    pkg_info = None if is_wheel else sdist_members(path, {PKG_INFO}).get(PKG_INFO)
    metadata = core_metadata(path, project) if is_wheel else pkg_info
    file = local_file(
        path,
        (project, version, tags),
        requires_python=_check_metadata(metadata, project, version) if metadata else None,
        metadata_sha256=hashlib.sha256(metadata).hexdigest() if is_wheel and metadata else None,
    )
    current = _metadata_path(path).read_bytes() if is_wheel and has_metadata else None
    return _Inspected(file=file, metadata=metadata if is_wheel and current != metadata else None)


def _metadata_path(path: Path) -> Path:
    return path.with_name(metadata_name(path.name))


def _check_metadata(metadata: bytes, project: NormalizedName, version: Version) -> str | None:
    """Requires-Python, after checking that name and version agree with the file name."""
    return check_identity(metadata, project, version).get("requires-python") or None


def _write_metadata(house: Wheelhouse, inspected: Iterable[_Inspected]) -> list[str]:
    written = []
    for item in inspected:
        if item.metadata is not None:
            name = metadata_name(item.file.filename)
            house.write(name, item.metadata)
            written.append(name)
    return written


def _remove_orphan_metadata(house: Wheelhouse, present: set[str]) -> list[str]:
    """Remove ``<wheel>.metadata`` files whose wheel is gone."""
    orphans = sorted(
        name
        for name in present
        if (wheel := metadata_owner(name)) is not None and wheel not in present
    )
    for name in orphans:
        house.remove(name)
    return orphans


def _write_pages(house: Wheelhouse, pages: Mapping[str, bytes]) -> tuple[list[str], int, list[str]]:
    """Write the pages whose bytes changed and remove the pages of vanished projects.

    Returns the paths written, the number of pages left alone and the paths
    removed, relative to the wheelhouse.
    """
    written = [
        page_name(relative)
        for relative, data in pages.items()
        if house.write(page_name(relative), data)
    ]
    return written, len(pages) - len(written), _remove_stale_pages(house, pages)


def _remove_stale_pages(house: Wheelhouse, pages: Mapping[str, bytes]) -> list[str]:
    """Delete our pages of projects no longer listed; leave anything else alone."""
    projects = {relative.partition("/")[0] for relative in pages if "/" in relative}
    removed = []
    directory = house.path(SIMPLE)
    stale = (d for d in sorted(directory.iterdir()) if d.is_dir() and d.name not in projects)
    for project_dir in stale:
        for page in PAGE_NAMES:
            relative = page_name(f"{project_dir.name}/{page}")
            if house.path(relative).is_file():
                house.remove(relative)
                removed.append(relative)
        if not any(project_dir.iterdir()):
            project_dir.rmdir()
    return removed
