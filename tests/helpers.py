"""Run pip and uv as independent oracles, isolated from this machine's configuration.

A machine's pip configuration (config files, ``PIP_*`` variables, a global
constraints file) can add find-links, extra indexes and constraints that would
make an oracle answer from somewhere else; every helper here runs with none of
it. Interpreters, ``uv``, network namespaces and a machine the fixture
targets that are missing go through :func:`conftest.require`: the calling test
skips, naming what it lacks, or fails under CI.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import socketserver
import stat
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import require
from packaging.utils import canonicalize_name

__all__ = [
    "PIP_FLAGS",
    "Recorder",
    "find_python",
    "find_uv",
    "install_lock",
    "installed",
    "isolated_env",
    "make_venv",
    "pip_command",
    "require_fixture_machine",
    "run",
    "run_pip",
    "run_python",
    "run_uv",
    "shell_script",
    "unshare_prefix",
    "venv_python",
]

#: Given to every pip run: no version check, no prompt, no cache to answer from.
PIP_FLAGS = ("--disable-pip-version-check", "--no-input", "--no-cache-dir")
_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}
_TIMEOUT = 300


def isolated_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without pip, uv, wheelhouse or proxy settings.

    pip reads no configuration file at all (``PIP_CONFIG_FILE`` is the null
    device), uv reads none either, keeps no cache and never downloads Pythons.
    ``extra`` is applied last.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "WHEELHOUSE_", "PYTHON"))
        and key.lower() not in _PROXIES
    }
    if "WHEELHOUSE_CACHE_DIR" in os.environ:  # the test's own cache, never the user's
        env["WHEELHOUSE_CACHE_DIR"] = os.environ["WHEELHOUSE_CACHE_DIR"]
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        UV_NO_CONFIG="1",
        UV_NO_CACHE="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
    )
    env.update(extra or {})
    return env


def run(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = _TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run a command in :func:`isolated_env` (plus ``env``), capturing text output.

    With ``check``, a non-zero exit fails the test and shows the command's output.
    """
    result = subprocess.run(
        command,
        cwd=cwd,
        env=isolated_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}",
            pytrace=False,
        )
    return result


def pip_command(python: str | Path | None = None) -> list[str]:
    """The test runner's pip, acting on ``python`` (pip's ``--python``) when given.

    The target interpreter needs no pip of its own, so venvs stay cheap.
    """
    command = [sys.executable, "-m", "pip"]
    if python is not None:
        command += ["--python", str(python)]
    return [*command, *PIP_FLAGS]


def run_pip(
    *args: str,
    python: str | Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``pip ARGS`` isolated; ``python`` is the environment it installs into."""
    return run([*pip_command(python), *args], cwd=cwd, env=env, check=check)


def install_lock(wheelhouse: Path, lock: Path, python: Path) -> None:
    """pip installs ``lock`` for ``python`` from the wheelhouse alone, hash-checked."""
    run_pip(
        *("install", "--no-index", "--find-links", str(wheelhouse)),
        *("--require-hashes", "-r", str(lock)),
        python=python,
    )


def find_uv() -> str | None:
    """The ``uv`` executable beside this interpreter or on PATH, or None."""
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def run_uv(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``uv ARGS`` isolated; the test requires uv (:func:`conftest.require`)."""
    uv = find_uv()
    require("uv", uv is not None, "the test extra installs it")
    assert uv is not None
    return run([uv, *args], cwd=cwd, env=env, check=check)


def find_python(version: str) -> Path:
    """An interpreter of CPython ``X.Y`` that really runs; the test requires one.

    Looks at this interpreter, ``pythonX.Y`` on PATH (a pyenv shim there may
    answer "command not found"), then pyenv's versions, newest patch first.
    """
    found = _probe_python(version)
    require(f"Python {version}", found is not None, "no working interpreter on PATH or in pyenv")
    assert found is not None
    return found


@functools.cache
def _probe_python(version: str) -> Path | None:
    for candidate in _python_candidates(version):
        if _reports_version(candidate) == version:
            return candidate
    return None


def _python_candidates(version: str) -> list[Path]:
    candidates = [Path(sys.executable)]
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(Path(on_path))
    versions = _pyenv_root() / "versions"
    installs = versions.glob(f"{version}.*/bin/python{version}") if versions.is_dir() else []
    candidates += sorted(installs, key=_patch_number, reverse=True)
    return candidates


def _pyenv_root() -> Path:
    configured = os.environ.get("PYENV_ROOT")
    return Path(configured) if configured else Path.home() / ".pyenv"


def _patch_number(path: Path) -> tuple[int, str]:
    match = re.fullmatch(r"\d+\.\d+\.(\d+)(.*)", path.parent.parent.name)
    return (int(match.group(1)), match.group(2)) if match else (-1, path.parent.parent.name)


def _reports_version(python: Path) -> str | None:
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        result = subprocess.run(
            [str(python), "-c", code],
            env=isolated_env(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def venv_python(venv: Path) -> Path:
    """The interpreter inside a virtual environment."""
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def make_venv(
    tmp_path: Path,
    python: str | Path = sys.executable,
    *,
    name: str = "venv",
    with_pip: bool = False,
) -> Path:
    """Create ``tmp_path/name`` with ``python`` and return the venv's interpreter.

    Without pip by default (fast): install into it with ``run_pip(..., python=)``.
    """
    venv = tmp_path / name
    command = [str(python), "-m", "venv", str(venv)]
    run(command if with_pip else [*command, "--without-pip"])
    return venv_python(venv)


def shell_script(path: Path, body: str) -> Path:
    """An executable ``/bin/sh`` script at ``path``: a stand-in for an interpreter or a shim."""
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run_python(python: str | Path, code: str) -> str:
    """Run ``code`` with ``python -I`` isolated; its stdout, stripped."""
    return run([str(python), "-I", "-c", code]).stdout.strip()


def installed(python: str | Path) -> dict[str, str]:
    """Normalized name to version of every distribution installed for ``python``."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    found: dict[str, str] = json.loads(run_python(python, code))
    return {canonicalize_name(name): version for name, version in found.items()}


def unshare_prefix() -> list[str]:
    """``["unshare", "-n"]``, to run a command with no network; the test requires it."""
    require("unshare -n", _can_unshare(), "no util-linux, user namespaces or privileges")
    return ["unshare", "-n"]


def require_fixture_machine() -> None:
    """Building the fixture sdists for the fixture targets needs glibc x86_64 Linux."""
    linux = sysconfig.get_platform() == "linux-x86_64" and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    require("a glibc x86_64 Linux machine", linux, "the fixture targets are glibc x86_64 Linux")


@functools.cache
def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        result = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


class Recorder:
    """A listener on 127.0.0.1 that records each request's first line and answers 502.

    Set as every proxy variable, it sees any request a tool makes to any index,
    the default one included (``CONNECT host:443`` for HTTPS), without a network.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        lines = self.lines

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def handle(self) -> None:
                with contextlib.suppress(OSError):
                    lines.append(self.rfile.readline(8192).decode("latin-1").strip())
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=30)


def invoke(*args: str) -> Result:
    """Run the command line in this process, as the user types it."""
    from wheelhouse.cli import cli  # not at import: subprocess scripts import this module

    return CliRunner().invoke(cli, list(args))


def ok(result: Result) -> Result:
    """``result``, after checking that its command succeeded (its output shown if not)."""
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result
