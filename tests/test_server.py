"""`wheelhouse serve`: content negotiation, redirects, files, refusals, many clients."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import threading
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
