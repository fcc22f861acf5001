"""Downloads for a run: the files its locks keep, fetched once, each with its digest and size.

The wheelhouse's own copies are reused; what it lacks is downloaded in parallel.
After a failed download the wheelhouse is left without the files that did arrive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from wheelhouse.commands.workers import Stop, finish, workers
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.files import sha256_of
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.manifest import BuildRequest
from wheelhouse.resolve.candidates import Resolution
from wheelhouse.sdist.staging import Downloader
from wheelhouse.sdist.wheels import WheelMaker

__all__ = ["DownloadReporter", "download_all", "fetch_missing", "unique_files"]


class DownloadReporter(Protocol):
    """The download hooks of a reporter (``BuildReporter`` has them)."""

    def downloading(self, files: Sequence[DistFile]) -> None:
        """These files are about to be downloaded."""

    def progress(self, file: DistFile, nbytes: int) -> None:
        """``nbytes`` more bytes of ``file`` arrived."""


def unique_files(resolutions: Iterable[Resolution], maker: WheelMaker | None) -> list[DistFile]:
    """Every file the wheelhouse keeps: the locks', and the sdists of built wheels."""
    files: dict[str, DistFile] = dict(maker.sources) if maker else {}
    for resolution in resolutions:
        for pin in resolution.pins.values():
            for file in pin.files:
                files.setdefault(file.filename, file)
    return [files[name] for name in sorted(files)]


def fetch_missing(
    wheelhouse: Wheelhouse,
    index: Downloader,
    files: Sequence[DistFile],
    request: BuildRequest,
    reporter: DownloadReporter,
) -> tuple[dict[str, DistFile], list[str]]:
    """Download what the wheelhouse lacks; return every file by name, and the names fetched.

    Every file comes back with its sha256 and size, which a lock needs and an index
    may not give: the download's digest, else the manifest's, else the file's own.
    """
    recorded = wheelhouse.read_manifest().get("files", {})
    known = [_known_digest(wheelhouse, file, recorded) for file in files]
    missing = [file for file in known if not wheelhouse.has_file(file, recorded)]
    digests = download_all(wheelhouse, index, missing, request.jobs, reporter)
    hashed = {file.filename: _completed(wheelhouse, file, digests) for file in known}
    return hashed, [file.filename for file in missing]


def _known_digest(wheelhouse: Wheelhouse, file: DistFile, recorded: Mapping[str, Any]) -> DistFile:
    """A file listed without a digest that the wheelhouse holds: the digest of that copy."""
    path = wheelhouse.path(file.filename)
    if file.sha256 or not path.is_file():
        return file
    entry = recorded.get(file.filename, {})
    # The manifest's record stands while the size agrees, as for files with digests.
    trusted = entry.get("sha256") if entry.get("size") == path.stat().st_size else None
    return dataclasses.replace(file, sha256=trusted or sha256_of(path))


def _completed(wheelhouse: Wheelhouse, file: DistFile, digests: Mapping[str, str]) -> DistFile:
    """``file`` with the sha256 and size of its copy in the wheelhouse where the index gave none."""
    if file.sha256 and file.size is not None:
        return file
    path = wheelhouse.path(file.filename)
    return dataclasses.replace(
        file,
        sha256=file.sha256 or digests.get(file.filename) or sha256_of(path),
        size=path.stat().st_size if file.size is None else file.size,
    )


def download_all(
    wheelhouse: Wheelhouse,
    index: Downloader,
    files: Sequence[DistFile],
    jobs: int,
    reporter: DownloadReporter,
) -> dict[str, str]:
    """Download ``files`` in parallel; their sha256 digests by file name."""
    if not files:
        return {}
    reporter.downloading(files)
    stop = Stop()

    def one(file: DistFile) -> str:
        def progress(nbytes: int) -> None:
            stop.check()  # a download given up removes its partial file
            reporter.progress(file, nbytes)

        return index.download(file, wheelhouse.path(file.filename), progress)

    with workers(jobs, stop) as pool:
        futures = {file.filename: pool.submit(one, file) for file in files}
        finish(futures.values())
    if any(future.exception() is not None for future in futures.values()):
        # A failed build leaves the wheelhouse as it found it: the files that did
        # arrive are in the cache for the next run, and no lock names them.
        for name, future in futures.items():
            if future.exception() is None:
                wheelhouse.path(name).unlink(missing_ok=True)
    return {name: future.result() for name, future in futures.items()}
