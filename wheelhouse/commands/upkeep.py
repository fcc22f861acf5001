"""Keeping a wheelhouse tidy: what its locks reference, reading pins for a diff, and prune.

``prune`` computes its plan first (:func:`plan_prune`) and applies it in a
separate step, so ``--dry-run`` is the same code without the last step. The
manifest's records are trusted for files it knows, so nothing it lists is
rehashed; only files it does not know are hashed, to find out whether a lock
references them anyway. Besides the locks' files, prune keeps what builds
need (:func:`needed_files`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from wheelhouse.house import metadata
from wheelhouse.house.directory import MANIFEST, Wheelhouse, load_toml, read_lock, sha256_of
from wheelhouse.house.errors import BadDirectory, MetadataError, NotALockSource, UnreadableFile
from wheelhouse.house.indexer import index_directory
from wheelhouse.model.diff import TargetDiff, diff_pins
from wheelhouse.model.distributions import DistFile, is_distribution_filename, parse_filename
from wheelhouse.model.locks import LockedRequirement, parse_requirements_lock

__all__ = [
    "METADATA_SUFFIX",
    "PrunePlan",
    "References",
    "core_metadata",
    "diff_sources",
    "distribution_names",
    "is_temporary",
    "known_files",
    "lock_entries",
    "lock_references",
    "manifest_file",
    "needed_files",
    "plan_prune",
    "prune",
    "pylock_files",
    "pylock_packages",
    "read_manifest",
    "read_pins",
    "temporary_files",
]

METADATA_SUFFIX = ".metadata"
_WORK_DIRS = ("locks", "constraints", "simple")


def read_manifest(wheelhouse: Wheelhouse) -> dict[str, Any]:
    """The manifest; :class:`UnreadableFile` when it is not TOML shaped as a build writes it."""
    return wheelhouse.read_manifest()


def manifest_file(filename: str, entry: Mapping[str, Any]) -> DistFile:
    """A file as the manifest records it; ValueError for a name that is not a plain file name."""
    project, version, tags = parse_filename(filename)
    return DistFile(
        filename=filename,
        url=filename,
        project=project,
        version=version,
        tags=tags,
        sha256=entry.get("sha256"),
        size=entry.get("size"),
        requires_python=entry.get("requires-python"),
        yanked=entry.get("yanked"),
        upload_time=entry.get("upload-time"),
    )


def lock_entries(path: Path) -> list[LockedRequirement]:
    """The pins of one ``locks/<target>.txt``; UnreadableFile when it does not parse."""
    return read_lock(path)


def pylock_packages(path: Path) -> list[dict[str, Any]]:
    """The ``[[packages]]`` of a PEP 751 lock; UnreadableFile when it does not parse."""
    packages = load_toml(path).get("packages", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise UnreadableFile(str(path), "[[packages]] is not a list of tables")
    return packages


def pylock_files(package: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The wheel and sdist tables of one pylock package."""
    yield from package.get("wheels") or []
    if isinstance(package.get("sdist"), dict):
        yield package["sdist"]


@dataclass(frozen=True, kw_only=True, slots=True)
class References:
    """Files a wheelhouse keeps, by sha256 digest (locks) or by name (pylocks, builds)."""

    hashes: frozenset[str]
    filenames: frozenset[str]

    def cover(self, filename: str, sha256: str | None) -> bool:
        """Whether this file is among them, by hash or by name."""
        return filename in self.filenames or sha256 in self.hashes


def lock_references(wheelhouse: Wheelhouse) -> References:
    """Every hash of every ``locks/<target>.txt`` and every file of every pylock."""
    hashes: set[str] = set()
    filenames: set[str] = set()
    for target in wheelhouse.lock_targets():
        for entry in lock_entries(wheelhouse.lock_path(target)):
            hashes.update(entry.hashes)
        pylock = wheelhouse.pylock_path(target)
        if pylock.is_file():
            for package in pylock_packages(pylock):
                filenames.update(
                    PurePosixPath(str(f.get("path", ""))).name for f in pylock_files(package)
                )
    return References(hashes=frozenset(hashes), filenames=frozenset(filenames))


def needed_files(wheelhouse: Wheelhouse, manifest: Mapping[str, Any]) -> References:
    """The locks' files, the build requirements of locked targets, sdists of built wheels kept."""
    locked = lock_references(wheelhouse)
    requirements = manifest.get("build-requirements", {})
    names = {n for t in wheelhouse.lock_targets() for n in requirements.get(t, {}).get("files", [])}
    needed = References(hashes=locked.hashes, filenames=locked.filenames | names)
    # A refresh reads a built wheel's sdist here (to resolve, to build for a new Python).
    built = manifest.get("built", {})
    sdists = {r["sdist"] for w, r in built.items() if needed.cover(w, r.get("sha256"))}
    return References(hashes=locked.hashes, filenames=needed.filenames | sdists)


