"""`wheelhouse serve`: content negotiation, redirects, files, refusals, many clients."""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import installed, isolated_env, make_venv, run_pip, run_uv
from test_indexer import EXPECTED, REQUIREMENTS, make_distributions
from test_simple import validate_project_json, validate_root_html

from wheelhouse.cli import cli
from wheelhouse.commands.index import index as index_command
from wheelhouse.house import server as server_module
from wheelhouse.house.errors import BadDirectory, CannotServe
from wheelhouse.house.server import WheelhouseServer, make_server
from wheelhouse.model import simple

SECRET = b"TOP SECRET: outside the wheelhouse"
WHEEL = "alpha-1.0-py3-none-any.whl"


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An indexed directory beside a secret file, with symlinks that lead out to it."""
    base = tmp_path_factory.mktemp("serve")
    (base / "secret.txt").write_bytes(SECRET)
    root = make_distributions(base / "wheelhouse")
    index_command(root)
    (root / "escape.whl").symlink_to(base / "secret.txt")
    (root / "simple" / "outside").symlink_to(base, target_is_directory=True)
    (root / "inside.whl").symlink_to(root / WHEEL)
    (root / "loop.whl").symlink_to(root / "loop.whl")
    (root / "simple" / "loop").symlink_to(root / "simple" / "loop")
    return root


@pytest.fixture(scope="module")
def server(wheelhouse: Path) -> Iterator[WheelhouseServer]:
    httpd = make_server(wheelhouse, port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def request(server: WheelhouseServer, path: str, method: str = "GET", **headers: str) -> Reply:
    """Send ``path`` exactly as given (no client-side normalization)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        connection.endheaders()
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(path): (path.lstat().st_mtime_ns, path.lstat().st_size) for path in root.rglob("*")}


@pytest.mark.parametrize(
    ("accept", "content_type", "page"),
    [
        (simple.JSON_TYPE, simple.JSON_TYPE, "index.json"),
        ("application/vnd.pypi.simple.latest+json", simple.JSON_TYPE, "index.json"),
        (simple.HTML_TYPE, simple.HTML_TYPE, "index.html"),
        ("text/html", "text/html; charset=utf-8", "index.html"),
        (None, "text/html; charset=utf-8", "index.html"),
        (f"{simple.JSON_TYPE};q=0.5, {simple.HTML_TYPE}", simple.HTML_TYPE, "index.html"),
    ],
)
@pytest.mark.parametrize("project", ["", "beta/"])
def test_pages_are_negotiated_by_accept(
    server: WheelhouseServer,
    wheelhouse: Path,
    accept: str | None,
    content_type: str,
    page: str,
    project: str,
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    reply = request(server, f"/simple/{project}", **headers)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == content_type
    assert reply.headers["Vary"] == "Accept"
    assert reply.body == (wheelhouse / "simple" / project / page).read_bytes()
    assert int(reply.headers["Content-Length"]) == len(reply.body)


def test_served_pages_validate(server: WheelhouseServer) -> None:
    names = validate_root_html(request(server, "/simple/").body)
    for name in names:
        reply = request(server, f"/simple/{name}/", Accept=simple.JSON_TYPE)
        assert validate_project_json(reply.body)["name"] == name


def test_unacceptable_types_get_406(server: WheelhouseServer) -> None:
    assert request(server, "/simple/", Accept="application/json").status == 406


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/", "/simple/"),
        ("/simple", "/simple/"),
        ("/simple/beta", "/simple/beta/"),
        ("/simple/Foo_Bar/", "/simple/foo-bar/"),
        ("/simple/FOO.bar", "/simple/foo-bar/"),
        ("/simple/Foo--Bar/", "/simple/foo-bar/"),
    ],
)
def test_paths_redirect_to_normalized_names(
    server: WheelhouseServer, path: str, location: str
) -> None:
    reply = request(server, path)
    assert (reply.status, reply.headers["Location"]) == (301, location)


def test_unknown_project_is_404(server: WheelhouseServer) -> None:
    assert request(server, "/simple/nothing-here/").status == 404


