"""Kill a write command at each of its file mutations, and judge what it leaves.

A :class:`Scenario` is a starting state and one command line. Its
:func:`reference` run counts the command's mutations inside the directory it
writes (:mod:`killhook`) and records the result. :func:`judge_point` then
starts again from the same state, kills the command at one mutation, checks the
tree (:func:`consistency.check_consistent`) and runs the command again without
a kill, which must end as the reference did, pass ``verify`` and leave nothing
behind. Re-runs and ``verify`` run in this process: only the killed run needs a
process of its own, and starting one costs most of a second.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner, Result
from consistency import Snapshot, check_consistent, differences, reader_problems, snapshot
from helpers import isolated_env
from indexserver import FIXTURES, IndexServer

from wheelhouse.cli import cli

__all__ = [
    "SCENARIOS",
    "HookedRun",
    "Reference",
    "Scenario",
    "invoke",
    "judge_point",
    "reference",
    "report",
    "rerun_problems",
    "run_hooked",
    "sample",
    "verify_problems",
]

TESTS = Path(__file__).resolve().parent
BOOTSTRAP = f"import sys; sys.path.insert(0, {str(TESTS)!r}); import killhook; killhook.main()"
#: Stands for the directory the command writes, in a scenario's command line.
ROOT = "{root}"
LINUX = "manylinux_2_28_x86_64"
TARGETS = ("--python", "3.11", "--python", "3.12", "--platform", LINUX)
INPUTS = ("alpha[fast]", "native", "stable", "evolving")
BEFORE_2025 = datetime(2024, 12, 31, tzinfo=timezone.utc)
_TIMEOUT = 120
_SHOWN = 6


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A starting state (``pristine``, which may not exist) and the command to run on a copy."""

    name: str
    args: tuple[str, ...]
    pristine: Path
    wheelhouse: bool = True  # whether `verify` applies to the result

    def command(self, root: Path) -> list[str]:
        return [str(root) if arg == ROOT else arg for arg in self.args]

    def start(self, root: Path) -> None:
        """Put a fresh copy of the starting state at ``root``."""
        if self.pristine.exists():
            shutil.copytree(self.pristine, root, symlinks=True)


@dataclass(frozen=True, kw_only=True)
class HookedRun:
    """A run under the hook: its exit status, stderr and the mutations it logged."""

    returncode: int
    stderr: str
    mutations: list[str]

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


@dataclass(frozen=True, kw_only=True)
class Reference:
    """The state before the command, the result of a run never killed, and its mutations."""

    before: Snapshot
    after: Snapshot
    mutations: list[str]
    tolerated: frozenset[str]  # reader problems of the starting state itself
    verified: frozenset[str]  # what `verify` says of the clean result


def invoke(args: Sequence[str]) -> Result:
    """The command line run in this process."""
    return CliRunner().invoke(cli, list(args))


def run_hooked(scenario: Scenario, root: Path, log: Path, kill_at: int = 0) -> HookedRun:
    """Run the scenario's command on ``root`` in a process of its own, killed at ``kill_at``."""
    log.unlink(missing_ok=True)
    hook = {"WHEELHOUSE_KILL_ROOT": str(root), "WHEELHOUSE_KILL_LOG": str(log)}
    result = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, *scenario.command(root)],
        env=isolated_env({**hook, "WHEELHOUSE_KILL_AT": str(kill_at)}),
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    mutations = log.read_text("utf-8").splitlines() if log.is_file() else []
    return HookedRun(returncode=result.returncode, stderr=result.stderr, mutations=mutations)


def reference(scenario: Scenario, work: Path) -> Reference:
    """Run the command once, never killed, counting its mutations."""
    root = work / "reference"
    scenario.start(root)
    run = run_hooked(scenario, root, work / "reference.log")
    assert run.returncode == 0, f"{scenario.name} failed with no kill:\n{run.stderr}"
    return Reference(
        before=snapshot(scenario.pristine),
        after=snapshot(root),
        mutations=run.mutations,
        tolerated=frozenset(reader_problems(scenario.pristine)),
        verified=frozenset(verify_problems(root)) if scenario.wheelhouse else frozenset(),
    )