def read_pins(path: Path) -> dict[str, dict[str, str]]:
    """Target -> project -> version from a wheelhouse directory or one ``<target>.txt`` lock."""
    if path.is_dir():
        if not (path / MANIFEST).is_file():
            raise NotALockSource(str(path), f"a directory without {MANIFEST}")
        wheelhouse = Wheelhouse.open(path)
        return {
            target: _pins(lock_entries(wheelhouse.lock_path(target)))
            for target in wheelhouse.lock_targets()
        }
    if not path.exists():
        raise NotALockSource(str(path), "no such file or directory")
    if path.suffix != ".txt":
        raise NotALockSource(str(path), "a lock file is named <target>.txt")
    try:
        entries = parse_requirements_lock(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NotALockSource(str(path), f"it does not read as a lock ({exc})") from None
    return {path.stem: _pins(entries)}


def diff_sources(old: Path, new: Path) -> list[TargetDiff]:
    """The pin diff of two wheelhouses or lock files; two lock files count as one target."""
    before, after = read_pins(old), read_pins(new)
    if old.is_file() and new.is_file():
        # Comparing two files by hand means one target, whatever their names say.
        before = {target: pins for target in after for pins in before.values()}
    return diff_pins(before, after)


def _pins(entries: Iterable[LockedRequirement]) -> dict[str, str]:
    return {entry.name: entry.version for entry in entries}


def core_metadata(path: Path) -> bytes | None:
    """A wheel's ``.dist-info/METADATA`` or an sdist's ``PKG-INFO``; None when unreadable."""
    try:
        return metadata.core_metadata(path, parse_filename(path.name)[0])
    except (MetadataError, ValueError):
        return None


def distribution_names(root: Path) -> list[str]:
    """Names of the distribution files directly in ``root``, sorted."""
    return sorted(
        path.name
        for path in root.iterdir()
        if path.is_file() and is_distribution_filename(path.name) and not path.name.startswith(".")
    )


def is_temporary(name: str) -> bool:
    """A download's ``.<name>.part-<hex>`` or an atomic write's ``.<name>.<random>.tmp``."""
    return name.startswith(".") and (".part-" in name or name.endswith(".tmp"))


def temporary_files(root: Path) -> list[str]:
    """Leftovers of interrupted writes, relative to ``root`` (POSIX paths), sorted."""
    found = [path for path in root.iterdir() if path.is_file() and is_temporary(path.name)]
    for name in _WORK_DIRS:
        if (root / name).is_dir():
            found += [p for p in (root / name).rglob(".*") if p.is_file() and is_temporary(p.name)]
    return sorted(path.relative_to(root).as_posix() for path in found)


@dataclass(frozen=True, kw_only=True, slots=True)
class PrunePlan:
    """What prune removes: paths relative to the wheelhouse, and manifest entries."""

    files: tuple[str, ...]  # distribution files nothing needs
    leftovers: tuple[str, ...]  # their metadata, orphan metadata, interrupted writes
    entries: Mapping[str, tuple[str, ...]]  # manifest table -> its entries that go
    kept: int
    freed: int  # bytes


def plan_prune(wheelhouse: Wheelhouse) -> PrunePlan:
    """Find the files nothing needs; raises when the locks or the manifest cannot be read."""
    targets = wheelhouse.lock_targets()
    if not targets:
        raise BadDirectory(
            str(wheelhouse.root),
            "it has no locks, so pruning would remove every file",
            hint="build the wheelhouse first (wheelhouse build)",
        )
    manifest = read_manifest(wheelhouse)
    recorded: dict[str, Any] = manifest.get("files", {})
    needed = needed_files(wheelhouse, manifest)
    present = distribution_names(wheelhouse.root)
    # The manifest's hash is trusted; only a file it does not know is hashed.
    digests = {
        n: recorded.get(n, {}).get("sha256") or sha256_of(wheelhouse.path(n)) for n in present
    }
    files = [name for name in present if not needed.cover(name, digests[name])]
    orphans = set(manifest.get("build-requirements", {})) - set(targets)
    return PrunePlan(
        files=tuple(files),
        leftovers=tuple(_leftovers(wheelhouse.root, set(present) - set(files))),
        entries={
            "files": _unneeded(recorded, needed),
            "built": _unneeded(manifest.get("built", {}), needed),
            "build-requirements": tuple(sorted(orphans)),
        },
        kept=len(present) - len(files),
        freed=sum(wheelhouse.path(name).stat().st_size for name in files),
    )


def _unneeded(table: Mapping[str, Mapping[str, Any]], needed: References) -> tuple[str, ...]:
    """Entries, keyed by file name, of files nothing needs."""
    return tuple(
        name for name, entry in table.items() if not needed.cover(name, entry.get("sha256"))
    )


def _leftovers(root: Path, kept: set[str]) -> list[str]:
    """Metadata files of wheels that are not kept, and interrupted writes."""
    metadata = [
        path.name
        for path in root.glob(f"*.whl{METADATA_SUFFIX}")
        if path.name.removesuffix(METADATA_SUFFIX) not in kept
    ]
    return sorted(metadata) + temporary_files(root)


def prune(wheelhouse: Wheelhouse, *, dry_run: bool = False) -> PrunePlan:
    """Remove what nothing needs, then rewrite manifest and index; ``dry_run`` only plans."""
    if dry_run:
        # No lock either: a dry run must work on a read-only mount.
        return plan_prune(wheelhouse)
    with wheelhouse.exclusive():
        plan = plan_prune(wheelhouse)
        _apply(wheelhouse, plan)
    return plan


def _apply(wheelhouse: Wheelhouse, plan: PrunePlan) -> None:
    # Manifest first: a crash after it leaves unlisted files, which the next prune removes.
    manifest = read_manifest(wheelhouse)
    for key, names in plan.entries.items():
        table = {name: e for name, e in manifest.get(key, {}).items() if name not in names}
        if table or key == "files":
            manifest[key] = table
        else:
            manifest.pop(key, None)  # as a build writes it: no empty table
    wheelhouse.write_manifest(manifest)
    for relative in (*plan.files, *plan.leftovers):
        (wheelhouse.root / relative).unlink(missing_ok=True)
    index_directory(wheelhouse.root, known_files(manifest["files"]))


def known_files(recorded: Mapping[str, Mapping[str, Any]]) -> dict[str, DistFile]:
    """The manifest's files as the indexer's ``known``, skipping names that do not parse."""
    known: dict[str, DistFile] = {}
    for name, entry in recorded.items():
        try:
            known[name] = manifest_file(name, entry)
        except ValueError:
            continue  # not a plain file name: the indexer reads whatever is really there
    return known
