"""Core metadata as a resolution reads it: Requires-Dist and Requires-Python, as parse_email."""

from __future__ import annotations

import pytest
from packaging.metadata import parse_email

from wheelhouse.model import coremeta

HEADERS = b"Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\nRequires-Python: >=3.8\n"
PLAIN = (
    HEADERS + b"Requires-Dist: beta>=1\nrequires-dist:gamma ; extra == 'x' \nAuthor: Ren\xc3\xa9\n"
)
METADATA_FORMS = {
    "plain": PLAIN,
    "described": PLAIN + b"\nRequires-Dist: not-a-header\n\n\nmore\n" + b"Described.\n" * 1000,
    "no newline at the end": PLAIN + b"Requires-Dist: delta",
    "python twice": PLAIN + b"Requires-Python: >=3.9\n",
    "folded": HEADERS + b"Requires-Dist: gamma;\n  python_version<'4'\n",
    "crlf, no description": HEADERS.replace(b"\n", b"\r\n") + b"Requires-Dist: beta\r\n",
    "crlf": HEADERS.replace(b"\n", b"\r\n") + b"Requires-Dist: beta\r\n\r\nRequires-Dist: x\r\n",
    "no separator": HEADERS + b"Requires-Dist: beta\nnot a header\nRequires-Dist: body\n",
    "from line": b"From someone\n" + HEADERS + b"Requires-Dist: beta\n",
    "colon first": HEADERS + b": odd\nRequires-Dist: beta\n",
    "non-ascii": HEADERS + b"Requires-Dist: caf\xc3\xa9-beta\n\nbody\n",
    "latin-1": HEADERS + b"Requires-Dist: caf\xe9-beta\n",
    "encoded word": HEADERS + b"Requires-Dist: =?utf-8?q?beta?=\n",
}


@pytest.mark.parametrize("metadata", METADATA_FORMS.values(), ids=METADATA_FORMS.keys())
def test_dependencies_are_read_from_metadata_as_the_email_parser_reads_them(
    metadata: bytes,
) -> None:
    whole, _ = parse_email(metadata)
    expected = (whole.get("requires_dist", []), whole.get("requires_python"))
    assert coremeta.dependency_fields(metadata) == expected


def test_a_plain_header_needs_no_email_parser_and_no_description_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The description, often most of the metadata, is no part of what a resolution reads."""
    read: list[bytes] = []
    parse = coremeta.parse_email

    def recorded(data: bytes) -> object:
        read.append(data)
        return parse(data)

    monkeypatch.setattr(coremeta, "parse_email", recorded)
    assert coremeta.dependency_fields(METADATA_FORMS["described"])[0] == [
        "beta>=1",
        "gamma ; extra == 'x' ",
    ]
    assert read == []
    coremeta.dependency_fields(METADATA_FORMS["folded"] + b"\n" + b"Described.\n" * 100)
    assert read == [METADATA_FORMS["folded"]]
