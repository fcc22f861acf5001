"""Index pages: PEP 691 JSON and PEP 503 HTML parse to the same files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone

import pytest
from packaging.version import Version

from wheelhouse.model import pages
from wheelhouse.model.distributions import (
    DistFile,
    Keep,
    Others,
    Policy,
    SkipReason,
    parse_upload_time,
    select,
)
from wheelhouse.model.pages import ProjectPage, merge_pages, parse_page
from wheelhouse.model.targets import Target

PAGE = "https://index.example.invalid/simple/demo/"
JSON = "application/vnd.pypi.simple.v1+json"
DIGEST = "ab" * 32
META_DIGEST = "cd" * 32


def json_page(*files: dict[str, object], version: str = "1.1") -> bytes:
    document = {"meta": {"api-version": version}, "name": "demo", "files": list(files)}
    return json.dumps(document).encode()


def html_page(*anchors: str, head: str = "") -> bytes:
    links = "\n".join(anchors)
    return f"<!DOCTYPE html><html><head>{head}</head><body>{links}</body></html>".encode()


def by_name(page: ProjectPage) -> dict[str, DistFile]:
    return {file.filename: file for file in page.files}


def test_json_page_fields() -> None:
    content = json_page(
        {
            "filename": "demo-1.0-py3-none-any.whl",
            "url": "../../files/demo-1.0-py3-none-any.whl#sha256=ignored",
            "hashes": {"sha256": DIGEST.upper(), "md5": "00"},
            "requires-python": ">=3.9",
            "yanked": "broken build",
            "core-metadata": {"sha256": META_DIGEST},
            "size": 1234,
            "upload-time": "2024-01-02T03:04:05.000000Z",
        },
        {"filename": "demo-0.9.tar.gz", "url": "https://files.example.invalid/demo-0.9.tar.gz"},
    )
    files = by_name(parse_page(content, JSON, PAGE, "demo"))
    wheel = files["demo-1.0-py3-none-any.whl"]
    assert wheel.url == "https://index.example.invalid/files/demo-1.0-py3-none-any.whl"
    assert (wheel.version, wheel.sha256, wheel.requires_python) == (Version("1.0"), DIGEST, ">=3.9")
    assert (wheel.yanked, wheel.size, wheel.metadata_sha256) == ("broken build", 1234, META_DIGEST)
    assert wheel.upload_time == "2024-01-02T03:04:05.000000Z"
    sdist = files["demo-0.9.tar.gz"]
    assert sdist.url == "https://files.example.invalid/demo-0.9.tar.gz"
    assert (sdist.sha256, sdist.yanked, sdist.metadata_sha256, sdist.size) == (None,) * 4


@pytest.mark.parametrize(
    ("fields", "yanked", "metadata"),
    [
        ({"yanked": True, "core-metadata": True}, "", ""),
        ({"yanked": False, "core-metadata": False, "dist-info-metadata": True}, None, None),
        ({"dist-info-metadata": {"sha256": META_DIGEST}}, None, META_DIGEST),
        ({"core-metadata": {"md5": "00"}}, None, ""),
        ({"core-metadata": True, "dist-info-metadata": {"sha256": META_DIGEST}}, None, ""),
    ],
)
def test_json_yanked_and_metadata_forms(
    fields: dict[str, object], yanked: str | None, metadata: str | None
) -> None:
    entry = {"filename": "demo-1.0-py3-none-any.whl", "url": "demo-1.0-py3-none-any.whl", **fields}
    [file] = parse_page(json_page(entry), JSON, PAGE, "demo").files
    assert (file.yanked, file.metadata_sha256) == (yanked, metadata)


def test_json_other_major_version_is_refused() -> None:
    with pytest.raises(ValueError, match="API version"):
        parse_page(json_page(version="2.0"), JSON, PAGE, "demo")


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"files": {}}'])
def test_malformed_json_raises(content: bytes) -> None:
    with pytest.raises(ValueError, match="malformed"):
        parse_page(content, JSON, PAGE, "demo")


def test_json_nested_too_deep_is_refused_before_parsing() -> None:
    deep = b'{"files": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ValueError, match="nested more than 64 deep"):
        parse_page(deep, JSON, PAGE, "demo")


def test_brackets_and_escapes_in_strings_are_no_nesting() -> None:
    tricky = {"filename": "demo-1.0.tar.gz", "url": "x", "yanked": '[[[{{{\\"' * 100}
    page = parse_page(json_page(tricky), JSON, PAGE, "demo")
    assert [file.filename for file in page.files] == ["demo-1.0.tar.gz"]


def test_a_page_without_a_backslash_is_not_rid_of_escapes() -> None:
    """Escapes are dropped before the depth is checked: not on a page that has none."""
    replaced: list[bytes] = []

    class Page(bytes):
        def replace(self, old: bytes, new: bytes, count: int = -1, /) -> bytes:
            replaced.append(old)
            return super().replace(old, new, count)

    plain = {"filename": "demo-1.0.tar.gz", "url": "x", "yanked": "[[[{{{" * 100}
    assert parse_page(Page(json_page(plain)), JSON, PAGE, "demo").listed
    assert replaced == []
    escaped = {**plain, "yanked": '[[[{{{\\"'}
    assert parse_page(Page(json_page(escaped)), JSON, PAGE, "demo").listed
    assert replaced == [b"\\\\"]  # then the copy, a plain bytes, loses its escaped quotes


def test_html_page_fields() -> None:
    content = html_page(
        f'<a href="../../files/demo-1.0-py3-none-any.whl#sha256={DIGEST}"'
        ' data-requires-python="&gt;=3.9,&lt;4" data-yanked="" '
        f'data-core-metadata="sha256={META_DIGEST}" data-dist-info-metadata="true">w</a>',
        '<a href="demo-0.9.tar.gz#md5=00" data-yanked="bad &amp; old">s</a>',
        '<a href="demo-0.8.zip" data-dist-info-metadata="true">z</a>',
    )
    files = by_name(parse_page(content, "text/html; charset=utf-8", PAGE, "demo"))
    wheel = files["demo-1.0-py3-none-any.whl"]
    assert wheel.url == "https://index.example.invalid/files/demo-1.0-py3-none-any.whl"
    assert (wheel.sha256, wheel.requires_python, wheel.yanked) == (DIGEST, ">=3.9,<4", "")
    assert wheel.metadata_sha256 == META_DIGEST
    sdist = files["demo-0.9.tar.gz"]
    assert (sdist.sha256, sdist.yanked, sdist.metadata_sha256) == (None, "bad & old", None)
    assert sdist.url == PAGE + "demo-0.9.tar.gz"
    assert files["demo-0.8.zip"].metadata_sha256 == ""


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ('data-core-metadata="true"', ""),
        ('data-core-metadata="false" data-dist-info-metadata="true"', None),
        (f'data-dist-info-metadata="sha256={META_DIGEST}"', META_DIGEST),
        ("", None),
    ],
)
def test_html_metadata_attributes(attributes: str, expected: str | None) -> None:
    content = html_page(f'<a href="demo-1.0-py3-none-any.whl" {attributes}>w</a>')
    [file] = parse_page(content, "application/vnd.pypi.simple.v1+html", PAGE, "demo").files
    assert file.metadata_sha256 == expected


def test_html_base_href_is_honoured() -> None:
    content = html_page(
        '<a href="demo-1.0.tar.gz">s</a>',
        head='<base href="/mirror/files/"><base href="https://ignored.example.invalid/">',
    )
    [file] = parse_page(content, "text/html", PAGE, "demo").files
    assert file.url == "https://index.example.invalid/mirror/files/demo-1.0.tar.gz"


def test_html_other_repository_version_is_refused() -> None:
    content = html_page(head='<meta name="pypi:repository-version" content="2.0">')
    with pytest.raises(ValueError, match="API version"):
        parse_page(content, "text/html", PAGE, "demo")


def test_html_in_another_charset() -> None:
    content = '<a href="demo-1.0.tar.gz" data-yanked="caf\xe9">s</a>'.encode("latin-1")
    [file] = parse_page(content, "text/html; charset=ISO-8859-1", PAGE, "demo").files
    assert file.yanked == "caf\xe9"


def test_unexpected_content_type_raises() -> None:
    with pytest.raises(ValueError, match="content type"):
        parse_page(b"{}", "application/json", PAGE, "demo")


def test_names_spelled_differently_are_the_same_project() -> None:
    content = html_page(
        '<a href="Foo.Bar-1.0.tar.gz">a</a>',
        '<a href="foo_bar-1.0-py3-none-any.whl">b</a>',
        '<a href="FOO-BAR-2.0.zip">c</a>',
    )
    page = parse_page(content, "text/html", PAGE, "foo-bar")
    assert len(page.files) == 3 and not page.refused
    assert {file.project for file in page.files} == {"foo-bar"}


def test_files_of_other_projects_and_escaping_names_are_refused() -> None:
    content = html_page(
        '<a href="other-1.0.tar.gz">other project</a>',
        '<a href="..%2Fdemo-1.0.tar.gz">encoded separator</a>',
        '<a href="demo-1.0-py3-none-any.whl%5C..%5Cx">backslash</a>',
        '<a href="demo-1.0.tar.gz">good</a>',
    )
    page = parse_page(content, "text/html", PAGE, "demo")
    assert [file.filename for file in page.files] == ["demo-1.0.tar.gz"]
    refused = {error.filename: str(error) for error in page.refused}
    assert set(refused) == {
        "other-1.0.tar.gz",
        "../demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl\\..\\x",
    }
    assert "other" in refused["other-1.0.tar.gz"]


def test_json_names_with_separators_are_refused() -> None:
    content = json_page(
        {"filename": "../demo-1.0.tar.gz", "url": "x"},
        {"filename": "sub/demo-1.0.tar.gz", "url": "y"},
        {"filename": "demo-1.0-py3-none-any.whl", "url": "z"},
    )
    page = parse_page(content, JSON, PAGE, "demo")
    assert [file.filename for file in page.files] == ["demo-1.0-py3-none-any.whl"]
    assert [error.filename for error in page.refused] == [
        "../demo-1.0.tar.gz",
        "sub/demo-1.0.tar.gz",
    ]


def test_files_that_are_not_distributions_are_ignored_silently() -> None:
    content = html_page(
        '<a href="demo-1.0.win32.exe">exe</a>',
        '<a href="demo-1.0-py3.8.egg">egg</a>',
        '<a href="demo-1.0.tar.bz2">bz2</a>',
        '<a href="demo-1.0.tar.gz.asc">signature</a>',
        '<a href="../">up</a>',
        "<a>no href</a>",
    )
    assert parse_page(content, "text/html", PAGE, "demo") == ProjectPage()


def test_merge_keeps_the_first_index_file_of_a_name() -> None:
    main = parse_page(html_page('<a href="demo-1.0.tar.gz">m</a>'), "text/html", PAGE, "demo")
    extra_url = "https://extra.example.invalid/simple/demo/"
    extra_html = html_page(
        '<a href="demo-1.0.tar.gz">e</a>',
        '<a href="demo-2.0.tar.gz">e</a>',
        '<a href="nope-1.0.tar.gz">e</a>',
    )
    extra = parse_page(extra_html, "text/html", extra_url, "demo")
    merged = merge_pages([main, extra])
    assert [file.url for file in merged.files] == [
        PAGE + "demo-1.0.tar.gz",
        extra_url + "demo-2.0.tar.gz",
    ]
    assert [error.filename for error in merged.refused] == ["nope-1.0.tar.gz"]


LINUX_312 = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")
FOR_RUN = Keep.of([LINUX_312], Policy())
RUN_PAGE = json_page(
    *(
        {
            "filename": name,
            "url": f"https://files.example.invalid/{name}",
            "hashes": {"sha256": DIGEST},
            "upload-time": "2024-01-02T03:04:05Z",
        }
        for name in (
            "demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
            "demo-1.0-cp312-cp312-win_amd64.whl",
            "demo-1.0.tar.gz",
            "demo-2.0-cp311-cp311-macosx_11_0_arm64.whl",
        )
    )
)


def test_a_page_for_a_run_keeps_what_no_target_can_take_by_name_only() -> None:
    page = parse_page(RUN_PAGE, JSON, PAGE, "Demo", FOR_RUN)
    assert [row.filename for row in page.listed] == [
        "demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    ]
    others = "demo-1.0-cp312-cp312-win_amd64.whl\ndemo-1.0.tar.gz\n"
    assert page.others == Others(
        "demo", others + "demo-2.0-cp311-cp311-macosx_11_0_arm64.whl", True
    )
    assert [file.filename for file in page.files] == [page.listed[0].filename]
    with_sdists = parse_page(
        RUN_PAGE, JSON, PAGE, "demo", Keep.of([LINUX_312], Policy(allow_sdist=True))
    )
    assert "demo-1.0.tar.gz" in [row.filename for row in with_sdists.listed]


def test_only_the_files_kept_whole_have_their_details_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most of a large page is kept by name: its entries' URLs and digests are never read."""
    read: list[str] = []
    details = pages._JsonDetails.details

    def counted(self: pages._JsonDetails, entry: Mapping[str, object]) -> tuple[str, object]:
        read.append(str(entry["filename"]))
        return details(self, entry)

    monkeypatch.setattr(pages._JsonDetails, "details", counted)
    parse_page(RUN_PAGE, JSON, PAGE, "demo", FOR_RUN)
    assert read == ["demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"]
    read.clear()
    parse_page(RUN_PAGE, JSON, PAGE, "demo")
    assert len(read) == 4


