"""Where a run's files come from: the wheelhouse first, then a scratch directory, then the index.

A file the wheelhouse already holds (as the manifest records it) is read there;
an sdist needed before the downloads (to read what it declares, or to build it)
is fetched into the run's scratch directory, where built wheels wait too. When
the build puts its files in place, a waiting file is copied in under a temporary
name and renamed, and every other one is downloaded.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import MetadataError
from wheelhouse.house.files import atomic_copy, sha256_of
from wheelhouse.house.layout import metadata_name
from wheelhouse.house.metadata import wheel_metadata
from wheelhouse.install.probe import probe
from wheelhouse.model.distributions import BuiltWheel, DistFile, Keep
from wheelhouse.model.pages import ProjectPage
from wheelhouse.resolve.finder import Index
from wheelhouse.sdist.errors import SdistBuildFailed
from wheelhouse.sdist.pep517 import PipIndexes, SdistInfo, prepare_metadata, read_sdist

__all__ = ["Downloader", "KeyedLocks", "Staging", "StagingIndex"]


class Downloader(Protocol):
    def download(
        self, file: DistFile, dest: Path, progress: Callable[[int], None] | None = None
    ) -> str: ...


class StagingIndex(Index, Downloader, Protocol):
    """The index client as a run uses it: pages, metadata and downloads."""


class KeyedLocks:
    """One lock per key, so that work on one file is done once while others go on."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class Staging:
    """The index as one run sees it, with the wheelhouse and a scratch directory in front.

    Serves the resolver (pages, metadata) and the downloads; ``waiting`` maps the
    name of each file held in ``scratch`` to its path there.
    """

    def __init__(
        self,
        wheelhouse: Wheelhouse,
        index: StagingIndex,
        scratch: Path,
        recorded: Mapping[str, Any],
    ) -> None:
        self.wheelhouse, self.index, self.scratch = wheelhouse, index, scratch
        self.recorded = recorded
        self.waiting: dict[str, Path] = {}
        self._local: dict[str, Path] = {}
        self._infos: dict[str, SdistInfo] = {}
        self._prepared: dict[str, bytes] = {}
        self._lock = KeyedLocks()
        #: Wheels of local projects, built here: they stand for their names' pages.
        self.local_pages: dict[NormalizedName, list[DistFile]] = {}
        self._local_paths: dict[str, Path] = {}

    def kept_wheels(self, table: Mapping[str, Any]) -> list[BuiltWheel]:
        """The manifest's built wheels (``[built]``) that are still here, as recorded."""
        kept = []
        for name, entry in table.items():
            try:
                record = BuiltWheel.from_dict(name, entry)
            except (ValueError, KeyError, TypeError):
                continue  # an entry we cannot read is rebuilt, not trusted
            if self.wheelhouse.has_file(record.wheel, self.recorded):
                kept.append(record)
        return kept

    def add_local(self, file: DistFile, path: Path) -> None:
        """A local project's wheel: the only file of its name this run sees."""
        files = self.local_pages.setdefault(file.project, [])
        if all(known.filename != file.filename for known in files):
            files.append(file)
        self._local_paths[file.filename] = path

    def project_files(self, name: str) -> ProjectPage:
        if (local := self.local_pages.get(canonicalize_name(name))) is not None:
            return ProjectPage.of(local)
        return self.index.project_files(name)

    def prefetch(self, names: Iterable[str]) -> None:
        self.index.prefetch(
            name for name in names if canonicalize_name(name) not in self.local_pages
        )

    def keep_only(self, keep: Keep) -> None:
        self.index.keep_only(keep)  # a local project's page is its wheels, always whole

    def page_digests(self, names: Iterable[str]) -> dict[str, str]:
        remote = [name for name in names if canonicalize_name(name) not in self.local_pages]
        return self.index.page_digests(remote)

    def metadata(self, file: DistFile) -> bytes:
        """A wheel's metadata: the wheelhouse's PEP 658 file when it holds that very wheel."""
        if (path := self._local_paths.get(file.filename)) is not None:
            return wheel_metadata(path, file.project)
        known = self.recorded.get(file.filename, {}).get("sha256")
        local = self.wheelhouse.path(metadata_name(file.filename))
        if file.sha256 and known == file.sha256 and local.is_file():
            return local.read_bytes()
        return self.index.metadata(file)

    def local(self, file: DistFile) -> Path:
        """The file on disk: the wheelhouse's copy, else one fetched into scratch, once."""
        with self._lock(file.filename):
            if file.filename not in self._local:
                self._local[file.filename] = self._fetch(file)
            return self._local[file.filename]

    def _fetch(self, file: DistFile) -> Path:
        if self.wheelhouse.has_file(file, self.recorded):
            return self.wheelhouse.path(file.filename)
        dest = self.scratch / file.filename
        self.index.download(file, dest)
        self.waiting[file.filename] = dest
        return dest

    def sha256(self, file: DistFile) -> str:
        return file.sha256 or sha256_of(self.local(file))

    def info(self, sdist: DistFile) -> SdistInfo:
        """What the sdist declares, read once."""
        with self._lock(f"info:{sdist.filename}"):
            if sdist.filename not in self._infos:
                self._infos[sdist.filename] = read_sdist(self.local(sdist))
            return self._infos[sdist.filename]

    def wheel_metadata(self, wheel: DistFile) -> bytes:
        """A built wheel's METADATA: its PEP 658 file in the wheelhouse, else from inside it."""
        name = wheel.filename
        sidecar = self.wheelhouse.path(metadata_name(name))
        if name not in self.waiting and sidecar.is_file():
            return sidecar.read_bytes()
        try:
            return wheel_metadata(
                self.waiting.get(name) or self.wheelhouse.path(name), wheel.project
            )
        except MetadataError as exc:
            detail = f"the built wheel is unreadable ({exc.reason})"
            raise SdistBuildFailed(name, "pip", detail) from None

    def prepared_metadata(self, sdist: DistFile, indexes: PipIndexes) -> bytes:
        """Metadata pip prepares (PEP 517) with this tool's own interpreter, once."""
        with self._lock(f"prepare:{sdist.filename}"):
            if sdist.filename not in self._prepared:
                python = probe(Path(sys.executable))
                prepared = prepare_metadata(python, self.local(sdist), self.scratch, indexes)
                self._prepared[sdist.filename] = prepared
            return self._prepared[sdist.filename]

    def download(
        self, file: DistFile, dest: Path, progress: Callable[[int], None] | None = None
    ) -> str:
        """Put a file in place: from scratch when it waits there, else from the index."""
        waiting = self.waiting.get(file.filename)
        if waiting is None:
            return self.index.download(file, dest, progress)
        atomic_copy(waiting, dest)
        return file.sha256 or sha256_of(dest)
