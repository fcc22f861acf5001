"""Distribution file names: parsing, refusals, and choosing files for a target."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from indexserver import FIXTURES, IndexServer
from packaging.version import Version

from wheelhouse.index.client import IndexClient
from wheelhouse.model import distributions
from wheelhouse.model.distributions import (
    DistFile,
    Listed,
    Policy,
    Skip,
    SkipReason,
    parse_filename,
    parse_upload_time,
    select,
    select_files,
)
from wheelhouse.model.errors import InvalidFilename
from wheelhouse.model.formats import Formats
from wheelhouse.model.targets import Target

URL = "http://files.invalid/"


def _file(filename: str, project: str, **details: object) -> DistFile:
    return DistFile.create(filename=filename, url=URL + filename, project=project, **details)


def test_legacy_sdist_names_split_where_the_project_name_ends() -> None:
    assert parse_filename("celery-3.1.26-1.tar.gz", "celery")[:2] == (
        "celery",
        Version("3.1.26.post1"),
    )
    assert parse_filename("Zope.Name_Mixed-1.0.zip", "zope-name-mixed")[:2] == (
        "zope-name-mixed",
        Version("1.0"),
    )
    assert _file("celery-3.1.26-1.tar.gz", "celery").version == Version("3.1.26.post1")


@pytest.mark.parametrize(
    ("filename", "suspicious"),
    [
        ("../escape-1.0.tar.gz", True),
        ("sub\\escape-1.0-py3-none-any.whl", True),
        ("other-1.0-py3-none-any.whl", True),
        ("demo-0.18-py36+-none-any.whl", False),
        ("demo-0.1.0-rc1-x.tar.gz", False),
        ("demo-2013-11-29.tar.gz", False),  # demo's own, a date for a version
        ("demo-extra-1.0.tar.gz", True),  # another project's name begins with demo's
    ],
)
def test_refusals_say_whether_they_are_suspicious(filename: str, suspicious: bool) -> None:
    with pytest.raises(InvalidFilename) as info:
        _file(filename, "demo")
    assert info.value.suspicious is suspicious


def test_selection_ranks_wheels_and_says_why_files_were_skipped() -> None:
    target = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")
    files = [
        _file("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "demo"),
        _file("demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl", "demo"),
        _file("demo-1.0-py3-none-any.whl", "demo"),
        _file("demo-1.0-cp312-cp312-win_amd64.whl", "demo"),
        _file("demo-1.0.tar.gz", "demo"),
        _file("demo-2.0-py3-none-any.whl", "demo", requires_python=">=3.13"),
    ]
    selection = select_files(files, target, Policy())
    assert [f.filename for f in selection.by_version[Version("1.0")]] == [
        "demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "demo-1.0-py3-none-any.whl",
    ]
    reasons = {skip.file.filename: skip.reason for skip in selection.skips}
    assert reasons == {
        "demo-1.0-cp312-cp312-win_amd64.whl": SkipReason.PLATFORM,
        "demo-1.0.tar.gz": SkipReason.SDIST,
        "demo-2.0-py3-none-any.whl": SkipReason.REQUIRES_PYTHON,
    }
    with_sdists = select_files(files, target, Policy(allow_sdist=True))
    assert with_sdists.by_version[Version("1.0")][-1].filename == "demo-1.0.tar.gz"


def test_per_project_formats_and_prefer_binary() -> None:
    target = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")
    files = [
        _file("demo-1.0-py3-none-any.whl", "demo"),
        _file("demo-1.0.tar.gz", "demo"),
        _file("demo-2.0.tar.gz", "demo"),
    ]
    sdists = Policy(allow_sdist=True)
    assert select_files(files, target, sdists).versions() == [Version("2.0"), Version("1.0")]
    prefer = Policy(allow_sdist=True, formats=Formats(prefer_binary=True))
    assert select_files(files, target, prefer).versions() == [Version("1.0"), Version("2.0")]
    no_binary = Policy(allow_sdist=True, formats=Formats().updated("--no-binary", "demo"))
    chosen = select_files(files, target, no_binary)
    assert [f.filename for f in chosen.by_version[Version("1.0")]] == ["demo-1.0.tar.gz"]
    assert {s.reason for s in chosen.skips} == {SkipReason.NO_BINARY}
    only = Policy(allow_sdist=True, formats=Formats().updated("--only-binary", ":all:"))
    chosen = select_files(files, target, only)
    assert chosen.versions() == [Version("1.0")]
    assert {s.reason for s in chosen.skips} == {SkipReason.ONLY_BINARY}


def _upload_time_as_before(text: str) -> datetime:
    """How upload times were read before ``fromisoformat`` came first: always rewritten."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"\.(\d+)", lambda match: "." + f"{match[1]:0<6}"[:6], text, count=1)
    if "T" in text or " " in text:
        text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


