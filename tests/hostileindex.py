"""A hostile package index on 127.0.0.1: each path prefix is an index that misbehaves one way.

``http://127.0.0.1:PORT/<case>/simple/`` is the index of one case (see :data:`CASES`);
its files live under ``/<case>/files/``. Pages are PEP 691 JSON. Every answer
is bounded in bytes and in time on the server's side too, so a client that never
hangs up cannot keep it busy: a stream stops after :data:`MAX_SENT` bytes or
:data:`MAX_SECONDS` seconds, a trickle after :data:`MAX_TRICKLE` bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["BOMB_SIZE", "CASES", "HostileIndex", "metadata", "wheel"]

MiB = 1024 * 1024
#: What a METADATA bomb decompresses to; it travels as a few hundred KiB.
BOMB_SIZE = 256 * MiB
#: The most a streamed answer sends, and for how long, whatever the client does.
MAX_SENT = 1024 * MiB
MAX_SECONDS = 60.0
#: A trickle sends one byte a second, this many at most.
MAX_TRICKLE = 120
#: How deep the deeply nested JSON page goes.
DEPTH = 100_000
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def metadata(name: str, version: str, *requires: str, pad: int = 0) -> bytes:
    """Core metadata naming ``name`` ``version`` with these dependencies."""
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    return ("\n".join(lines) + "\n\n").encode() + b" " * pad


def wheel(name: str, version: str, core: bytes, *, bomb: int = 0) -> bytes:
    """A ``py3-none-any`` wheel whose METADATA is ``core``, then ``bomb`` spaces, deflated.

    The same arguments make the same bytes (a page's digest must hold when the
    file is made again for its download).
    """
    buffer = io.BytesIO()
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(_member(f"{info}/METADATA"), "w", force_zip64=bomb > 0) as out:
            out.write(core)
            for _ in range(bomb // MiB):
                out.write(b" " * MiB)
        archive.writestr(_member(f"{info}/WHEEL"), "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        archive.writestr(_member(f"{info}/RECORD"), "")
    return buffer.getvalue()


def _member(name: str) -> zipfile.ZipInfo:
    member = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    member.compress_type = zipfile.ZIP_DEFLATED
    return member


def wheel_name(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# What a case serves.

#: A body: bytes, or a generator of chunks for what is too large to hold.
Body = bytes | Callable[[], Iterator[bytes]]


@dataclass(frozen=True, kw_only=True)
class Answer:
    """One answer: a body, its headers, and how it is sent."""

    body: Body = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    trickle: bool = False  # one byte a second, body only
    trickle_headers: bool = False  # the status line and headers one byte a second
    length: bool = True  # send a Content-Length (when the body is bytes)


@dataclass(frozen=True, kw_only=True)
class Listed:
    """A file as a case's page lists it, and what its URLs answer."""

    filename: str
    data: bytes
    core: bytes | None = None  # the PEP 658 file, None when not offered
    sha256: str | None = None  # the digest the page claims (default: of ``data``)
    core_sha256: str | None = None  # likewise for the metadata file
    file_answer: Answer | None = None  # instead of ``data``
    core_answer: Answer | None = None  # instead of ``core``

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "filename": self.filename,
            "url": f"../../files/{self.filename}",
            "hashes": {"sha256": self.sha256 or _sha256(self.data)},
        }
        if self.core is not None or self.core_answer is not None:
            claimed = self.core_sha256 or _sha256(self.core or b"")
            entry["core-metadata"] = {"sha256": claimed}
        return entry


@dataclass(frozen=True, kw_only=True)
class Case:
    """An index: listed files by project, and pages answered some other way."""

    files: Callable[[str], list[Listed]] = lambda project: []
    page: Callable[[str], Answer | None] = lambda project: None


def _page(project: str, listed: list[Listed]) -> bytes:
    document = {"meta": {"api-version": "1.1"}, "name": project, "files": []}
    document["files"] = [item.entry() for item in listed]
    return json.dumps(document).encode()


