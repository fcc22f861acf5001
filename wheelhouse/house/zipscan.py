"""One member of a zip, found without building an object for every member.

``zipfile`` makes a ``ZipInfo`` for each entry of the central directory: for a
wheel of tens of thousands of files, that is most of the cost of reading its
``METADATA``. :func:`find_member` walks the central directory's raw bytes with
``struct`` instead and reads only the member asked for, from a local file or
from a remote one read by ranges (which is asked for the member's bytes in one
go). It takes the plain
case only (one disk, no ZIP64, nothing before the archive, a stored or
deflated member that is not encrypted, sizes and CRC as declared) and answers
None for anything else, so the caller falls back to ``zipfile``, whose checks
and errors then apply: the fast path never accepts an archive that ``zipfile``
would refuse, nor picks another member than it would.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["LOCAL_ROOM", "Member", "find_member"]

_END = struct.Struct("<4s4H2LH")  # end of central directory record, 22 bytes
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory entry, 46 bytes
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header, 30 bytes
_LOCAL_SIGNATURE = b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF
#: Room for a member's local header (30 bytes), its name and extra field, in all likelihood.
LOCAL_ROOM = 4096
_LOCATOR_SIZE = 20
_STORED, _DEFLATED = 0, 8
_ENCRYPTED, _UTF8 = 0x1, 0x800
#: A central directory larger than this is left to ``zipfile``.
MAX_DIRECTORY = 64 * 1024 * 1024


class _Seekable(Protocol):
    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Member:
    """A member's name and bytes, as found."""

    name: str
    data: bytes


def find_member(
    handle: _Seekable,
    wanted: Callable[[str], bool],
    limit: int,
    prefetch: Callable[[int, int], None] | None = None,
) -> Member | None:
    """The one member whose name ``wanted`` accepts, read in full, if not over ``limit``.

    None when the archive is not the plain case this reads, holds no such
    member or several, or the member is larger than ``limit`` once
    decompressed: ``zipfile`` then says what is wrong, if anything is.
    ``prefetch(start, end)`` is told the member's bytes before they are read.
    """
    size = handle.seek(0, os.SEEK_END)
    directory = _central_directory(handle, size)
    if directory is None:
        return None
    found = _entries(*directory, wanted)
    if found is None or len(found[0]) != 1:
        return None
    entry, after = found[0][0], found[1]
    if prefetch is not None:
        prefetch(entry.offset, min(after, entry.offset + entry.compressed + LOCAL_ROOM))
    return _read(handle, entry, limit)


def _central_directory(handle: _Seekable, size: int) -> tuple[bytes, int, int] | None:
    """The central directory's bytes, entry count and offset; None unless the plain case.

    The end record is looked for at the very end first (an archive with no
    comment, the usual case), then in as many bytes more as a comment can take;
    the 20 bytes before it would hold a ZIP64 locator, which ``zipfile`` would
    follow.
    """
    if size < _END.size:
        return None
    first = min(size, _END.size + _LOCATOR_SIZE)  # the end record and what may precede it
    handle.seek(size - first)
    tail = handle.read(first)
    if not tail[-_END.size :].startswith(_END_SIGNATURE):
        tail_size = min(size, _END.size + _MAX_COMMENT)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
    tail_size = len(tail)
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END.size:
        return None
    _sig, disk, start_disk, here, total, length, offset, comment = _END.unpack_from(tail, at)
    end_offset = size - tail_size + at
    if (disk, start_disk) != (0, 0) or here != total or at + _END.size + comment != len(tail):
        return None
    if 0xFFFF in (here, total) or 0xFFFFFFFF in (length, offset) or length > MAX_DIRECTORY:
        return None  # ZIP64: zipfile's
    before = tail[max(0, at - _LOCATOR_SIZE) : at]
    if offset + length != end_offset or before.startswith(_ZIP64_LOCATOR):
        return None  # data before the archive, or a ZIP64 locator: zipfile's
    handle.seek(offset)
    data = handle.read(length)
    return (data, total, offset) if len(data) == length else None


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


def _entries(
    directory: bytes, total: int, start_of_directory: int, wanted: Callable[[str], bool]
) -> tuple[list[_Entry], int] | None:
    """The entries whose name ``wanted`` accepts, and where the first of them ends at the
    latest (the next member's offset); None if the directory is not well formed."""
    found: list[_Entry] = []
    offsets: list[int] = []
    position, count, end = 0, 0, len(directory)
    unpack, size = _CENTRAL.unpack_from, _CENTRAL.size
    while position < end:
        if end - position < size:
            return None
        fields = unpack(directory, position)
        if fields[0] != _CENTRAL_SIGNATURE:
            return None
        flags, method, crc, compressed, length = fields[5:7] + fields[9:12]
        name_size, extra_size, comment_size = fields[12:15]
        start = position + size
        raw = directory[start : start + name_size]
        position = start + name_size + extra_size + comment_size
        count += 1
        offsets.append(fields[18])
        if not raw.endswith(b"METADATA"):
            continue  # most entries: no decoding
        name = raw.decode("utf-8" if flags & _UTF8 else "cp437")
        if wanted(name):
            offset = fields[18]
            found.append(_Entry(name, flags, method, crc, compressed, length, offset))
    if position != end or count != total:
        return None
    first = found[0].offset if found else -1
    return found, min((o for o in offsets if o > first), default=start_of_directory)


def _read(handle: _Seekable, entry: _Entry, limit: int) -> Member | None:
    """The member's bytes; None for anything but a plain stored or deflated member."""
    if entry.flags & _ENCRYPTED or entry.method not in (_STORED, _DEFLATED):
        return None
    if 0xFFFFFFFF in (entry.compressed, entry.size, entry.offset):
        return None
    if entry.size > limit:
        return None
    handle.seek(entry.offset)
    header = handle.read(_LOCAL.size)
    if len(header) != _LOCAL.size:
        return None
    fields = _LOCAL.unpack(header)
    name_size, extra_size = fields[10], fields[11]
    if (
        fields[0] != _LOCAL_SIGNATURE
        or handle.read(name_size).decode("utf-8" if entry.flags & _UTF8 else "cp437", "replace")
        != entry.name
    ):
        return None
    handle.seek(extra_size, os.SEEK_CUR)
    raw = handle.read(entry.compressed)
    if len(raw) != entry.compressed:
        return None
    if entry.method == _STORED:
        data = raw
    else:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflate.decompress(raw, limit + 1)
        except zlib.error:
            return None
        if len(data) > limit:
            return None
    if len(data) != entry.size or zlib.crc32(data) != entry.crc:
        return None
    return Member(entry.name, data)
