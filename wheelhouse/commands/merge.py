"""``wheelhouse merge``: combine wheelhouses built on different machines into one.

A CI matrix builds one target per machine from the same inputs; merge puts
them together as if one build had made every target. Everything is read and
checked before anything is written, so a refusal leaves OUT untouched:

- ``[inputs]``, ``[index]`` and ``[options]`` must be equal in every source
  that has them, because the merged manifest is what ``refresh`` re-runs;
- a target in two sources must have byte-identical ``locks/<target>.txt``;
- a file name in two sources must have the same sha256, and every source file
  must still match its recorded sha256;
- ``[build-requirements]`` of a target in two sources must be equal, and so
  must two ``[built]`` records of one wheel, but for who built it: a universal
  wheel built on two machines (same sdist, same hash) keeps the record of the
  oldest Python, as a build of every target in ascending order would make it.

An existing OUT takes part as the first source: its targets and files stay.
The merged manifest equals that of one build of every target but for its
``created`` time and, in ``[built]``, the interpreter paths and patch versions
of the machines that built each wheel.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from wheelhouse import __version__
from wheelhouse.commands.errors import ConflictingFiles, ConflictingInputs, ConflictingPins
from wheelhouse.house.directory import FORMAT, Wheelhouse, is_claimed
from wheelhouse.house.errors import BadDirectory, NotAWheelhouse, UnreadableFile
from wheelhouse.house.files import sha256_of
from wheelhouse.house.indexer import index_directory
from wheelhouse.house.layout import MANIFEST, metadata_name, target_files
from wheelhouse.house.references import known_files
from wheelhouse.model.diff import diff_pins
from wheelhouse.model.distributions import DistFile

__all__ = ["AGREEING_SECTIONS", "MergePlan", "MergeResult", "merge", "plan_merge"]

#: Manifest tables that every source must have alike: together they are the build to re-run.
AGREEING_SECTIONS = ("inputs", "index", "options")
#: What a ``[built]`` record says of who built the wheel, not of the wheel itself.
_BUILDER = ("python", "python-full-version", "interpreter")
_HINT = "each SRC must be a directory that `wheelhouse build` wrote"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Source:
    """One wheelhouse taking part, read once."""

    wheelhouse: Wheelhouse
    manifest: Mapping[str, Any]
    locks: Mapping[str, tuple[bytes, bytes, bytes]]  # target -> lock, pylock, constraints

    @property
    def label(self) -> str:
        return str(self.wheelhouse.root)


@dataclass(frozen=True, kw_only=True, slots=True)
class MergePlan:
    """What merge writes: files to copy, locks to write and the merged manifest."""

    copies: Mapping[str, Path]  # file name -> the source file to copy it from
    locks: Mapping[str, tuple[bytes, bytes, bytes]]
    manifest: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeResult:
    """The targets and files of the merged wheelhouse, and what was new to it."""

    targets: tuple[str, ...]
    copied: tuple[str, ...]  # file names copied from the sources
    files: int
    written: tuple[str, ...] = ()  # targets whose lock files changed


def merge(out_root: Path, sources: Sequence[Path]) -> MergeResult:
    """Merge ``sources`` into ``out_root`` (new, empty, or a wheelhouse that takes part)."""
    existing = _existing_out(out_root)
    chosen = _unique(sources, out_root)
    if existing is not None:
        with existing.exclusive():
            return _apply(existing, plan_merge(existing, chosen))
    plan = plan_merge(None, chosen)
    out = Wheelhouse.for_writing(out_root)
    with out.exclusive():
        return _apply(out, plan)


def _existing_out(root: Path) -> Wheelhouse | None:
    """OUT as a wheelhouse, None when new or empty; refuses anything else untouched."""
    if root.exists() and not root.is_dir():
        raise NotAWheelhouse(str(root), "it is not a directory")
    if (root / MANIFEST).is_file():
        return Wheelhouse.open(root)
    if root.is_dir() and not is_claimed(root):
        raise NotAWheelhouse(str(root))
    return None  # new, empty, or begun by a merge or build that was killed


def _unique(sources: Sequence[Path], out_root: Path) -> list[Path]:
    seen = {out_root.resolve()}
    chosen = []
    for source in sources:
        if source.resolve() not in seen:
            seen.add(source.resolve())
            chosen.append(source)
    return chosen


def plan_merge(out: Wheelhouse | None, sources: Sequence[Path]) -> MergePlan:
    """Read and check every source; raises a conflict error before anything is written."""
    read = [_read_source(out, required=False)] if out is not None else []
    read += [_read_source(_open_source(path), required=True) for path in sources]
    sections = _agreeing_sections(read)
    locks = _merged_locks(read)
    files, copies = _merged_files(read, out)
    manifest = {
        "wheelhouse": {
            "format": FORMAT,
            "tool-version": __version__,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        },
        **sections,
        "targets": _merged_targets(read),
        "files": files,
        **_build_tables(read),
    }
    return MergePlan(copies=copies, locks=locks, manifest=manifest)


def _open_source(path: Path) -> Wheelhouse:
    try:
        return Wheelhouse.open(path)
    except NotAWheelhouse as exc:
        raise BadDirectory(str(path), f"not a wheelhouse: {exc.reason}", hint=_HINT) from None


def _read_source(wheelhouse: Wheelhouse, *, required: bool) -> _Source:
    targets = wheelhouse.lock_targets()
    if required and not targets:
        raise BadDirectory(str(wheelhouse.root), "the wheelhouse has no locks", hint=_HINT)
    locks = {}
    for target in targets:
        paths = [wheelhouse.path(relative) for relative in target_files(target)]
        missing = [path for path in paths if not path.is_file()]
        if missing:
            raise BadDirectory(str(wheelhouse.root), f"{missing[0]} is missing", hint=_HINT)
        lock, pylock, constraints = (path.read_bytes() for path in paths)
        locks[target] = (lock, pylock, constraints)
    return _Source(wheelhouse=wheelhouse, manifest=wheelhouse.read_manifest(), locks=locks)


def _agreeing_sections(sources: Sequence[_Source]) -> dict[str, Any]:
    """The tables every source agrees on; ConflictingInputs names the first difference."""
    chosen: dict[str, tuple[_Source, Mapping[str, Any]]] = {}
    for source in sources:
        for section in AGREEING_SECTIONS:
            table = source.manifest.get(section)
            if table is None:
                continue  # a wheelhouse claimed by a failed build has no say
            if section not in chosen:
                chosen[section] = (source, table)
                continue
            _agree(section, chosen[section], (source, table))
    return {section: table for section, (_, table) in chosen.items()}


def _agree(
    section: str,
    first: tuple[_Source, Mapping[str, Any]],
    second: tuple[_Source, Mapping[str, Any]],
    ignore: Collection[str] = (),
) -> None:
    """ConflictingInputs naming each key on which two tables differ, with both values."""
    (one, agreed), (other, table) = first, second
    differences = {
        key: (agreed.get(key), table.get(key))
        for key in sorted({*agreed, *table} - set(ignore))
        if agreed.get(key) != table.get(key)
    }
    if differences:
        raise ConflictingInputs(section, one.label, other.label, differences)


def _build_tables(sources: Sequence[_Source]) -> dict[str, Any]:
    """``[built]``, with the oldest Python's record of each wheel, and ``[build-requirements]``."""
    built = _union(sources, "built", ignore=_BUILDER)
    tables = {
        "built": {name: min(records, key=_built_by) for name, records in built.items()},
        "build-requirements": {
            target: entries[0] for target, entries in _union(sources, "build-requirements").items()
        },
    }
    return {key: table for key, table in tables.items() if table}  # no empty table, as build


