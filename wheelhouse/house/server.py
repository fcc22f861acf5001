"""A read-only HTTP server over a wheelhouse: its simple index and its files.

``/simple/`` and ``/simple/<name>/`` answer PEP 691 JSON or HTML by the
``Accept`` header, from the pages ``wheelhouse index`` wrote; a name that is not
normalized redirects to the normalized one. Any other path is a file inside the
wheelhouse, with single byte ranges. Nothing outside the directory is served
(``..``, encoded or not, and symlinks that lead out are refused) and nothing is
ever written.
"""

from __future__ import annotations

import os
import re
import socket
import socketserver
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from wheelhouse import __version__
from wheelhouse.house.errors import BadDirectory, CannotServe
from wheelhouse.house.layout import METADATA_SUFFIX, SIMPLE
from wheelhouse.model import simple

__all__ = ["WheelhouseServer", "make_server"]

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


def make_server(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log: Callable[[str], None] | None = None,
) -> WheelhouseServer:
    """A server bound to ``host:port`` (0 picks a free port), not yet serving."""
    if not root.is_dir():
        raise BadDirectory(str(root), "no such directory", hint="pass -w with a wheelhouse")
    if not (root / SIMPLE / simple.HTML_PAGE).is_file():
        raise BadDirectory(
            str(root), "it has no simple index", hint=f"run `wheelhouse index {root}` first"
        )
    try:
        return WheelhouseServer((host, port), root=root, log=log)
    except OSError as exc:
        raise CannotServe(host, port, exc.strerror or str(exc)) from None


class WheelhouseServer(ThreadingHTTPServer):
    """One thread per connection, over a directory resolved once at start."""

    daemon_threads = True
    # Many clients connect at once (pip and uv open several connections each).
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], *, root: Path, log: Callable[[str], None] | None
    ) -> None:
        self.root = root.resolve()
        self.log = log
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up, which can hang offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def index_url(self) -> str:
        """The URL to pass to pip or uv as ``--index-url``."""
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        return f"http://{host}:{self.server_port}/{SIMPLE}/"


@dataclass(frozen=True, slots=True)
class _Redirect:
    location: str


@dataclass(frozen=True, slots=True)
class _Refusal:
    status: HTTPStatus


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    content_type: str
    negotiated: bool = False


def _route(root: Path, raw_path: str, accept: str | None) -> _Redirect | _Refusal | _File:
    """What to answer for a request path, before touching any file."""
    segments = _segments(raw_path)
    if segments is None:
        return _Refusal(HTTPStatus.FORBIDDEN)
    if segments in ([""], [SIMPLE]):
        return _Redirect(f"/{SIMPLE}/")
    if segments == [SIMPLE, ""]:
        return _page(root / SIMPLE, accept)
    if segments[0] == SIMPLE and _is_project(root, segments[1:]):
        name = canonicalize_name(segments[1])
        if segments[1:] == [name, ""]:
            return _page(root / SIMPLE / name, accept)
        return _Redirect(f"/{SIMPLE}/{name}/")
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


def _page(directory: Path, accept: str | None) -> _Refusal | _File:
    content_type = simple.negotiate(accept)
    if content_type is None:
        return _Refusal(HTTPStatus.NOT_ACCEPTABLE)
    filename = _PAGE_FILES.get(content_type, simple.HTML_PAGE)
    if content_type == simple.TEXT_HTML_TYPE:
        content_type += "; charset=utf-8"
    return _File(directory / filename, content_type, negotiated=True)


def _static(root: Path, segments: list[str]) -> _File:
    suffix = Path(segments[-1]).suffix
    content_type = _CONTENT_TYPES.get(suffix, "application/octet-stream")
    return _File(root.joinpath(*segments), content_type)


class _Unsatisfiable(Exception):
    """A byte range that starts past the end of the file."""


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte asked for, or None to send the whole file."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or match.groups() == ("", ""):
        return None  # absent, multiple ranges or malformed: RFC 9110 lets us ignore it
    first, last = match.groups()
    if not first:
        start = max(size - int(last), 0)
        if int(last) == 0 or size == 0:
            raise _Unsatisfiable
        return start, size - 1
    if last and int(last) < int(first):
        return None
    if int(first) >= size:
        raise _Unsatisfiable
    return int(first), min(int(last), size - 1) if last else size - 1


class _Handler(BaseHTTPRequestHandler):
    server: WheelhouseServer
    protocol_version = "HTTP/1.1"
    server_version = f"wheelhouse/{__version__}"
    # An idle keep-alive connection must not hold its thread forever.
    timeout = 60

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")

    def _answer(self, *, send_body: bool) -> None:
        try:
            answer = _route(self.server.root, self.path, self.headers.get("Accept"))
            if isinstance(answer, _Redirect):
                self._redirect(answer.location)
            elif isinstance(answer, _Refusal):
                self.send_error(answer.status)
            else:
                self._send_file(answer, send_body=send_body)
        except ConnectionError:
            self.close_connection = True

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_file(self, answer: _File, *, send_body: bool) -> None:
        resolved = answer.path.resolve()
        if not resolved.is_relative_to(self.server.root):
            self.send_error(HTTPStatus.FORBIDDEN)
            return
        try:
            stream = resolved.open("rb") if resolved.is_file() else None
        except OSError:
            stream = None
        if stream is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        with stream:
            self._send_stream(stream, answer, send_body=send_body)

    def _send_stream(self, stream: BinaryIO, answer: _File, *, send_body: bool) -> None:
        size = os.fstat(stream.fileno()).st_size
        try:
            span = _byte_range(self.headers.get("Range"), size)
        except _Unsatisfiable:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = span if span is not None else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if span else HTTPStatus.OK)
        if span is not None:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self._send_common_headers(answer, length=end - start + 1)
        if send_body:
            stream.seek(start)
            _copy(stream, self.wfile.write, end - start + 1)

    def _send_common_headers(self, answer: _File, *, length: int) -> None:
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if answer.negotiated:
            self.send_header("Vary", "Accept")
        self.end_headers()


def _copy(source: BinaryIO, write: Callable[[bytes], object], length: int) -> None:
    while length > 0 and (chunk := source.read(min(_CHUNK, length))):
        write(chunk)
        length -= len(chunk)
