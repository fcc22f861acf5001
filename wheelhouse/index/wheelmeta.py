"""A wheel's core metadata from an index: fetched, checked against its file, and cached.

The metadata comes from the PEP 658 file when the index offers one and it
matches its digest, else from the wheel's zip by range requests, else from the
whole wheel when the server ignores ranges. Whatever is read must name the
file's project and version; a downloaded wheel's own METADATA must also declare
the dependencies the resolution read. Only verified metadata is cached
(:mod:`~wheelhouse.index.cache` says under which keys).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from wheelhouse.house.errors import MetadataError, MetadataTooLarge
from wheelhouse.house.layout import metadata_name
from wheelhouse.house.metadata import Seekable, check_identity, wheel_metadata
from wheelhouse.index.cache import Cache
from wheelhouse.index.errors import AccessDenied, LimitExceeded, Untrusted
from wheelhouse.index.http import Http
from wheelhouse.index.rangezip import OverBudget, RangeFile
from wheelhouse.model.coremeta import dependency_fields
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.limits import Limits

__all__ = ["TAIL_SIZE", "WheelMetadata"]

#: The first read of a remote wheel: its end holds the zip's central directory,
#: and usually the ``.dist-info`` files, which wheel builders write last.
TAIL_SIZE = 64 * 1024


class WheelMetadata:
    """Fetch and verify wheels' metadata through ``http``, kept in ``cache`` when given."""

    def __init__(self, http: Http, cache: Cache | None, limits: Limits) -> None:
        self._http, self._cache, self.limits = http, cache, limits

    def fetch(self, file: DistFile) -> bytes:
        """The core metadata (``METADATA`` bytes) of the wheel ``file``, cached or fetched."""
        if self._cache is not None and file.sha256:
            cached = self._cache.metadata(file.sha256, file.metadata_sha256)
            if cached is not None:
                return self.checked(file, cached)
        data = self._metadata_file(file) if file.has_metadata_file else None
        if data is None:  # read by ranges: unverifiable until the wheel is here, never kept
            return self.checked(file, self._metadata_from_wheel(file))
        self.checked(file, data)
        if self._cache is not None and file.sha256 and file.metadata_sha256:
            self._cache.store_metadata(file.sha256, data, file.metadata_sha256)
        return data

    def checked(self, file: DistFile, data: bytes) -> bytes:
        """``data``, once it names the file's project and version."""
        try:
            check_identity(data, file.project, file.version)
        except MetadataError as exc:
            raise Untrusted(file.url, exc.reason) from None
        return data

    def verify(
        self, file: DistFile, path: Path, digest: str, used: Callable[[], bytes | None]
    ) -> None:
        """A wheel is a zip whose METADATA names it and says what the resolution read.

        ``used`` gives the metadata this run read for ``file``, if it read any.
        The wheel's METADATA, read from bytes that matched the page's digest, is
        then true of every wheel with that digest, and is kept for later runs.
        """
        if not file.is_wheel:
            return
        data = self.checked(file, self._read_wheel(file, path))
        read = used()
        if read is not None and _dependencies(read) != _dependencies(data):
            reason = (
                "its METADATA declares other dependencies than the metadata the index "
                "served for it, which the resolution used"
            )
            raise Untrusted(file.url, reason)
        if self._cache is not None:
            self._cache.store_metadata(digest, data)

    def _metadata_file(self, file: DistFile) -> bytes | None:
        """The PEP 658 file, or None when missing or corrupt (the wheel itself still tells)."""
        url = metadata_name(file.url)  # PEP 658 names it as the wheelhouse does
        try:
            response = self._http.fetch(url, {}, limit="metadata_size")
        except AccessDenied:  # a storage service's 403 for a missing key: ranges still tell
            return None
        if response.status >= 400:
            return None
        if file.metadata_sha256 and _sha256(response.content) != file.metadata_sha256:
            return None
        return response.content

    def _metadata_from_wheel(self, file: DistFile) -> bytes:
        tail = self._http.tail(file.url, TAIL_SIZE)
        source = self._remote(file.url, *tail) if isinstance(tail, tuple) else tail
        try:
            return self._read_wheel(file, source)
        except OverBudget:
            budget = self.limits.describe("page_size")
            reason = f"reading its metadata by ranges would fetch more than {budget}"
            raise LimitExceeded(file.url, reason) from None
        finally:
            source.close()

    def _remote(self, url: str, start: int, total: int, data: bytes) -> RangeFile:
        remote = RangeFile(total, partial(self._http.range, url), self.limits.page_size)
        remote.add(start, data)
        return remote

    def _read_wheel(self, file: DistFile, source: Path | Seekable) -> bytes:
        """The wheel's METADATA; a bomb or an archive that is no wheel is refused."""
        try:
            return wheel_metadata(source, file.project, limits=self.limits)
        except MetadataTooLarge as exc:
            raise LimitExceeded(file.url, exc.reason) from None
        except MetadataError as exc:
            raise Untrusted(file.url, f"not a wheel: {exc.reason}") from None


def _dependencies(metadata: bytes) -> tuple[list[str], str | None]:
    """What a resolution reads of metadata: Requires-Dist (normalised) and Requires-Python."""
    requires_dist, requires_python = dependency_fields(metadata)
    return sorted(map(_normal, requires_dist)), requires_python


def _normal(requirement: str) -> str:
    try:
        return str(Requirement(requirement))
    except InvalidRequirement:
        return requirement


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
