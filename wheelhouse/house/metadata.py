"""Core metadata read from inside distribution archives: the only module that opens them.

One rule per kind of file. A wheel's metadata is the ``METADATA`` of its one
top-level ``<name>-<version>.dist-info`` whose name normalises to the wheel's
project: a vendored ``.dist-info`` deeper down, or one of another project, is
not it. An sdist's is the ``PKG-INFO`` right inside its top directory
(``<name>-<version>/PKG-INFO``), and so are the other members it declares
(``pyproject.toml``). Every member's bytes pass through one read (:func:`_read`).

A wheel comes as a path or as a seekable file object. A path's central
directory is first scanned for the one member (:mod:`~wheelhouse.house.zipscan`),
which is most of the cost on a wheel of many files; ``zipfile`` reads what
that scan does not take. A file object that can
:meth:`~Prefetching.prefetch` (a remote file read by ranges) is asked for the
member's bytes in one go once the central directory named them, so reading
costs that directory and that one member. Whatever goes wrong, from a missing
member to a corrupt archive, raises :class:`MetadataError`.

Archives come from indexes and are not trusted: a member is read with a cap
(:attr:`~wheelhouse.model.limits.Limits.metadata_size`, from the environment
unless given), whatever size the archive declares, so a compressed bomb stops
there.
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelhouse.house.errors import MetadataError, MetadataTooLarge
from wheelhouse.house.zipscan import LOCAL_ROOM, find_member
from wheelhouse.model.limits import Limits

__all__ = [
    "PKG_INFO",
    "MetadataError",
    "Prefetching",
    "Seekable",
    "check_identity",
    "core_metadata",
    "header_fields",
    "sdist_members",
    "sdist_metadata",
    "wheel_metadata",
]

PKG_INFO = "PKG-INFO"
_DIST_INFO = ".dist-info"
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


def core_metadata(path: Path, project: NormalizedName, *, limits: Limits | None = None) -> bytes:
    """A wheel's ``METADATA`` or an sdist's ``PKG-INFO``, by the file's name."""
    if path.name.endswith(".whl"):
        return wheel_metadata(path, project, limits=limits)
    return sdist_metadata(path, limits=limits)


def wheel_metadata(
    source: Path | Seekable, project: NormalizedName, *, limits: Limits | None = None
) -> bytes:
    """The exact bytes of the wheel's ``<name>-<version>.dist-info/METADATA``."""
    label = str(source) if isinstance(source, Path) else ""
    limits = limits or _limits()
    wanted = partial(_is_metadata_of, project)
    with _unreadable(label), contextlib.ExitStack() as stack:
        handle = stack.enter_context(open(source, "rb")) if isinstance(source, Path) else source
        prefetch = source.prefetch if isinstance(source, Prefetching) else None
        if found := find_member(handle, wanted, limits.metadata_size, prefetch):
            return found.data
    with _unreadable(label), zipfile.ZipFile(source) as archive:
        info = archive.getinfo(_metadata_member(label, archive.namelist(), project))
        if isinstance(source, Prefetching):
            source.prefetch(*_member_span(archive, info))
        with archive.open(info) as stream:
            return _read(stream, label, info.filename, limits)


def sdist_metadata(path: Path, *, limits: Limits | None = None) -> bytes:
    """The ``PKG-INFO`` at the top of an sdist, read without unpacking it."""
    found = sdist_members(path, {PKG_INFO}, limits=limits)
    if PKG_INFO not in found:
        raise MetadataError(str(path), "no PKG-INFO at the top of the sdist")
    return found[PKG_INFO]


def sdist_members(
    path: Path, names: Collection[str], *, limits: Limits | None = None
) -> dict[str, bytes]:
    """Those of ``names`` the sdist (``.zip`` or tar) has right inside its top directory."""
    limits = limits or _limits()
    with _unreadable(str(path)):
        if path.name.endswith(".zip"):
            return _zip_members(path, names, limits)
        return _tar_members(path, names, limits)


def _zip_members(path: Path, names: Collection[str], limits: Limits) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = _top_member(info.filename)
            if name is not None and name in names and name not in found and not info.is_dir():
                with archive.open(info) as stream:
                    found[name] = _read(stream, str(path), info.filename, limits)
    return found


def _tar_members(path: Path, names: Collection[str], limits: Limits) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    # A stream: members are read in order, and reading stops once all were found.
    with tarfile.open(path, "r|*") as archive:
        for member in archive:
            name = _top_member(member.name)
            if name is None or name not in names or name in found or not member.isfile():
                continue
            stream = archive.extractfile(member)
            if stream is not None:
                found[name] = _read(stream, str(path), member.name, limits)
            if len(found) == len(names):
                break
    return found


def check_identity(metadata: bytes, project: NormalizedName, version: Version) -> dict[str, str]:
    """The header fields, once they name the project and version of the file's name.

    Raises :class:`MetadataError` (with no file: the caller names it) when they
    name anything else, as a wheel offered under another project's name does.
    """
    fields = header_fields(metadata)
    name, text = fields.get("name", ""), fields.get("version", "")
    try:
        same_version = Version(text) == version
    except InvalidVersion:
        same_version = False
    if canonicalize_name(name) != project or not same_version:
        raise MetadataError(
            "", f"its metadata names {name or '?'} {text or '?'}, not {project} {version}"
        )
    return fields


def header_fields(metadata: bytes) -> dict[str, str]:
    """The first value of each header field, lower-cased names, up to the body.

    Only a few single-line fields are needed; the email parser behind
    ``packaging.metadata`` costs more than the rest of indexing a small wheel.
    """
    fields: dict[str, str] = {}
    for line in metadata.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        name, colon, value = line.partition(":")
        if colon and not line[0].isspace():
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def _top_member(name: str) -> str | None:
    """What ``<top>/<name>`` names inside the top directory; None for anything else."""
    top, _, rest = name.removeprefix("./").partition("/")
    return rest if top and rest and "/" not in rest else None


def _metadata_member(label: str, names: Iterable[str], project: NormalizedName) -> str:
    found = [name for name in names if _dist_info_project(name) == project]
    if len(found) != 1:
        raise MetadataError(label, f"no single {project}-*.dist-info/METADATA inside the wheel")
    return found[0]


def _is_metadata_of(project: NormalizedName, name: str) -> bool:
    return _dist_info_project(name) == project


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
    return start, min([*later, start + info.compress_size + LOCAL_ROOM])


def _read(stream: IO[bytes], label: str, member: str, limits: Limits) -> bytes:
    """The one read of a member's bytes, bounded whatever size the archive declares.

    One byte more than the limit is asked for: getting it means the member is
    too large, and nothing more is decompressed.
    """
    data = stream.read(limits.metadata_size + 1)
    if len(data) > limits.metadata_size:
        limit = limits.describe("metadata_size")
        raise MetadataTooLarge(label, f"{member} is larger than {limit} once decompressed")
    return data


def _limits() -> Limits:
    """The limits the environment sets, for callers that pass none."""
    return Limits.from_environ(os.environ)


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
