"""``wheelhouse prune``: remove the files that no lock and no build needs.

The plan is computed first (:func:`plan_prune`) and applied in a separate
step, so ``--dry-run`` is the same code without the last step. The manifest's
records are trusted for files it knows, so nothing it lists is rehashed; only
files it does not know are hashed, to find out whether a lock references them
anyway. Besides the locks' files, prune keeps what builds need
(:func:`~wheelhouse.house.references.needed_files`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wheelhouse.house.bytecode import archives
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import BadDirectory
from wheelhouse.house.files import sha256_of
from wheelhouse.house.indexer import index_directory
from wheelhouse.house.layout import COMMIT_DIR
from wheelhouse.house.references import (
    References,
    distribution_names,
    known_files,
    needed_files,
    orphan_metadata,
    temporary_files,
)

__all__ = ["PrunePlan", "plan_prune", "prune"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PrunePlan:
    """What prune removes: paths relative to the wheelhouse, and manifest entries."""

    files: tuple[str, ...]  # distribution files nothing needs
    leftovers: tuple[str, ...]  # their metadata and bytecode, orphans, interrupted writes
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
    manifest = wheelhouse.read_manifest()
    recorded: dict[str, Any] = manifest.get("files", {})
    needed = needed_files(wheelhouse, manifest)
    present = distribution_names(wheelhouse.root)
    # The manifest's hash is trusted; only a file it does not know is hashed.
    digests = {
        n: recorded.get(n, {}).get("sha256") or sha256_of(wheelhouse.path(n)) for n in present
    }
    files = [name for name in present if not needed.cover(name, digests[name])]
    orphans = set(manifest.get("build-requirements", {})) - set(targets)
    kept = set(present) - set(files)
    return PrunePlan(
        files=tuple(files),
        leftovers=(
            *orphan_metadata(wheelhouse.root, kept),
            *_stale_bytecode(wheelhouse, {name: digests[name] for name in kept}),
            *sorted({*temporary_files(wheelhouse.root), *wheelhouse.recovered} - {COMMIT_DIR}),
        ),
        entries={
            "files": _unneeded(recorded, needed),
            "built": _unneeded(manifest.get("built", {}), needed),
            "build-requirements": tuple(sorted(orphans)),
        },
        kept=len(kept),
        freed=sum(wheelhouse.path(name).stat().st_size for name in files),
    )


def _stale_bytecode(wheelhouse: Wheelhouse, kept: Mapping[str, str]) -> list[str]:
    """Bytecode archives whose wheel goes, or that were compiled from another file of its name."""
    return [
        archive.relative
        for archive in archives(wheelhouse.root)
        if archive.compiled_from() != kept.get(archive.wheel, "")
    ]


def _unneeded(table: Mapping[str, Mapping[str, Any]], needed: References) -> tuple[str, ...]:
    """Entries, keyed by file name, of files nothing needs."""
    return tuple(
        name for name, entry in table.items() if not needed.cover(name, entry.get("sha256"))
    )


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
    with wheelhouse.committing("prune"):
        _stage(wheelhouse, plan)


def _stage(wheelhouse: Wheelhouse, plan: PrunePlan) -> None:
    """The new manifest and index; the files go only once they are committed."""
    manifest = wheelhouse.read_manifest()
    for key, names in plan.entries.items():
        table = {name: e for name, e in manifest.get(key, {}).items() if name not in names}
        if table or key == "files":
            manifest[key] = table
        else:
            manifest.pop(key, None)  # as a build writes it: no empty table
    wheelhouse.write_manifest(manifest)
    for relative in (*plan.files, *plan.leftovers):
        wheelhouse.remove(relative)
    index_directory(wheelhouse, known_files(manifest["files"]))