def test_files_kept_by_name_are_passed_over_for_the_same_reasons() -> None:
    """An error says why each file was passed over, from the name alone: no URL, no digest."""
    thin = parse_page(RUN_PAGE, JSON, PAGE, "demo", FOR_RUN)
    whole = parse_page(RUN_PAGE, JSON, PAGE, "demo")
    assert whole.others is None and len(whole.listed) == 4
    skips = select(thin.listed, LINUX_312, Policy(), thin.others).skips
    expected = select(whole.listed, LINUX_312, Policy()).skips
    assert sorted((str(s), s.file.version, s.detail) for s in skips) == sorted(
        (str(s), s.file.version, s.detail) for s in expected
    )
    assert [skip.reason for skip in skips] == [
        SkipReason.PLATFORM,
        SkipReason.SDIST,
        SkipReason.PLATFORM,
    ]
    assert {(skip.file.url, skip.file.sha256, skip.file.upload_time) for skip in skips} == {
        ("", None, None)
    }
    assert not select(thin.listed, LINUX_312, Policy(), thin.others).by_version.get(Version("2.0"))


def test_a_page_is_undated_only_when_no_file_has_an_upload_time() -> None:
    thin = parse_page(RUN_PAGE, JSON, PAGE, "demo", FOR_RUN)
    assert not thin.undated
    undated = RUN_PAGE.replace(b"upload-time", b"uploaded")
    assert parse_page(undated, JSON, PAGE, "demo", FOR_RUN).undated
    assert parse_page(undated, JSON, PAGE, "demo").undated
    # dated only among the files kept by name: dated all the same
    others_dated = json_page(
        {
            "filename": "demo-1.0-py3-none-win_amd64.whl",
            "url": "a.whl",
            "upload-time": "2024-01-02T03:04:05Z",
        },
        {"filename": "demo-1.0-py3-none-any.whl", "url": "b.whl"},
    )
    assert not parse_page(others_dated, JSON, PAGE, "demo", FOR_RUN).undated
    assert not ProjectPage().undated


