"""``wheelhouse verify``: files, locks, metadata and index checked against each other.

Read-only: nothing is written, not even the wheelhouse's lock file, so a
read-only mount can be verified. Every distribution file is hashed; index
pages are rendered in memory from the files and compared byte for byte with
the pages on disk, exactly as the indexer would write them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, TypeGuard

from packaging.metadata import parse_email
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from wheelhouse.commands.workers import parallel_map
from wheelhouse.house import layout
from wheelhouse.house.bytecode import archives
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import MetadataError, UnreadableFile
from wheelhouse.house.files import sha256_of
from wheelhouse.house.metadata import core_metadata
from wheelhouse.house.reading import read_lock
from wheelhouse.house.references import (
    distribution_names,
    orphan_metadata,
    pylock_files,
    pylock_packages,
    temporary_files,
)
from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.model import simple
from wheelhouse.model.distributions import DistFile, parse_filename
from wheelhouse.model.errors import NoMatchingTarget
from wheelhouse.model.locks import (
    Lock,
    LockedRequirement,
    constraint_pin,
    render_constraints,
    render_matrix_constraints,
)
from wheelhouse.model.targets import Target, match_target

__all__ = ["Problem", "VerifyReport", "verify"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """One inconsistency: what kind, which path (relative to the wheelhouse), and detail."""

    kind: str
    path: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.path}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifyReport:
    """The problems found, and how much was checked."""

    problems: tuple[Problem, ...]
    files: int
    targets: int
    pages: int

    def summary(self) -> str:
        counts = (_count(self.files, "file"), _count(self.targets, "target"))
        return f"OK: {counts[0]}, {counts[1]} and {_count(self.pages, 'index page')} verified"


def _is_text(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value != ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def verify(wheelhouse: Wheelhouse, python: Path | None = None) -> VerifyReport:
    """Check everything; with ``python``, also that a target serves that interpreter."""
    manifest = wheelhouse.read_manifest()
    checker = _Checker(wheelhouse, manifest.get("files", {}), _build_names(manifest))
    if (command := wheelhouse.interrupted()) is not None:
        # What follows is checked as the next command will see it, the commit finished.
        detail = f"{command} was killed while committing its new locks and index"
        checker.add("interrupted commit", layout.COMMIT_DIR, detail)
    checker.check_files()
    checker.check_build_files()
    targets = wheelhouse.lock_targets()
    for target in targets:
        checker.check_target(target)
    checker.check_targets([entry.get("name") for entry in manifest.get("targets", [])])
    checker.check_matrix_constraints()
    checker.check_strays()
    checker.check_bytecode()
    pages = checker.check_index()
    if python is not None:
        checker.check_python(python)
    return VerifyReport(
        problems=tuple(checker.problems),
        files=len(checker.hashes),
        targets=len(targets),
        pages=pages,
    )


class _Checker:
    """Collects problems; each method checks one aspect."""

    def __init__(
        self, wheelhouse: Wheelhouse, recorded: Mapping[str, Any], build: Mapping[str, str]
    ) -> None:
        self.wheelhouse, self.root, self.recorded = wheelhouse, wheelhouse.root, recorded
        self.build = build  # files kept for builds -> the manifest table that names them
        self.problems: list[Problem] = []
        self.broken: set[str] = set()  # files already reported corrupt: no second report
        self.referenced: set[str] = set()  # digests and names the locks point at
        names = distribution_names(self.root)
        threads = min(16, (os.cpu_count() or 1) + 4)
        digests = parallel_map(threads, lambda name: sha256_of(self.root / name), names)
        self.hashes = dict(zip(names, digests, strict=True))

    def add(self, kind: str, path: str, detail: str = "") -> None:
        self.problems.append(Problem(kind=kind, path=path, detail=detail))

    def check_files(self) -> None:
        """Every file the manifest lists is here, with its recorded hash and size."""
        for name, entry in sorted(self.recorded.items()):
            try:
                DistFile.from_record(name, entry)
            except ValueError as exc:
                self.add("bad entry in", layout.MANIFEST, f"{name!r}: {exc}")
                continue
            if name not in self.hashes:
                self.add("missing file", name, "the manifest lists it")
            elif self.hashes[name] != entry.get("sha256"):
                self.broken.add(name)
                self.add(
                    "corrupted file",
                    name,
                    f"sha256 {self.hashes[name]} is not the recorded {entry.get('sha256')}",
                )
            elif entry.get("size") not in (None, (self.root / name).stat().st_size):
                self.broken.add(name)
                self.add("corrupted file", name, f"its size is not the recorded {entry['size']}")

    def check_build_files(self) -> None:
        """What ``[built]`` and ``[build-requirements]`` name is in ``[files]`` too."""
        for name, table in sorted(self.build.items()):
            if name not in self.recorded:
                kind = "unrecorded file" if name in self.hashes else "missing file"
                self.add(kind, name, f"{table} names it but [files] does not")

    def check_target(self, target: str) -> None:
        """The target's lock points at present files; pylock and constraints agree with it."""
        path = layout.lock_name(target)
        try:
            entries = read_lock(self.wheelhouse.lock_path(target))
        except UnreadableFile as exc:
            self.add("unreadable lock", path, exc.reason)
            return
        by_hash = {digest: name for name, digest in self.hashes.items()}
        for entry in entries:
            self._check_pin(path, entry, by_hash)
        self._check_pylock(target, entries)
        self._check_constraints(target, entries)

    def _check_pin(self, path: str, entry: LockedRequirement, by_hash: Mapping[str, str]) -> None:
        pin = f"{entry.name}=={entry.version}"
        if not entry.hashes:
            self.add("broken lock", path, f"{pin} has no --hash")
        for digest in entry.hashes:
            self.referenced.add(digest)
            name = by_hash.get(digest)
            if name is None:
                self.add("broken lock", path, f"{pin}: no file has sha256 {digest}")
            elif not _is_file_of(name, entry):
                self.add("broken lock", path, f"{pin}: sha256 {digest} is that of {name}")

    def _check_pylock(self, target: str, entries: Sequence[LockedRequirement]) -> None:
        path, relative = self.wheelhouse.pylock_path(target), layout.pylock_name(target)
        lock = layout.lock_name(target)
        if not path.is_file():
            self.add("missing file", relative, f"{lock} has no PEP 751 twin")
            return
        try:
            packages = pylock_packages(path)
        except UnreadableFile as exc:
            self.add("unreadable lock", relative, exc.reason)
            return
        pins = {canonicalize_name(str(p.get("name"))): str(p.get("version")) for p in packages}
        if pins != {entry.name: entry.version for entry in entries}:
            self.add("stale lock", relative, f"its pins differ from {lock}")
        for package in packages:
            for file in pylock_files(package):
                self._check_pylock_file(relative, file)

    def _check_pylock_file(self, relative: str, file: Mapping[str, Any]) -> None:
        if not _is_text(file.get("path")):  # a URL alone, or nothing: a lock no build writes
            what = file.get("name") if _is_text(file.get("name")) else "a file"
            self.add("broken lock", relative, f"{what} has no path in the wheelhouse")
            return
        name = PurePosixPath(str(file.get("path"))).name
        self.referenced.add(name)
        digest = (file.get("hashes") or {}).get("sha256")
        if file.get("path") != f"../{name}" or name not in self.hashes:
            self.add(
                "broken lock", relative, f"{file.get('path')!r} is not a file of the wheelhouse"
            )
        elif self.hashes[name] != digest:
            self.add("broken lock", relative, f"{name} does not have the sha256 {digest}")

    def _check_constraints(self, target: str, entries: Sequence[LockedRequirement]) -> None:
        path, relative = self.wheelhouse.constraints_path(target), layout.constraints_name(target)
        lock = layout.lock_name(target)
        try:
            pins = Lock(target=Target.from_name(target), pins=tuple(map(constraint_pin, entries)))
        except ValueError as exc:  # a bad target name, version or marker
            self.add("unreadable lock", lock, str(exc))
            return
        expected = ("\n".join(render_constraints(pins)) + "\n").encode()
        if not path.is_file():
            self.add("missing file", relative, f"{lock} has no constraints twin")
        elif path.read_bytes() != expected:
            self.add("stale constraints", relative, f"its pins differ from {lock}")

    def check_matrix_constraints(self) -> None:
        """``constraints/all.txt`` holds every lock's pins, as ``wheelhouse env`` serves them."""
        relative = layout.MATRIX_CONSTRAINTS
        try:
            locks = self.wheelhouse.read_locks()
        except UnreadableFile:
            return  # the lock is reported already
        if not locks:
            return
        expected = ("\n".join(render_matrix_constraints(locks)) + "\n").encode()
        actual = _read_or_none(self.wheelhouse.matrix_constraints_path)
        if actual is None:
            self.add("missing file", relative, "the constraints of every target for `env`")
        elif actual != expected:
            self.add("stale constraints", relative, "its pins differ from the locks")

    def check_targets(self, recorded: Sequence[object]) -> None:
        """The manifest's targets (their ``name`` values) and the locks are the same set."""
        locked = set(self.wheelhouse.lock_targets())
        listed = {name for name in recorded if _is_text(name)}
        if not all(map(_is_text, recorded)):
            self.add("broken manifest", layout.MANIFEST, "a [[targets]] entry has no name")
        for target in sorted(listed - locked):
            self.add("missing lock", layout.lock_name(target), "the manifest lists this target")
        for target in sorted(locked - listed):
            self.add("stray lock", layout.lock_name(target), "the manifest has no such target")

    def check_strays(self) -> None:
        """Files nobody knows, metadata without a wheel, and leftovers of interrupted writes."""
        for name, digest in self.hashes.items():
            if name in self.recorded or name in self.build:
                continue
            if digest in self.referenced or name in self.referenced:
                self.add(
                    "unrecorded file", name, "a lock uses it but the manifest does not list it"
                )
            else:
                self.add("stray file", name, "no lock or manifest knows it")
        for name in orphan_metadata(self.root, self.hashes):
            self.add("stray file", name, "its wheel is not here")
        for relative in temporary_files(self.root):
            self.add("partial file", relative, "left by an interrupted write")

    def check_bytecode(self) -> None:
        """Each bytecode archive reads back whole and was compiled from the wheel here."""
        for archive in archives(self.root):
            if archive.wheel not in self.hashes:
                self.add("stale bytecode", archive.relative, "its wheel is not here")
            elif (reason := archive.damaged()) is not None:
                self.add("corrupted bytecode", archive.relative, reason)
            elif archive.compiled_from() != self.hashes[archive.wheel]:
                detail = "it was compiled from another file of its wheel's name"
                self.add("stale bytecode", archive.relative, detail)

    def check_index(self) -> int:
        """Metadata files match their wheels; simple/ is what the indexer would write now."""
        files = [file for name in self.hashes if (file := self._index_entry(name)) is not None]
        expected = simple.render_pages(files)
        directory = self.wheelhouse.path(layout.SIMPLE)
        for relative, data in expected.items():
            current = _read_or_none(directory / relative)
            if current != data:
                kind = "missing index page" if current is None else "stale index page"
                self.add(kind, layout.page_name(relative))
        pages = [p for name in layout.PAGE_NAMES for p in directory.glob(f"*/{name}")]
        for page in sorted(pages):
            relative = page.relative_to(directory).as_posix()
            if relative not in expected:
                self.add("stray index page", layout.page_name(relative))
        return len(expected)

    def _index_entry(self, name: str) -> DistFile | None:
        """The file as the indexer would list it; None when the indexer would skip it."""
        if (parsed := _parsed(name)) is None:
            return None  # check_strays reports it
        metadata = _core_metadata(self.root / name, parsed[0])
        served = self._check_metadata(name, metadata)
        digest = hashlib.sha256(served).hexdigest() if served and name.endswith(".whl") else None
        if name in self.recorded:
            return replace(DistFile.from_record(name, self.recorded[name]), metadata_sha256=digest)
        if metadata is None:
            return None
        size = (self.root / name).stat().st_size
        file = DistFile.from_record(name, {"sha256": self.hashes[name], "size": size})
        requires_python = parse_email(metadata)[0].get("requires_python")
        return replace(file, metadata_sha256=digest, requires_python=requires_python)

    def _check_metadata(self, name: str, metadata: bytes | None) -> bytes | None:
        """Compare the metadata file with the archive's; the bytes the index serves."""
        if metadata is None and name not in self.broken:
            self.broken.add(name)
            self.add("corrupted file", name, "its core metadata cannot be read")
        current = _read_or_none(self.wheelhouse.path(layout.metadata_name(name)))
        if name.endswith(".whl") and metadata is not None and current != metadata:
            kind = "missing metadata file" if current is None else "stale metadata file"
            self.add(kind, layout.metadata_name(name), f"it is not the METADATA inside {name}")
        return current if current is not None else metadata

    def check_python(self, python: Path) -> None:
        """A target of the wheelhouse serves the interpreter, as install would pick it."""
        from wheelhouse.install.probe import probe

        if not python.exists():
            raise InterpreterNotFound(str(python), "no such file")
        info, targets = probe(python), self.wheelhouse.lock_targets()
        try:
            match_target(targets, tags=info.tags, tag=info.tag, interpreter=str(info.path))
        except NoMatchingTarget as exc:
            have = ", ".join(exc.targets) or "none"
            detail = f"its tag is {exc.interpreter_tag}; the wheelhouse has: {have}"
            self.add("no target for interpreter", str(python), detail)


def _build_names(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The files the manifest keeps for builds, each with the table that names it."""
    names = {}
    for wheel, record in manifest.get("built", {}).items():
        names[wheel] = f'[built."{wheel}"]'
        if "sdist" in record:  # a local project's source (``source``) is no file here
            names[record["sdist"]] = names[wheel]
    for target, entry in manifest.get("build-requirements", {}).items():
        names.update(dict.fromkeys(entry["files"], f'[build-requirements."{target}"]'))
    return names


def _core_metadata(path: Path, project: NormalizedName) -> bytes | None:
    """The archive's core metadata; None when it cannot be read."""
    try:
        return core_metadata(path, project)
    except MetadataError:
        return None


def _parsed(name: str) -> tuple[NormalizedName, Version] | None:
    try:
        project, version, _tags = parse_filename(name)
    except ValueError:
        return None
    return project, version


def _is_file_of(name: str, entry: LockedRequirement) -> bool:
    try:
        return _parsed(name) == (entry.name, Version(entry.version))
    except ValueError:
        return False


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
