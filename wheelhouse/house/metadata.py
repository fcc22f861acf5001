"""Core metadata read from inside distribution archives: the only module that opens them.

One rule per kind of file. A wheel's metadata is the ``METADATA`` of its one
top-level ``<name>-<version>.dist-info`` whose name normalises to the wheel's
project: a vendored ``.dist-info`` deeper down, or one of another project, is
not it. An sdist's is the ``PKG-INFO`` right inside its top directory
(``<name>-<version>/PKG-INFO``), and so are the other members it declares
(``pyproject.toml``). Every member's bytes pass through one read (:func:`_read`).

A wheel comes as a path or as a seekable file object. One that can
:meth:`~Prefetching.prefetch` (a remote file read by ranges) is asked for the
member's bytes in one go once the central directory named them, so reading
costs that directory and that one member. Whatever goes wrong, from a missing
member to a corrupt archive, raises :class:`MetadataError`.
"""

from __future__ import annotations

import contextlib
import tarfile
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.house.errors import MetadataError

__all__ = [
    "PKG_INFO",
    "MetadataError",
    "Prefetching",
    "Seekable",
    "core_metadata",
    "sdist_members",
    "sdist_metadata",
    "wheel_metadata",
]

PKG_INFO = "PKG-INFO"
_DIST_INFO = ".dist-info"
#: Room for a zip member's local header (30 bytes, its name and extra field).
_LOCAL_HEADER_ROOM = 4096
#: What a truncated, corrupt or hostile archive can raise while it is read.
_UNREADABLE = (
    OSError, EOFError, ValueError, KeyError, RuntimeError, NotImplementedError,
    zipfile.BadZipFile, tarfile.TarError, zlib.error,
)  # fmt: skip


class Seekable(Protocol):
    """What ``zipfile`` needs of a file object: a local file, a spool or a remote file."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def tell(self) -> int: ...

    def read(self, size: int = ..., /) -> bytes: ...


@runtime_checkable
class Prefetching(Protocol):
    """A file object that fetches ``[start, end)`` at once when told it will be read."""

    def prefetch(self, start: int, end: int) -> None: ...


def core_metadata(path: Path, project: NormalizedName) -> bytes:
    """A wheel's ``METADATA`` or an sdist's ``PKG-INFO``, by the file's name."""
    if path.name.endswith(".whl"):
        return wheel_metadata(path, project)
    return sdist_metadata(path)


def wheel_metadata(source: Path | Seekable, project: NormalizedName) -> bytes:
    """The exact bytes of the wheel's ``<name>-<version>.dist-info/METADATA``."""
    label = str(source) if isinstance(source, Path) else ""
    with _unreadable(label), zipfile.ZipFile(source) as archive:
        info = archive.getinfo(_metadata_member(label, archive.namelist(), project))
        if isinstance(source, Prefetching):
            source.prefetch(*_member_span(archive, info))
        with archive.open(info) as stream:
            return _read(stream)


def sdist_metadata(path: Path) -> bytes:
    """The ``PKG-INFO`` at the top of an sdist, read without unpacking it."""
    found = sdist_members(path, {PKG_INFO})
    if PKG_INFO not in found:
        raise MetadataError(str(path), "no PKG-INFO at the top of the sdist")
    return found[PKG_INFO]


def sdist_members(path: Path, names: Collection[str]) -> dict[str, bytes]:
    """Those of ``names`` the sdist (``.zip`` or tar) has right inside its top directory."""
    with _unreadable(str(path)):
        if path.name.endswith(".zip"):
            return _zip_members(path, names)
        return _tar_members(path, names)


def _zip_members(path: Path, names: Collection[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = _top_member(info.filename)
            if name is not None and name in names and name not in found and not info.is_dir():
                with archive.open(info) as stream:
                    found[name] = _read(stream)
    return found


def _tar_members(path: Path, names: Collection[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    # A stream: members are read in order, and reading stops once all were found.
    with tarfile.open(path, "r|*") as archive:
        for member in archive:
            name = _top_member(member.name)
            if name is None or name not in names or name in found or not member.isfile():
                continue
            stream = archive.extractfile(member)
            if stream is not None:
                found[name] = _read(stream)
            if len(found) == len(names):
                break
    return found


def _top_member(name: str) -> str | None:
    """What ``<top>/<name>`` names inside the top directory; None for anything else."""
    top, _, rest = name.removeprefix("./").partition("/")
    return rest if top and rest and "/" not in rest else None


def _metadata_member(label: str, names: Iterable[str], project: NormalizedName) -> str:
    found = [name for name in names if _dist_info_project(name) == project]
    if len(found) != 1:
        raise MetadataError(label, f"no single {project}-*.dist-info/METADATA inside the wheel")
    return found[0]


def _dist_info_project(name: str) -> NormalizedName | None:
    """The project of a top-level ``<name>-<version>.dist-info/METADATA``, else None."""
    top, _, rest = name.partition("/")
    if rest != "METADATA" or not top.endswith(_DIST_INFO):
        return None
    return canonicalize_name(top.removesuffix(_DIST_INFO).rpartition("-")[0])


def _member_span(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Bytes holding a member's local header and data: up to the next member, bounded."""
    start = info.header_offset
    later = [other.header_offset for other in archive.infolist() if other.header_offset > start]
    return start, min([*later, start + info.compress_size + _LOCAL_HEADER_ROOM])


def _read(stream: IO[bytes]) -> bytes:
    """The one read of a member's bytes, so a bound on them has one place to go."""
    return stream.read()


@contextlib.contextmanager
def _unreadable(label: str) -> Iterator[None]:
    """Turn what a corrupt archive raises into :class:`MetadataError`."""
    try:
        yield
    except MetadataError:
        raise
    except _UNREADABLE as exc:
        detail = str(exc) or type(exc).__name__
        raise MetadataError(label, f"unreadable archive ({detail})") from None
