"""A package index on 127.0.0.1 over the fixture files, for the tests.

Speaks PEP 503 HTML and PEP 691 JSON (with the PEP 700 fields), chosen by the
Accept header; offers PEP 658/714 metadata; serves files with Content-Length and
single byte ranges. Written for the tests, independently of the package's own
index writer and server, so that it can judge them. It records every request and
can be told to misbehave (:class:`Switches`), and tests may add, remove, yank or
hide files while it runs.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import io
import json
import re
import socketserver
import threading
import traceback
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from packaging.utils import (
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

__all__ = [
    "FIXTURES",
    "HTML_TYPE",
    "JSON_TYPE",
    "TEXT_HTML",
    "Entry",
    "IndexServer",
    "Request",
    "Switches",
    "byte_range",
    "negotiate",
]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
_ALIASES = {
    "application/vnd.pypi.simple.latest+json": JSON_TYPE,
    "application/vnd.pypi.simple.latest+html": HTML_TYPE,
}
#: Content types the server offers, most preferred first when the client ranks them equal.
_OFFERED = (JSON_TYPE, HTML_TYPE, TEXT_HTML)
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_ADDED_UPLOAD_TIME = "2026-01-01T00:00:00Z"


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One file as the index lists it; ``path`` holds the bytes it serves.

    ``yanked`` and ``invalid`` are ``False`` or a reason. An invalid entry is a
    listing a client must refuse (a name of another project, or a path).
    """

    project: str
    filename: str
    path: Path
    sha256: str
    size: int
    version: str | None
    upload_time: str
    requires_python: str | None = None
    yanked: str | bool = False
    metadata_sha256: str | None = None
    invalid: str | bool = False

    @property
    def name(self) -> NormalizedName:
        """The project's normalized name."""
        return canonicalize_name(self.project)

    @property
    def uploaded(self) -> datetime:
        """The upload time as an aware datetime."""
        return _parse_time(self.upload_time)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], files: Path) -> Entry:
        """An entry of ``index.json``, its bytes under ``files``."""
        return cls(
            project=data["project"],
            filename=data["filename"],
            path=files / data["file"],
            sha256=data["sha256"],
            size=data["size"],
            version=data["version"],
            upload_time=data["upload_time"],
            requires_python=data["requires_python"],
            yanked=data["yanked"],
            metadata_sha256=data["metadata_sha256"],
            invalid=data["invalid"],
        )