def _union(
    sources: Sequence[_Source], key: str, *, ignore: Collection[str] = ()
) -> dict[str, list[Mapping[str, Any]]]:
    """Every entry of one manifest table, by name; entries of one name must agree."""
    found: dict[str, list[tuple[_Source, Mapping[str, Any]]]] = {}
    for source in sources:
        for name, entry in source.manifest.get(key, {}).items():
            if name in found:
                _agree(f'{key}."{name}"', found[name][0], (source, entry), ignore)
            found.setdefault(name, []).append((source, entry))
    return {name: [entry for _, entry in found[name]] for name in sorted(found)}


def _built_by(record: Mapping[str, Any]) -> tuple[Version, str]:
    """Oldest Python first, then the interpreter path, for a stable choice."""
    try:
        version = Version(str(record.get("python-full-version") or record.get("python")))
    except InvalidVersion:
        version = Version("0")
    return version, str(record.get("interpreter", ""))


def _merged_locks(sources: Sequence[_Source]) -> dict[str, tuple[bytes, bytes, bytes]]:
    """Every target's lock files; a target in two sources must have the same lock."""
    locks: dict[str, tuple[bytes, bytes, bytes]] = {}
    owners: dict[str, _Source] = {}
    for source in sources:
        for target, files in source.locks.items():
            if target not in locks:
                locks[target], owners[target] = files, source
            elif locks[target][0] != files[0]:
                raise _pin_conflict(target, owners[target], source)
    return locks


