"""The test index server: what it serves, how it misbehaves, and that pip installs from it."""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import pytest
from conftest import require
from helpers import find_python, installed, make_venv, run_pip, run_python, run_uv
from indexserver import HTML_TYPE, JSON_TYPE, TEXT_HTML, IndexServer, byte_range, negotiate
from packaging.markers import Marker
from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename

PIP_ACCEPT = f"{JSON_TYPE}, {HTML_TYPE}; q=0.1, text/html; q=0.01"
ALPHA = "alpha-1.0-py3-none-any.whl"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(
    server: IndexServer, path: str, headers: Mapping[str, str] | None = None, method: str = "GET"
) -> Reply:
    """One request on a fresh connection, without following redirects."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, headers=dict(headers or {}))
        response = connection.getresponse()
        try:
            return Reply(response.status, response.headers, response.read())
        finally:
            response.close()
    finally:
        connection.close()


def page(server: IndexServer, project: str, accept: str = JSON_TYPE) -> Reply:
    path = f"/simple/{project}/" if project else "/simple/"
    reply = fetch(server, path, {"Accept": accept})
    assert reply.status == 200, reply
    return reply


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        if self.anchors and "text" not in self.anchors[-1]:
            self.anchors[-1]["text"] = data


def anchors(body: bytes) -> dict[str, dict[str, str | None]]:
    """The links of an HTML page by their text (the file name)."""
    parser = _Anchors()
    parser.feed(body.decode())
    return {str(a["text"]): a for a in parser.anchors}


def files_by_name(reply: Reply) -> dict[str, dict[str, Any]]:
    return {f["filename"]: f for f in reply.json()["files"]}


# Pages and negotiation.


def test_url_is_a_simple_index_on_localhost(index_server: IndexServer) -> None:
    assert index_server.url == f"http://127.0.0.1:{index_server.port}/simple/"


def test_root_page_json_and_html(index_server: IndexServer) -> None:
    data = page(index_server, "", JSON_TYPE).json()
    names = [p["name"] for p in data["projects"]]
    assert data["meta"] == {"api-version": "1.1"}
    assert {"alpha", "Zope.Name_Mixed", "bt-top"} <= set(names)
    links = anchors(fetch(index_server, "/simple/").body)
    assert links["Zope.Name_Mixed"]["href"] == "zope-name-mixed/"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (PIP_ACCEPT, JSON_TYPE),
        (JSON_TYPE, JSON_TYPE),
        ("application/vnd.pypi.simple.latest+json", JSON_TYPE),
        (HTML_TYPE, HTML_TYPE),
        ("text/html", TEXT_HTML),
        (None, TEXT_HTML),
        ("*/*", TEXT_HTML),
        ("application/*", JSON_TYPE),
        (f"{JSON_TYPE}; q=0.5, text/html; q=0.9", TEXT_HTML),
        (f"{JSON_TYPE}; q=0, */*", TEXT_HTML),
        (f"text/html, {JSON_TYPE}", JSON_TYPE),
        ("application/json", None),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_content_type_follows_accept(index_server: IndexServer) -> None:
    assert page(index_server, "alpha", PIP_ACCEPT).headers["Content-Type"] == JSON_TYPE
    assert page(index_server, "alpha", HTML_TYPE).headers["Content-Type"] == HTML_TYPE
    plain = fetch(index_server, "/simple/alpha/")
    assert plain.headers["Content-Type"] == "text/html; charset=utf-8"
    assert plain.headers["Vary"] == "Accept"
    assert fetch(index_server, "/simple/alpha/", {"Accept": "application/json"}).status == 406
    by_query = fetch(index_server, f"/simple/alpha/?format={quote(JSON_TYPE)}")
    assert by_query.headers["Content-Type"] == JSON_TYPE


def test_project_json(index_server: IndexServer) -> None:
    data = page(index_server, "delta").json()
    assert data["meta"] == {"api-version": "1.1"}
    assert data["name"] == "delta"
    assert data["versions"] == ["1.0", "1.1", "2.0"]
    files = {f["filename"]: f for f in data["files"]}
    assert files["delta-1.1-py3-none-any.whl"]["yanked"] == "broken build"
    first = files["delta-1.0-py3-none-any.whl"]
    assert first["yanked"] is False
    assert first["upload-time"] == index_server.entry(first["filename"]).upload_time
    assert "requires-python" not in first
    url = urljoin(f"{index_server.base_url}/simple/delta/", first["url"])
    body = fetch(index_server, url.removeprefix(index_server.base_url)).body
    assert len(body) == first["size"]
    assert hashlib.sha256(body).hexdigest() == first["hashes"]["sha256"]
    metadata = fetch(index_server, url.removeprefix(index_server.base_url) + ".metadata").body
    assert hashlib.sha256(metadata).hexdigest() == first["core-metadata"]["sha256"]
    assert first["dist-info-metadata"] == first["core-metadata"]


def test_project_html(index_server: IndexServer) -> None:
    links = anchors(page(index_server, "modern", TEXT_HTML).body)
    newer = links["modern-2.0-py3-none-any.whl"]
    assert newer["data-requires-python"] == ">=3.12"
    assert b'data-requires-python="&gt;=3.12"' in page(index_server, "modern", TEXT_HTML).body
    entry = index_server.entry("modern-2.0-py3-none-any.whl")
    assert newer["href"] == f"../../files/{entry.filename}#sha256={entry.sha256}"
    assert newer["data-core-metadata"] == f"sha256={entry.metadata_sha256}"
    assert newer["data-dist-info-metadata"] == newer["data-core-metadata"]
    assert "data-yanked" not in newer
    yanked = anchors(page(index_server, "delta", TEXT_HTML).body)["delta-1.1-py3-none-any.whl"]
    assert yanked["data-yanked"] == "broken build"


def test_sdists_offer_no_metadata(index_server: IndexServer) -> None:
    sdist = files_by_name(page(index_server, "native"))["native-1.0.tar.gz"]
    assert sdist["core-metadata"] is False
    assert fetch(index_server, "/files/native-1.0.tar.gz.metadata").status == 404


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/simple/Zope.Name_Mixed/", "/simple/zope-name-mixed/"),
        ("/simple/ZOPE_name.mixed/", "/simple/zope-name-mixed/"),
        ("/simple/alpha", "/simple/alpha/"),
        ("/simple", "/simple/"),
        ("/simple/Alpha/?format=text/html", "/simple/alpha/?format=text/html"),
    ],
)
def test_non_normalized_names_redirect(index_server: IndexServer, path: str, location: str) -> None:
    reply = fetch(index_server, path)
    assert (reply.status, reply.headers["Location"]) == (301, location)


@pytest.mark.parametrize(
    "path", ["/simple/no-such-project/", "/files/nothing-1.0.tar.gz", "/elsewhere", "/simple/a/b/"]
)
def test_unknown_paths_are_404(index_server: IndexServer, path: str) -> None:
    assert fetch(index_server, path).status == 404


def test_invalid_listings_are_served(index_server: IndexServer) -> None:
    files = files_by_name(page(index_server, "badfiles"))
    assert files["../escape-1.0.tar.gz"]["url"] == "../../files/..%2Fescape-1.0.tar.gz"
    assert "other-1.0-py3-none-any.whl" in files
    assert page(index_server, "badfiles").json()["versions"] == ["1.0"]
    reply = fetch(index_server, "/files/..%2Fescape-1.0.tar.gz")
    assert reply.status == 200
    announced = files["../escape-1.0.tar.gz"]["hashes"]["sha256"]
    assert hashlib.sha256(reply.body).hexdigest() == announced


# Files and ranges.


def test_file_download_and_head(index_server: IndexServer) -> None:
    entry = index_server.entry(ALPHA)
    reply = fetch(index_server, f"/files/{ALPHA}")
    assert reply.body == entry.path.read_bytes()
    assert reply.headers["Content-Length"] == str(entry.size)
    assert reply.headers["Accept-Ranges"] == "bytes"
    head = fetch(index_server, f"/files/{ALPHA}", method="HEAD")
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", str(entry.size))


@pytest.mark.parametrize(
    ("header", "status", "span"),
    [
        ("bytes=0-9", 206, (0, 10)),
        ("bytes=10-", 206, (10, None)),
        ("bytes=-22", 206, (-22, None)),
        ("bytes=5-100000", 206, (5, None)),
        ("bytes=-100000", 206, (0, None)),
        ("bytes=0-1,4-5", 200, (0, None)),
        ("bytes=9-3", 200, (0, None)),
        ("lines=1-2", 200, (0, None)),
        ("bytes=100000-", 416, None),
        ("bytes=-0", 416, None),
    ],
)
def test_ranges(
    index_server: IndexServer, header: str, status: int, span: tuple[int, int | None] | None
) -> None:
    data = index_server.entry(ALPHA).path.read_bytes()
    reply = fetch(index_server, f"/files/{ALPHA}", {"Range": header})
    assert reply.status == status
    if span is None:
        assert reply.headers["Content-Range"] == f"bytes */{len(data)}"
        return
    expected = data[span[0] : span[1]]
    assert reply.body == expected
    if status == 206:
        start = span[0] if span[0] >= 0 else len(data) + span[0]
        content_range = f"bytes {start}-{start + len(expected) - 1}/{len(data)}"
        assert reply.headers["Content-Range"] == content_range


def test_byte_range_reads_the_zip_directory() -> None:
    assert byte_range("bytes=-22", 1000) == (978, 1000)
    assert byte_range(None, 1000) is None


def test_metadata_file(index_server: IndexServer) -> None:
    entry = index_server.entry(ALPHA)
    reply = fetch(index_server, f"/files/{ALPHA}.metadata")
    assert reply.status == 200
    assert hashlib.sha256(reply.body).hexdigest() == entry.metadata_sha256
    assert b"Requires-Dist: beta>=1.0" in reply.body


# The request log.


def test_request_log(index_server: IndexServer) -> None:
    fetch(index_server, "/simple/alpha/", {"Accept": JSON_TYPE})
    fetch(index_server, f"/files/{ALPHA}", {"Range": "bytes=-22"})
    fetch(index_server, "/simple/nope/")
    first, second, third = index_server.log
    assert (first.method, first.path, first.accept, first.status) == (
        "GET",
        "/simple/alpha/",
        JSON_TYPE,
        200,
    )
    assert (second.range, second.status, second.sent) == ("bytes=-22", 206, 22)
    assert third.status == 404
    assert index_server.count("/simple/") == 2
    assert index_server.count("/files/", status=206) == 1
    assert index_server.count(method="HEAD") == 0
    index_server.reset_log()
    assert index_server.log == []


def test_the_log_holds_every_answer_a_client_has(index_server: IndexServer) -> None:
    size = index_server.entry(ALPHA).size
    for number in range(1, 41):
        # No waiting: a request is in the log before its answer leaves the server.
        assert len(fetch(index_server, f"/files/{ALPHA}").body) == size
        assert index_server.count() == number
        assert index_server.log[-1].sent == size
    fetch(index_server, f"/files/{ALPHA}", method="HEAD")
    assert (index_server.log[-1].method, index_server.log[-1].sent) == ("HEAD", 0)


def test_an_answer_the_client_hung_up_on_counts_nothing_sent(
    mutable_index_server: IndexServer, tmp_path: Path
) -> None:
    big = tmp_path / "big-1.0.tar.gz"
    big.write_bytes(bytes(64 << 20))  # more than the socket buffers hold
    mutable_index_server.add_file(big)
    connection = http.client.HTTPConnection("127.0.0.1", mutable_index_server.port, timeout=10)
    connection.request("GET", f"/files/{big.name}")
    assert connection.getresponse().status == 200
    connection.close()  # without reading the body
    deadline = time.monotonic() + 10
    while [r.sent for r in mutable_index_server.log] != [0] and time.monotonic() < deadline:
        time.sleep(0.01)  # the server notices when its write fails
    [request] = mutable_index_server.log
    assert (request.status, request.sent) == (200, 0)


# Misbehaviour.


def test_fail_5xx_fails_the_next_requests(index_server: IndexServer) -> None:
    index_server.configure(fail_5xx=2)
    statuses = [fetch(index_server, "/simple/alpha/").status for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_fail_5xx_per_path_and_prefix(index_server: IndexServer) -> None:
    index_server.configure(fail_5xx_per_path=1, fail_prefix="/files/", fail_status=500)
    assert fetch(index_server, "/simple/alpha/").status == 200
    paths = [f"/files/{ALPHA}", f"/files/{ALPHA}", "/files/beta-1.0-py3-none-any.whl"]
    assert [fetch(index_server, p).status for p in paths] == [500, 200, 500]


def test_configure_rejects_unknown_switches(index_server: IndexServer) -> None:
    with pytest.raises(TypeError):
        index_server.configure(explode=True)


def test_slow(index_server: IndexServer) -> None:
    index_server.configure(slow=0.3)
    started = time.monotonic()
    assert fetch(index_server, "/simple/alpha/").status == 200
    assert time.monotonic() - started >= 0.3


def test_truncate(index_server: IndexServer) -> None:
    index_server.configure(truncate=True)
    with pytest.raises(http.client.IncompleteRead):
        fetch(index_server, f"/files/{ALPHA}")
    assert index_server.log[-1].sent == index_server.entry(ALPHA).size // 2
    assert fetch(index_server, "/simple/alpha/").status == 200


def test_wrong_hash(index_server: IndexServer) -> None:
    index_server.configure(wrong_hash=True)
    entry = index_server.entry(ALPHA)
    assert files_by_name(page(index_server, "alpha"))[ALPHA]["hashes"]["sha256"] != entry.sha256
    href = anchors(page(index_server, "alpha", TEXT_HTML).body)[ALPHA]["href"]
    assert href is not None and entry.sha256 not in href
    assert fetch(index_server, f"/files/{ALPHA}").body == entry.path.read_bytes()


def test_no_metadata(index_server: IndexServer) -> None:
    index_server.configure(no_metadata=True)
    listed = files_by_name(page(index_server, "alpha"))[ALPHA]
    assert listed["core-metadata"] is False
    assert listed["dist-info-metadata"] is False
    assert "data-core-metadata" not in anchors(page(index_server, "alpha", TEXT_HTML).body)[ALPHA]
    assert fetch(index_server, f"/files/{ALPHA}.metadata").status == 404


def test_html_only(index_server: IndexServer) -> None:
    index_server.configure(html_only=True)
    reply = page(index_server, "alpha", JSON_TYPE)
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert ALPHA in anchors(reply.body)


def test_no_upload_time(index_server: IndexServer) -> None:
    index_server.configure(no_upload_time=True)
    assert "upload-time" not in files_by_name(page(index_server, "alpha"))[ALPHA]


def test_no_range(index_server: IndexServer) -> None:
    index_server.configure(no_range=True)
    reply = fetch(index_server, f"/files/{ALPHA}", {"Range": "bytes=0-9"})
    assert (reply.status, len(reply.body)) == (200, index_server.entry(ALPHA).size)
    assert "Accept-Ranges" not in reply.headers


def test_reset_restores_a_well_behaved_server(index_server: IndexServer) -> None:
    index_server.configure(html_only=True, fail_5xx=5)
    index_server.hide_after = datetime(2020, 1, 1, tzinfo=timezone.utc)
    index_server.remove_file(ALPHA)
    index_server.reset()
    assert page(index_server, "alpha").headers["Content-Type"] == JSON_TYPE
    assert index_server.entry(ALPHA).filename == ALPHA


# Changing the listing at run time.


def test_hide_after(index_server: IndexServer) -> None:
    index_server.hide_after = datetime(2024, 12, 31, tzinfo=timezone.utc)
    assert page(index_server, "delta").json()["versions"] == ["1.0", "1.1"]
    assert fetch(index_server, "/files/delta-2.0-py3-none-any.whl").status == 404


def _wheel(path: Path, name: str, version: str) -> Path:
    wheel = path / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        core = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
        archive.writestr(f"{name}-{version}.dist-info/METADATA", core)
    return wheel


def test_add_yank_and_remove_files(mutable_index_server: IndexServer, tmp_path: Path) -> None:
    server = mutable_index_server
    added = server.add_file(_wheel(tmp_path, "evolving", "1.2"), requires_python=">=3.9")
    assert (added.project, added.version) == ("evolving", "1.2")
    listed = files_by_name(page(server, "evolving"))[added.filename]
    assert listed["requires-python"] == ">=3.9"
    assert listed["upload-time"] == "2026-01-01T00:00:00Z"
    metadata = fetch(server, f"/files/{added.filename}.metadata").body
    assert hashlib.sha256(metadata).hexdigest() == listed["core-metadata"]["sha256"]
    server.yank(added.filename, "oops")
    assert files_by_name(page(server, "evolving"))[added.filename]["yanked"] == "oops"
    server.remove_file(added.filename)
    assert page(server, "evolving").json()["versions"] == ["1.0", "1.1"]
    assert fetch(server, f"/files/{added.filename}").status == 404


def test_a_new_project_appears(mutable_index_server: IndexServer, tmp_path: Path) -> None:
    server = mutable_index_server
    assert fetch(server, "/simple/newcomer/").status == 404
    server.add_file(_wheel(tmp_path, "newcomer", "0.1"))
    assert page(server, "newcomer").json()["versions"] == ["0.1"]
    assert "newcomer" in [p["name"] for p in page(server, "").json()["projects"]]


# pip (and uv) as oracles.


def test_pip_installs_a_tree_from_the_server(index_server: IndexServer, tmp_path: Path) -> None:
    venv = make_venv(tmp_path)
    requirements = ["alpha[fast]", "sdistonly", "requires-odd", "bt-top"]
    run_pip("install", "--index-url", index_server.url, *requirements, python=venv)
    assert installed(venv) == {
        "alpha": "1.1",
        "beta": "2.0",
        "gamma": "1.0",
        "delta": "1.0",
        "speedy": "1.0",
        "sdistonly": "1.0",
        "requires-odd": "1.0",
        "zope-name-mixed": "1.0",
        "bt-top": "1.0",
        "bt-left": "1.0",
        "bt-right": "1.0",
        "bt-shared": "1.0",
    }
    assert run_python(venv, "import alpha; print(alpha.__version__)") == "1.1"
    metadata = [r for r in index_server.log if r.path.endswith(".metadata")]
    assert metadata and all(r.status == 200 for r in metadata)
    assert index_server.count("/files/delta-1.1") == 0


@pytest.mark.parametrize("switch", ["html_only", "no_metadata"])
def test_pip_installs_from_a_degraded_server(
    index_server: IndexServer, tmp_path: Path, switch: str
) -> None:
    index_server.configure(**{switch: True})
    venv = make_venv(tmp_path)
    run_pip("install", "--index-url", index_server.url, "alpha", python=venv)
    assert installed(venv) == {"alpha": "1.1", "beta": "2.0", "gamma": "1.0", "delta": "1.0"}
    fetched_metadata = any(r.path.endswith(".metadata") for r in index_server.log)
    assert fetched_metadata == (switch != "no_metadata")


def test_pip_retries_through_5xx(index_server: IndexServer, tmp_path: Path) -> None:
    index_server.configure(fail_5xx=2)
    venv = make_venv(tmp_path)
    run_pip("install", "--index-url", index_server.url, "delta<2", python=venv)
    assert installed(venv) == {"delta": "1.0"}
    assert index_server.count(status=503) == 2


def test_pip_refuses_a_wrong_hash(index_server: IndexServer, tmp_path: Path) -> None:
    index_server.configure(wrong_hash=True)
    venv = make_venv(tmp_path)
    result = run_pip("install", "--index-url", index_server.url, "speedy", python=venv, check=False)
    assert result.returncode != 0
    assert "hash" in result.stderr.lower()
    assert installed(venv) == {}


def test_pip_picks_the_platform_wheel(index_server: IndexServer, tmp_path: Path) -> None:
    wheels = [e.filename for e in index_server.entries("native") if e.filename.endswith(".whl")]
    by_tag = {t: name for name in wheels if "-1.0-" in name for t in parse_wheel_filename(name)[3]}
    best = next((by_tag[t] for t in sys_tags() if t in by_tag), None)
    require("an interpreter a native 1.0 wheel fits", best is not None, "pip picks by this one")
    venv = make_venv(tmp_path)
    url = index_server.url
    run_pip("install", "--index-url", url, "--only-binary", ":all:", "native", python=venv)
    platform = best.removeprefix("native-1.0-").removesuffix(".whl")
    assert run_python(venv, "import native; print(native.PLATFORM)") == platform


def test_pip_builds_the_newer_sdist(index_server: IndexServer, tmp_path: Path) -> None:
    venv = make_venv(tmp_path)
    run_pip("install", "--index-url", index_server.url, "native", python=venv)
    assert run_python(venv, "import native; print(native.__version__, native.PLATFORM)") in (
        "2.0 sdist",
        "2.0 cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64",
    )


def test_pip_follows_markers(index_server: IndexServer, tmp_path: Path) -> None:
    venv = make_venv(tmp_path)
    run_pip("install", "--index-url", index_server.url, "markerpkg", python=venv)
    core = fetch(index_server, "/files/markerpkg-1.0-py3-none-any.whl.metadata").body.decode()
    wanted = {"markerpkg"}
    for line in core.splitlines():
        if line.startswith("Requires-Dist: "):
            name, marker = line.removeprefix("Requires-Dist: ").split(";")
            if Marker(marker).evaluate():
                wanted.add(name)
    assert set(installed(venv)) == wanted


@pytest.mark.parametrize(("version", "expected"), [("3.11", "1.0"), ("3.12", "2.0")])
def test_pip_honours_requires_python(
    index_server: IndexServer, tmp_path: Path, version: str, expected: str
) -> None:
    venv = make_venv(tmp_path, find_python(version))
    run_pip("install", "--index-url", index_server.url, "modern", python=venv)
    assert installed(venv) == {"modern": expected}


def test_uv_installs_from_the_server(index_server: IndexServer, tmp_path: Path) -> None:
    venv = make_venv(tmp_path)
    run_uv("pip", "install", "--python", str(venv), "--index-url", index_server.url, "alpha")
    assert installed(venv) == {"alpha": "1.1", "beta": "2.0", "gamma": "1.0", "delta": "1.0"}