def test_files_are_served_with_their_length(server: WheelhouseServer, wheelhouse: Path) -> None:
    data = (wheelhouse / WHEEL).read_bytes()
    reply = request(server, f"/{WHEEL}")
    assert (reply.status, reply.body) == (200, data)
    assert reply.headers["Content-Length"] == str(len(data))
    assert reply.headers["Content-Type"] == "application/octet-stream"
    metadata = request(server, f"/{WHEEL}.metadata")
    assert metadata.body == (wheelhouse / f"{WHEEL}.metadata").read_bytes()
    assert request(server, "/inside.whl").body == data  # a symlink that stays inside


def test_head_sends_headers_only(server: WheelhouseServer, wheelhouse: Path) -> None:
    reply = request(server, f"/{WHEEL}", method="HEAD")
    assert reply.status == 200 and reply.body == b""
    assert reply.headers["Content-Length"] == str((wheelhouse / WHEEL).stat().st_size)
    page = request(server, "/simple/", method="HEAD", Accept=simple.JSON_TYPE)
    assert page.headers["Content-Length"] == str(
        len((wheelhouse / "simple/index.json").read_bytes())
    )


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=5-", 5, None),
        ("bytes=-7", -7, None),
        ("bytes=3-99999", 3, None),
    ],
)
def test_byte_ranges(
    server: WheelhouseServer, wheelhouse: Path, header: str, start: int, end: int | None
) -> None:
    data = (wheelhouse / WHEEL).read_bytes()
    reply = request(server, f"/{WHEEL}", Range=header)
    assert reply.status == 206
    assert reply.body == data[start:end]
    first = start % len(data)
    assert (
        reply.headers["Content-Range"] == f"bytes {first}-{first + len(reply.body) - 1}/{len(data)}"
    )


def test_unsatisfiable_range_is_416(server: WheelhouseServer, wheelhouse: Path) -> None:
    reply = request(server, f"/{WHEEL}", Range="bytes=99999-")
    assert reply.status == 416
    assert reply.headers["Content-Range"] == f"bytes */{(wheelhouse / WHEEL).stat().st_size}"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/simple/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/simple/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/simple/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "http://127.0.0.1/../secret.txt",
        "../secret.txt",
        "/escape.whl",
        "/simple/outside/secret.txt",
        "/%252e%252e/secret.txt",
        "/secret.txt%00.whl",
        "?query-only",
    ],
)
def test_nothing_outside_the_wheelhouse_is_served(server: WheelhouseServer, path: str) -> None:
    reply = request(server, path)
    assert reply.status in (403, 404), reply.status
    assert SECRET not in reply.body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_writes_are_refused(server: WheelhouseServer, wheelhouse: Path, method: str) -> None:
    before = _snapshot(wheelhouse)
    reply = request(server, f"/{WHEEL}", method=method)
    assert reply.status >= 400
    assert _snapshot(wheelhouse) == before


def test_serving_writes_nothing(server: WheelhouseServer, wheelhouse: Path) -> None:
    before = _snapshot(wheelhouse)
    for path in ["/simple/", "/simple/beta/", f"/{WHEEL}", "/nothing", "/simple/Beta/"]:
        request(server, path)
    assert _snapshot(wheelhouse) == before


def test_many_parallel_clients(server: WheelhouseServer, wheelhouse: Path) -> None:
    expected = {
        "/simple/": (wheelhouse / "simple/index.json").read_bytes(),
        "/simple/beta/": (wheelhouse / "simple/beta/index.json").read_bytes(),
        f"/{WHEEL}": (wheelhouse / WHEEL).read_bytes(),
    }
    start = threading.Barrier(50)

    def client(_: int) -> bool:
        start.wait(timeout=30)  # all 50 connect at once
        return all(
            request(server, path, Accept=simple.JSON_TYPE).body == body
            for path, body in expected.items()
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(client, range(50)))
    assert results == [True] * 50


def test_port_zero_picks_a_free_port(server: WheelhouseServer) -> None:
    assert server.server_port > 0
    assert server.index_url == f"http://127.0.0.1:{server.server_port}/simple/"


def test_refuses_a_directory_without_an_index(tmp_path: Path) -> None:
    with pytest.raises(BadDirectory, match="no simple index") as caught:
        make_server(tmp_path, port=0)
    assert "wheelhouse index" in caught.value.hint
    with pytest.raises(BadDirectory, match="no such directory"):
        make_server(tmp_path / "missing", port=0)


