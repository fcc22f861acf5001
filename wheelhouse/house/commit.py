"""All-or-nothing commits of a wheelhouse's manifest, ``locks/``, ``constraints/`` and ``simple/``.

A write command stages the new pieces in ``.wheelhouse-commit/new/`` beside
the live ones, then writes a small commit record naming each staged piece by
its inode. From that moment the commit is decided: the pieces are swapped in
(directories by an atomic exchange where the kernel offers one, else by two
renames), files no longer needed are deleted, and the record goes last. A kill
before the record leaves the old set and a stage that the next write command
throws away; a kill after it leaves a record that the next write command rolls
forward, and that read-only commands follow (:func:`committed_path`), so every
command sees wholly the old set or wholly the new one. Distribution files are
never part of a commit: they go into place (complete, by rename) before it, and
are deleted only after it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wheelhouse.house.files import naming
from wheelhouse.house.layout import COMMIT_DIR, MANIFEST, PIECES

__all__ = [
    "Commit",
    "committed_path",
    "committing",
    "interrupted",
    "recover",
]

_RECORD = "COMMIT"
_RECORD_FORMAT = 1
_RENAME_EXCHANGE = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class Record:
    """A decided commit: the inode of each staged piece, and the files to delete after."""

    command: str
    pieces: dict[str, int]
    delete: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        data = {
            "format": _RECORD_FORMAT,
            "command": self.command,
            "pieces": self.pieces,
            "delete": list(self.delete),
        }
        return json.dumps(data, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Record:
        """The record; ValueError when it is not one this version wrote."""
        try:
            raw = json.loads(data)
        except RecursionError:
            raise ValueError("not a commit record") from None
        if not isinstance(raw, dict):
            raise ValueError("not a commit record")
        pieces, delete = raw.get("pieces"), raw.get("delete", [])
        if raw.get("format") != _RECORD_FORMAT or not isinstance(pieces, dict):
            raise ValueError("not a commit record")
        if not set(pieces) <= set(PIECES) or not all(isinstance(v, int) for v in pieces.values()):
            raise ValueError("not a commit record")
        if not isinstance(delete, list) or not all(_is_plain_name(n) for n in delete):
            raise ValueError("not a commit record")
        return cls(command=str(raw.get("command", "")), pieces=pieces, delete=tuple(delete))


def _is_plain_name(name: object) -> bool:
    """A file directly in the wheelhouse: what a record may ask to delete."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name


@dataclass(kw_only=True)
class Commit:
    """A commit being prepared: write the new pieces under :meth:`stage`, then :meth:`apply`."""

    root: Path
    command: str
    delete: set[str] = field(default_factory=set)

    @property
    def base(self) -> Path:
        return self.root / COMMIT_DIR

    def stage(self, piece: str) -> Path:
        """Where the new ``piece`` is written; directories start empty."""
        if piece not in PIECES:
            raise ValueError(f"{piece} is not a piece of a commit")
        path = self.base / "new" / piece
        if piece != MANIFEST:
            path.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def seed(self, piece: str) -> Path:
        """The staged ``piece``, first made a copy of the live one (by hard links, cheaply).

        Every write replaces a file by rename, never in place, so a staged file
        linked to a live one is replaced, never changed through the link.
        """
        path = self.base / "new" / piece
        if os.path.lexists(path):
            return path
        live = self.root / piece
        with naming(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            if live.is_dir():
                shutil.copytree(live, path, copy_function=_link_or_copy)
            elif live.is_file():
                _link_or_copy(str(live), str(path))
            return self.stage(piece)

    def staged(self) -> dict[str, Path]:
        """The pieces staged so far."""
        return {piece: path for piece in PIECES if (path := self.staged_path(piece)) is not None}

    def staged_path(self, piece: str) -> Path | None:
        """Where ``piece`` is staged; None while it is not."""
        path = self.base / "new" / piece
        return path if os.path.lexists(path) else None

    def apply(self) -> None:
        """Decide the commit (write its record), then carry it out."""
        with naming(self.base):
            self._apply()

    def _apply(self) -> None:
        staged = self.staged()
        record = Record(
            command=self.command,
            pieces={piece: os.lstat(path).st_ino for piece, path in staged.items()},
            delete=tuple(sorted(self.delete)),
        )
        _fsync_tree(self.base / "new")
        _write_record(self.base, record)
        _roll_forward(self.root, record)

    def discard(self) -> None:
        """Throw the stage away: the live set stays as it was."""
        shutil.rmtree(self.base, ignore_errors=True)


def begin(root: Path, command: str) -> Commit:
    """A fresh commit; any stage left by a killed run is finished or thrown away first."""
    recover(root)
    return Commit(root=root, command=command)


@contextlib.contextmanager
def committing(root: Path, command: str) -> Iterator[Commit]:
    """Stage inside the block; on success commit, on any error throw the stage away."""
    commit = begin(root, command)
    try:
        yield commit
    except BaseException:
        commit.discard()
        raise
    commit.apply()


def _read_record(root: Path) -> Record | None:
    path = root / COMMIT_DIR / _RECORD
    try:
        return Record.from_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError):
        return None  # a torn record was never renamed into place: the commit was not decided


