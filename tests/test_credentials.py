"""Private indexes: credentials from the URL, ~/.netrc or keyring, sent to their own host only."""

from __future__ import annotations

import base64
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest
from helpers import run
from indexserver import FIXTURES, IndexServer

from wheelhouse.index.credentials import Credentials
from wheelhouse.install.process import output

TARGET = ("--python", "3.11", "--platform", "manylinux_2_28_x86_64")
SECRET = "s3cr3t-pa55"
AUTH = ("user", SECRET)
SENT = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()


def build(wh: Path, index_url: str, env: dict[str, str], *args: str) -> tuple[int, str]:
    """The real executable, as a user runs it; its exit status and everything it printed."""
    command = [sys.executable, "-m", "wheelhouse", "build", "-w", str(wh), "--index-url", index_url]
    done = run([*command, *args, *TARGET], env=env, check=False)
    return done.returncode, done.stdout + done.stderr


def leaks(*roots: Path) -> list[Path]:
    """Every file under ``roots`` that holds the secret."""
    return [
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and SECRET.encode() in path.read_bytes()
    ]


def netrc(tmp_path: Path, host: str, password: str = SECRET) -> dict[str, str]:
    path = tmp_path / "netrc"
    path.write_text(f"machine {host}\n  login user\n  password {password}\n")
    return {"NETRC": str(path)}


@pytest.fixture
def files_host(index_server_factory: Callable[[Path], IndexServer]) -> IndexServer:
    """A second server for the files, asked for as ``localhost``: another host."""
    return index_server_factory(FIXTURES)


def test_netrc_authenticates_pages_metadata_ranges_and_files(
    tmp_path: Path, index_server: IndexServer
) -> None:
    index_server.configure(basic_auth=AUTH, no_metadata=True)  # metadata by range requests
    code, out = build(tmp_path / "wh", index_server.url, netrc(tmp_path, "127.0.0.1"), "alpha")
    assert code == 0, out
    ranges = index_server.requests("/files/", status=206)
    assert ranges and index_server.count("/files/", status=200)
    assert {r.authorization for r in index_server.log} == {SENT}
    assert leaks(tmp_path / "wh", Path(os.environ["WHEELHOUSE_CACHE_DIR"])) == []
    assert SECRET not in out


def test_refresh_and_fetch_read_netrc_too(tmp_path: Path, index_server: IndexServer) -> None:
    index_server.configure(basic_auth=AUTH)
    wh, env = tmp_path / "wh", netrc(tmp_path, "127.0.0.1")
    assert build(wh, index_server.url, env, "alpha")[0] == 0
    wheel = next(wh.glob("alpha-*.whl"))
    wheel.unlink()
    fetch = [sys.executable, "-m", "wheelhouse", "fetch", "-w", str(wh), "--cache-dir"]
    denied = run([*fetch, str(tmp_path / "c1")], check=False)
    assert denied.returncode == 1 and denied.stderr.startswith("error: access denied to")
    index_server.reset_log()
    for command in (["refresh", "--check", "-w", str(wh)], [*fetch[3:], str(tmp_path / "c2")]):
        done = run([sys.executable, "-m", "wheelhouse", *command], env=env)
        assert SECRET not in done.stdout + done.stderr
    assert index_server.count("/simple/") and index_server.count("/files/", status=200)
    assert {r.authorization for r in index_server.log} == {SENT}
    assert wheel.is_file() and leaks(wh) == []


def test_files_on_another_host_get_no_credentials(
    tmp_path: Path, index_server: IndexServer, files_host: IndexServer
) -> None:
    elsewhere = f"http://localhost:{files_host.port}"
    index_server.configure(basic_auth=AUTH, files_base=elsewhere)
    code, out = build(tmp_path / "wh", index_server.url, netrc(tmp_path, "127.0.0.1"), "alpha")
    assert code == 0, out
    assert {r.authorization for r in index_server.log} == {SENT}
    assert files_host.count("/files/") and {r.authorization for r in files_host.log} == {None}
    assert SECRET not in out


def test_a_redirect_to_another_host_drops_the_credentials_of_the_url(
    tmp_path: Path, index_server: IndexServer, files_host: IndexServer
) -> None:
    index_server.configure(basic_auth=AUTH, redirect_files=files_host.base_url)
    with_secret = index_server.url.replace("http://", f"http://user:{SECRET}@")
    code, out = build(tmp_path / "wh", with_secret, {}, "alpha")
    assert code == 0, out
    assert index_server.count("/files/", status=301)
    assert files_host.count("/files/") and {r.authorization for r in files_host.log} == {None}
    assert leaks(tmp_path / "wh") == [] and SECRET not in out


