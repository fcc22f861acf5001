"""What a publish puts where in object storage, and the plan that gets it there.

A wheelhouse maps onto keys under one prefix of one bucket: every file at its
path relative to the wheelhouse, and each index page also at the key of its
directory (``simple/<name>/``), because pip and uv ask for that URL and object
storage has no directory index. The plan is a pure function of the local objects
and a listing of the remote ones: what to upload, stage by stage (files, project
pages, the root page, locks, the manifest), what is already there, and what under
the prefix no current object needs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from itertools import groupby

from wheelhouse.model.simple import JSON_TYPE, TEXT_HTML_TYPE

__all__ = [
    "BINARY_TYPE",
    "HTML_TYPE",
    "JSON_TYPE",
    "TEXT_TYPE",
    "LocalObject",
    "Multipart",
    "Placement",
    "PublishPlan",
    "RemoteObject",
    "S3Location",
    "Stage",
    "etag_of",
    "needs_checking",
    "placements",
    "plan_publish",
]

HTML_TYPE = f"{TEXT_HTML_TYPE}; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
BINARY_TYPE = "application/octet-stream"

_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,254}")
# URL syntax (a query, a fragment, escapes) and backslashes would change what a
# reader's URL names; dot segments would be folded away by the reader's client.
_BAD_SEGMENT = re.compile(r"^\.{1,2}$|[?#%\\\x00-\x1f\x7f]")


class Stage(IntEnum):
    """Upload order: a reader never meets a link to an object that is not up yet."""

    FILES = 1  # distribution files and their .metadata: what pages link to
    PAGES = 2  # simple/<name>/: what the root page links to
    ROOT = 3  # simple/
    LOCKS = 4  # locks/ and constraints/: they name files by hash
    MANIFEST = 5  # wheelhouse.toml: last, it describes the whole set


@dataclass(frozen=True, kw_only=True, slots=True)
class S3Location:
    """A bucket and a key prefix (empty, or ending with ``/``)."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """``s3://BUCKET/PREFIX``; ValueError saying what is wrong with it."""
        scheme, _, rest = url.partition("://")
        if scheme.lower() != "s3" or not rest:
            raise ValueError(f"{url!r} is not an s3://BUCKET/PREFIX URL")
        bucket, _, prefix = rest.partition("/")
        if not _BUCKET.fullmatch(bucket):
            raise ValueError(f"{bucket!r} is not a bucket name")
        segments = prefix.rstrip("/").split("/") if prefix.strip("/") else []
        if any(not segment or _BAD_SEGMENT.search(segment) for segment in segments):
            raise ValueError(
                f"{prefix!r} is not a usable prefix: empty, '.' or '..' segments, "
                "or one of ? # % \\ in it"
            )
        return cls(bucket=bucket, prefix="".join(f"{segment}/" for segment in segments))

    def key(self, relative: str) -> str:
        return self.prefix + relative

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Multipart:
    """How the store splits an upload into parts: files from ``threshold`` bytes on."""

    threshold: int = 8 << 20
    part_size: int = 8 << 20


def etag_of(part_md5s: Sequence[bytes], *, multipart: bool) -> str:
    """The ETag S3 gives an object uploaded whole (one md5) or in these parts."""
    if not multipart:
        return part_md5s[0].hex()
    digest = hashlib.md5(b"".join(part_md5s), usedforsecurity=False)  # an ETag, not a seal
    return f"{digest.hexdigest()}-{len(part_md5s)}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Placement:
    """Where one wheelhouse file goes: a key under the prefix, its type and its stage."""

    key: str
    content_type: str
    stage: Stage


def placements(relative: str) -> tuple[Placement, ...]:
    """The objects one file of the wheelhouse becomes (two for an HTML index page)."""
    parts = relative.split("/")
    if parts[0] == "simple":
        stage = Stage.ROOT if len(parts) == 2 else Stage.PAGES
        if parts[-1] == "index.json":
            return (Placement(key=relative, content_type=JSON_TYPE, stage=stage),)
        directory = relative.removesuffix("index.html")
        return tuple(
            Placement(key=key, content_type=HTML_TYPE, stage=stage) for key in (relative, directory)
        )
    if parts[0] in ("locks", "constraints"):
        return (Placement(key=relative, content_type=TEXT_TYPE, stage=Stage.LOCKS),)
    if len(parts) == 1 and relative == "wheelhouse.toml":
        return (Placement(key=relative, content_type=TEXT_TYPE, stage=Stage.MANIFEST),)
    kind = TEXT_TYPE if relative.endswith(".metadata") else BINARY_TYPE
    return (Placement(key=relative, content_type=kind, stage=Stage.FILES),)


@dataclass(frozen=True, kw_only=True, slots=True)
class LocalObject:
    """An object to publish: its key, the wheelhouse file it holds, and that file's digests."""

    key: str
    source: str  # path relative to the wheelhouse, with "/"
    size: int
    sha256: str
    etag: str  # the ETag the store will give it, to compare with a listing
    content_type: str
    stage: Stage


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteObject:
    """An object in the store: what a listing says, plus what a HEAD request adds."""

    key: str
    size: int
    etag: str
    sha256: str | None = None
    content_type: str | None = None


def _same_bytes(local: LocalObject, remote: RemoteObject) -> bool:
    """Whether the listing alone shows the object holds the file's bytes."""
    return remote.size == local.size and remote.etag.strip('"') == local.etag


def _up_to_date(local: LocalObject, remote: RemoteObject) -> bool:
    if _same_bytes(local, remote):
        return True
    return (remote.sha256, remote.content_type) == (local.sha256, local.content_type)


def needs_checking(local: Iterable[LocalObject], remote: Mapping[str, RemoteObject]) -> list[str]:
    """Keys whose listing cannot tell whether they are current: a HEAD request will.

    Same size but another ETag: uploaded in other parts, encrypted with a
    customer key, or changed. An object of another size is uploaded at once.
    """
    return [
        item.key
        for item in local
        if (found := remote.get(item.key)) is not None
        and found.size == item.size
        and found.sha256 is None
        and not _same_bytes(item, found)
    ]


@dataclass(frozen=True, kw_only=True, slots=True)
class PublishPlan:
    """Uploads in stage order, objects already current, and stale keys under the prefix."""

    location: S3Location
    uploads: tuple[LocalObject, ...]
    unchanged: tuple[LocalObject, ...]
    stale: tuple[str, ...]
    delete: bool

    @property
    def upload_bytes(self) -> int:
        return sum(item.size for item in self.uploads)

    def stages(self) -> Iterator[tuple[Stage, tuple[LocalObject, ...]]]:
        """The uploads grouped by stage, in order: each group waits for the one before."""
        for stage, group in groupby(self.uploads, key=lambda item: item.stage):
            yield stage, tuple(group)


def plan_publish(
    location: S3Location,
    local: Sequence[LocalObject],
    remote: Mapping[str, RemoteObject],
    *,
    delete: bool,
) -> PublishPlan:
    """Upload what is missing or different; with ``delete``, drop what nothing needs.

    Only keys under the prefix are ever stale, whatever ``remote`` holds.
    """
    keys = {item.key for item in local}
    if len(keys) != len(local):
        raise ValueError("two local objects share one key")
    current = [item for item in local if item.key in remote and _up_to_date(item, remote[item.key])]
    uploads = sorted(set(local) - set(current), key=lambda item: (item.stage, item.key))
    stale = sorted(key for key in remote if key.startswith(location.prefix) and key not in keys)
    return PublishPlan(
        location=location,
        uploads=tuple(uploads),
        unchanged=tuple(current),
        stale=tuple(stale),
        delete=delete,
    )