def test_merge_keeps_a_name_once_whether_kept_whole_or_by_name() -> None:
    main = parse_page(RUN_PAGE, JSON, PAGE, "demo", FOR_RUN)
    extra_html = html_page(
        '<a href="demo-1.0-cp312-cp312-win_amd64.whl">e</a>',
        '<a href="demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl">e</a>',
        '<a href="demo-3.0-cp312-cp312-win_amd64.whl">e</a>',
        '<a href="demo-3.0-py3-none-any.whl">e</a>',
    )
    extra = parse_page(
        extra_html, "text/html", "https://extra.example.invalid/demo/", "demo", FOR_RUN
    )
    merged = merge_pages([main, extra])
    assert [row.url for row in merged.listed] == [
        "https://files.example.invalid/demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        "https://extra.example.invalid/demo/demo-3.0-py3-none-any.whl",
    ]
    assert merged.others is not None and merged.others.names.split("\n") == [
        "demo-1.0-cp312-cp312-win_amd64.whl",
        "demo-1.0.tar.gz",
        "demo-2.0-cp311-cp311-macosx_11_0_arm64.whl",
        "demo-3.0-cp312-cp312-win_amd64.whl",
    ]
    mixed = merge_pages([parse_page(RUN_PAGE, JSON, PAGE, "demo"), extra])  # one page whole
    assert mixed.others is not None and mixed.others.names == "demo-3.0-cp312-cp312-win_amd64.whl"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("yesterday", None),
        ("2024-13-01T00:00:00Z", None),
        ("", None),
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
        ("2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.1Z"),
    ],
)
def test_json_upload_time_that_does_not_parse_is_dropped(given: str, kept: str | None) -> None:
    entry = {"filename": "demo-1.0-py3-none-any.whl", "url": "x.whl", "upload-time": given}
    (wheel,) = parse_page(json_page(entry), JSON, PAGE, "demo").files
    assert wheel.upload_time == kept
    assert (wheel.uploaded_at() is None) == (kept is None)  # never a ValueError later


@pytest.mark.parametrize(
    ("text", "microsecond"),
    [
        ("2024-01-02T03:04:05Z", 0),
        ("2024-01-02T03:04:05.1Z", 100000),  # one fraction digit: Python 3.10 refuses it as is
        ("2024-01-02T03:04:05.1234567Z", 123456),  # seven
        ("2024-01-02T03:04:05.100000+00:00", 100000),
        ("2024-01-02T05:04:05.5+0200", 500000),
        ("2024-01-02 03:04:05", 0),
    ],
)
def test_upload_times_in_every_iso_spelling(text: str, microsecond: int) -> None:
    expected = datetime(2024, 1, 2, 3, 4, 5, microsecond, timezone.utc)
    assert parse_upload_time(text) == expected
