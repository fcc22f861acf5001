"""The wheelhouse directory: its files by their layout, read, written and locked.

Names come from :mod:`wheelhouse.house.layout`. Every final file (manifest,
locks, constraints, pages, metadata files) is written through one step,
:meth:`Wheelhouse.write`: atomically (a temporary name in the same directory,
then ``os.replace``), and only when its bytes change. Inside
:meth:`Wheelhouse.committing`, writes to the manifest, ``locks/``,
``constraints/`` and ``simple/`` go to a stage that is committed all at once
(:mod:`wheelhouse.house.commit`), and removals of other files wait until after
the commit. A write command holds an exclusive lock on the directory, so two
never interleave, and taking it first finishes or undoes what a killed command
left. A manifest or lock that does not parse is an :class:`UnreadableFile`,
never a raw parser error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import tomli_w

from wheelhouse.house import commit as commits
from wheelhouse.house.errors import NotAWheelhouse, UnreadableFile, WheelhouseBusy
from wheelhouse.house.files import atomic_copy, atomic_write, sha256_of
from wheelhouse.house.layout import (
    COMMIT_DIR,
    CONSTRAINTS,
    LOCK_FILE,
    LOCKS,
    MANIFEST,
    MATRIX_CONSTRAINTS,
    PIECES,
    SCRATCH_DIR,
    WORK_DIRS,
    constraints_name,
    is_temporary,
    lock_name,
    pylock_name,
    target_files,
)
from wheelhouse.house.locking import try_lock, unlock
from wheelhouse.house.reading import check_manifest, load_toml, lock_pins, read_lock
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.locks import (
    Lock,
    constraint_pin,
    pylock_dict,
    render_constraints,
    render_matrix_constraints,
    render_requirements,
)
from wheelhouse.model.targets import Target, parse_target_name

__all__ = ["FORMAT", "Wheelhouse", "is_claimed"]

#: The manifest's format version.
FORMAT = 1


def _is_target_name(name: str) -> bool:
    try:
        parse_target_name(name)
    except ValueError:
        return False
    return True


def is_claimed(root: Path) -> bool:
    """Whether ``root`` is empty, or claimed by a build of ours that has not committed yet."""
    return (root / LOCK_FILE).is_file() or not any(root.iterdir())


def _lines(lines: Iterable[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


class Wheelhouse:
    """A wheelhouse directory: distribution files, locks, index and manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._commit: commits.Commit | None = None
        #: Leftovers of interrupted writes that taking the write lock removed.
        self.recovered: list[str] = []

    @classmethod
    def open(cls, root: Path) -> Wheelhouse:
        """An existing wheelhouse, for reading: one whose manifest says it is one."""
        if not root.is_dir():
            reason = "it does not exist" if not root.exists() else "it is not a directory"
            raise NotAWheelhouse(str(root), reason)
        wheelhouse = cls(root)
        if not wheelhouse.manifest_path.is_file():
            raise NotAWheelhouse(str(root), f"it has no {MANIFEST}")
        if not wheelhouse.is_ours(strict=True):
            raise NotAWheelhouse(str(root), f"its {MANIFEST} is not a wheelhouse manifest")
        return wheelhouse

    @classmethod
    def for_writing(cls, root: Path) -> Wheelhouse:
        """A wheelhouse to (re)build: new, empty, or one that already is a wheelhouse."""
        if root.exists() and not root.is_dir():
            raise NotAWheelhouse(str(root), "it is not a directory")
        wheelhouse = cls(root)
        if root.is_dir() and not is_claimed(root) and not wheelhouse.is_ours(strict=True):
            raise NotAWheelhouse(str(root))
        root.mkdir(parents=True, exist_ok=True)
        # Claim the directory at once with the lock file, so that a first build
        # killed before its first commit leaves a directory the next build takes
        # as its own, and no manifest of a wheelhouse that was never built.
        (root / LOCK_FILE).touch()
        return wheelhouse

    def is_ours(self, *, strict: bool = False) -> bool:
        """Whether the manifest parses and says it is a wheelhouse's.

        ``strict`` raises :class:`UnreadableFile` for a manifest that does not parse,
        so the user learns what is wrong with it rather than that it is not ours.
        """
        if not self.manifest_path.is_file():
            return False
        try:
            table = load_toml(self.manifest_path).get("wheelhouse")
        except UnreadableFile:
            if strict:
                raise
            return False
        return isinstance(table, dict) and isinstance(table.get("format"), int)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the directory's write lock; fail at once if another process holds it.

        Taking it finishes or undoes a commit that a killed command left, and
        removes that command's temporary files and scratch space.
        """
        with (self.root / LOCK_FILE).open("a") as handle:
            if not try_lock(handle):
                raise WheelhouseBusy(str(self.root))
            try:
                self.recovered = self.recover()
                yield
            finally:
                unlock(handle)

    def recover(self) -> list[str]:
        """Finish or undo an interrupted commit and remove leftovers; what was removed."""
        removed = [COMMIT_DIR] if commits.recover(self.root) else []
        for path in self.leftovers():
            path.unlink(missing_ok=True)
            removed.append(path.relative_to(self.root).as_posix())
        scratch = self.root / SCRATCH_DIR
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
            removed.append(SCRATCH_DIR)
        return removed

    def leftovers(self) -> list[Path]:
        """Temporary files of interrupted writes, in the wheelhouse and its directories."""
        found = [p for p in self.root.iterdir() if p.is_file() and is_temporary(p.name)]
        for name in WORK_DIRS:
            if (self.root / name).is_dir():
                found += [p for p in (self.root / name).rglob(".*") if is_temporary(p.name)]
        return sorted(found)

    def interrupted(self) -> str | None:
        """The command whose commit was interrupted and waits to be finished, if any."""
        return commits.interrupted(self.root)

    @contextlib.contextmanager
    def committing(self, command: str) -> Iterator[None]:
        """Stage every write of the block; commit them all at once when it ends without error."""
        with commits.committing(self.root, command) as commit:
            self._commit = commit
            try:
                yield
            finally:
                self._commit = None

    def piece(self, name: str) -> Path:
        """Where a piece (manifest, ``locks/``, ...) is now: staged in a commit, else committed."""
        staged = self._commit.staged_path(name) if self._commit is not None else None
        return staged or commits.committed_path(self.root, name)

    @property
    def manifest_path(self) -> Path:
        return self.piece(MANIFEST)

    @property
    def locks_dir(self) -> Path:
        return self.piece(LOCKS)

    @property
    def constraints_dir(self) -> Path:
        return self.piece(CONSTRAINTS)

    def path(self, relative: str) -> Path:
        """The path of a file given by its name, or its POSIX path inside the wheelhouse."""
        head, _, rest = relative.partition("/")
        if head in PIECES:
            return self.piece(head) / rest if rest else self.piece(head)
        return self.root / relative

    def present(self) -> set[str]:
        """Names of the regular files directly in the wheelhouse, less those a commit drops."""
        with os.scandir(self.root) as entries:
            names = {entry.name for entry in entries if entry.is_file()}
        return names - self._commit.delete if self._commit is not None else names

    def _writable(self, relative: str) -> Path:
        head, _, rest = relative.partition("/")
        if self._commit is None or head not in PIECES:
            return self.root / relative
        staged = self._commit.seed(head)
        return staged / rest if rest else staged

    def write(self, relative: str, data: bytes) -> bool:
        """Write a final file unless it already holds ``data``; True when written.

        The one step by which manifest, locks, constraints, pages and metadata
        files change, each atomically, and inside :meth:`committing` all together.
        """
        return atomic_write(self._writable(relative), data)

    def remove(self, relative: str) -> None:
        """Remove a file of the wheelhouse; inside a commit, a distribution file goes after it."""
        head = relative.partition("/")[0]
        if self._commit is not None and head not in PIECES:
            self._commit.delete.add(relative)
            return
        self._writable(relative).unlink(missing_ok=True)

    def add_file(self, filename: str, source: Path) -> None:
        """Put a copy of the distribution file ``source`` in place under ``filename``."""
        atomic_copy(source, self.path(filename))

    def read_manifest(self) -> dict[str, Any]:
        """The manifest ({} when there is none); :class:`UnreadableFile` when malformed."""
        if not self.manifest_path.is_file():
            return {}
        manifest = load_toml(self.manifest_path)
        check_manifest(str(self.manifest_path), manifest)
        return manifest

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        self.write(MANIFEST, tomli_w.dumps(manifest).encode("utf-8"))

    def has_file(self, file: DistFile, recorded: Mapping[str, Any]) -> bool:
        """Whether ``file`` is already here, trusting the manifest's size and hash."""
        path = self.path(file.filename)
        try:
            size = path.stat().st_size
        except OSError:
            return False
        entry = recorded.get(file.filename, {})
        if file.sha256 and entry.get("sha256") == file.sha256 and entry.get("size") == size:
            return True
        return file.sha256 is not None and sha256_of(path) == file.sha256

    def write_locks(self, locks: Iterable[Lock], *, created_by: str) -> list[Path]:
        """Write every target's locks; remove locks of targets no longer built."""
        written: list[Path] = []
        names: set[str] = set()
        for lock in locks:
            names.add(lock.target.name)
            pylock = tomli_w.dumps(pylock_dict(lock, created_by=created_by)).encode("utf-8")
            outputs = (
                _lines(render_requirements(lock)),
                pylock,
                _lines(render_constraints(lock)),
            )
            for relative, data in zip(target_files(lock.target.name), outputs, strict=True):
                if self.write(relative, data):
                    written.append(self.path(relative))
        for name in self.lock_targets():
            if name not in names:
                for relative in target_files(name):
                    self.remove(relative)
        if self.write_matrix_constraints():
            written.append(self.matrix_constraints_path)
        return written

    def write_matrix_constraints(self) -> bool:
        """Write ``constraints/all.txt`` from the locks as they now are; True when written.

        Every command that writes locks calls it after them, inside its commit, so
        ``wheelhouse env`` only points at the file, even on a read-only wheelhouse.
        """
        targets = self.lock_targets()
        if not targets:
            self.remove(MATRIX_CONSTRAINTS)
            return False
        return self.write(MATRIX_CONSTRAINTS, _lines(render_matrix_constraints(self.read_locks())))

    def read_locks(self) -> list[Lock]:
        """Every target's pins as its lock file has them: names, versions and markers only.

        :class:`UnreadableFile` when a lock does not parse.
        """
        return [self._read_lock(target) for target in self.lock_targets()]

    def _read_lock(self, target: str) -> Lock:
        path = self.lock_path(target)
        try:
            pins = tuple(map(constraint_pin, read_lock(path)))
        except ValueError as exc:  # a version or marker that does not parse
            raise UnreadableFile(str(path), str(exc)) from None
        return Lock(target=Target.from_name(target), pins=pins)

    def lock_targets(self) -> list[str]:
        """Names of the targets that have a lock; other files there (a README) are not locks."""
        if not self.locks_dir.is_dir():
            return []
        return sorted(
            path.stem
            for path in self.locks_dir.glob("*.txt")
            if not path.name.startswith(".") and _is_target_name(path.stem)
        )

    def pins(self, target: str) -> dict[str, str]:
        """The target's pins: project name to version."""
        return lock_pins(self.lock_path(target))

    def read_pins(self) -> dict[str, dict[str, str]]:
        """Every target's pins: target name to project name to version."""
        return {target: self.pins(target) for target in self.lock_targets()}

    def lock_path(self, target: str) -> Path:
        return self.path(lock_name(target))

    def pylock_path(self, target: str) -> Path:
        return self.path(pylock_name(target))

    def constraints_path(self, target: str) -> Path:
        return self.path(constraints_name(target))

    @property
    def matrix_constraints_path(self) -> Path:
        return self.path(MATRIX_CONSTRAINTS)
