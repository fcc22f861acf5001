"""The static tree is an index as it stands: nginx serves it and pip and uv install from it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require
from helpers import installed, make_venv, run_pip, run_uv
from test_indexer import EXPECTED, REQUIREMENTS, make_distributions

from wheelhouse.commands.index import index as index_command


def _find_nginx() -> str | None:
    # /usr/sbin is not on every user's PATH.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


NGINX = _find_nginx()


@pytest.fixture(scope="module", autouse=True)
def _needs_nginx() -> None:
    """Before the module's nginx server fixture starts, which autouse makes sure of."""
    require("nginx", NGINX is not None, ".ci/run installs nginx-light")


CONFIG = """\
worker_processes 1;
{user}
error_log stderr;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ text/html html; application/json json; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _start_nginx(prefix: Path, root: Path) -> tuple[subprocess.Popen[bytes], int]:
    """nginx in the foreground on a free port; retried if another process takes the port."""
    log = prefix / "nginx.log"
    for _attempt in range(3):
        port = _free_port()
        # Workers started by root run as nobody, who cannot enter pytest's 0700 temp dirs.
        user = "user root;" if os.geteuid() == 0 else ""
        config = CONFIG.format(user=user, prefix=prefix, port=port, root=root)
        (prefix / "nginx.conf").write_text(config)
        command = [str(NGINX), "-e", "stderr", "-p", str(prefix), "-c", "nginx.conf"]
        with log.open("ab") as sink:
            process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=sink)
        if _wait_until_listening(process, port):
            return process, port
        process.terminate()
        process.wait(timeout=30)
    pytest.fail(f"nginx did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def nginx_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The index URL of a wheelhouse that nginx serves as static files, and its root."""
    base = tmp_path_factory.mktemp("nginx")
    root = make_distributions(base / "wheelhouse")
    index_command(root)
    prefix = base / "nginx"
    prefix.mkdir()
    process, port = _start_nginx(prefix, root)
    try:
        yield f"http://127.0.0.1:{port}/simple/", root
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_nginx_serves_the_pages_as_written(nginx_index: tuple[str, Path]) -> None:
    url, root = nginx_index
    with urllib.request.urlopen(url + "beta/", timeout=30) as response:
        assert response.read() == (root / "simple/beta/index.html").read_bytes()


def test_pip_installs_from_nginx(nginx_index: tuple[str, Path], tmp_path: Path) -> None:
    url, _root = nginx_index
    python = make_venv(tmp_path)
    run_pip("install", "--index-url", url, *REQUIREMENTS, python=python)
    assert {name: installed(python)[name] for name in EXPECTED} == EXPECTED


def test_uv_installs_from_nginx(nginx_index: tuple[str, Path], tmp_path: Path) -> None:
    url, _root = nginx_index
    python = make_venv(tmp_path)
    run_uv("pip", "install", "--python", str(python), "--index-url", url, *REQUIREMENTS)
    assert {name: installed(python)[name] for name in EXPECTED} == EXPECTED
