"""A read-only HTTP server over a wheelhouse: its simple index and its files.

``/simple/`` and ``/simple/<name>/`` answer PEP 691 JSON or HTML by the
``Accept`` header, from the pages ``wheelhouse index`` wrote; a name that is not
normalized redirects to the normalized one. Any other path is a file inside the
wheelhouse, with single byte ranges. Nothing outside the directory is served
(``..``, encoded or not, and symlinks that lead out are refused) and nothing is
ever written.

It stands abuse: at most :data:`MAX_WORKERS` requests are answered at once by a
pool of threads; idle connections wait in one thread (:mod:`.connections`), up to
:data:`MAX_IDLE` of them, the oldest closed first, each for :data:`IDLE_SECONDS`;
a request head must arrive within :data:`HEAD_SECONDS` and :data:`MAX_HEAD` bytes,
its request line within :data:`MAX_REQUEST_LINE`. Every request gets an answer
(400, 404, 405, 414, 431, never a traceback) and log lines escape what a client
sent, so no escape sequence reaches the terminal.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, BinaryIO

from wheelhouse import __version__
from wheelhouse.errors import printable
from wheelhouse.house.connections import Parking, RequestReader, close
from wheelhouse.house.errors import BadDirectory, CannotServe
from wheelhouse.house.layout import SIMPLE
from wheelhouse.house.routes import (
    FileAnswer,
    Redirect,
    Refusal,
    Unsatisfiable,
    byte_range,
    copy_span,
    open_inside,
    route,
)
from wheelhouse.model import simple

__all__ = ["WheelhouseServer", "make_server"]

#: Requests answered at once; more wait for a worker, their connections open.
MAX_WORKERS = 32
#: Open connections waiting for a request; beyond, the one idle longest is closed.
MAX_IDLE = 512
#: How long a connection may wait for its next request.
IDLE_SECONDS = 30.0
#: How long a request head (its line and headers) may take to arrive, and its size.
HEAD_SECONDS = 10.0
MAX_HEAD = 64 * 1024
#: The longest request line taken (its URI, mostly); a longer one gets 414.
MAX_REQUEST_LINE = 8 * 1024
#: How long a write to a client may block, and a closing client may linger.
SEND_SECONDS = 60.0
LINGER_SECONDS = 2.0


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


class WheelhouseServer(HTTPServer):
    """A bounded pool of workers answers requests; idle connections wait without a thread."""

    # Many clients connect at once (pip and uv open several connections each).
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], *, root: Path, log: Callable[[str], None] | None
    ) -> None:
        self.root = root.resolve()
        self.log = log
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._workers: ThreadPoolExecutor | None = None
        self._parking: Parking | None = None
        self._busy: set[socket.socket] = set()
        self._busy_lock = threading.Lock()
        self._closing = False
        super().__init__(address, _Handler)
        self._workers = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="wheelhouse-serve")
        self._parking = Parking(
            self._dispatch, idle=IDLE_SECONDS, capacity=MAX_IDLE, linger=LINGER_SECONDS
        )

    def process_request(self, request: Any, client_address: Any) -> None:
        """A new connection waits for its first request in the parking, not in a thread."""
        assert self._parking is not None
        self._parking.park(request, client_address)

    def _dispatch(self, sock: socket.socket, address: Any) -> None:
        assert self._workers is not None
        self._workers.submit(self._serve_one, sock, address)

    def _serve_one(self, sock: socket.socket, address: Any) -> None:
        """Answer one request on ``sock``, then park it again or close it."""
        assert self._parking is not None
        with self._busy_lock:
            if self._closing:  # queued before the server closed: nobody waits for it
                close(sock)
                return
            self._busy.add(sock)
        try:
            handler = _Handler(sock, address, self)
        except Exception as exc:  # a client that vanished mid-answer, a disk error
            self._note(address, exc)
            close(sock)
            return
        finally:
            with self._busy_lock:
                self._busy.discard(sock)
        if handler.close_connection:
            self._parking.park(sock, address, draining=not handler.client_left)
        else:
            self._parking.park(sock, address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """socketserver's hook for an error: one escaped line, never a traceback."""
        self._note(client_address, sys.exc_info()[1])

    def _note(self, address: Any, exc: BaseException | None) -> None:
        if self.log is not None and not isinstance(exc, ConnectionError):
            host = address[0] if isinstance(address, tuple) else address
            self.log(printable(f"{host} connection dropped: {exc!r}"))

    def server_close(self) -> None:
        """Stop listening, close waiting connections, and cut those being answered."""
        super().server_close()
        if self._parking is not None:
            self._parking.close()
        if self._workers is not None:
            self._workers.shutdown(wait=False)
        with self._busy_lock:
            self._closing = True
            for sock in self._busy:  # a worker blocked on a slow client wakes up now
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up, which can hang offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def index_url(self) -> str:
        """The URL to pass to pip or uv as ``--index-url``."""
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        return f"http://{host}:{self.server_port}/{SIMPLE}/"