def _pin_conflict(target: str, first: _Source, second: _Source) -> ConflictingPins:
    before, after = first.wheelhouse.pins(target), second.wheelhouse.pins(target)
    (diff,) = diff_pins({target: before}, {target: after})
    packages = [f"{c.name} {c.old or 'absent'} vs {c.new or 'absent'}" for c in diff.changes]
    return ConflictingPins(target, first.label, second.label, packages)


def _merged_targets(sources: Sequence[_Source]) -> list[dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for source in sources:
        for entry in source.manifest.get("targets", []):
            entries.setdefault(str(entry.get("name")), entry)
    return [entries[name] for name in sorted(entries)]


def _merged_files(
    sources: Sequence[_Source], out: Wheelhouse | None
) -> tuple[dict[str, Any], dict[str, Path]]:
    """The union of the manifests' files, and which to copy from where."""
    files: dict[str, Any] = {}
    owners: dict[str, _Source] = {}
    copies: dict[str, Path] = {}
    for source in sources:
        for name, entry in source.manifest.get("files", {}).items():
            _check_name(source, name)
            if name in files:
                if files[name].get("sha256") != entry.get("sha256"):
                    raise ConflictingFiles(name, owners[name].label, source.label)
                continue
            files[name], owners[name] = entry, source
            if out is None or source.wheelhouse is not out:
                copies[name] = _checked_file(source, name, entry)
    return {name: files[name] for name in sorted(files)}, copies


def _check_name(source: _Source, name: str) -> None:
    try:
        DistFile.from_record(name, {})
    except ValueError as exc:
        path = str(source.wheelhouse.manifest_path)
        raise UnreadableFile(path, f"bad file name {name!r}: {exc}") from None


def _checked_file(source: _Source, name: str, entry: Mapping[str, Any]) -> Path:
    """The source's copy of ``name``, after checking it still has its recorded hash."""
    path = source.wheelhouse.path(name)
    if not path.is_file():
        reason = f"{name} is in its manifest but missing"
    elif sha256_of(path) != entry.get("sha256"):
        reason = f"{name} does not match the sha256 its manifest records"
    else:
        return path
    hint = "run `wheelhouse verify` on it, then rebuild it"
    raise BadDirectory(source.label, reason, hint=hint)


def _apply(out: Wheelhouse, plan: MergePlan) -> MergeResult:
    """Copy files first, then commit locks, manifest and index together, as a build does."""
    for name, source in plan.copies.items():
        out.add_file(name, source)
        metadata = source.with_name(metadata_name(name))
        if metadata.is_file():
            out.write(metadata_name(name), metadata.read_bytes())
    written = []
    with out.committing("merge"):
        for target, contents in plan.locks.items():
            pairs = zip(target_files(target), contents, strict=True)
            if any([out.write(relative, data) for relative, data in pairs]):
                written.append(target)
        out.write_matrix_constraints()
        out.write_manifest(plan.manifest)
        index_directory(out, known_files(plan.manifest["files"]))
    return MergeResult(
        targets=tuple(sorted(plan.locks)),
        copied=tuple(sorted(plan.copies)),
        files=len(plan.manifest["files"]),
        written=tuple(sorted(written)),
    )
