"""Files on disk: their digest, and writes that never leave a partial file under a final name.

A write goes to a temporary name beside its target (named by
:func:`~wheelhouse.house.layout.temporary_affixes`), then ``os.replace`` puts it
in place, so a reader sees the old bytes or the new, never a part.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from wheelhouse.house.layout import temporary_affixes
from wheelhouse.model.distributions import DistFile

__all__ = ["atomic_copy", "atomic_write", "local_file", "naming", "sha256_of"]

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """The file's sha256 (hex), read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Give an ``OSError`` raised in the block the file it concerns, when it names none.

    A full disk fails a ``write`` that knows no file name; the user needs one.
    """
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise


def atomic_write(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that; True if written."""
    with contextlib.suppress(OSError):
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    with naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix, suffix = temporary_affixes(path.name)
        fd, temp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    return True


def atomic_copy(source: Path, dest: Path, *, sha256: str | None = None, link: bool = False) -> bool:
    """Put a copy of ``source`` at ``dest`` by way of a temporary name beside it, never in part.

    ``link`` tries a hard link before copying. With ``sha256``, a copy whose
    digest differs is discarded and False returned, ``dest`` left as it was.
    """
    prefix, suffix = temporary_affixes(dest.name)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=dest.parent)
    os.close(fd)
    temp = Path(name)
    try:
        digest = _link_or_copy(source, temp, link=link)
        if sha256 is not None and (digest or sha256_of(temp)) != sha256:
            temp.unlink()
            return False
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return True


def _link_or_copy(source: Path, temp: Path, *, link: bool) -> str | None:
    """Fill ``temp`` from ``source``; the sha256 of the bytes copied, None when linked."""
    if link:
        with contextlib.suppress(OSError):
            temp.unlink()
            os.link(source, temp)
            return None
    digest = hashlib.sha256()
    with source.open("rb") as reader, temp.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
    os.chmod(temp, 0o644)
    return digest.hexdigest()


def local_file(
    path: Path, parsed: tuple[NormalizedName, Version, frozenset[Tag]], **details: Any
) -> DistFile:
    """A distribution file on disk (its name already parsed), with its digest and size."""
    project, version, tags = parsed
    return DistFile(
        filename=path.name,
        url=path.name,
        project=project,
        version=version,
        tags=tags,
        sha256=sha256_of(path),
        size=path.stat().st_size,
        **details,
    )
