"""How much an index may make a run read, wait for and resolve: the bounds on untrusted input.

Nothing from an index is trusted before it is checked, and until then it is
bounded. The defaults are far above what any real index serves; each can be
changed by an environment variable (:data:`VARIABLES`), read by
:meth:`Limits.from_environ` from a mapping the caller passes (pure: no I/O here).
Sizes take a number of bytes or a binary suffix (``64M``, ``2GiB``); times take
seconds.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from wheelhouse.model.errors import InvalidLimit

__all__ = ["MAX_JSON_DEPTH", "VARIABLES", "Limits", "describe_size"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
#: How deep a JSON index page may nest: a real one nests 4 deep.
MAX_JSON_DEPTH = 64

#: Each limit's environment variable, by field name.
VARIABLES = {
    "page_size": "WHEELHOUSE_MAX_PAGE_SIZE",
    "metadata_size": "WHEELHOUSE_MAX_METADATA_SIZE",
    "file_size": "WHEELHOUSE_MAX_FILE_SIZE",
    "deadline": "WHEELHOUSE_HTTP_DEADLINE",
    "min_rate": "WHEELHOUSE_MIN_DOWNLOAD_RATE",
    "projects": "WHEELHOUSE_MAX_PROJECTS",
    "build_timeout": "WHEELHOUSE_BUILD_TIMEOUT",
}
#: How each limit is written, when not as a size.
_KINDS = {"deadline": "seconds", "projects": "count", "build_timeout": "seconds"}
_EXPECTED = {
    "seconds": "a number of seconds",
    "count": "a whole number",
    "size": "a number of bytes (or of K, M or G)",
}
_SIZE = re.compile(r"(\d+)\s*([KMG]?)(?:i?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": KiB, "M": MiB, "G": GiB}


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """The bounds of one run.

    ``page_size``: a project page's body, decompressed; the bytes read by range
    requests to find one wheel's metadata are bounded by it too.
    ``metadata_size``: a PEP 658 metadata file's body, and any archive member read
    for metadata (``METADATA``, ``PKG-INFO``), decompressed. ``file_size``: a
    downloaded file (a file is also refused when larger than its page says).
    ``deadline``: seconds for a whole answer to a page, metadata or range request;
    a download gets that long before ``min_rate`` (bytes a second, on average
    since it started) applies. ``projects``: distinct projects the resolutions of
    one run may consult, which ends a dependency chain that never ends.
    ``build_timeout``: seconds for one program a build runs (pip installing build
    requirements or building an sdist, a build backend's hook), which ends a
    backend that hangs.
    """

    page_size: int = 64 * MiB
    metadata_size: int = 16 * MiB
    file_size: int = 8 * GiB
    deadline: float = 300.0
    min_rate: int = 10 * KiB
    projects: int = 10_000
    build_timeout: float = 1800.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Limits:
        """The defaults, with what the variables of :data:`VARIABLES` set in ``environ``.

        Raises :class:`InvalidLimit` for a value that is not a positive number.
        """
        default = cls()

        def read(name: str) -> float:
            text = environ.get(VARIABLES[name], "").strip()
            if not text:
                return float(getattr(default, name))
            return _parse(VARIABLES[name], text, _KINDS.get(name, "size"))

        return cls(
            page_size=int(read("page_size")),
            metadata_size=int(read("metadata_size")),
            file_size=int(read("file_size")),
            deadline=read("deadline"),
            min_rate=int(read("min_rate")),
            projects=int(read("projects")),
            build_timeout=read("build_timeout"),
        )

    def describe(self, name: str) -> str:
        """One limit as a message names it: its value and its variable."""
        value = getattr(self, name)
        if name in ("deadline", "build_timeout"):
            shown = f"{value:g} s"
        elif name == "min_rate":
            shown = f"{describe_size(value)}/s"
        elif name == "projects":
            shown = f"{value} projects"
        else:
            shown = describe_size(value)
        return f"{shown} ({VARIABLES[name]})"


def describe_size(size: int) -> str:
    """A size in the largest binary unit that divides it (``64 MiB``), else in bytes."""
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _parse(variable: str, text: str, kind: str) -> float:
    """A positive number of seconds, of things, or of bytes (with an optional binary unit)."""
    value = -1.0
    if kind == "seconds":
        with contextlib.suppress(ValueError):
            value = float(text)
    elif kind == "count":
        value = float(text) if text.isdigit() else -1.0
    elif match := _SIZE.fullmatch(text):
        value = float(int(match[1]) * _UNITS[match[2].upper()])
    if not 0 < value < float("inf"):
        raise InvalidLimit(variable, text, f"expected {_EXPECTED[kind]} greater than 0")
    return value