def _stream(chunk: bytes, total: int) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        for _ in range(total // len(chunk)):
            yield chunk

    return chunks


def _endless(prefix: bytes) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        yield prefix
        while True:
            yield b" " * MiB

    return chunks


@cache
def _gzip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as out:
        out.write(b'{"meta": {"api-version": "1.1"}, "files": [], "x": "')
        for _ in range(size // MiB):
            out.write(b" " * MiB)
    return buffer.getvalue()


# The victim project, honest and otherwise.

VICTIM_CORE = metadata("victim", "1.0")
EVIL_CORE = metadata("victim", "1.0", "evil")


@cache
def victim_wheel() -> bytes:
    return wheel("victim", "1.0", VICTIM_CORE)


@cache
def _bomb_wheel() -> bytes:
    return wheel("victim", "1.0", VICTIM_CORE, bomb=BOMB_SIZE)


def _victim(**details: Any) -> list[Listed]:
    core = details.pop("core", VICTIM_CORE)
    data = details.pop("data", None) or victim_wheel()
    return [Listed(filename=wheel_name("victim", "1.0"), data=data, core=core, **details)]


def _evil() -> list[Listed]:
    data = wheel("evil", "1.0", metadata("evil", "1.0"))
    return [Listed(filename=wheel_name("evil", "1.0"), data=data, core=metadata("evil", "1.0"))]


def _only(project: str, listed: Callable[[], list[Listed]]) -> Callable[[str], list[Listed]]:
    return lambda asked: listed() if asked == project else []


def _chain(project: str) -> list[Listed]:
    """``chain-N`` needs ``chain-N+1``, for ever."""
    match = re.fullmatch(r"chain-(\d+)", project)
    if match is None:
        return []
    number = int(match[1])
    core = metadata(project, "1.0", f"chain-{number + 1}")
    return [
        Listed(filename=wheel_name(project, "1.0"), data=wheel(project, "1.0", core), core=core)
    ]


def _deep_page(project: str) -> Answer:
    body = b'{"meta": {"api-version": "1.1"}, "files": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    return Answer(body=body, headers={"Content-Type": JSON_TYPE})


def _refused() -> list[Listed]:
    data = victim_wheel()
    return [
        Listed(filename=wheel_name("other", "1.0"), data=data),
        Listed(filename="..%2Fvictim-1.0-py3-none-any.whl", data=data),
    ]


def _identity() -> list[Listed]:
    core = metadata("evil", "9.9")
    data = wheel("victim", "2.0", core)
    return [Listed(filename=wheel_name("victim", "2.0"), data=data, core=core)]


def _poisoned() -> list[Listed]:
    """The honest wheel's digest, with metadata that adds a dependency."""
    return _victim(core=EVIL_CORE)


def _poisoned_by_ranges() -> list[Listed]:
    """The honest wheel's digest, no metadata file, and a wheel that adds a dependency."""
    evil = wheel("victim", "1.0", EVIL_CORE)
    return _victim(core=None, file_answer=Answer(body=evil), sha256=_sha256(victim_wheel()))


def _huge_core() -> list[Listed]:
    answer = Answer(body=_stream(b" " * MiB, 256 * MiB), headers={"Content-Length": str(256 * MiB)})
    return _victim(core_answer=answer)


CASES: dict[str, Case] = {
    "clean": Case(files=lambda project: {"victim": _victim, "evil": _evil}.get(project, list)()),
    "bomb-ranges": Case(files=_only("victim", lambda: _victim(core=None, data=_bomb_wheel()))),
    "bomb-download": Case(files=_only("victim", lambda: _victim(data=_bomb_wheel()))),
    "huge-metadata": Case(files=_only("victim", _huge_core)),
    "gzip-metadata": Case(
        files=_only(
            "victim",
            lambda: _victim(
                core_answer=Answer(body=_gzip_bomb(BOMB_SIZE), headers={"Content-Encoding": "gzip"})
            ),
        )
    ),
    "huge-page": Case(
        page=lambda project: Answer(
            body=_stream(b" " * MiB, 256 * MiB),
            headers={"Content-Type": JSON_TYPE, "Content-Length": str(256 * MiB)},
        )
    ),
    "endless-page": Case(
        page=lambda project: Answer(
            body=_endless(b'{"files": [], "x": "'), headers={"Content-Type": JSON_TYPE}
        )
    ),
    "gzip-page": Case(
        page=lambda project: Answer(
            body=_gzip_bomb(BOMB_SIZE),
            headers={"Content-Type": JSON_TYPE, "Content-Encoding": "gzip"},
        )
    ),
    "slow-page": Case(
        page=lambda project: Answer(
            body=_page(project, _victim()), headers={"Content-Type": JSON_TYPE}, trickle=True
        )
    ),
    "slow-headers": Case(
        page=lambda project: Answer(
            body=_page(project, _victim()),
            headers={"Content-Type": JSON_TYPE},
            trickle_headers=True,
        )
    ),
    "slow-download": Case(
        files=_only(
            "victim", lambda: _victim(file_answer=Answer(body=victim_wheel(), trickle=True))
        )
    ),
    "deep-json": Case(page=_deep_page),
    "identity": Case(files=_only("victim", _identity)),
    "not-a-zip": Case(files=_only("victim", lambda: _victim(data=b"not a zip archive\n" * 64))),
    "poison": Case(files=lambda project: {"victim": _poisoned, "evil": _evil}.get(project, list)()),
    "poison-ranges": Case(
        files=lambda project: {"victim": _poisoned_by_ranges, "evil": _evil}.get(project, list)()
    ),
    "all-refused": Case(files=_only("victim", _refused)),
    "chain": Case(files=_chain),
    "private": Case(files=_only("internal-lib", lambda: _internal("1.0"))),
    "public": Case(
        files=lambda project: {
            "internal-lib": lambda: _internal("99.0", "evil"),
            "evil": _evil,
        }.get(project, list)()
    ),
}


def _internal(version: str, *requires: str) -> list[Listed]:
    core = metadata("internal-lib", version, *requires)
    data = wheel("internal-lib", version, core)
    return [Listed(filename=wheel_name("internal-lib", version), data=data, core=core)]


# The server.


class HostileIndex:
    """Every case of :data:`CASES` as an index of one server on a free port of 127.0.0.1.

    ``redirect_to`` (a base URL such as another server's) is where the
    ``redirect-*`` cases, otherwise ``clean``, send their page or wheel.
    """

    def __init__(self) -> None:
        self.redirect_to = ""
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HostileIndex:
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, case: str) -> str:
        """The index URL of one case."""
        return f"{self.base_url}/{case}/simple/"

    def answer(self, path: str) -> Answer:
        """What ``path`` gets: a page, a file, a metadata file, a redirect or a 404."""
        case_name, _, rest = path.lstrip("/").partition("/")
        if case_name.startswith("redirect-"):
            return self._redirect(case_name, rest)
        case = CASES.get(case_name)
        kind, _, name = rest.partition("/")
        if case is None or not name:
            return Answer(status=404)
        if kind == "simple":
            project = name.rstrip("/")
            return case.page(project) or _page_answer(project, case.files(project))
        if kind == "files":
            return _file_answer(case, name)
        return Answer(status=404)

    def _redirect(self, case: str, rest: str) -> Answer:
        """Off the index, to ``redirect_to``: the page (``redirect-page``), the file
        (``redirect-file``), or the file to other bytes (``redirect-elsewhere``)."""
        kind = rest.partition("/")[0]
        wheel = kind == "files" and not rest.endswith(".metadata")
        target = {
            ("redirect-page", "simple"): "clean",
            ("redirect-file", "files"): "clean" if wheel else None,
            ("redirect-elsewhere", "files"): "poison-ranges" if wheel else None,
        }.get((case, kind))
        if target is None:
            return self.answer(f"/clean/{rest}")
        return Answer(status=302, headers={"Location": f"{self.redirect_to}/{target}/{rest}"})


def _page_answer(project: str, listed: list[Listed]) -> Answer:
    if not listed:
        return Answer(status=404)
    return Answer(body=_page(project, listed), headers={"Content-Type": JSON_TYPE})


def _file_answer(case: Case, filename: str) -> Answer:
    wanted = filename.removesuffix(".metadata")
    project = wanted.split("-")[0].replace("_", "-")
    for item in case.files(project):
        if item.filename != wanted:
            continue
        if filename.endswith(".metadata"):
            return item.core_answer or Answer(
                body=item.core or b"", status=200 if item.core else 404
            )
        return item.file_answer or Answer(body=item.data)
    return Answer(status=404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], index: HostileIndex):
        super().__init__(address, handler)
        self.index = index

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up on a hostile answer is the point


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # a client that stops reading frees the thread

    def do_GET(self) -> None:
        answer = self.server.index.answer(self.path)
        if isinstance(answer.body, bytes) and answer.status == 200 and not answer.trickle:
            answer = _ranged(answer, self.headers.get("Range"))
        head = self._head(answer)
        if answer.trickle_headers:
            _trickle(self.wfile, head)
        else:
            self.wfile.write(head)
        self._body(answer)

    def _head(self, answer: Answer) -> bytes:
        headers = dict(answer.headers)
        if isinstance(answer.body, bytes) and answer.length:
            headers.setdefault("Content-Length", str(len(answer.body)))
        if not isinstance(answer.body, bytes) and "Content-Length" not in headers:
            headers["Connection"] = "close"  # the end of the body is the end of the connection
            self.close_connection = True
        lines = [f"HTTP/1.1 {answer.status} {self.responses[answer.status][0]}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _body(self, answer: Answer) -> None:
        if answer.trickle and isinstance(answer.body, bytes):
            _trickle(self.wfile, answer.body)
            return
        chunks = [answer.body] if isinstance(answer.body, bytes) else answer.body()
        sent, start = 0, time.monotonic()
        for chunk in chunks:
            self.wfile.write(chunk)
            sent += len(chunk)
            if sent >= MAX_SENT or time.monotonic() - start > MAX_SECONDS:
                self.close_connection = True
                return

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _ranged(answer: Answer, header: str | None) -> Answer:
    """A single byte range of a body in memory, as a 206."""
    match = _RANGE.fullmatch(header or "")
    assert isinstance(answer.body, bytes)
    size = len(answer.body)
    if match is None or not size:
        return answer
    first, last = match[1], match[2]
    start = size - min(int(last), size) if not first else int(first)
    end = size if not first else min(int(last) + 1 if last else size, size)
    headers = {**answer.headers, "Content-Range": f"bytes {start}-{end - 1}/{size}"}
    return Answer(body=answer.body[start:end], status=206, headers=headers)


def _trickle(out: Any, data: bytes) -> None:
    for index in range(min(len(data), MAX_TRICKLE)):
        out.write(data[index : index + 1])
        out.flush()
        time.sleep(1)
