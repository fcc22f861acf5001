"""``build --from-lock``: each target takes a lock's pins instead of a resolution.

For each target, exactly the locked versions whose markers hold there; of each
one's locked files, the best for the target by its tag order (the ranking the
finder uses, restricted to the lock's files); its hash is the lock's, which the
download checks. A file the lock names by hash or name alone (a requirements
file, a ``path`` entry) is looked up among the index's files of that version.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from wheelhouse.commands.errors import NoLockedFile
from wheelhouse.model.distributions import DistFile, Policy, select_files
from wheelhouse.model.lockfile import LockedFile, LockedPin, LockSource, filename_of
from wheelhouse.model.pages import ProjectPage
from wheelhouse.model.pyproject import Choice
from wheelhouse.model.targets import Target
from wheelhouse.resolve.candidates import Resolution, ResolvedPin

__all__ = ["Pages", "locked_resolution"]


class Pages(Protocol):
    """Where files a lock names without a URL are looked up."""

    def project_files(self, name: str) -> ProjectPage: ...


def locked_resolution(
    lock: LockSource, target: Target, choice: Choice, pages: Pages, policy: Policy
) -> Resolution:
    """The lock's pins for ``target``, each with the one file the target takes."""
    pins = {}
    for pin in lock.select(target, choice):
        files = [file for locked in pin.files for file in _dist_files(pin, locked, pages)]
        selection = select_files(files, target, policy)
        best = selection.by_version.get(pin.version)
        if not best:
            reasons = sorted({str(skip) for skip in selection.skips}) or [_none(pin, lock)]
            raise NoLockedFile(pin.name, str(pin.version), target.name, reasons)
        pins[pin.name] = ResolvedPin(
            name=pin.name,
            version=pin.version,
            files=(best[0],),
            via=pin.via,
            dependencies=pin.dependencies,
            marker=pin.marker,
        )
    return Resolution(target=target, pins=pins)


def _dist_files(pin: LockedPin, locked: LockedFile, pages: Pages) -> Sequence[DistFile]:
    """The file as the lock gives it, or the index's file of that name or hash."""
    if locked.url is None:
        return _on_index(pin, locked, pages)
    return [
        DistFile.create(
            filename=locked.filename or filename_of(locked.url),
            url=locked.url,
            project=pin.name,
            sha256=locked.sha256,
            size=locked.size,
            upload_time=locked.upload_time,
            requires_python=pin.requires_python,
        )
    ]


def _on_index(pin: LockedPin, locked: LockedFile, pages: Pages) -> list[DistFile]:
    """The index's files of the pinned version that match the lock's name, else its hash.

    The lock's hash stands: a file the index lists without one is downloaded and
    checked against it.
    """
    found = []
    for file in pages.project_files(pin.name).files_of(pin.version):
        if locked.filename is not None:
            same = file.filename == locked.filename and file.sha256 in (None, locked.sha256)
        else:
            same = file.sha256 == locked.sha256
        if same:
            python = file.requires_python or pin.requires_python
            found.append(dataclasses.replace(file, sha256=locked.sha256, requires_python=python))
    return found


def _none(pin: LockedPin, lock: LockSource) -> str:
    return f"{lock.path} names {len(pin.files)} file(s) of it, none on the index"