def interrupted(root: Path) -> str | None:
    """The command whose commit a kill interrupted, when one waits to be rolled forward."""
    record = _read_record(root)
    return (record.command or "a write command") if record else None


def committed_path(root: Path, piece: str) -> Path:
    """Where a reader finds ``piece`` of the committed set, before any recovery has run.

    After a decided but unfinished commit, a piece not yet swapped in is read
    from the stage; otherwise it is the live path.
    """
    live = root / piece
    record = _read_record(root)
    if record is None or piece not in record.pieces:
        return live
    staged = root / COMMIT_DIR / "new" / piece
    if _inode(live) != record.pieces[piece] and _inode(staged) == record.pieces[piece]:
        return staged
    return live


def recover(root: Path) -> bool:
    """Finish a decided commit, or throw away an undecided stage; True if there was either."""
    base = root / COMMIT_DIR
    if not os.path.lexists(base):
        return False
    record = _read_record(root)
    if record is not None:
        _roll_forward(root, record)
    shutil.rmtree(base, ignore_errors=True)
    return True


def _roll_forward(root: Path, record: Record) -> None:
    """Swap in every staged piece not yet live, delete what the commit drops, end the commit."""
    base = root / COMMIT_DIR
    for piece in PIECES:
        if piece in record.pieces:
            _swap_in(base / "new" / piece, root / piece, base / "old" / piece, record.pieces[piece])
    for name in record.delete:
        with contextlib.suppress(FileNotFoundError):
            (root / name).unlink()
    (base / _RECORD).unlink(missing_ok=True)
    _fsync_dir(base)
    shutil.rmtree(base, ignore_errors=True)


def _swap_in(new: Path, live: Path, old: Path, inode: int) -> None:
    """Make ``live`` the staged piece (known by its inode); recovery may repeat it."""
    if _inode(live) == inode:
        return
    if _inode(new) != inode:
        raise OSError(f"the staged {live.name} of an interrupted commit is missing")
    if not os.path.lexists(live) or not new.is_dir():
        os.replace(new, live)  # a file, or a directory with nothing in the way
    elif not _exchange(new, live):
        old.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(old, ignore_errors=True)
        os.rename(live, old)
        os.rename(new, live)
    _fsync_dir(live.parent)


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _inode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_ino
    except FileNotFoundError:
        return None


def _write_record(base: Path, record: Record) -> None:
    temp = base / f".{_RECORD}.tmp"
    with open(temp, "wb") as stream:
        stream.write(record.to_json())
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, base / _RECORD)
    _fsync_dir(base)


def _fsync_tree(top: Path) -> None:
    """Flush every staged file before the record, so the record never outlives its stage."""
    if not top.is_dir():
        return
    for directory, _dirs, files in os.walk(top):
        for name in files:
            _fsync_file(Path(directory, name))
        _fsync_dir(Path(directory))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":  # directories cannot be opened for fsync there
        return
    with contextlib.suppress(OSError):
        _fsync_file(path)


@functools.cache
def _load_renameat2() -> object | None:
    """libc's ``renameat2``, looked up on the first swap: finding libc runs ``ldconfig``."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    function = getattr(libc, "renameat2", None)
    if function is not None:
        function.argtypes = [
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_uint,
        ]
        function.restype = ctypes.c_int
    return function


_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not offered."""
    if (renameat2 := _load_renameat2()) is None:
        return False
    result = renameat2(  # type: ignore[operator]
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    return bool(result == 0)
