"""Pin diffs: the pure diff and its renderings, then `wheelhouse diff` on real builds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from helpers import invoke, ok
from indexserver import IndexServer
from packaging.utils import canonicalize_name

from wheelhouse.model.diff import (
    Change,
    TargetDiff,
    diff_pins,
    has_changes,
    render_json,
    render_markdown,
    render_text,
)

LINUX = "manylinux_2_28_x86_64"
TARGET = f"cp312-{LINUX}"


def failed(result: Result) -> str:
    """The stderr of a run that failed cleanly: exit 1, one error line and a hint."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: "), result.stderr
    assert len(lines) == 2 and "Traceback" not in result.output
    return lines[0]


# -- the pure diff -------------------------------------------------------------------------


def test_change_kinds_follow_pep_440() -> None:
    assert Change(name="a", old=None, new="1").kind == "added"
    assert Change(name="a", old="1", new=None).kind == "removed"
    assert Change(name="a", old="1.9", new="1.10").kind == "upgraded"  # not string order
    assert Change(name="a", old="2.0", new="2.0rc1").kind == "downgraded"


def test_diff_pins_sorts_targets_and_names_and_tells_each_status() -> None:
    old = {"t2": {"b": "1.0", "a": "1.0", "gone": "3"}, "t1": {"x": "1"}, "t0": {"same": "1"}}
    new = {"t2": {"a": "1.0.0", "b": "0.9", "new": "1"}, "t3": {"y": "2"}, "t0": {"same": "1"}}
    assert diff_pins(old, new) == [
        TargetDiff(target="t0", status="unchanged"),
        TargetDiff(target="t1", status="removed", changes=(Change(name="x", old="1", new=None),)),
        TargetDiff(
            target="t2",
            status="changed",
            changes=(
                Change(name="b", old="1.0", new="0.9"),
                Change(name="gone", old="3", new=None),
                Change(name="new", old=None, new="1"),
            ),
        ),
        TargetDiff(target="t3", status="added", changes=(Change(name="y", old=None, new="2"),)),
    ]


def test_normalized_names_are_accepted() -> None:
    diffs = diff_pins({"t": {canonicalize_name("A_b"): "1"}}, {"t": {"a-b": "2"}})
    assert diffs[0].changes == (Change(name="a-b", old="1", new="2"),)


def test_no_changes_renders_plainly() -> None:
    diffs = diff_pins({"t": {"a": "1"}}, {"t": {"a": "1"}})
    assert not has_changes(diffs)
    assert list(render_text(diffs)) == ["no pin changes"]
    assert list(render_markdown(diffs)) == ["## Pin changes", "", "No pin changes."]
    assert json.loads(render_json(diffs)) == {
        "schema": 1,
        "changed": False,
        "targets": [{"target": "t", "status": "unchanged", "changes": []}],
    }


def test_renderings_of_every_kind_of_change() -> None:
    diffs = diff_pins(
        {"t": {"a": "1", "b": "2", "c": "3"}, "old": {"z": "1"}},
        {"t": {"a": "2", "b": "1", "d": "4"}},
    )
    assert list(render_text(diffs)) == [
        "old: target removed (1 pin)",
        "t: a 1 -> 2 (upgraded)",
        "t: b 2 -> 1 (downgraded)",
        "t: c 3 (removed)",
        "t: d 4 (added)",
    ]
    markdown = list(render_markdown(diffs))
    assert "5 pin changes in 2 targets." in markdown
    assert "### `old` (target removed)" in markdown
    assert "| c | 3 | - | removed |" in markdown
    assert render_json(diffs) == render_json(list(reversed(diffs)))  # sorted, stable


# -- `wheelhouse diff` on two builds: evolving 1.0 (before 1.1's upload) and 1.1 -----------


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("diff")
    with IndexServer() as server:
        before = min(entry.uploaded for entry in server.entries("evolving"))
        common = ["-q", "--index-url", server.url, "evolving", "--python", "3.12"]
        common += ["--platform", LINUX]
        ok(invoke("build", "-w", str(root / "old"), *common, "--exclude-newer", before.isoformat()))
        ok(invoke("build", "-w", str(root / "new"), *common))
    return root / "old", root / "new"


def test_text_shows_exactly_the_upgrade(builds: tuple[Path, Path]) -> None:
    old, new = builds
    result = ok(invoke("diff", str(old), str(new)))
    assert result.stdout == f"{TARGET}: evolving 1.0 -> 1.1 (upgraded)\n"
    assert ok(invoke("diff", str(new), str(old))).stdout.endswith("1.1 -> 1.0 (downgraded)\n")


def test_markdown_is_a_table_for_a_merge_request(builds: tuple[Path, Path]) -> None:
    result = ok(invoke("diff", "--format", "markdown", *map(str, builds)))
    assert result.stdout == (
        "## Pin changes\n\n1 pin change in 1 target.\n\n"
        f"### `{TARGET}`\n\n"
        "| package | old | new | change |\n| --- | --- | --- | --- |\n"
        "| evolving | 1.0 | 1.1 | upgraded |\n"
    )


def test_json_follows_schema_1(builds: tuple[Path, Path]) -> None:
    result = ok(invoke("diff", "--format", "json", *map(str, builds)))
    change = {"name": "evolving", "old": "1.0", "new": "1.1", "kind": "upgraded"}
    assert json.loads(result.stdout) == {
        "schema": 1,
        "changed": True,
        "targets": [{"target": TARGET, "status": "changed", "changes": [change]}],
    }


def test_exit_code_only_when_asked(builds: tuple[Path, Path]) -> None:
    old, new = builds
    assert invoke("diff", "--exit-code", str(old), str(new)).exit_code == 1
    same = ok(invoke("diff", "--exit-code", str(new), str(new)))
    assert same.stdout == "no pin changes\n"


def test_two_lock_files_are_one_target_named_after_new(
    builds: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = builds
    renamed = tmp_path / "before.txt"
    renamed.write_bytes((old / "locks" / f"{TARGET}.txt").read_bytes())
    result = ok(invoke("diff", str(renamed), str(new / "locks" / f"{TARGET}.txt")))
    assert result.stdout == f"{TARGET}: evolving 1.0 -> 1.1 (upgraded)\n"


def test_wheelhouse_against_a_lock_file(builds: tuple[Path, Path]) -> None:
    old, new = builds
    result = ok(invoke("diff", str(old), str(new / "locks" / f"{TARGET}.txt")))
    assert result.stdout == f"{TARGET}: evolving 1.0 -> 1.1 (upgraded)\n"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "missing", "no such file or directory"),
        (lambda tmp: tmp, "a directory without wheelhouse.toml"),
        (lambda tmp: _write(tmp / "notes.md", "alpha==1\n"), "named <target>.txt"),
        (lambda tmp: _write(tmp / "cp312-x.txt", "this is prose\n"), "does not read as a lock"),
        (lambda tmp: _write(tmp / "cp312-x.txt", b"\xff\xfe\x00"), "does not read as a lock"),
    ],
)
def test_bad_old_or_new_is_one_error_line(
    builds: tuple[Path, Path], tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    bad = make(tmp_path)
    for args in ([str(bad), str(builds[1])], [str(builds[0]), str(bad)]):
        line = failed(invoke("diff", *args))
        assert line.startswith(f"error: {bad} is neither a wheelhouse nor a lock file")
        assert reason in line


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path
