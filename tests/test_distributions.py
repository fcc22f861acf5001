"""Distribution file names: parsing, refusals, and choosing files for a target."""

from __future__ import annotations

import pytest
from packaging.version import Version

from wheelhouse.model.distributions import (
    DistFile,
    Policy,
    SkipReason,
    parse_filename,
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