def test_a_busy_port_is_a_clear_error(server: WheelhouseServer, wheelhouse: Path) -> None:
    with pytest.raises(CannotServe, match=str(server.server_port)):
        make_server(wheelhouse, port=server.server_port)


def test_cli_serve_reports_a_bad_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "-w", str(tmp_path / "missing"), "--port", "0"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def served_by_cli(wheelhouse: Path) -> Iterator[str]:
    """`wheelhouse serve --port 0` in a subprocess; the index URL it printed."""
    command = [sys.executable, "-m", "wheelhouse", "serve", "-w", str(wheelhouse), "--port", "0"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=isolated_env()
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/simple/", line)
        try:
            assert match, line
            yield match.group(0)
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_cli_serve_prints_the_index_url(served_by_cli: str) -> None:
    port = int(served_by_cli.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10):
        pass


def test_pip_installs_from_serve(served_by_cli: str, tmp_path: Path) -> None:
    python = make_venv(tmp_path)
    run_pip("install", "--index-url", served_by_cli, *REQUIREMENTS, python=python)
    assert {name: installed(python)[name] for name in EXPECTED} == EXPECTED


def test_uv_installs_from_serve(served_by_cli: str, tmp_path: Path) -> None:
    python = make_venv(tmp_path)
    run_uv("pip", "install", "--python", str(python), "--index-url", served_by_cli, *REQUIREMENTS)
    assert {name: installed(python)[name] for name in EXPECTED} == EXPECTED


# Abuse: raw bytes on raw sockets; every wait is bounded in count and in time.


def raw(port: int, data: bytes, *, seconds: float = 10.0) -> bytes:
    """Send ``data`` as it is, then read what comes back until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as sock:
        sock.sendall(data)
        return _read_until_closed(sock, seconds)


def _read_until_closed(sock: socket.socket, seconds: float) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 16)
        except (TimeoutError, ConnectionError):
            break
        if not chunk:
            break
        chunks.append(chunk)
        if b"Connection: close" not in b"".join(chunks):
            sock.settimeout(1.0)  # a kept-alive connection stays open: stop once quiet
    return b"".join(chunks)


def status(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1.1 "), reply[:200]
    return int(reply.split(b" ", 2)[1])


TLS_HELLO = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)) + b"\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),  # HTTP/0.9 would answer without a status line
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
        (b"GET / FOO/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.x\r\n\r\n", 400),
        (b"GET http://[::1/ HTTP/1.1\r\n\r\n", 400),
        (TLS_HELLO, 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431),
        (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /" + b"a" * (9 * 1024) + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /" + b"a" * 5000 + b".whl HTTP/1.1\r\n\r\n", 404),  # a name too long to open
        (b"GET /simple/" + b"a" * 5000 + b"/ HTTP/1.1\r\n\r\n", 404),
        (b"GET /loop.whl HTTP/1.1\r\n\r\n", 404),
        (b"GET /simple/loop/ HTTP/1.1\r\n\r\n", 404),
        (b"GET /missing.whl HTTP/1.1\r\n\r\n", 404),
    ],
)
def test_every_bad_request_gets_an_answer(
    server: WheelhouseServer, data: bytes, expected: int
) -> None:
    assert status(raw(server.server_port, data)) == expected


@pytest.mark.parametrize("method", [b"BREW", b"get", b"OPTIONS", b"TRACE", b"CONNECT", b"PUT"])
def test_methods_other_than_get_and_head_get_405(server: WheelhouseServer, method: bytes) -> None:
    reply = raw(server.server_port, method + b" /simple/ HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
    assert status(reply) == 405 and b"\r\nAllow: GET, HEAD\r\n" in reply


def test_a_symlink_loop_is_404(server: WheelhouseServer) -> None:
    assert request(server, "/loop.whl").status == 404
    assert request(server, "/simple/loop/").status == 404


def test_keep_alive_serves_several_requests_on_one_connection(
    server: WheelhouseServer, wheelhouse: Path
) -> None:
    """Pipelined requests, each read unbuffered, so the next waits where it should."""
    wanted = b"GET /simple/ HTTP/1.1\r\nAccept: text/html\r\n\r\n" * 3
    reply = raw(server.server_port, wanted)
    assert reply.count(b"HTTP/1.1 200 OK") == 3
    assert reply.count((wheelhouse / "simple" / "index.html").read_bytes()) == 3


def test_idle_connections_take_no_thread_and_block_nobody(server: WheelhouseServer) -> None:
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", server.server_port), timeout=10)]
    try:
        idle += [
            socket.create_connection(("127.0.0.1", server.server_port), timeout=10)
            for _ in range(199)
        ]
        started = time.monotonic()
        assert request(server, "/simple/").status == 200
        assert time.monotonic() - started < 1.0
        assert threading.active_count() < before + 40  # not one thread per connection
        idle[0].sendall(b"GET /simple/ HTTP/1.1\r\n\r\n")  # still open, still served
        assert status(_read_until_closed(idle[0], 5)) == 200
    finally:
        for sock in idle:
            sock.close()


def test_a_request_head_that_never_ends_is_cut(
    server: WheelhouseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "HEAD_SECONDS", 0.5)
    started = time.monotonic()
    reply = raw(server.server_port, b"GET /simple/ HTTP/1.1\r\nX-Slow: ", seconds=10)
    assert reply == b"" and time.monotonic() - started < 5


def test_the_oldest_idle_connection_goes_first_when_too_many_wait(
    wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "MAX_IDLE", 3)
    with serving(wheelhouse) as (httpd, _):
        port = httpd.server_port
        first = socket.create_connection(("127.0.0.1", port), timeout=10)
        time.sleep(0.2)  # accepted and parked before the others
        others = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
        try:
            assert first.recv(1) == b""  # closed by the server
            others[-1].sendall(b"GET /simple/ HTTP/1.1\r\n\r\n")
            assert status(_read_until_closed(others[-1], 5)) == 200
        finally:
            for sock in [first, *others]:
                sock.close()


@contextlib.contextmanager
def serving(root: Path) -> Iterator[tuple[WheelhouseServer, list[str]]]:
    """A server of the test's own, in this process, with the lines it logs."""
    lines: list[str] = []
    httpd = make_server(root, port=0, log=lines.append)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd, lines
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=30)