@dataclass(frozen=True, kw_only=True)
class Switches:
    """Ways to misbehave; the defaults make a well-behaved index.

    ``fail_5xx`` answers the next N requests with ``fail_status``;
    ``fail_5xx_per_path`` answers the first N requests of every path so. Both
    count only paths that start with ``fail_prefix``. ``slow`` delays every
    response by that many seconds. ``truncate`` sends half of every file body
    under a Content-Length for all of it, then closes the connection.
    ``no_hashes`` lists files with no digest (an empty ``hashes``, a link
    without ``#sha256=``), as some private indexes do.

    A private index: ``basic_auth`` (user, password) answers 401 to every request
    without that HTTP Basic ``Authorization``. ``files_base`` (``http://host:port``)
    lists files at absolute URLs there, as indexes that keep files on another host
    do; ``redirect_files`` answers every file request with a redirect there.
    """

    fail_5xx: int = 0
    fail_5xx_per_path: int = 0
    fail_status: int = 503
    fail_prefix: str = "/"
    slow: float = 0.0
    truncate: bool = False
    wrong_hash: bool = False
    no_metadata: bool = False
    html_only: bool = False
    no_upload_time: bool = False
    no_range: bool = False
    no_hashes: bool = False
    basic_auth: tuple[str, str] | None = None
    files_base: str | None = None
    redirect_files: str | None = None


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request as the server saw and answered it; ``sent`` counts body bytes written."""

    method: str
    path: str
    range: str | None
    accept: str | None
    status: int
    sent: int  # the answer's body (half when truncating); 0 when the client hung up first
    authorization: str | None = None


@dataclass(kw_only=True)
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False

    def payload(self, *, head: bool) -> bytes:
        """The body bytes to write: none for HEAD, half of them when truncating."""
        if head:
            return b""
        return self.body[: len(self.body) // 2] if self.truncate else self.body


class _Unsatisfiable(Exception):
    pass


class IndexServer:
    """The fixture index, served from a background thread on a free port of 127.0.0.1.

    ``root`` holds ``index.json`` and ``files/``; it is read once and never
    written, so the committed fixtures are safe. Use as a context manager, or
    call :meth:`start` and :meth:`stop`. Set ``hide_after`` (an aware datetime)
    to list and serve only files uploaded by then, as the index looked at that
    moment; :meth:`reset` undoes every change.
    """

    def __init__(self, root: Path = FIXTURES) -> None:
        self.root = root
        document = json.loads((root / "index.json").read_text(encoding="utf-8"))
        self._original = tuple(Entry.from_json(item, root / "files") for item in document["files"])
        self._entries = self._original
        self._lock = threading.Lock()
        self._log: list[Request] = []
        self._failed: dict[str, int] = {}
        self._metadata: dict[Path, bytes] = {}
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.switches = Switches()
        self.hide_after: datetime | None = None

    # Life cycle.

    def start(self) -> IndexServer:
        """Listen on a free port and serve from a daemon thread."""
        self._stopping.clear()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("the index server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The index URL to give clients: ``http://127.0.0.1:PORT/simple/``."""
        return f"{self.base_url}/simple/"

    def file_url(self, filename: str) -> str:
        """The absolute URL of a file."""
        return f"{self.base_url}/files/{quote(filename, safe='')}"

    # Switches and the request log.

    def configure(self, **switches: Any) -> None:
        """Change some switches (see :class:`Switches`); unknown names raise TypeError."""
        with self._lock:
            self.switches = dataclasses.replace(self.switches, **switches)
            self._failed.clear()

    def reset(self) -> None:
        """Back to a well-behaved server over the original listing, with an empty log."""
        with self._lock:
            self.switches = Switches()
            self.hide_after = None
            self._entries = self._original
            self._failed.clear()
            self._log.clear()

    def reset_log(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._log.clear()

    @property
    def log(self) -> list[Request]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._log)

    def requests(
        self, prefix: str = "", *, method: str | None = None, status: int | None = None
    ) -> list[Request]:
        """Requests whose path starts with ``prefix``, optionally of one method or status."""
        return [
            r
            for r in self.log
            if r.path.startswith(prefix)
            and (method is None or r.method == method)
            and (status is None or r.status == status)
        ]

    def count(
        self, prefix: str = "", *, method: str | None = None, status: int | None = None
    ) -> int:
        """How many requests :meth:`requests` would return."""
        return len(self.requests(prefix, method=method, status=status))

    # The listing.

    def entries(self, project: str | None = None) -> list[Entry]:
        """Entries currently listed (not hidden), of one project or all."""
        listed = [e for e in self._entries if not self._hidden(e)]
        if project is None:
            return listed
        return [e for e in listed if e.name == canonicalize_name(project)]

    def entry(self, filename: str) -> Entry:
        """The listed entry of a file name; KeyError when none."""
        for candidate in self.entries():
            if candidate.filename == filename:
                return candidate
        raise KeyError(filename)

    def add_file(
        self,
        path: Path,
        *,
        filename: str | None = None,
        project: str | None = None,
        requires_python: str | None = None,
        yanked: str | bool = False,
        upload_time: str = _ADDED_UPLOAD_TIME,
    ) -> Entry:
        """List a file (replacing an entry of the same name); its bytes stay at ``path``.

        Project and version come from the file name unless given.
        """
        filename = filename or path.name
        name, version = _parse_filename(filename)
        data = path.read_bytes()
        core = _wheel_metadata(data) if filename.endswith(".whl") else None
        added = Entry(
            project=project or name,
            filename=filename,
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            version=version,
            upload_time=upload_time,
            requires_python=requires_python,
            yanked=yanked,
            metadata_sha256=hashlib.sha256(core).hexdigest() if core is not None else None,
        )
        self._metadata.pop(path, None)
        self._replace(filename, [added])
        return added

    def remove_file(self, filename: str) -> None:
        """Stop listing and serving a file."""
        self._replace(filename, [])

    def yank(self, filename: str, reason: str | bool = True) -> None:
        """Mark a listed file yanked (with a reason, or ``True`` for none)."""
        self._replace(filename, [dataclasses.replace(self.entry(filename), yanked=reason)])

    def metadata(self, entry: Entry) -> bytes:
        """The core metadata of a wheel entry, read from the wheel once."""
        if entry.path not in self._metadata:
            self._metadata[entry.path] = _wheel_metadata(entry.path.read_bytes())
        return self._metadata[entry.path]

    def _replace(self, filename: str, new: list[Entry]) -> None:
        with self._lock:
            kept = [e for e in self._entries if e.filename != filename]
            self._entries = (*kept, *new)

    def _hidden(self, entry: Entry) -> bool:
        return self.hide_after is not None and entry.uploaded > self.hide_after

    # Answering requests (called from the handler threads).

    def _answer(self, method: str, target: str, headers: Message) -> _Response:
        parts = urlsplit(target)
        failure = self._failure(parts.path)
        if failure is not None:
            return failure
        if not self._authorized(headers.get("Authorization")):
            answer = _text(401, "credentials needed")
            answer.headers["WWW-Authenticate"] = 'Basic realm="fixture"'
            return answer
        if parts.path.startswith("/files/") and self.switches.redirect_files:
            return _redirect(f"{self.switches.redirect_files}{parts.path}", parts.query)
        if parts.path == "/simple":
            return _redirect("/simple/", parts.query)
        if parts.path == "/simple/":
            return self._page(self._root_page, headers, parts.query)
        if parts.path.startswith("/simple/"):
            return self._project(parts.path, parts.query, headers)
        if parts.path.startswith("/files/"):
            return self._file(unquote(parts.path.removeprefix("/files/")), headers)
        return _not_found("no such page")

    def _authorized(self, header: str | None) -> bool:
        expected = self.switches.basic_auth
        if expected is None:
            return True
        token = base64.b64encode(":".join(expected).encode()).decode()
        return header == f"Basic {token}"

    def _file_href(self, entry: Entry) -> str:
        base = f"{self.switches.files_base}/files/" if self.switches.files_base else "../../files/"
        return f"{base}{quote(entry.filename, safe='')}"

    def _failure(self, path: str) -> _Response | None:
        with self._lock:
            switches = self.switches
            if not path.startswith(switches.fail_prefix):
                return None
            if switches.fail_5xx > 0:
                self.switches = dataclasses.replace(switches, fail_5xx=switches.fail_5xx - 1)
            elif self._failed.get(path, 0) < switches.fail_5xx_per_path:
                self._failed[path] = self._failed.get(path, 0) + 1
            else:
                return None
        return _text(switches.fail_status, "failing on purpose")

    def _project(self, path: str, query: str, headers: Message) -> _Response:
        segment = path.removeprefix("/simple/")
        raw = segment.removesuffix("/")
        if "/" in raw or not raw:
            return _not_found("no such page")
        name = canonicalize_name(unquote(raw))
        if raw != name or not segment.endswith("/"):
            return _redirect(f"/simple/{name}/", query)
        entries = self.entries(name)
        if not entries:
            return _not_found(f"no project named {name}")
        return self._page(lambda kind: self._project_page(name, entries, kind), headers, query)

    def _page(self, render: Callable[[str], bytes], headers: Message, query: str) -> _Response:
        accept = parse_qs(query).get("format", [headers.get("Accept")])[-1]
        kind = TEXT_HTML if self.switches.html_only else negotiate(accept)
        if kind is None:
            return _text(406, f"acceptable types: {', '.join(_OFFERED)}")
        content_type = f"{kind}; charset=utf-8" if kind == TEXT_HTML else kind
        sent = {"Content-Type": content_type, "Vary": "Accept"}
        return _Response(status=200, body=render(kind), headers=sent)

    def _root_page(self, kind: str) -> bytes:
        names = {e.name: e.project for e in self.entries() if not e.invalid}
        projects = [names[n] for n in sorted(names)]
        if kind == JSON_TYPE:
            meta = {"api-version": "1.1"}
            return _json({"meta": meta, "projects": [{"name": p} for p in projects]})
        links = [f'<a href="{canonicalize_name(p)}/">{html.escape(p)}</a><br>' for p in projects]
        return _html("Simple index", links)

    def _project_page(self, name: str, entries: list[Entry], kind: str) -> bytes:
        if kind == JSON_TYPE:
            versions = {Version(e.version) for e in entries if e.version and not e.invalid}
            return _json(
                {
                    "meta": {"api-version": "1.1"},
                    "name": name,
                    "versions": [str(v) for v in sorted(versions)],
                    "files": [self._json_file(e) for e in entries],
                }
            )
        return _html(f"Links for {name}", [self._html_link(e) for e in entries])

    def _announced_sha256(self, entry: Entry) -> str:
        if self.switches.wrong_hash:
            return hashlib.sha256(b"wrong " + entry.sha256.encode()).hexdigest()
        return entry.sha256

    def _offers_metadata(self, entry: Entry) -> bool:
        return entry.metadata_sha256 is not None and not self.switches.no_metadata

    def _json_file(self, entry: Entry) -> dict[str, Any]:
        offered: dict[str, str] | bool = False
        if self._offers_metadata(entry):
            offered = {"sha256": str(entry.metadata_sha256)}
        data: dict[str, Any] = {
            "filename": entry.filename,
            "url": self._file_href(entry),
            "hashes": {} if self.switches.no_hashes else {"sha256": self._announced_sha256(entry)},
            "size": entry.size,
            "yanked": entry.yanked if entry.yanked != "" else True,
            "core-metadata": offered,
            "dist-info-metadata": offered,
        }
        if entry.requires_python is not None:
            data["requires-python"] = entry.requires_python
        if not self.switches.no_upload_time:
            data["upload-time"] = entry.upload_time
        return data

    def _html_link(self, entry: Entry) -> str:
        href = self._file_href(entry)
        if not self.switches.no_hashes:
            href += f"#sha256={self._announced_sha256(entry)}"
        attributes = [f'href="{html.escape(href)}"']
        if entry.requires_python is not None:
            attributes.append(f'data-requires-python="{html.escape(entry.requires_python)}"')
        if entry.yanked is not False:
            reason = "" if entry.yanked is True else str(entry.yanked)
            attributes.append(f'data-yanked="{html.escape(reason)}"')
        if self._offers_metadata(entry):
            value = f"sha256={entry.metadata_sha256}"
            attributes += [f'data-dist-info-metadata="{value}"', f'data-core-metadata="{value}"']
        return f"<a {' '.join(attributes)}>{html.escape(entry.filename)}</a><br>"

    def _file(self, filename: str, headers: Message) -> _Response:
        try:
            data = self.entry(filename).path.read_bytes()
        except KeyError:
            wheel = self._metadata_entry(filename)
            if wheel is None:
                return _not_found(f"no file named {filename}")
            data = self.metadata(wheel)
        response = self._ranged(data, headers.get("Range"))
        response.headers.setdefault("Content-Type", "application/octet-stream")
        response.truncate = self.switches.truncate and response.status in (200, 206)
        return response

    def _metadata_entry(self, filename: str) -> Entry | None:
        if not filename.endswith(".metadata"):
            return None
        try:
            entry = self.entry(filename.removesuffix(".metadata"))
        except KeyError:
            return None
        return entry if self._offers_metadata(entry) else None

    def _ranged(self, data: bytes, header: str | None) -> _Response:
        if self.switches.no_range:
            return _Response(status=200, body=data)
        accepts = {"Accept-Ranges": "bytes"}
        try:
            span = byte_range(header, len(data))
        except _Unsatisfiable:
            headers = {**accepts, "Content-Range": f"bytes */{len(data)}"}
            return _Response(status=416, headers=headers)
        if span is None:
            return _Response(status=200, body=data, headers=accepts)
        start, stop = span
        content_range = f"bytes {start}-{stop - 1}/{len(data)}"
        headers = {**accepts, "Content-Range": content_range}
        return _Response(status=206, body=data[start:stop], headers=headers)

    def _record(self, request: Request) -> Request:
        with self._lock:
            self._log.append(request)
        return request

    def _amend(self, request: Request, sent: int) -> None:
        """Correct the byte count of a logged request, unless the log was reset since."""
        with self._lock:
            for number in reversed(range(len(self._log))):
                if self._log[number] is request:
                    self._log[number] = dataclasses.replace(request, sent=sent)
                    return

    def _pause(self) -> None:
        if self.switches.slow:
            self._stopping.wait(self.switches.slow)


