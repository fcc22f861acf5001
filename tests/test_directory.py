"""The wheelhouse directory: manifest and lock reading, the write lock, atomic copies."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from wheelhouse.house import directory as store
from wheelhouse.house import locking
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import UnreadableFile, WheelhouseBusy
from wheelhouse.house.files import atomic_copy
from wheelhouse.house.reading import load_toml

LOCK = "alpha==1.0 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via -r requirements.txt\n"


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Wheelhouse:
    """A new, empty wheelhouse (a manifest and nothing else)."""
    return Wheelhouse.for_writing(tmp_path / "wh")


def test_load_toml_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[files\n")
    with pytest.raises(UnreadableFile, match=f"cannot read {bad}: "):
        load_toml(bad)
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(UnreadableFile):
        load_toml(bad)
    with pytest.raises(UnreadableFile, match="No such file"):
        load_toml(tmp_path / "missing.toml")
    good = tmp_path / "good.toml"
    good.write_text('a = "b"\n')
    assert load_toml(good) == {"a": "b"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[files\n", "Expected ']'"),
        ('files = "x"\n', "[files] is not a table of tables"),
        ('[files]\n"a.whl" = 1\n', "[files] is not a table of tables"),
        ('[built."a.whl"]\nsdist = 1\n', "[built] is not a table of tables"),
        ('[build-requirements.t]\nfiles = "x"\n', "[build-requirements] is not a table"),
        ("targets = [1]\n", "[[targets]] is not a list of tables"),
    ],
)
def test_a_malformed_manifest_is_unreadable(wheelhouse: Wheelhouse, text: str, reason: str) -> None:
    wheelhouse.manifest_path.write_text(text)
    with pytest.raises(UnreadableFile) as caught:
        wheelhouse.read_manifest()
    assert caught.value.path == str(wheelhouse.manifest_path)
    assert reason in caught.value.reason


def test_no_manifest_reads_as_empty(tmp_path: Path) -> None:
    assert Wheelhouse(tmp_path).read_manifest() == {}


def test_a_malformed_lock_is_unreadable(wheelhouse: Wheelhouse) -> None:
    wheelhouse.locks_dir.mkdir()
    wheelhouse.lock_path("cp312-win_amd64").write_text(LOCK)
    assert wheelhouse.read_pins() == {"cp312-win_amd64": {"alpha": "1.0"}}
    wheelhouse.lock_path("cp312-win_amd64").write_text("not a pin at all\n")
    with pytest.raises(UnreadableFile) as caught:
        wheelhouse.read_pins()
    assert caught.value.path == str(wheelhouse.lock_path("cp312-win_amd64"))


def test_only_target_names_are_locks(wheelhouse: Wheelhouse) -> None:
    wheelhouse.locks_dir.mkdir()
    for name in ("cp312-win_amd64", "README", ".cp311-win_amd64", "notes"):
        (wheelhouse.locks_dir / f"{name}.txt").write_text(LOCK)
    assert wheelhouse.lock_targets() == ["cp312-win_amd64"]
    assert list(wheelhouse.read_pins()) == ["cp312-win_amd64"]


def test_a_second_writer_is_refused(wheelhouse: Wheelhouse) -> None:
    other = Wheelhouse(wheelhouse.root)
    with wheelhouse.exclusive(), pytest.raises(WheelhouseBusy), other.exclusive():
        pass
    with wheelhouse.exclusive():
        pass  # released


class FakeMsvcrt(types.ModuleType):
    """Windows' byte-range locks, as far as ``exclusive`` uses them."""

    LK_NBLCK, LK_UNLCK = 2, 0

    def __init__(self, *, busy: bool) -> None:
        super().__init__("msvcrt")
        self.busy = busy
        self.calls: list[tuple[int, int]] = []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        self.calls.append((mode, nbytes))
        if self.busy and mode == self.LK_NBLCK:
            raise PermissionError(13, "Permission denied")


def _store_on_windows(monkeypatch: pytest.MonkeyPatch, msvcrt: FakeMsvcrt) -> Any:
    """The store, with a private copy of its locking module imported as on Windows."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "msvcrt", msvcrt)
    spec = importlib.util.spec_from_file_location("locking_on_windows", locking.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(store, "try_lock", module.try_lock)
    monkeypatch.setattr(store, "unlock", module.unlock)
    return store


@pytest.mark.parametrize("busy", [False, True])
def test_exclusive_uses_byte_range_locks_on_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, busy: bool
) -> None:
    msvcrt = FakeMsvcrt(busy=busy)
    windows = _store_on_windows(monkeypatch, msvcrt)
    if busy:
        with pytest.raises(WheelhouseBusy), windows.Wheelhouse(tmp_path).exclusive():
            pass
        assert msvcrt.calls == [(msvcrt.LK_NBLCK, 1)]
    else:
        with windows.Wheelhouse(tmp_path).exclusive():
            assert msvcrt.calls == [(msvcrt.LK_NBLCK, 1)]
        assert msvcrt.calls[-1] == (msvcrt.LK_UNLCK, 1)


def test_atomic_copy(tmp_path: Path) -> None:
    source, dest = tmp_path / "source", tmp_path / "dest"
    source.write_bytes(b"bytes")
    assert atomic_copy(source, dest)
    assert dest.read_bytes() == b"bytes" and dest.stat().st_ino != source.stat().st_ino
    assert dest.stat().st_mode & 0o777 == 0o644
    source.write_bytes(b"other")
    assert not atomic_copy(source, dest, sha256="00" * 64)
    assert dest.read_bytes() == b"bytes"  # a copy with another digest never lands
    linked = tmp_path / "linked"
    assert atomic_copy(source, linked, link=True)
    assert linked.stat().st_ino == source.stat().st_ino
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dest", "linked", "source"]


def test_atomic_copy_leaves_no_partial_file(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        atomic_copy(tmp_path / "missing", tmp_path / "dest")
    assert list(tmp_path.iterdir()) == []
    os.mkdir(tmp_path / "dir")
    with pytest.raises(OSError):
        atomic_copy(tmp_path / "dir", tmp_path / "dest")
    assert [path.name for path in tmp_path.iterdir()] == ["dir"]
