"""``wheelhouse index DIR``: the simple index over any directory of distributions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import BadDirectory
from wheelhouse.house.indexer import IndexResult, index_directory
from wheelhouse.house.references import known_files
from wheelhouse.model.distributions import DistFile

__all__ = ["index"]


def index(directory: Path, known: Mapping[str, DistFile] | None = None) -> IndexResult:
    """Write metadata files and ``simple/`` over ``directory``, the pages committed at once.

    Over a wheelhouse, what its manifest records (upload times, yanked) goes into
    the pages, so they match what build wrote; ``known`` overrides it.
    """
    if not directory.is_dir():
        reason = "no such directory" if not directory.exists() else "not a directory"
        raise BadDirectory(str(directory), reason)
    house = Wheelhouse(directory)
    ours = house.manifest_path.is_file()
    # Over a wheelhouse, its lock keeps these writes from interleaving with a
    # build's; a plain directory of the user's gets no lock file of ours.
    with house.exclusive() if ours else _recovered(house), house.committing("index"):
        if known is None and ours:
            known = known_files(house.read_manifest().get("files", {}))
        return index_directory(house, known)


@contextlib.contextmanager
def _recovered(house: Wheelhouse) -> Iterator[None]:
    """What taking the lock does first, without the lock."""
    house.recover()
    yield
