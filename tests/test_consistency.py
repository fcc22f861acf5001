"""The all-or-nothing checker sees a mixed or broken tree, and takes the old one and the new."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from consistency import Snapshot, check_consistent, differences, snapshot
from indexserver import IndexServer
from killpoints import SCENARIOS, invoke

OLD_TARGET = "cp311-manylinux_2_28_x86_64"


@pytest.fixture
def refreshed(tmp_path: Path, index_server: IndexServer) -> tuple[Path, Path]:
    """A wheelhouse before a refresh that moves pins on both targets, and after it."""
    scenario = SCENARIOS["refresh"](tmp_path / "setup", index_server)
    after = tmp_path / "after"
    scenario.start(after)
    assert invoke(scenario.command(after)).exit_code == 0
    return scenario.pristine, after


def _old_lock(before: Path, tree: Path) -> None:
    shutil.copy(before / "locks" / f"{OLD_TARGET}.txt", tree / "locks" / f"{OLD_TARGET}.txt")


def _file_gone(before: Path, tree: Path) -> None:
    (tree / "evolving-1.1-py3-none-any.whl").unlink()


def _page_gone(before: Path, tree: Path) -> None:
    shutil.rmtree(tree / "simple" / "evolving")


def _truncated(before: Path, tree: Path) -> None:
    wheel = tree / "modern-2.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes()[:100])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_old_lock, f"mixed set, neither wholly old nor wholly new; old: locks/{OLD_TARGET}.txt"),
        (_file_gone, "simple/evolving/index.html links to ../../evolving-1.1-py3-none-any.whl"),
        (_page_gone, "simple/index.html links to evolving/: missing"),
        (_truncated, "modern-2.0-py3-none-any.whl: under a final name with bytes neither"),
    ],
    ids=["lock-from-before-beside-lock-from-after", "missing-file", "missing-page", "truncated"],
)
def test_the_checker_sees_a_mixed_or_broken_tree(
    refreshed: tuple[Path, Path],
    tmp_path: Path,
    damage: Callable[[Path, Path], None],
    expected: str,
) -> None:
    before, after = refreshed
    old, new = snapshot(before), snapshot(after)
    tree = Path(shutil.copytree(after, tmp_path / "damaged"))
    damage(before, tree)
    problems = check_consistent(tree, old, new)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_the_checker_takes_the_old_tree_and_the_new(refreshed: tuple[Path, Path]) -> None:
    before, after = refreshed
    old, new = snapshot(before), snapshot(after)
    assert old.visible != new.visible
    assert check_consistent(before, old, new) == []
    assert check_consistent(after, old, new) == []


def test_the_end_check_sees_leftovers_and_differences(refreshed: tuple[Path, Path]) -> None:
    before, after = refreshed
    clean: Snapshot = snapshot(after)
    (after / ".modern-2.0-py3-none-any.whl.part-0a1b2c").write_bytes(b"half")
    (after / "simple" / ".index.html.x1y2.tmp").write_bytes(b"<html>")
    assert differences(snapshot(after), clean) == [
        "leftovers: .modern-2.0-py3-none-any.whl.part-0a1b2c, simple/.index.html.x1y2.tmp"
    ]
    assert differences(snapshot(before), clean)[0].startswith("set differs from a run never")


def test_tolerated_problems_are_those_the_start_already_had(refreshed: tuple[Path, Path]) -> None:
    """A file removed by hand before ``index`` breaks links no command can be blamed for."""
    before, after = refreshed
    old, new = snapshot(before), snapshot(after)
    _file_gone(before, after)
    problems = check_consistent(after, old, new)
    assert problems
    assert check_consistent(after, old, new, tolerate=problems) == []