UPLOAD_TIMES = [
    "2024-01-02T03:04:05.123456Z",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05.1Z",
    "2024-01-02T03:04:05.123Z",
    "2024-01-02T03:04:05.1234567Z",
    "2024-01-02T03:04:05.999999z",
    "2024-01-02T03:04:05.5+0200",
    "2024-01-02T03:04:05-05:30",
    "2024-01-02T03:04:05",
    "2024-01-02 03:04:05.25",
    " 2024-01-02T03:04:05Z ",
    "2024-01-02",
]


@pytest.mark.parametrize("text", UPLOAD_TIMES)
def test_upload_times_read_as_they_were_before(text: str) -> None:
    assert parse_upload_time(text) == _upload_time_as_before(text)


@pytest.mark.parametrize("text", ["yesterday", "", "2024-13-01T00:00:00Z", "Z"])
def test_upload_times_that_never_parsed_still_do_not(text: str) -> None:
    with pytest.raises(ValueError):
        _upload_time_as_before(text)
    with pytest.raises(ValueError):
        parse_upload_time(text)


def test_an_index_s_usual_upload_time_is_read_without_rewriting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``Z`` with six fraction digits goes straight to fromisoformat, as Python 3.10 reads it."""
    read: list[str] = []

    class Reading(datetime):
        @classmethod
        def fromisoformat(cls, text: str) -> datetime:
            read.append(text)
            return datetime.fromisoformat(text)

    def rewritten(text: str) -> datetime:
        raise AssertionError(f"{text} was rewritten")

    monkeypatch.setattr(distributions, "datetime", Reading)
    monkeypatch.setattr(distributions, "_parse_spelled_otherwise", rewritten)
    expected = datetime(2024, 1, 2, 3, 4, 5, 123456, timezone.utc)
    assert parse_upload_time("2024-01-02T03:04:05.123456Z") == expected
    assert read == ["2024-01-02T03:04:05.123456+00:00"]  # no "Z": Python 3.10 refuses it


def _skips_as_before(files: list[DistFile], target: Target, policy: Policy) -> list[Skip]:
    """The skips as they were worked out for every file of every page, during resolution."""
    skips = []
    for file in files:
        reason, detail = None, ""
        if file.is_wheel and not file.tags & target.tag_set:
            reason, detail = SkipReason.PLATFORM, f"for {target.name}"
        elif not file.is_wheel and not policy.allow_sdist:
            reason = SkipReason.SDIST
        elif file.is_wheel and not policy.formats.allows_wheel(file.project):
            reason = SkipReason.NO_BINARY
        elif not file.is_wheel and not policy.formats.allows_sdist(file.project):
            reason = SkipReason.ONLY_BINARY
        elif not target.allows_python(file.requires_python):
            reason, detail = SkipReason.REQUIRES_PYTHON, file.requires_python or ""
        elif policy.exclude_newer is not None:
            uploaded = file.uploaded_at()
            if uploaded is None:
                reason = SkipReason.NO_UPLOAD_TIME
            elif uploaded > policy.exclude_newer:
                reason, detail = SkipReason.EXCLUDE_NEWER, file.upload_time or ""
        if reason is not None:
            skips.append(Skip(file=file, reason=reason, detail=detail))
    return skips


FIXTURE_PROJECTS = sorted(
    {entry["project"] for entry in json.loads((FIXTURES / "index.json").read_text())["files"]}
)
POLICIES = [
    Policy(),
    Policy(allow_sdist=True),
    Policy(allow_sdist=True, exclude_newer=datetime(2024, 6, 1, tzinfo=timezone.utc)),
    Policy(allow_sdist=True, formats=Formats().updated("--no-binary", ":all:")),
    Policy(allow_sdist=True, formats=Formats().updated("--only-binary", ":all:")),
]
TARGETS = [
    Target(python_version=(3, 12), platform="manylinux_2_28_x86_64"),
    Target(python_version=(3, 8), platform="win_amd64"),
    Target(python_version=(3, 13), platform="macosx_11_0_arm64"),
]


@pytest.mark.parametrize("html", [False, True], ids=["json", "html, no upload times"])
def test_skips_worked_out_on_demand_are_the_ones_worked_out_eagerly(
    index_server: IndexServer, html: bool
) -> None:
    """Over every fixture page, target and kind of policy: same files, reasons and details.

    And each file is either usable or skipped, never both.
    """
    index_server.configure(html_only=html)
    compared, reasons = 0, set()
    with IndexClient([index_server.url]) as client:
        pages = [client.project_files(project) for project in FIXTURE_PROJECTS]
    for page in pages:
        for target in TARGETS:
            for policy in POLICIES:
                selection = select(page.listed, target, policy)
                eager = _skips_as_before(list(page.files), target, policy)
                assert selection.skips == eager, (target.name, policy)
                usable = sum(len(rows) for rows in selection.usable.values())
                assert usable + len(eager) == len(page.listed)
                compared += len(eager)
                reasons |= {skip.reason for skip in eager}
    assert compared > 500
    upload_times = {SkipReason.EXCLUDE_NEWER} if not html else {SkipReason.NO_UPLOAD_TIME}
    assert reasons == set(SkipReason) - {SkipReason.YANKED, *_UPLOAD_REASONS} | upload_times


_UPLOAD_REASONS = {SkipReason.EXCLUDE_NEWER, SkipReason.NO_UPLOAD_TIME}


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example.invalid/ab/cd/demo-1.0-py3-none-any.whl",
        "https://files.example.invalid/get?name=demo-1.0-py3-none-any.whl",
        "https://files.example.invalid/ab/",
        "https://files.example.invalid/ab#",
        "https://files.example.invalid/ab/#",
        "demo-1.0-py3-none-any.whl",
        "../demo-1.0-py3-none-any.whl",
    ],
)
def test_a_row_gives_back_the_url_it_was_given(url: str) -> None:
    file = _file("demo-1.0-py3-none-any.whl", "demo")
    file = dataclasses.replace(file, url=url)
    assert Listed.of(file).url == url
    assert Listed.of(file).file() == file


def test_a_row_does_not_keep_a_file_s_name_twice() -> None:
    url = "https://files.example.invalid/ab/cd/demo-1.0-py3-none-any.whl"
    row = Listed.of(dataclasses.replace(_file("demo-1.0-py3-none-any.whl", "demo"), url=url))
    assert row.location == "https://files.example.invalid/ab/cd/"


PAGE_NAMES = [
    "demo-1.0-py3-none-any.whl",
    "demo-1.1-py3-none-any.whl",  # the same parts: the short way
    "demo-1.0-1-py3-none-any.whl",  # after the same name part: a build tag
    "demo-1..0-py3-none-any.whl",  # ... a version that leaves its directory
    "demo-x/1.0-py3-none-any.whl",
    "demo-extra-1.0-py3-none-any.whl",  # ... another project's name
    "demo-1.0-py3-none-any.whl.whl",
    "Demo-1.2-cp312-cp312-manylinux_2_28_x86_64.whl",
    "demo-1.3-1-py3-none-any.whl",  # a build tag
    "demo-nope-py3-none-any.whl",  # no version
    "demo-1..0-py3-none-any.whl",  # leaves its directory
    "other-1.0-py3-none-any.whl",
    "other-1.1-py3-none-any.whl",
    "demo-1.0.tar.gz",
    "demo-1.1.zip",
    "demo-1.x.tar.gz",
    "demo-2013-11-29.tar.gz",  # a legacy name of the project's own
    "demo-1.0-1.tar.gz",  # from before the rules: the name ends at the project's
    "demo-1.0-2.tar.gz",
    "demo-extra-1.0.tar.gz",
    "demo-extra-1.1.tar.gz",
    ".demo-1.0.tar.gz",
    "demo-1.0.exe",
]


def _answer(read: Callable[[str], object], filename: str) -> object:
    try:
        return read(filename)
    except InvalidFilename as exc:
        return str(exc), exc.suspicious


def test_a_page_reads_names_as_read_name_does_and_learns_their_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = [_answer(lambda n: distributions.read_name(n, "Demo"), n) for n in PAGE_NAMES]
    calls: list[str] = []
    read_name = distributions.read_name

    def counted(filename: str, project: str) -> object:
        calls.append(filename)
        return read_name(filename, project)

    monkeypatch.setattr(distributions, "read_name", counted)
    names = distributions.PageNames("Demo")
    assert [_answer(names.read, n) for n in PAGE_NAMES] == expected
    # A name whose parts were read as the project's is not read whole again.
    assert "demo-1.1-py3-none-any.whl" not in calls
    assert calls.count("demo-1.0-1-py3-none-any.whl") == 1
    assert "demo-1.1.zip" not in calls
    assert "other-1.1-py3-none-any.whl" in calls and "demo-extra-1.1.tar.gz" in calls
    assert names.read("demo-9.0-py3-none-any.whl")[1] == Version("9.0")
    assert calls[-1] != "demo-9.0-py3-none-any.whl"


def test_selection_works_out_once_whether_rows_that_share_everything_are_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large page's rows share a few kinds; each kind is judged once, unless dates count."""
    judged: list[str] = []
    reason = distributions._Rules.reason

    def counted(self: distributions._Rules, row: Listed) -> object:
        judged.append(row.filename)
        return reason(self, row)

    monkeypatch.setattr(distributions._Rules, "reason", counted)
    names = [f"demo-{v}-py3-none-any.whl" for v in ("1.0", "1.1", "2.0")]
    names += [f"demo-{v}-cp312-cp312-win_amd64.whl" for v in ("1.0", "1.1")]
    rows = [Listed.of(_file(name, "demo", upload_time="2024-01-02T03:04:05Z")) for name in names]
    target = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")
    selection = select(rows, target, Policy())
    assert selection.versions() == [Version("2.0"), Version("1.1"), Version("1.0")]
    assert judged == [names[0], names[3]]
    judged.clear()
    later = Policy(exclude_newer=datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert select(rows, target, later).versions() == selection.versions()
    assert judged == names


def test_a_wheel_name_whose_parts_were_each_read_before_is_not_parsed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Projects share tag parts: a name part and a tag part are each parsed once."""
    parsed: list[str] = []
    parse = distributions.parse_wheel_filename

    def counted(filename: str) -> object:
        parsed.append(filename)
        return parse(filename)

    monkeypatch.setattr(distributions, "parse_wheel_filename", counted)
    tags = "cp312-cp312-musllinux_1_1_riscv64"
    first = parse_filename(f"parts_probe-1.0-{tags}.whl")
    other = parse_filename("parts_other-1.0-py3-none-any.whl")
    crossed = parse_filename("parts_probe-2.0-py3-none-any.whl")
    assert crossed == ("parts-probe", Version("2.0"), other[2])
    assert parse_filename(f"parts_other-3.0-{tags}.whl")[2] is first[2]
    assert parsed == [f"parts_probe-1.0-{tags}.whl", "parts_other-1.0-py3-none-any.whl"]
    with pytest.raises(ValueError, match="invalid version"):
        parse_filename(f"parts_probe-nope-{tags}.whl")
    assert parsed[-1] == f"parts_probe-nope-{tags}.whl"