def test_logs_escape_what_clients_send(wheelhouse: Path) -> None:
    with serving(wheelhouse) as (httpd, lines):
        raw(httpd.server_port, b"GET /\x1b[31mred\x07\xe2\x80\xae HTTP/1.1\r\n\r\n")
        raw(httpd.server_port, b"\x1b]0;owned\x07\r\n\r\n")
    logged = "\n".join(lines)
    assert "\\x1b[31mred\\x07" in logged and "\\x1b]0;owned" in logged
    assert not any(char in logged for char in "\x1b\x07\x9b\u202e")


def test_abuse_leaves_no_traceback(wheelhouse: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with serving(wheelhouse) as (httpd, lines):
        port = httpd.server_port
        for data in [TLS_HELLO, b"GET /loop.whl HTTP/1.1\r\n\r\n", b"\xff" * 70_000]:
            raw(port, data, seconds=5)
        socket.create_connection(("127.0.0.1", port), timeout=10).close()  # says nothing
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /" + WHEEL.encode() + b" HTTP/1.1\r\n\r\n")
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + "\n".join(lines)
    assert "Exception" not in captured.err


def test_cli_serve_logs_escaped_and_without_traceback(wheelhouse: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "wheelhouse", "serve", "-w", str(wheelhouse), "--port", "0"]
    with (
        (tmp_path / "stderr").open("w") as stderr,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=isolated_env()
        ) as process,
    ):
        assert process.stdout is not None
        port = int(re.findall(r":(\d+)/simple/", process.stdout.readline())[0])
        try:
            raw(port, b"GET /\x1b[2J HTTP/1.1\r\n\r\n")
            raw(port, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n")
            raw(port, b"GET /loop.whl HTTP/1.1\r\n\r\n")
        finally:
            process.terminate()
            process.wait(timeout=30)
    logged = (tmp_path / "stderr").read_text()
    assert "\\x1b[2J" in logged and "\x1b" not in logged
    assert '"GET /loop.whl HTTP/1.1" 404' in logged and " 414 " in logged
    assert "Traceback" not in logged
