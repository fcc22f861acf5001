"""``wheelhouse fetch``: put in place every file the committed locks name, then index them.

For a wheelhouse whose locks and manifest were checked out without its files
(CI commits ``locks/`` and ``wheelhouse.toml``, never the distributions).
Nothing is resolved: each file a lock names is looked up in the manifest's
``[files]`` table, downloaded from the origin recorded there unless the
directory holds it, and checked against the hash the lock gives. The index is
then rewritten inside one all-or-nothing commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wheelhouse.commands.build import BuildReporter
from wheelhouse.commands.downloads import download_all
from wheelhouse.commands.errors import CannotFetch
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.indexer import IndexResult, index_directory
from wheelhouse.house.references import References, known_files, needed_files
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.urls import with_credentials
from wheelhouse.sdist.staging import Downloader

__all__ = ["FetchResult", "fetch", "wanted_files"]


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchResult:
    """What fetch downloaded, how many needed files were already here, and the indexing."""

    downloaded: tuple[DistFile, ...]
    present: int
    index: IndexResult


def fetch(
    wheelhouse: Wheelhouse,
    index: Downloader,
    reporter: BuildReporter | None = None,
    *,
    jobs: int = 8,
    index_urls: Sequence[str] = (),
) -> FetchResult:
    """Download what the locks name and the directory lacks; rewrite the index.

    ``index_urls`` are the indexes as the user gave them: a recorded origin on
    one of their hosts gets back the credentials the manifest never holds.
    Raises :class:`CannotFetch`, before any download, when a file has no origin.
    """
    reporter = reporter or BuildReporter()
    with wheelhouse.exclusive():
        manifest = wheelhouse.read_manifest()
        recorded: Mapping[str, Any] = manifest.get("files", {})
        wanted = [_authorised(file, index_urls) for file in wanted_files(wheelhouse, manifest)]
        missing = [file for file in wanted if not wheelhouse.has_file(file, recorded)]
        download_all(wheelhouse, index, missing, jobs, reporter)
        with wheelhouse.committing("fetch"):
            indexed = index_directory(wheelhouse, known_files(recorded))
            wheelhouse.write_matrix_constraints()  # committed locks from before it existed
    return FetchResult(downloaded=tuple(missing), present=len(wanted) - len(missing), index=indexed)


def wanted_files(wheelhouse: Wheelhouse, manifest: Mapping[str, Any]) -> list[DistFile]:
    """Every file the locks and builds need, as the manifest records its origin and hash.

    Raises :class:`CannotFetch` naming each needed file with no origin to download
    it from: a wheel built here, or a file the manifest does not record.
    """
    needed = needed_files(wheelhouse, manifest)
    recorded: Mapping[str, Any] = manifest.get("files", {})
    wanted: list[DistFile] = []
    problems: list[str] = []
    for name in sorted(recorded):
        entry = recorded[name]
        if not needed.cover(name, entry.get("sha256")):
            continue
        if "url" not in entry or not entry.get("sha256"):
            problems.append(_why_not(name, entry))
            continue
        file = DistFile.from_record(name, entry)
        wanted.append(dataclasses.replace(file, url=str(entry["url"])))
    problems += _unrecorded(needed, recorded)
    if problems:
        raise CannotFetch(str(wheelhouse.manifest_path), problems)
    return wanted


def _why_not(name: str, entry: Mapping[str, Any]) -> str:
    if "built-from" in entry:
        return f"{name} was built here from {entry['built-from']}"
    return f"{name} has no {'url' if 'url' not in entry else 'sha256'} in [files]"


def _unrecorded(needed: References, recorded: Mapping[str, Any]) -> list[str]:
    """What the locks name that no entry of the manifest stands for."""
    digests = {entry.get("sha256") for entry in recorded.values()}
    names = [f"{name} is not in [files]" for name in sorted(needed.filenames - set(recorded))]
    hashes = [f"sha256:{digest} is not in [files]" for digest in sorted(needed.hashes - digests)]
    return names + hashes


def _authorised(file: DistFile, index_urls: Sequence[str]) -> DistFile:
    return dataclasses.replace(file, url=with_credentials(file.url, index_urls))
