"""What a resolution reads of a distribution's core metadata: Requires-Dist and Requires-Python.

``packaging.metadata.parse_email`` reads the whole header, and the description
after it, through the email parser, which costs milliseconds for a header of
many fields. :func:`dependency_fields` reads a plain header itself, line by line
as that parser does, and gives any other to ``parse_email``, up to the header's
end: the answers are ``parse_email``'s.
"""

from __future__ import annotations

import re

from packaging.metadata import parse_email

__all__ = ["dependency_fields"]

#: A header field's line as the email parser knows one: a name of printable
#: characters but the colon, then the colon (its ``headerRE``, less continuations).
_FIELD = re.compile(r"[\041-\071\073-\176]+:")


def dependency_fields(metadata: bytes) -> tuple[list[str], str | None]:
    """The Requires-Dist values and the Requires-Python value, as ``parse_email`` reads them.

    The email parser costs milliseconds for a header with many fields; a header
    of plain lines (no carriage return, continuation or ``From`` line; the two
    fields in ASCII) is read here, line by line, as that parser would. Any
    other goes to ``parse_email``, up to its first empty line.
    """
    headers = _headers(metadata)
    fields = _plain_fields(headers) if b"\r" not in headers else None
    if fields is None:
        raw, _ = parse_email(headers)
        return raw.get("requires_dist", []), raw.get("requires_python")
    dist, python = fields
    return dist, python[0] if len(python) == 1 else None  # a repeated field is no value


def _plain_fields(headers: bytes) -> tuple[list[str], list[str]] | None:
    """Requires-Dist and Requires-Python values of a plain header, or None for another."""
    dist: list[str] = []
    python: list[str] = []
    lines = headers.decode("ascii", "surrogateescape").split("\n")
    if lines[-1] == "":
        lines.pop()  # what follows the last newline
    for line in lines:
        field = _FIELD.match(line)
        if field is None:
            return None  # a continuation, an empty or a From line, or no field at all
        name = line[: field.end() - 1].lower()
        if name in ("requires-dist", "requires-python"):
            value = line[field.end() :].lstrip(" \t")
            if not value.isascii():
                return None  # the parser decodes those bytes its own way
            (dist if name == "requires-dist" else python).append(value)
    return dist, python


def _headers(metadata: bytes) -> bytes:
    """The metadata up to the first empty line: its header fields, without the description.

    The email parser reads a long description line by line, and the header fields
    are all a resolution reads; they end at the first empty line, if not before.
    """
    end = metadata.find(b"\n\n")
    return metadata if end < 0 else metadata[: end + 1]
