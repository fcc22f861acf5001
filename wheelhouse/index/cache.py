"""The persistent cache shared by every run: metadata and files by digest, pages by URL.

Only what was verified enters it, keyed by what verified it. A file, by its
sha256, once its bytes matched it. A wheel's metadata, by the sha256 of the
wheel it was read from once that wheel was downloaded and checked; or, for a
PEP 658 metadata file, by the wheel's sha256 *and* the metadata file's own,
which its bytes matched: an index that lies about a wheel's metadata lies under
a key no honest page names, so it can never answer for another index. Metadata
read by range requests cannot be verified before the wheel is downloaded and is
never kept. These are immutable, so they are never revalidated. A project page
is kept only with the validators (ETag, Last-Modified) the index sent, so that
the next run can ask "has it changed?" instead of fetching it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wheelhouse.house.files import atomic_copy, atomic_write

__all__ = ["Cache", "CachedPage", "default_cache_dir"]

#: Where verified metadata lives. Versions that kept metadata under the digest an
#: index claimed used ``metadata/``, which is never read.
_METADATA = "core-metadata"


def default_cache_dir() -> Path:
    """``$WHEELHOUSE_CACHE_DIR``, else the platform's user cache directory."""
    configured = os.environ.get("WHEELHOUSE_CACHE_DIR")
    if configured:
        return Path(configured)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "wheelhouse" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "wheelhouse"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wheelhouse"


@dataclass(frozen=True, kw_only=True, slots=True)
class CachedPage:
    """A project page as last served, with the validators to revalidate it."""

    content: bytes
    content_type: str
    url: str
    etag: str | None
    last_modified: str | None

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class Cache:
    """A cache directory; every write is atomic and every failure to write is ignored.

    A cache is an optimisation: a full disk or a read-only cache slows a run
    down but never fails it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _digest_path(self, kind: str, sha256: str, name: str = "") -> Path:
        return self.root / kind / sha256[:2] / (name or sha256)

    def metadata(self, file_sha256: str, metadata_sha256: str | None) -> bytes | None:
        """The metadata of the wheel with this digest: read from the wheel itself, else
        from a PEP 658 file whose digest is ``metadata_sha256`` (checked again)."""
        with contextlib.suppress(OSError):
            return self._digest_path(_METADATA, file_sha256).read_bytes()
        if metadata_sha256:
            path = self._digest_path(_METADATA, file_sha256, f"{file_sha256}.{metadata_sha256}")
            with contextlib.suppress(OSError):
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() == metadata_sha256:
                    return data
        return None

    def store_metadata(self, file_sha256: str, data: bytes, metadata_sha256: str = "") -> None:
        """Keep verified metadata: read from the wheel whose bytes matched ``file_sha256``,
        or a PEP 658 file whose bytes matched ``metadata_sha256``."""
        name = f"{file_sha256}.{metadata_sha256}" if metadata_sha256 else ""
        with contextlib.suppress(OSError):
            atomic_write(self._digest_path(_METADATA, file_sha256, name), data)

    def page(self, url: str) -> CachedPage | None:
        base = self._digest_path("pages", _key(url))
        try:
            meta = json.loads(base.with_suffix(".json").read_text("utf-8"))
            return _cached_page(meta, base.with_suffix(".body").read_bytes())
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            return None  # damaged, or written by another version: a miss, never a failure

    def store_page(self, url: str, page: CachedPage) -> None:
        if not (page.etag or page.last_modified):
            return  # nothing to revalidate with: the page would have to be fetched anyway
        base = self._digest_path("pages", _key(url))
        meta = {
            "url": page.url,
            "content-type": page.content_type,
            "etag": page.etag,
            "last-modified": page.last_modified,
            "sha256": hashlib.sha256(page.content).hexdigest(),
        }
        with contextlib.suppress(OSError):
            atomic_write(base.with_suffix(".body"), page.content)
            atomic_write(base.with_suffix(".json"), json.dumps(meta, sort_keys=True).encode())

    def fetch_file(self, sha256: str, dest: Path) -> bool:
        """Copy the cached file with this digest to ``dest``, checking the digest on the way.

        The copy is checked because a cached file may share its inode with a
        file some wheelhouse holds, which its owner may have changed.
        """
        source = self._digest_path("files", sha256)
        if not source.is_file():
            return False
        try:
            if atomic_copy(source, dest, sha256=sha256):
                return True
            source.unlink()
        except OSError:
            pass
        return False

    def store_file(self, sha256: str, path: Path) -> None:
        """Keep ``path`` (whose digest is ``sha256``) for later runs, linked where possible."""
        target = self._digest_path("files", sha256)
        if not target.exists():
            with contextlib.suppress(OSError):
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_copy(path, target, link=True)


def _cached_page(meta: Any, content: bytes) -> CachedPage | None:
    """The page a header and body make; None when they come from two different writes."""
    if hashlib.sha256(content).hexdigest() != meta.get("sha256"):
        return None
    etag, last_modified = meta.get("etag"), meta.get("last-modified")
    fields = [meta["content-type"], meta["url"], *filter(None, (etag, last_modified))]
    if not all(isinstance(field, str) for field in fields):
        raise TypeError("a cached page's header fields are strings")
    return CachedPage(
        content=content,
        content_type=meta["content-type"],
        url=meta["url"],
        etag=etag,
        last_modified=last_modified,
    )


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()
