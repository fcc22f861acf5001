"""A remote file read by byte ranges, for reading a wheel's metadata without the whole file.

A :class:`RangeFile` is a seekable view of a remote file that fetches only the
byte ranges read from it: given to :func:`wheelhouse.house.metadata.wheel_metadata`,
the central directory at the end, then the one member wanted. No HTTP here:
the caller supplies the function that fetches.

The sizes a zip declares (of its central directory, of a member) come from
whoever made it: a :class:`RangeFile` fetches no more than its ``budget`` in all,
and raises :class:`OverBudget` rather than ask for more.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["OverBudget", "RangeFile"]


class OverBudget(Exception):
    """Reading on would fetch more than the file's budget allows."""


class RangeFile:
    """A read-only, seekable view of a remote file that fetches only the bytes read.

    ``fetch(start, end)`` returns bytes ``[start, end)``; what it returned is
    kept, so ``zipfile`` re-reading the central directory costs nothing. The
    bytes fetched, :meth:`add` included, never exceed ``budget``.
    """

    def __init__(self, size: int, fetch: Callable[[int, int], bytes], budget: int) -> None:
        self.size, self.budget = size, budget
        self._fetch = fetch
        self._chunks: dict[int, bytes] = {}
        self._position = 0
        self._fetched = 0

    def add(self, start: int, data: bytes) -> None:
        """Keep bytes already fetched, starting at ``start``."""
        if data:
            self._chunks[start] = data
            self._fetched += len(data)

    def prefetch(self, start: int, end: int) -> None:
        """Fetch ``[start, end)`` now, in as few requests as the cache allows."""
        self._span(start, min(end, self.size))

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size < 0 else min(self.size, self._position + size)
        data = self._span(self._position, end) if end > self._position else b""
        self._position += len(data)
        return data

    def close(self) -> None:
        self._chunks.clear()

    def _span(self, start: int, end: int) -> bytes:
        parts: list[bytes] = []
        while start < end:
            part = self._cached(start, end)
            if part is None:
                stop = min([offset for offset in self._chunks if offset > start] + [end])
                if self._fetched + stop - start > self.budget:
                    raise OverBudget(f"reading bytes {start}-{stop - 1} would pass {self.budget}")
                part = self._fetch(start, stop)
                self.add(start, part)
            if not part:
                raise EOFError(f"no bytes at offset {start}")
            parts.append(part)
            start += len(part)
        return b"".join(parts)

    def _cached(self, start: int, end: int) -> bytes | None:
        for offset, data in self._chunks.items():
            if offset <= start < offset + len(data):
                return data[start - offset : end - offset]
        return None
