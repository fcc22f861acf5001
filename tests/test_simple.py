"""Index pages against the rules of PEP 503, 592, 629, 658, 691, 700 and 714.

The validators parse the pages with the standard library alone (html.parser,
json), independently of how the pages are rendered; test_indexer.py runs them
over a real index too.
"""

from __future__ import annotations

import json
import random
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from wheelhouse.model import simple
from wheelhouse.model.distributions import DistFile

HEX64 = re.compile(r"^[0-9a-f]{64}$")
UPLOAD_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


class _Anchors(HTMLParser):
    """Collect every anchor's attributes and text, and the repository-version meta."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str | None] = {}
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open, self._text = dict(attrs), []
        elif tag == "meta":
            values = dict(attrs)
            self.meta[values.get("name") or ""] = values.get("content")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text)))
            self._open = None


def parse_html(page: bytes) -> _Anchors:
    text = page.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    assert parser.meta.get("pypi:repository-version") == "1.1"  # PEP 629
    return parser


def _version_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[1])
    return str(parse_sdist_filename(filename)[1])


def validate_root_html(page: bytes) -> list[str]:
    """The project names of a PEP 503 root page, after checking each link."""
    names = []
    for attrs, text in parse_html(page).anchors:
        assert attrs["href"] == f"{canonicalize_name(text)}/"
        names.append(text)
    return names


def validate_project_html(page: bytes) -> dict[str, dict[str, str | None]]:
    """The anchors of a PEP 503 project page by file name, after checking each one."""
    files = {}
    for attrs, text in parse_html(page).anchors:
        href = attrs["href"] or ""
        url = urlsplit(href)
        assert not url.scheme and not url.netloc, "links are relative"
        assert unquote(url.path) == f"../../{text}"
        if url.fragment:
            algorithm, _, digest = url.fragment.partition("=")
            assert algorithm == "sha256" and HEX64.match(digest)
        if "data-requires-python" in attrs:
            SpecifierSet(attrs["data-requires-python"] or "")
        metadata = attrs.get("data-core-metadata")
        assert metadata == attrs.get("data-dist-info-metadata")  # PEP 714 keeps both
        assert metadata is None or metadata == "true" or HEX64.match(metadata[7:])
        files[text] = attrs
    return files


def validate_root_json(page: bytes) -> list[str]:
    """The project names of a PEP 691 root page, after checking its fields."""
    document = json.loads(page)
    assert document["meta"] == {"api-version": "1.1"}
    assert all(set(project) == {"name"} for project in document["projects"])
    return [project["name"] for project in document["projects"]]


def validate_project_json(page: bytes) -> dict[str, Any]:
    """A PEP 691 project page after checking the types of every field (PEP 700, 714)."""
    document: dict[str, Any] = json.loads(page)
    assert document["meta"] == {"api-version": "1.1"}
    assert document["name"] == canonicalize_name(document["name"])
    assert all(isinstance(version, str) for version in document["versions"])
    for entry in document["files"]:
        assert isinstance(entry["filename"], str) and isinstance(entry["url"], str)
        assert unquote(entry["url"]) == f"../../{entry['filename']}"
        assert all(HEX64.match(value) for value in entry["hashes"].values())
        assert isinstance(entry.get("requires-python", ""), str)
        assert entry["yanked"] is True or entry["yanked"] is False or entry["yanked"]
        metadata = entry.get("core-metadata", False)
        assert metadata == entry.get("dist-info-metadata", False)
        assert isinstance(metadata, bool) or all(HEX64.match(v) for v in metadata.values())
        assert isinstance(entry["size"], int) and not isinstance(entry["size"], bool)
        assert UPLOAD_TIME.match(entry.get("upload-time", "2000-01-01T00:00:00Z"))
        assert _version_of(entry["filename"]) in document["versions"]
    return document


def _file(filename: str, **details: Any) -> DistFile:
    project = re.split(r"-\d", filename)[0]
    details.setdefault("size", 100)
    return DistFile.create(filename=filename, url=f"x/{filename}", project=project, **details)


FILES = [
    _file("pkg_b-1.10-py3-none-any.whl", sha256="1" * 64, metadata_sha256="2" * 64),
    _file("pkg_b-1.9.tar.gz", sha256="3" * 64, requires_python=">=3.8,<4 ,!=3.9.*"),
    _file("pkg_b-1.9-py3-none-any.whl", sha256="4" * 64, yanked='broken "<b>" & co', size=5),
    _file("pkg_b-1.9-cp312-cp312-manylinux_2_17_x86_64.whl", yanked="", metadata_sha256=""),
    _file("Pkg.A-2.0+local-py3-none-any.whl", sha256="5" * 64, upload_time="2024-05-06T07:08:09Z"),
    _file("pkg-a-1.0.zip", sha256="6" * 64, upload_time="2024-05-06T07:08:09.123+02:00"),
]


def test_pages_are_listed_under_simple() -> None:
    assert sorted(simple.render_pages(FILES)) == [
        "index.html",
        "index.json",
        "pkg-a/index.html",
        "pkg-a/index.json",
        "pkg-b/index.html",
        "pkg-b/index.json",
    ]


def test_root_pages_list_projects_by_normalized_name() -> None:
    pages = simple.render_pages(FILES)
    assert validate_root_html(pages["index.html"]) == ["pkg-a", "pkg-b"]
    assert validate_root_json(pages["index.json"]) == ["pkg-a", "pkg-b"]


def test_files_are_ordered_by_version_then_filename() -> None:
    pages = simple.render_pages(FILES)
    assert list(validate_project_html(pages["pkg-b/index.html"])) == [
        "pkg_b-1.9-cp312-cp312-manylinux_2_17_x86_64.whl",
        "pkg_b-1.9-py3-none-any.whl",
        "pkg_b-1.9.tar.gz",
        "pkg_b-1.10-py3-none-any.whl",
    ]
    document = validate_project_json(pages["pkg-b/index.json"])
    assert document["versions"] == ["1.9", "1.10"]
    assert [entry["filename"] for entry in document["files"]][-1] == "pkg_b-1.10-py3-none-any.whl"


def test_html_attributes_follow_the_peps() -> None:
    anchors = validate_project_html(simple.render_pages(FILES)["pkg-b/index.html"])
    newest = anchors["pkg_b-1.10-py3-none-any.whl"]
    assert newest["href"] == f"../../pkg_b-1.10-py3-none-any.whl#sha256={'1' * 64}"
    assert newest["data-core-metadata"] == f"sha256={'2' * 64}"
    assert "data-yanked" not in newest and "data-requires-python" not in newest
    assert anchors["pkg_b-1.9.tar.gz"]["data-requires-python"] == ">=3.8,<4 ,!=3.9.*"
    assert anchors["pkg_b-1.9-py3-none-any.whl"]["data-yanked"] == 'broken "<b>" & co'
    binary = anchors["pkg_b-1.9-cp312-cp312-manylinux_2_17_x86_64.whl"]
    assert (binary["href"], binary["data-yanked"]) == (
        "../../pkg_b-1.9-cp312-cp312-manylinux_2_17_x86_64.whl",
        "",
    )
    assert binary["data-core-metadata"] == "true"


def test_html_escapes_what_it_must() -> None:
    page = simple.render_pages(FILES)["pkg-b/index.html"].decode()
    assert 'data-requires-python="&gt;=3.8,&lt;4 ,!=3.9.*"' in page
    assert 'data-yanked="broken &quot;&lt;b&gt;&quot; &amp; co"' in page


def test_local_versions_are_quoted_in_links() -> None:
    pages = simple.render_pages(FILES)
    assert (
        'href="../../Pkg.A-2.0%2Blocal-py3-none-any.whl#sha256='
        in pages["pkg-a/index.html"].decode()
    )
    validate_project_html(pages["pkg-a/index.html"])


def test_json_fields_follow_the_peps() -> None:
    document = validate_project_json(simple.render_pages(FILES)["pkg-b/index.json"])
    entries = {entry["filename"]: entry for entry in document["files"]}
    assert entries["pkg_b-1.10-py3-none-any.whl"] == {
        "filename": "pkg_b-1.10-py3-none-any.whl",
        "url": "../../pkg_b-1.10-py3-none-any.whl",
        "hashes": {"sha256": "1" * 64},
        "core-metadata": {"sha256": "2" * 64},
        "dist-info-metadata": {"sha256": "2" * 64},
        "size": 100,
        "yanked": False,
    }
    assert entries["pkg_b-1.9-py3-none-any.whl"]["yanked"] == 'broken "<b>" & co'
    binary = entries["pkg_b-1.9-cp312-cp312-manylinux_2_17_x86_64.whl"]
    assert (binary["yanked"], binary["core-metadata"], binary["hashes"]) == (True, True, {})
    assert entries["pkg_b-1.9.tar.gz"]["requires-python"] == ">=3.8,<4 ,!=3.9.*"
    assert "core-metadata" not in entries["pkg_b-1.9.tar.gz"]


def test_upload_times_are_utc_with_microseconds() -> None:
    document = validate_project_json(simple.render_pages(FILES)["pkg-a/index.json"])
    times = [entry["upload-time"] for entry in document["files"]]
    assert times == ["2024-05-06T05:08:09.123000Z", "2024-05-06T07:08:09.000000Z"]
    assert document["versions"] == ["1.0", "2.0+local"]


def test_identical_inputs_in_any_order_give_identical_bytes() -> None:
    shuffled = FILES[:]
    random.Random(4).shuffle(shuffled)
    assert simple.render_pages(shuffled) == simple.render_pages(FILES)


def test_an_empty_index_is_valid() -> None:
    pages = simple.render_pages([])
    assert validate_root_html(pages["index.html"]) == []
    assert validate_root_json(pages["index.json"]) == []


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, simple.TEXT_HTML_TYPE),
        ("", simple.TEXT_HTML_TYPE),
        ("*/*", simple.TEXT_HTML_TYPE),
        ("text/html", simple.TEXT_HTML_TYPE),
        (simple.JSON_TYPE, simple.JSON_TYPE),
        (simple.HTML_TYPE, simple.HTML_TYPE),
        ("application/vnd.pypi.simple.latest+json", simple.JSON_TYPE),
        ("application/vnd.pypi.simple.latest+html", simple.HTML_TYPE),
        ("application/*", simple.JSON_TYPE),
        (f"{simple.JSON_TYPE}, {simple.HTML_TYPE};q=0.1, text/html;q=0.01", simple.JSON_TYPE),
        (f"{simple.JSON_TYPE};q=0.2, {simple.HTML_TYPE};q=0.5", simple.HTML_TYPE),
        (f"{simple.JSON_TYPE};q=0, */*", simple.TEXT_HTML_TYPE),
        ("text/html;q=0, */*;q=0.5", simple.HTML_TYPE),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", simple.TEXT_HTML_TYPE),
        (f"{simple.JSON_TYPE};q=bogus, text/html;q=0.1", simple.TEXT_HTML_TYPE),
        ("application/json", None),
        ("text/html;q=0", None),
    ],
)
def test_negotiate_follows_pep_691(accept: str | None, expected: str | None) -> None:
    assert simple.negotiate(accept) == expected