def verify_problems(root: Path) -> list[str]:
    """The problems ``verify`` reports, ``root`` written as ``{root}``; [] when it passes.

    A clean run may leave some: files of old pins are stray to ``verify``
    until a prune, after a refresh or a build with other inputs.
    """
    result = invoke(["verify", "-w", str(root)])
    if result.exit_code == 0:
        return []
    lines = result.output.replace(str(root), ROOT).splitlines()
    return [line for line in lines if not line.startswith(("error:", "hint:"))] or lines


def sample(count: int, limit: int | None) -> list[int]:
    """Kill points 1..count, or ``limit`` of them spread evenly, the first and last included."""
    if limit is None or count <= limit:
        return list(range(1, count + 1))
    return sorted({1 + round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def judge_point(scenario: Scenario, ref: Reference, work: Path, point: int) -> list[str]:
    """Kill at ``point``, check the tree, run again and check the end; [] when all held.

    Otherwise the first line names the point and the mutation it came before,
    and each following line is one problem.
    """
    root = work / f"point-{point}"
    scenario.start(root)
    run = run_hooked(scenario, root, work / f"point-{point}.log", kill_at=point)
    problems = [] if run.killed else [_not_killed(run, len(ref.mutations))]
    found = check_consistent(root, ref.before, ref.after, tolerate=ref.tolerated)
    problems += [f"after the kill: {p}" for p in found]
    problems += rerun_problems(scenario, root, ref)
    if not problems:
        return []
    if len(problems) > _SHOWN:  # one missing file breaks many links: the first few say it
        problems[_SHOWN - 1 :] = [f"and {len(problems) - _SHOWN + 1} more problems"]
    return [f"kill point {point}, before {_mutation(run.mutations, point)}:", *problems]


def _not_killed(run: HookedRun, expected: int) -> str:
    if run.returncode != 0:
        return f"not killed: it failed on its own, exit {run.returncode}: {_last(run.stderr)}"
    return f"not killed: it made {len(run.mutations)} mutations, the reference run {expected}"


def report(head: str, failed: list[list[str]]) -> str:
    """An assertion message: ``head``, then each failure's heading and its problems, indented."""
    blocks = [[f"  {lines[0]}", *(f"      {line}" for line in lines[1:])] for lines in failed]
    return "\n".join([head, *(line for block in blocks for line in block)])


def _mutation(logged: list[str], point: int) -> str:
    """``op path`` of a logged mutation; a rename by its destination, the name readers see."""
    if len(logged) < point:
        return "a mutation it never reached"
    op, _, paths = logged[point - 1].partition(" ")[2].partition(" ")
    return f"{op} {paths.rpartition(' -> ')[2]}"


def rerun_problems(scenario: Scenario, root: Path, ref: Reference) -> list[str]:
    """Run the command again, unhindered: it must end as a clean run does, and verify as well."""
    result = invoke(scenario.command(root))
    if result.exit_code != 0:
        return [f"the next run exited {result.exit_code}: {_last(result.output)}"]
    problems = [f"after the next run: {p}" for p in differences(snapshot(root), ref.after)]
    problems += [f"after the next run: {p}" for p in reader_problems(root)]
    if scenario.wheelhouse:
        found = [line for line in verify_problems(root) if line not in ref.verified]
        problems += [f"verify after the next run: {line}" for line in found]
    return problems


def _last(output: str) -> str:
    """The error lines of an output, else its last line."""
    lines = output.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    return " / ".join(errors) if errors else (lines[-1] if lines else "no output")


# Scenarios: each makes its starting state under ``work`` and names its command.


def _build(root: Path, server: IndexServer, *args: str) -> None:
    result = invoke(["build", "-q", "-w", str(root), "--index-url", server.url, *args])
    assert result.exit_code == 0, result.output


def build_new(work: Path, server: IndexServer) -> Scenario:
    """A build into a directory that does not exist yet."""
    args = ("build", "-q", "-w", ROOT, "--index-url", server.url, *INPUTS, *TARGETS)
    return Scenario(name="build-new", args=args, pristine=work / "pristine")


def build_over(work: Path, server: IndexServer) -> Scenario:
    """A build with other inputs and one target fewer over an existing wheelhouse."""
    _build(work / "pristine", server, "alpha", "native", *TARGETS)
    inputs = ("alpha[fast]", "evolving", "stable", "--python", "3.12", "--platform", LINUX)
    args = ("build", "-q", "-w", ROOT, "--index-url", server.url, *inputs)
    return Scenario(name="build", args=args, pristine=work / "pristine")


def _old(root: Path, server: IndexServer) -> None:
    """A wheelhouse built when the index had only its 2024 releases; the index moves on after."""
    server.hide_after = BEFORE_2025
    try:
        _build(root, server, "evolving", "modern", "alpha", *TARGETS)
    finally:
        server.hide_after = None


def refresh(work: Path, server: IndexServer) -> Scenario:
    """A refresh that moves pins on both targets and downloads the new files."""
    _old(work / "pristine", server)
    return Scenario(name="refresh", args=("refresh", "-q", "-w", ROOT), pristine=work / "pristine")


def prune(work: Path, server: IndexServer) -> Scenario:
    """A prune after a refresh: the old versions' files, metadata and records go."""
    _old(work / "pristine", server)
    assert invoke(["refresh", "-q", "-w", str(work / "pristine")]).exit_code == 0
    return Scenario(name="prune", args=("prune", "-w", ROOT), pristine=work / "pristine")


def fetch(work: Path, server: IndexServer) -> Scenario:
    """A fetch into a checkout of committed locks and manifest: no files, no index."""
    root = work / "pristine"
    _build(root, server, *INPUTS, *TARGETS)
    for path in root.iterdir():
        if path.name.endswith((".whl", ".tar.gz", ".metadata")):
            path.unlink()
    shutil.rmtree(root / "simple")
    return Scenario(name="fetch", args=("fetch", "-q", "-w", ROOT), pristine=root)


def merge(work: Path, server: IndexServer) -> Scenario:
    """A merge of two one-target wheelhouses into a new directory."""
    sources = (work / "py311", work / "py312")
    for source, python in zip(sources, ("3.11", "3.12"), strict=True):
        _build(source, server, *INPUTS, "--python", python, "--platform", LINUX)
    args = ("merge", "-w", ROOT, *map(str, sources))
    return Scenario(name="merge", args=args, pristine=work / "pristine")


def index(work: Path, server: IndexServer) -> Scenario:
    """``index DIR`` after files came and went: pages added, changed and removed.

    The starting state has pages linking to the files removed by hand, which
    the reference tolerates: the command must fix them, not keep them.
    """
    directory = work / "pristine"
    directory.mkdir(parents=True)
    for name in ("alpha-1.0", "alpha-1.1", "gamma-1.0", "beta-1.0"):
        shutil.copy(FIXTURES / "files" / f"{name}-py3-none-any.whl", directory)
    shutil.copy(FIXTURES / "files" / "sdistonly-1.0.tar.gz", directory)
    assert invoke(["index", str(directory)]).exit_code == 0
    for name in ("alpha-1.0", "gamma-1.0"):
        (directory / f"{name}-py3-none-any.whl").unlink()
    for name in ("delta-1.0", "evolving-1.0"):
        shutil.copy(FIXTURES / "files" / f"{name}-py3-none-any.whl", directory)
    return Scenario(name="index", args=("index", ROOT), pristine=directory, wheelhouse=False)


SCENARIOS: dict[str, Callable[[Path, IndexServer], Scenario]] = {
    "build-new": build_new,
    "build": build_over,
    "refresh": refresh,
    "prune": prune,
    "fetch": fetch,
    "merge": merge,
    "index": index,
}
