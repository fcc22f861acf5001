"""A file's size, sha256 and the ETag an S3 store gives it, from one read.

A listing shows each object's size and ETag; comparing them with what the file
would get is how an unchanged publish costs a listing and no request per object.
Needs no SDK, so plans can be made and tested without one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from wheelhouse.model.publish import Multipart, etag_of

__all__ = ["Fingerprint", "fingerprint"]

_BLOCK = 1 << 20


@dataclass(frozen=True, kw_only=True, slots=True)
class Fingerprint:
    size: int
    sha256: str
    etag: str


def fingerprint(path: Path, multipart: Multipart) -> Fingerprint:
    """Digests of the file as the store will split it: in parts from the threshold on."""
    size = path.stat().st_size
    parted = size >= multipart.threshold
    part_size = multipart.part_size if parted else max(size, 1)
    sha256, parts = hashlib.sha256(), []
    with path.open("rb") as stream:
        while (part := _read_part(stream, part_size, sha256)) is not None:
            parts.append(part)
    md5s = parts or [hashlib.md5(b"", usedforsecurity=False).digest()]
    return Fingerprint(size=size, sha256=sha256.hexdigest(), etag=etag_of(md5s, multipart=parted))


def _read_part(stream: BinaryIO, part_size: int, sha256: hashlib._Hash) -> bytes | None:
    """The md5 of the next part (sha256 sees its bytes too); None at the end of the file."""
    md5, left = hashlib.md5(usedforsecurity=False), part_size
    while left and (block := stream.read(min(_BLOCK, left))):
        md5.update(block)
        sha256.update(block)
        left -= len(block)
    return None if left == part_size else md5.digest()
