"""Progress of a resolution, round by round: what the resolver reports and the terminal shows."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from helpers import isolated_env
from indexserver import IndexServer

from wheelhouse.cli.progress import INTERVAL, ProgressReporter, describe_round
from wheelhouse.index.client import IndexClient
from wheelhouse.inputs.files import parse_inputs
from wheelhouse.model.distributions import Policy
from wheelhouse.model.targets import Target
from wheelhouse.resolve.candidates import Resolution
from wheelhouse.resolve.finder import Finder
from wheelhouse.resolve.reporter import Round, Watch
from wheelhouse.resolve.resolver import resolve

TARGET = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")


class Terminal(io.StringIO):
    """What a terminal would have been sent."""

    def isatty(self) -> bool:
        return True


def _rounds(served: IndexClient, requirement: str) -> list[Round]:
    seen: list[Round] = []
    inputs = parse_inputs([requirement], [], [])
    resolve(Finder(served, Policy()), TARGET, inputs, Watch(seen.append))
    return seen


def test_every_round_is_reported_with_the_projects_met(served: IndexClient) -> None:
    rounds = _rounds(served, "alpha")
    assert [r.number for r in rounds] == list(range(1, len(rounds) + 1))
    assert rounds[-1].projects == 4  # alpha, beta, gamma, delta
    assert all(r.backtracking_on is None for r in rounds)


def test_a_conflict_names_the_project_backtracked_on(served: IndexClient) -> None:
    rounds = _rounds(served, "bt-top")
    assert rounds[-1].backtracking_on == "bt-shared"


def test_what_the_callback_raises_ends_the_resolution(served: IndexClient) -> None:
    class Enough(Exception):
        pass

    def seen(where: Round) -> None:
        if where.number == 2:
            raise Enough

    with pytest.raises(Enough):
        resolve(Finder(served, Policy()), TARGET, parse_inputs(["alpha"], [], []), Watch(seen))


def test_a_terminal_gets_one_line_per_target_at_a_bounded_rate() -> None:
    terminal = Terminal()
    reporter = ProgressReporter(quiet=False, stream=terminal)
    reporter.resolving(TARGET)
    reporter.resolving_round(TARGET, Round(number=3, projects=5, backtracking_on="bt-shared"))
    reporter.resolving_round(TARGET, Round(number=4, projects=6, backtracking_on="bt-shared"))
    reporter.resolved(Resolution(target=TARGET, pins={}))
    reporter.close()
    shown = terminal.getvalue()
    assert (
        "resolving cp312-manylinux_2_28_x86_64: round 3, 5 projects, backtracking on bt-shared"
        in shown
    )
    assert "round 4" not in shown  # within INTERVAL of round 3
    assert "resolved cp312-manylinux_2_28_x86_64: 0 pins" in shown
    assert INTERVAL <= 0.5


@pytest.mark.parametrize(("stream", "quiet"), [(io.StringIO(), False), (Terminal(), True)])
def test_pipes_and_quiet_get_nothing(stream: io.StringIO, quiet: bool) -> None:
    reporter = ProgressReporter(quiet=quiet, stream=stream)
    reporter.resolving(TARGET)
    reporter.resolving_round(TARGET, Round(number=1, projects=1, backtracking_on=None))
    reporter.close()
    assert stream.getvalue() == ""


def test_describe_round() -> None:
    where = Round(number=40, projects=23, backtracking_on=None)
    assert describe_round(TARGET, where) == (
        "resolving cp312-manylinux_2_28_x86_64: round 40, 23 projects"
    )


def test_build_on_a_terminal_shows_the_resolution(
    index_server: IndexServer, tmp_path: Path
) -> None:
    """The real command, its stderr a terminal: the target's line and the summary appear.

    And a line for each local project's wheel built.
    """
    app = tmp_path / "app"
    (app / "app").mkdir(parents=True)
    (app / "app" / "__init__.py").write_text("")
    backend = '[build-system]\nrequires = ["wh-backend"]\nbuild-backend = "wh_backend"\n'
    (app / "pyproject.toml").write_text(f'{backend}[project]\nname = "app"\nversion = "1.0"\n')
    controller, terminal = pty.openpty()
    # A new pty is 0 columns wide, and tqdm fits its lines to the width.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    command = [sys.executable, "-m", "wheelhouse", "build", "-w", str(tmp_path / "wh")]
    command += ["--index-url", index_server.url, "--python", "3.12", "bt-top"]
    command += ["--platform", "manylinux_2_28_x86_64", str(app)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=terminal, env=isolated_env()
    ) as process:
        os.close(terminal)
        shown = _read_all(controller)
        assert process.wait(timeout=120) == 0
    assert "resolving cp312-manylinux_2_28_x86_64: round 1, " in shown
    assert "resolved cp312-manylinux_2_28_x86_64: 5 pins" in shown
    assert "built app-1.0-py3-none-any.whl" in shown


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other end closed: Linux says EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")
