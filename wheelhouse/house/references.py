"""What a wheelhouse references: its locks' files, what builds need, the manifest's records.

Read only; prune asks what to keep, verify what to check. Locks reference files
by sha256 (``locks/<target>.txt``) and by name (``locks/pylock.<target>.toml``);
the manifest adds the files kept for builds: the build requirements of locked
targets and the sdists of built wheels.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import UnreadableFile
from wheelhouse.house.layout import WORK_DIRS, is_temporary, metadata_owner
from wheelhouse.house.reading import load_toml, read_lock
from wheelhouse.model.distributions import DistFile, is_distribution_filename

__all__ = [
    "References",
    "distribution_names",
    "known_files",
    "lock_references",
    "needed_files",
    "orphan_metadata",
    "pylock_files",
    "pylock_packages",
    "temporary_files",
]


def known_files(recorded: Mapping[str, Mapping[str, Any]]) -> dict[str, DistFile]:
    """The manifest's files as the indexer's ``known``, skipping names that do not parse."""
    known: dict[str, DistFile] = {}
    for name, entry in recorded.items():
        try:
            known[name] = DistFile.from_record(name, entry)
        except ValueError:
            continue  # not a plain file name: the indexer reads whatever is really there
    return known


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
        for entry in read_lock(wheelhouse.lock_path(target)):
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
    sdists = {  # a local project's source (``source``) is no file of the wheelhouse
        r["sdist"] for w, r in built.items() if "sdist" in r and needed.cover(w, r.get("sha256"))
    }
    return References(hashes=locked.hashes, filenames=needed.filenames | sdists)


def distribution_names(root: Path) -> list[str]:
    """Names of the distribution files directly in ``root``, sorted."""
    return sorted(
        path.name
        for path in root.iterdir()
        if path.is_file() and is_distribution_filename(path.name) and not path.name.startswith(".")
    )


def orphan_metadata(root: Path, wheels: Container[str]) -> list[str]:
    """Names of the ``<wheel>.metadata`` files in ``root`` whose wheel is not in ``wheels``."""
    return sorted(
        path.name
        for path in root.iterdir()
        if (wheel := metadata_owner(path.name)) is not None and wheel not in wheels
    )


def temporary_files(root: Path) -> list[str]:
    """Leftovers of interrupted writes, relative to ``root`` (POSIX paths), sorted."""
    found = [path for path in root.iterdir() if path.is_file() and is_temporary(path.name)]
    for name in WORK_DIRS:
        if (root / name).is_dir():
            found += [p for p in (root / name).rglob(".*") if p.is_file() and is_temporary(p.name)]
    return sorted(path.relative_to(root).as_posix() for path in found)