def negotiate(accept: str | None) -> str | None:
    """The content type to answer an Accept header with, or None when none is acceptable.

    Higher q wins, then the more specific media range, then JSON over HTML; a
    client that only says ``*/*`` (or nothing) gets ``text/html``, as from a
    legacy index.
    """
    ranges = list(_media_ranges(accept or "*/*"))
    best: tuple[float, int, int, str] | None = None
    for preference, offered in enumerate(reversed(_OFFERED)):
        matches = [(spec, q) for media, q in ranges if (spec := _specificity(media, offered)) >= 0]
        if not matches:
            continue
        specificity, q = max(matches)
        if specificity == 0 and offered == TEXT_HTML:
            preference = len(_OFFERED)
        candidate = (q, specificity, preference, offered)
        if q > 0 and (best is None or candidate > best):
            best = candidate
    return best[3] if best else None


def _media_ranges(accept: str) -> Iterator[tuple[str, float]]:
    for part in accept.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media:
            yield _ALIASES.get(media.lower(), media.lower()), q


def _specificity(media: str, offered: str) -> int:
    if media == offered:
        return 2
    if media == offered.split("/")[0] + "/*":
        return 1
    return 0 if media == "*/*" else -1


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, stop)`` for a single ``bytes=`` range, None to send the whole body.

    Malformed and multiple ranges are ignored, as RFC 9110 allows; a range
    wholly past the end raises ``_Unsatisfiable``.
    """
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        if int(last) == 0:
            raise _Unsatisfiable
        return max(0, size - int(last)), size
    if last and int(last) < int(first):
        return None
    if int(first) >= size:
        raise _Unsatisfiable
    return int(first), min(size, int(last) + 1) if last else size


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _parse_filename(filename: str) -> tuple[str, str]:
    if filename.endswith(".whl"):
        name, version, _build, _tags = parse_wheel_filename(filename)
    else:
        name, version = parse_sdist_filename(filename)
    return name, str(version)


def _wheel_metadata(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise ValueError(f"expected one .dist-info/METADATA, found {names}")
        return archive.read(names[0])


def _json(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()


def _html(title: str, links: Iterable[str]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        '    <meta name="pypi:repository-version" content="1.1">',
        f"    <title>{html.escape(title)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>{html.escape(title)}</h1>",
        *(f"    {link}" for link in links),
        "  </body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode()


def _redirect(location: str, query: str) -> _Response:
    location += f"?{query}" if query else ""
    body = f'<a href="{html.escape(location)}">moved</a>\n'.encode()
    headers = {"Location": location, "Content-Type": "text/html; charset=utf-8"}
    return _Response(status=301, body=body, headers=headers)


def _not_found(message: str) -> _Response:
    return _text(404, message)


def _text(status: int, message: str) -> _Response:
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    return _Response(status=status, body=f"{message}\n".encode(), headers=headers)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], index: IndexServer
    ) -> None:
        self.index = index
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up, which can stall without a network.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (a truncated body, a timeout) are part of the tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _HTTPServer

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, *, head: bool) -> None:
        index = self.server.index
        try:
            response = index._answer(self.command, self.path, self.headers)
        except Exception:
            response = _text(500, traceback.format_exc())
        index._pause()
        body = response.payload(head=head)
        # Logged before the first byte goes out: a client that has the answer finds it there.
        logged = index._record(self._logged(response.status, len(body)))
        try:
            self._send(response, body, head=head)
        except BaseException:
            index._amend(logged, 0)
            raise

    def _logged(self, status: int, sent: int) -> Request:
        return Request(
            method=self.command,
            path=self.path,
            range=self.headers.get("Range"),
            accept=self.headers.get("Accept"),
            status=status,
            sent=sent,
            authorization=self.headers.get("Authorization"),
        )

    def _send(self, response: _Response, body: bytes, *, head: bool) -> None:
        self.send_response(response.status)
        headers = {**response.headers, "Content-Length": str(len(response.body))}
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        self.wfile.write(body)
        if response.truncate:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass
