"""Ctrl-C: any command stops within a second, says one line, exits 130, and loses nothing.

The index is told to be slow, so the build is still resolving (or still
downloading) when SIGINT arrives; the wheelhouse it was rebuilding must be the
old set, whole, and the next command must finish clean.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import isolated_env, run
from indexserver import IndexServer, Request

from wheelhouse.cli.app import EXIT_STATUSES

#: Seconds from SIGINT to exit that count as "at once" on a busy two-core machine.
PROMPT = 2.0
TARGETS = ("--python", "3.11", "--python", "3.12", "--platform", "manylinux_2_28_x86_64")


def _wheelhouse(*args: str) -> list[str]:
    return [sys.executable, "-m", "wheelhouse", *args]


def _text_files(house: Path) -> dict[str, bytes]:
    """What readers of a wheelhouse rely on: the manifest, locks, constraints and pages."""
    kept = ("wheelhouse.toml", "locks/", "constraints/", "simple/")
    return {
        str(path.relative_to(house)): path.read_bytes()
        for path in sorted(house.rglob("*"))
        if path.is_file() and str(path.relative_to(house)).startswith(kept)
    }


def _wait_for(server: IndexServer, wanted: Callable[[Request], bool]) -> None:
    deadline = time.monotonic() + 60
    while not any(wanted(request) for request in server.log):
        assert time.monotonic() < deadline, "the build never reached the index"
        time.sleep(0.05)


def _page(request: Request) -> bool:
    return request.path.startswith("/simple/")


def _download(request: Request) -> bool:
    return request.path.startswith("/files/") and request.path.endswith((".whl", ".tar.gz"))


@pytest.mark.parametrize("moment", [_page, _download], ids=["resolving", "downloading"])
def test_ctrl_c_stops_a_build_at_once_and_keeps_the_old_set(
    moment: Callable[[Request], bool], index_server: IndexServer, tmp_path: Path
) -> None:
    house = tmp_path / "wheelhouse"
    index = ("--index-url", index_server.url)
    run(_wheelhouse("build", "-w", str(house), *index, "-q", "alpha", *TARGETS))
    before = _text_files(house)
    index_server.configure(slow=0.5)
    index_server.reset_log()
    command = _wheelhouse("build", "-w", str(house), *index, "alpha", "bt-top", *TARGETS)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=isolated_env()
    ) as process:
        _wait_for(index_server, moment)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
        took = time.monotonic() - sent
    assert (process.returncode, err) == (130, "interrupted\n")
    assert took < PROMPT, f"took {took:.2f} s"
    assert _text_files(house) == before
    index_server.configure(slow=0)
    # The next write command clears whatever the interrupted one left, then completes.
    run([*command, "-q"])
    run(_wheelhouse("verify", "-w", str(house)))
    assert not (house / ".wheelhouse-commit").exists()


def test_ctrl_c_while_a_command_loads_is_also_one_line_and_130() -> None:
    """Before the command runs (its module importing), click would say "Aborted!" and exit 1."""
    code = (
        "import sys\n"
        "from wheelhouse.cli import app\n"
        "def importing(*args):\n"
        "    raise KeyboardInterrupt\n"
        "app.LazyGroup.get_command = importing\n"
        "sys.argv = ['wheelhouse', 'verify']\n"
        "app.main()\n"
    )
    result = run([sys.executable, "-c", code], check=False)
    assert (result.returncode, result.stderr) == (130, "interrupted\n")


def test_help_lists_the_exit_statuses() -> None:
    shown = run(_wheelhouse("--help")).stdout
    assert "130  interrupted (Ctrl-C)" in shown
    assert "3    refresh --check, diff --exit-code: a failure" in shown
    assert "Exit statuses:" in EXIT_STATUSES
