"""All-or-nothing commits: a stop at any step leaves the old set or the new, never a mix."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wheelhouse.house import commit as commit_module
from wheelhouse.house.commit import committed_path, committing, interrupted, recover
from wheelhouse.house.layout import COMMIT_DIR, PIECES

OLD = {
    "wheelhouse.toml": "old manifest",
    "locks/a.txt": "old a",
    "locks/b.txt": "old b",
    "constraints/a.txt": "old c",
    "simple/index.html": "old root",
    "simple/p/index.html": "old p",
}
NEW = {
    "wheelhouse.toml": "new manifest",
    "locks/a.txt": "new a",
    "constraints/a.txt": "new c",
    "simple/index.html": "new root",
    "simple/q/index.html": "new q",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def _tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.relative_to(root).as_posix().startswith(COMMIT_DIR)
    }


def _seen(root: Path) -> dict[str, str]:
    """The set as a read-only command sees it: following an undone commit's record."""
    seen: dict[str, str] = {}
    for piece in PIECES:
        path = committed_path(root, piece)
        if path.is_file():
            seen[piece] = path.read_text()
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file():
                    seen[f"{piece}/{file.relative_to(path).as_posix()}"] = file.read_text()
    return seen


def _run_commit(root: Path) -> None:
    with committing(root, "build") as commit:
        for relative, text in NEW.items():
            piece, _, rest = relative.partition("/")
            target = commit.stage(piece)
            target = target / rest if rest else target
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        commit.delete.add("gone.whl")


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even ``except Exception``."""


_MUTATIONS = ("rename", "replace", "unlink", "rmdir", "remove")


@pytest.fixture
def kill_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], list[int]]]:
    """Make the N-th file mutation raise :class:`_Killed`; returns the live call counter."""
    counter = [0]
    limit = [0]

    def wrap(name: str) -> None:
        real = getattr(os, name)

        def mutation(*args: Any, **kwargs: Any) -> Any:
            counter[0] += 1
            if counter[0] == limit[0]:
                raise _Killed
            return real(*args, **kwargs)

        monkeypatch.setattr(os, name, mutation)

    for name in _MUTATIONS:
        wrap(name)
    monkeypatch.setattr(commit_module, "_exchange", _counted_exchange(counter, limit))

    def arm(n: int) -> list[int]:
        counter[0], limit[0] = 0, n
        return counter

    yield arm


def _counted_exchange(counter: list[int], limit: list[int]) -> Callable[[Path, Path], bool]:
    real = commit_module._exchange

    def exchange(first: Path, second: Path) -> bool:
        counter[0] += 1
        if counter[0] == limit[0]:
            raise _Killed
        return real(first, second)

    return exchange


def test_a_commit_replaces_every_piece(tmp_path: Path) -> None:
    _write(tmp_path, {**OLD, "gone.whl": "x", "kept.whl": "y"})
    _run_commit(tmp_path)
    assert _tree(tmp_path) == {**NEW, "kept.whl": "y"}
    assert not (tmp_path / COMMIT_DIR).exists()


def test_a_failure_while_staging_leaves_the_old_set(tmp_path: Path) -> None:
    _write(tmp_path, OLD)
    with pytest.raises(RuntimeError), committing(tmp_path, "build") as commit:
        (commit.stage("locks") / "a.txt").write_text("new a")
        raise RuntimeError("disk full")
    assert _tree(tmp_path) == OLD
    assert not (tmp_path / COMMIT_DIR).exists()


def test_every_kill_point_leaves_the_old_or_the_new_set(
    tmp_path: Path, kill_at: Callable[[int], list[int]]
) -> None:
    pristine = tmp_path / "pristine"
    _write(pristine, {**OLD, "gone.whl": "x"})
    counter = kill_at(0)
    probe = tmp_path / "probe"
    shutil.copytree(pristine, probe)
    _run_commit(probe)
    points = counter[0]
    assert points >= 5
    new = {**NEW}
    for n in range(1, points + 1):
        root = tmp_path / f"kill-{n}"
        shutil.copytree(pristine, root)
        kill_at(n)
        with pytest.raises(_Killed):
            _run_commit(root)
        kill_at(0)
        seen = _seen(root)
        assert seen in ({k: v for k, v in OLD.items()}, new), f"mixed set after kill {n}: {seen}"
        decided = interrupted(root) is not None
        recover(root)
        tree = _tree(root)
        tree.pop("gone.whl", None)
        assert tree == (new if decided or seen == new else OLD), f"recovery after kill {n}"
        assert not (root / COMMIT_DIR).exists()


def test_the_swap_works_without_an_atomic_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commit_module, "_exchange", lambda first, second: False)
    _write(tmp_path, OLD)
    _run_commit(tmp_path)
    assert _tree(tmp_path) == NEW


def test_a_torn_record_means_no_commit(tmp_path: Path) -> None:
    _write(tmp_path, OLD)
    stage = tmp_path / COMMIT_DIR / "new" / "locks"
    stage.mkdir(parents=True)
    (stage / "a.txt").write_text("new a")
    (tmp_path / COMMIT_DIR / "COMMIT").write_text('{"format": 1, "pie')
    assert interrupted(tmp_path) is None
    assert recover(tmp_path)
    assert _tree(tmp_path) == OLD


def test_a_record_cannot_delete_outside_the_wheelhouse(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        commit_module.Record.from_json(b'{"format": 1, "pieces": {}, "delete": ["../x"]}')