class _Handler(BaseHTTPRequestHandler):
    """One request on a connection; the server parks the connection again afterwards."""

    server: WheelhouseServer
    protocol_version = "HTTP/1.1"
    # An answer to a bad version keeps its status line (HTTP/0.9 has none).
    default_request_version = "HTTP/1.0"
    server_version = f"wheelhouse/{__version__}"
    timeout = SEND_SECONDS
    #: The client closed the connection before a request: nothing to drain.
    client_left = False

    def setup(self) -> None:
        self.connection = self.request
        self.connection.settimeout(self.timeout)
        # Unbuffered on purpose (raw, not buffered, I/O): nothing of a next request is read.
        reader = RequestReader(self.connection, seconds=HEAD_SECONDS, limit=MAX_HEAD)
        self.rfile = reader  # type: ignore[assignment]
        self.wfile = self.connection.makefile("wb")

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.wfile.close()
        self.rfile.close()

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not self.raw_requestline:
                self.client_left = True
            elif not self._refused_line() and self.parse_request():
                self._dispatch()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

    def _refused_line(self) -> bool:
        """Answer a request line that is too long or not three words; True when answered."""
        text = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline, self.request_version, self.command = text[:200], "", ""
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
        elif len(text.split()) != 3:  # HTTP/0.9 would answer without a status line
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed request line")
        else:
            return False
        return True

    def _dispatch(self) -> None:
        if self.command in ("GET", "HEAD"):
            self._answer(send_body=self.command == "GET")
            return
        body = b"only GET and HEAD\n"
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")  # its body, if any, is not read
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(printable(f"{self.address_string()} {format % args}"))

    def _answer(self, *, send_body: bool) -> None:
        try:
            answer = route(self.server.root, self.path, self.headers.get("Accept"))
        except ValueError:  # a request target that does not parse as a URL
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        except OSError:  # a name too long for the file system
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        try:
            if isinstance(answer, Redirect):
                self._redirect(answer.location)
            elif isinstance(answer, Refusal):
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

    def _send_file(self, answer: FileAnswer, *, send_body: bool) -> None:
        stream = open_inside(self.server.root, answer.path)
        if isinstance(stream, HTTPStatus):
            self.send_error(stream)
            return
        with stream:
            self._send_stream(stream, answer, send_body=send_body)

    def _send_stream(self, stream: BinaryIO, answer: FileAnswer, *, send_body: bool) -> None:
        size = os.fstat(stream.fileno()).st_size
        try:
            span = byte_range(self.headers.get("Range"), size)
        except Unsatisfiable:
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
            copy_span(stream, self.wfile.write, end - start + 1)

    def _send_common_headers(self, answer: FileAnswer, *, length: int) -> None:
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if answer.negotiated:
            self.send_header("Vary", "Accept")
        self.end_headers()
