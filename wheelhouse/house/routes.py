"""What the wheelhouse server answers to a request path, before any byte is sent.

:func:`route` turns a request path into a redirect, a refusal or a file to send:
the simple index pages negotiated by ``Accept``, a name that is not normalized
redirected to the normalized one, any other path a file inside the wheelhouse.
A path that tries to leave the root (``..``, encoded or not) is refused, and
:func:`open_inside` refuses symlinks that lead out. :func:`byte_range` reads a
single ``Range`` header and :func:`copy_span` sends that span of a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from wheelhouse.house.layout import METADATA_SUFFIX, SIMPLE
from wheelhouse.model import simple

__all__ = [
    "FileAnswer",
    "Redirect",
    "Refusal",
    "Unsatisfiable",
    "byte_range",
    "copy_span",
    "open_inside",
    "route",
]

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    METADATA_SUFFIX: "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".toml": "application/toml",
}
_PAGE_FILES = {simple.JSON_TYPE: simple.JSON_PAGE}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Redirect:
    """Answer 301 with this location."""

    location: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Answer this error status."""

    status: HTTPStatus


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """Send this file; ``negotiated`` when it was chosen by ``Accept``."""

    path: Path
    content_type: str
    negotiated: bool = False


def route(root: Path, raw_path: str, accept: str | None) -> Redirect | Refusal | FileAnswer:
    """What to answer for a request path, before touching any file."""
    segments = _segments(raw_path)
    if segments is None:
        return Refusal(HTTPStatus.FORBIDDEN)
    if segments in ([""], [SIMPLE]):
        return Redirect(f"/{SIMPLE}/")
    if segments == [SIMPLE, ""]:
        return _page(root / SIMPLE, accept)
    if segments[0] == SIMPLE and _is_project(root, segments[1:]):
        name = canonicalize_name(segments[1])
        if segments[1:] == [name, ""]:
            return _page(root / SIMPLE / name, accept)
        return Redirect(f"/{SIMPLE}/{name}/")
    return _static(root, segments)


def _segments(raw_path: str) -> list[str] | None:
    """The decoded path segments, or None for a path that tries to leave the root."""
    path = urlsplit(raw_path).path
    segments = unquote(path).split("/")
    # Decoded before checking, so %2e%2e%2f is caught like ../ is.
    if not path.startswith("/") or any(
        part in (".", "..") or "\\" in part or "\0" in part for part in segments
    ):
        return None
    return segments[1:]


def _is_project(root: Path, rest: list[str]) -> bool:
    """``<name>/``, or ``<name>`` when that is not a file of ``simple/`` itself."""
    return rest[1:] == [""] or (len(rest) == 1 and not (root / SIMPLE / rest[0]).is_file())


def _page(directory: Path, accept: str | None) -> Refusal | FileAnswer:
    content_type = simple.negotiate(accept)
    if content_type is None:
        return Refusal(HTTPStatus.NOT_ACCEPTABLE)
    filename = _PAGE_FILES.get(content_type, simple.HTML_PAGE)
    if content_type == simple.TEXT_HTML_TYPE:
        content_type += "; charset=utf-8"
    return FileAnswer(directory / filename, content_type, negotiated=True)


def open_inside(root: Path, path: Path) -> BinaryIO | HTTPStatus:
    """The file at ``path`` open for reading, or why not: it leads outside, or is not there."""
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            return HTTPStatus.FORBIDDEN
        return resolved.open("rb") if resolved.is_file() else HTTPStatus.NOT_FOUND
    except (OSError, RuntimeError):  # a symlink loop, a name too long, no permission
        return HTTPStatus.NOT_FOUND


def _static(root: Path, segments: list[str]) -> FileAnswer:
    suffix = Path(segments[-1]).suffix
    content_type = _CONTENT_TYPES.get(suffix, "application/octet-stream")
    return FileAnswer(root.joinpath(*segments), content_type)


class Unsatisfiable(Exception):
    """A byte range that starts past the end of the file."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte asked for, or None to send the whole file."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or match.groups() == ("", ""):
        return None  # absent, multiple ranges or malformed: RFC 9110 lets us ignore it
    first, last = match.groups()
    if not first:
        start = max(size - int(last), 0)
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return start, size - 1
    if last and int(last) < int(first):
        return None
    if int(first) >= size:
        raise Unsatisfiable
    return int(first), min(int(last), size - 1) if last else size - 1


def copy_span(source: BinaryIO, write: Callable[[bytes], object], length: int) -> None:
    """Write ``length`` bytes of ``source``, from where it stands, in chunks."""
    while length > 0 and (chunk := source.read(min(_CHUNK, length))):
        write(chunk)
        length -= len(chunk)
