"""Subprocesses: every program the package runs goes through here.

:func:`run` (or :func:`start`, which returns at once, or :func:`spawn`, for the
install engine's workers, which talk back) starts an explicit program with no
``PIP_*``/``UV_*`` settings and no pip configuration file
(:func:`controlled_environment`); :func:`pip_command` says how to run pip for an
interpreter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wheelhouse.install.probe import InterpreterInfo

__all__ = [
    "controlled_environment",
    "finish",
    "kill_running",
    "output",
    "pip_command",
    "run",
    "run_bounded",
    "spawn",
    "start",
]


def controlled_environment(
    *, tmp_dir: Path | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: this process's) without ``PIP_*``/``UV_*``; pip reads no config file."""
    source = os.environ if base is None else base
    env = {key: value for key, value in source.items() if not key.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    if tmp_dir is not None:
        env.update(TMPDIR=str(tmp_dir), TEMP=str(tmp_dir), TMP=str(tmp_dir))
    return env


def run(
    command: Sequence[str | os.PathLike[str]],
    *,
    tmp_dir: Path | None = None,
    capture: bool = False,
    timeout: float | None = None,
    as_configured: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run an interpreter, pip or uv in :func:`controlled_environment`; no prompt can block.

    ``as_configured`` keeps the caller's environment whole, ``PIP_*`` and pip's
    configuration files included: for asking pip what it would use.
    Raises ``OSError`` when the program cannot start; the exit status is the caller's.
    """
    return subprocess.run(
        [os.fspath(part) for part in command],
        env=dict(os.environ) if as_configured else controlled_environment(tmp_dir=tmp_dir),
        stdin=subprocess.DEVNULL,
        capture_output=capture,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(command: Sequence[str | os.PathLike[str]]) -> subprocess.Popen[str]:
    """:func:`run` with output captured, returning at once: :func:`finish` waits for it.

    What the caller does in the meantime overlaps with the program's run.
    Raises ``OSError`` when the program cannot start.
    """
    return subprocess.Popen(
        [os.fspath(part) for part in command],
        env=controlled_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(
    process: subprocess.Popen[str], *, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Wait for what :func:`start` started; past ``timeout`` s, kill it, raise TimeoutExpired."""
    with process:
        try:
            out, err = process.communicate(timeout=timeout)
        except BaseException:
            process.kill()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


#: The programs :func:`run_bounded` is waiting for, each in its own process group.
_RUNNING: set[subprocess.Popen[str]] = set()
_RUNNING_LOCK = threading.Lock()


def run_bounded(
    command: Sequence[str | os.PathLike[str]], *, tmp_dir: Path | None, timeout: float
) -> subprocess.CompletedProcess[str] | None:
    """:func:`run` with output captured, or None when it was still running after ``timeout`` s.

    The program runs in its own process group, killed whole on expiry: a build
    backend that hangs leaves nothing behind (a pip build's backend is a
    grandchild). Its own group does not hear a terminal's Ctrl-C, so
    :func:`kill_running` ends what is still running when the tool is interrupted.
    """
    process = subprocess.Popen(
        [os.fspath(part) for part in command],
        env=controlled_environment(tmp_dir=tmp_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    with _RUNNING_LOCK:
        _RUNNING.add(process)
    try:
        with process:
            if (found := _wait(process, timeout)) is None:
                return None
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(process)
    return subprocess.CompletedProcess(process.args, process.returncode, *found)


def kill_running() -> None:
    """Kill every program :func:`run_bounded` is waiting for, with all it started."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        _kill_group(process)


def output(command: Sequence[str], timeout: float) -> str | None:
    """A helper's standard output (``keyring get``), or None when it fails, is missing or hangs.

    Its standard error is the user's to see, as pip leaves it; its output is
    never logged, since it may be a password. A helper still running after
    ``timeout`` seconds is killed with everything it started.
    """
    env = {**controlled_environment(), "PYTHONIOENCODING": "utf-8"}
    try:
        process = subprocess.Popen(
            list(command),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            start_new_session=True,  # its own process group, killed whole on a timeout
        )
    except OSError:
        return None
    with process:
        found = _wait(process, timeout)
    if found is None or process.returncode != 0:
        return None
    out: bytes = found[0]
    return out.decode("utf-8", errors="replace")


def _wait(
    process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float
) -> tuple[Any, Any] | None:
    """Its output and error output; None, with its whole group killed, after ``timeout`` s.

    Its group is killed too when waiting is interrupted (Ctrl-C in this thread).
    """
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        return None
    except BaseException:
        _kill_group(process)
        raise


def _kill_group(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    process.kill()


def spawn(
    command: Sequence[str | os.PathLike[str]], *, tmp_dir: Path | None, stderr: IO[str]
) -> subprocess.Popen[str]:
    """Start a program that talks in lines on its stdin and stdout, in the same environment.

    Raises ``OSError`` when it cannot start; the caller waits for it.
    """
    return subprocess.Popen(
        [os.fspath(part) for part in command],
        env=controlled_environment(tmp_dir=tmp_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        encoding="utf-8",
    )


def pip_command(info: InterpreterInfo) -> list[str]:
    """How to run pip for ``info``: its own pip, else this process's pip with ``--python``."""
    if info.pip_version:
        prefix = [str(info.path), "-I", "-m", "pip"]
    else:  # a venv made --without-pip: pip runs itself inside it (pip >= 22.3)
        prefix = [sys.executable, "-I", "-m", "pip", "--python", str(info.path)]
    return [*prefix, "--no-input", "--disable-pip-version-check"]