def test_keyring_gives_the_password_of_the_user_in_the_url(
    tmp_path: Path, index_server: IndexServer
) -> None:
    index_server.configure(basic_auth=AUTH)
    bin_dir, asked = tmp_path / "bin", tmp_path / "asked"
    bin_dir.mkdir()
    keyring = bin_dir / "keyring"
    keyring.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {asked}\n'
        f'[ "$1 $2 $3" = "get {index_server.url} user" ] && echo {SECRET} && exit 0\n'
        "exit 1\n"
    )
    keyring.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    url = index_server.url.replace("http://", "http://user@")
    code, out = build(tmp_path / "wh", url, env, "alpha")
    assert code == 0, out
    assert asked.read_text().splitlines() == [f"get {index_server.url} user"]
    assert {r.authorization for r in index_server.log} == {SENT}
    assert leaks(tmp_path / "wh") == [] and SECRET not in out


def test_401_and_403_say_where_credentials_are_looked_for(
    tmp_path: Path, index_server: IndexServer
) -> None:
    index_server.configure(basic_auth=AUTH)
    code, out = build(tmp_path / "wh", index_server.url, {}, "alpha")
    assert code == 1
    first, hint = out.splitlines()
    assert first == (
        f"error: access denied to {index_server.url}alpha/: HTTP 401; "
        "no credentials were found for 127.0.0.1"
    )
    assert hint.startswith("hint: credentials are read from the index URL")
    assert "~/.netrc" in hint and "keyring" in hint
    code, out = build(
        tmp_path / "wh", index_server.url, netrc(tmp_path, "127.0.0.1", "wrong"), "alpha"
    )
    assert code == 1 and "Traceback" not in out
    assert f"the credentials for 127.0.0.1 from {tmp_path / 'netrc'} were refused" in out
    index_server.configure(basic_auth=None, fail_5xx=99, fail_status=403)
    code, out = build(tmp_path / "wh", index_server.url, {}, "alpha")
    assert code == 1 and out.startswith("error: access denied to") and "HTTP 403" in out
    assert not (tmp_path / "wh" / "wheelhouse.toml").exists()


class _Keyring:
    """A ``keyring`` runner that records what it was asked and knows one password."""

    def __init__(self, password: str | None) -> None:
        self.password, self.asked = password, list[list[str]]()

    def __call__(self, command: Sequence[str], timeout: float) -> str | None:
        self.asked.append(list(command))
        return f"{self.password}\n" if self.password and command[2].endswith("/") else None


def test_keyring_is_asked_after_netrc_credentials_are_refused(tmp_path: Path) -> None:
    seen: list[str | None] = []

    def index(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200 if seen[-1] == SENT else 401)

    keyring = _Keyring(SECRET)
    environ = netrc(tmp_path, "index.test", "stale")
    auth = Credentials(["https://user@index.test/simple"], environ=environ, keyring=keyring)
    with httpx.Client(transport=httpx.MockTransport(index), auth=auth) as client:
        assert client.get("https://index.test/simple/alpha/").status_code == 200
        assert client.get("https://index.test/files/alpha.whl").status_code == 200
        assert client.get("https://files.test/alpha.whl").status_code == 401
    stale = "Basic " + base64.b64encode(b"user:stale").decode()
    assert seen == [stale, SENT, SENT, None]
    assert keyring.asked == [["keyring", "get", "https://index.test/simple/", "user"]]


def test_keyring_asks_for_the_host_after_the_url_then_sends_the_user_alone(
    tmp_path: Path,
) -> None:
    keyring = _Keyring(None)
    environ = {"NETRC": str(tmp_path / "none")}
    auth = Credentials(["http://token@index.test:8080/simple/"], environ=environ, keyring=keyring)
    request = next(auth.auth_flow(httpx.Request("GET", "http://index.test:8080/simple/a/")))
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"token:").decode()
    assert [command[2] for command in keyring.asked] == [
        "http://index.test:8080/simple/",
        "index.test:8080",
    ]


def test_a_hanging_keyring_is_cut_off(tmp_path: Path) -> None:
    script = tmp_path / "keyring"
    script.write_text("#!/bin/sh\nsleep 30\n")
    script.chmod(0o755)
    started = time.monotonic()
    assert output([str(script), "get", "x", "y"], 0.3) is None
    assert time.monotonic() - started < 10  # its child sleep too is gone
    assert output([str(tmp_path / "missing")], 1.0) is None


@pytest.mark.parametrize(
    "index_url",
    [
        "http://127.0.0.1:port/simple",  # no such port
        f"http://user:{SECRET}/x@127.0.0.1:9/simple",  # a "/" in the password, not encoded
    ],
)
def test_an_index_url_that_does_not_parse_is_one_line_that_shows_no_password(
    tmp_path: Path, index_url: str
) -> None:
    code, out = build(tmp_path / "wh", index_url, {}, "alpha")
    assert code == 1 and "Traceback" not in out, out
    error, hint = out.splitlines()
    assert error.startswith("error: ") and "not a valid URL" in error
    assert SECRET not in out and "user:" not in out
    assert hint.startswith("hint: ")
    assert not (tmp_path / "wh" / "wheelhouse.toml").exists()
