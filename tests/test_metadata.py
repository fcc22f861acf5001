"""Reading core metadata out of distribution archives, by path and by file object."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelhouse.house.errors import MetadataTooLarge
from wheelhouse.house.metadata import (
    MetadataError,
    check_identity,
    core_metadata,
    sdist_members,
    sdist_metadata,
    wheel_metadata,
)
from wheelhouse.house.zipscan import _central_directory
from wheelhouse.index.rangezip import RangeFile
from wheelhouse.model.limits import Limits

METADATA = b"Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.0\n\n"
PROJECT = canonicalize_name("demo-pkg")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def wheel(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(zip_bytes(members))
    return path


def tar_sdist(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "demo_pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


GOOD_WHEEL = {
    "demo_pkg/__init__.py": b"",
    "demo_pkg/_vendor/other-2.0.dist-info/METADATA": b"Name: other\n",
    "demo_pkg-1.0.dist-info/METADATA": METADATA,
    "demo_pkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\n",
}


def test_a_wheel_by_path(tmp_path: Path) -> None:
    path = wheel(tmp_path, GOOD_WHEEL)
    assert wheel_metadata(path, PROJECT) == METADATA
    assert core_metadata(path, PROJECT) == METADATA


def test_a_wheel_by_file_object(tmp_path: Path) -> None:
    assert wheel_metadata(io.BytesIO(zip_bytes(GOOD_WHEEL)), PROJECT) == METADATA


class Prefetching(io.BytesIO):
    """A file object that records what it was told it will be read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.spans: list[tuple[int, int]] = []

    def prefetch(self, start: int, end: int) -> None:
        self.spans.append((start, end))


def test_a_prefetching_file_is_told_the_member_span(tmp_path: Path) -> None:
    source = Prefetching(zip_bytes(GOOD_WHEEL))
    assert wheel_metadata(source, PROJECT) == METADATA
    with zipfile.ZipFile(io.BytesIO(source.getvalue())) as archive:
        start = archive.getinfo("demo_pkg-1.0.dist-info/METADATA").header_offset
        after = archive.getinfo("demo_pkg-1.0.dist-info/WHEEL").header_offset
    assert source.spans == [(start, after)]


def test_another_projects_dist_info_is_not_taken(tmp_path: Path) -> None:
    members = {"other-2.0.dist-info/METADATA": b"Name: other\n", "demo_pkg/__init__.py": b""}
    with pytest.raises(MetadataError, match="no single demo-pkg-"):
        wheel_metadata(wheel(tmp_path, members), PROJECT)


def test_a_vendored_dist_info_alone_is_not_taken(tmp_path: Path) -> None:
    members = {"demo_pkg/_vendor/demo_pkg-1.0.dist-info/METADATA": METADATA}
    with pytest.raises(MetadataError, match="no single"):
        wheel_metadata(wheel(tmp_path, members), PROJECT)


def test_two_dist_infos_of_the_project_are_refused(tmp_path: Path) -> None:
    members = {"demo_pkg-1.0.dist-info/METADATA": METADATA, "Demo.Pkg-1.0.dist-info/METADATA": b""}
    with pytest.raises(MetadataError, match="no single"):
        wheel_metadata(wheel(tmp_path, members), PROJECT)


def test_a_wheel_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(b"not a zip")
    with pytest.raises(MetadataError, match="unreadable archive") as caught:
        wheel_metadata(path, PROJECT)
    assert caught.value.file == str(path)


def test_a_tar_gz_sdist(tmp_path: Path) -> None:
    path = tar_sdist(
        tmp_path,
        {
            "demo_pkg-1.0/src/PKG-INFO": b"nested",
            "demo_pkg-1.0/PKG-INFO": METADATA,
            "demo_pkg-1.0/pyproject.toml": b"[build-system]\n",
        },
    )
    assert sdist_metadata(path) == core_metadata(path, PROJECT) == METADATA
    assert sdist_members(path, {"PKG-INFO", "pyproject.toml", "setup.py"}) == {
        "PKG-INFO": METADATA,
        "pyproject.toml": b"[build-system]\n",
    }


def test_a_zip_sdist(tmp_path: Path) -> None:
    path = tmp_path / "demo_pkg-1.0.zip"
    path.write_bytes(zip_bytes({"demo_pkg-1.0/": b"", "demo_pkg-1.0/PKG-INFO": METADATA}))
    assert sdist_metadata(path) == METADATA


def test_an_sdist_without_pkg_info(tmp_path: Path) -> None:
    path = tar_sdist(tmp_path, {"PKG-INFO": METADATA, "demo_pkg-1.0/a/PKG-INFO": METADATA})
    with pytest.raises(MetadataError, match="no PKG-INFO at the top"):
        sdist_metadata(path)


def test_a_truncated_sdist(tmp_path: Path) -> None:
    path = tar_sdist(tmp_path, {"demo_pkg-1.0/PKG-INFO": METADATA})
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(MetadataError, match="unreadable archive"):
        sdist_metadata(path)


SMALL = Limits(metadata_size=1024)


def test_a_member_is_read_no_further_than_the_limit_whatever_it_declares(
    tmp_path: Path,
) -> None:
    """A compressed bomb stops at the limit: one byte past it is all that is inflated."""
    bomb = {"demo_pkg-1.0.dist-info/METADATA": METADATA + b" " * 50_000}
    with pytest.raises(MetadataTooLarge, match="METADATA is larger than 1 KiB"):
        wheel_metadata(wheel(tmp_path, bomb), PROJECT, limits=SMALL)
    sdist = tar_sdist(tmp_path, {"demo_pkg-1.0/PKG-INFO": METADATA + b" " * 50_000})
    with pytest.raises(MetadataTooLarge, match="PKG-INFO is larger than 1 KiB"):
        sdist_metadata(sdist, limits=SMALL)
    assert wheel_metadata(wheel(tmp_path, GOOD_WHEEL), PROJECT, limits=SMALL) == METADATA


def test_the_limit_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHEELHOUSE_MAX_METADATA_SIZE", "1K")
    bomb = {"demo_pkg-1.0.dist-info/METADATA": METADATA + b" " * 2048}
    with pytest.raises(MetadataTooLarge, match=r"\(WHEELHOUSE_MAX_METADATA_SIZE\)"):
        wheel_metadata(wheel(tmp_path, bomb), PROJECT)


def test_metadata_must_name_the_project_and_version_of_its_file() -> None:
    assert check_identity(METADATA, PROJECT, Version("1.0"))["version"] == "1.0"
    with pytest.raises(MetadataError, match=r"names Demo\.Pkg 1\.0, not demo-pkg 2\.0"):
        check_identity(METADATA, PROJECT, Version("2.0"))
    with pytest.raises(MetadataError, match=r"names evil 1\.0"):
        check_identity(METADATA.replace(b"Demo.Pkg", b"evil"), PROJECT, Version("1.0"))


# The central directory scan that reads a local wheel's METADATA without zipfile


def test_a_plain_wheel_is_read_without_zipfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = wheel(tmp_path, GOOD_WHEEL)  # beside a vendored METADATA of another project
    monkeypatch.setattr(zipfile, "ZipFile", lambda *args, **kw: pytest.fail("zipfile read it"))
    assert wheel_metadata(path, PROJECT) == METADATA


def _zip64(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            with archive.open(name, "w", force_zip64=True) as stream:
                stream.write(data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "make",
    [
        lambda: b"#!/bin/sh\nexit 0\n" + zip_bytes(GOOD_WHEEL),  # something before the archive
        lambda: _zip64(GOOD_WHEEL),  # ZIP64 sizes
        lambda: _stored_with_comment(GOOD_WHEEL),  # stored members and an archive comment
    ],
    ids=["prefixed", "zip64", "stored-commented"],
)
def test_what_the_scan_does_not_take_zipfile_reads(
    tmp_path: Path, make: Callable[[], bytes]
) -> None:
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(make())
    assert wheel_metadata(path, PROJECT) == METADATA


def _stored_with_comment(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.comment = b"built by hand"
    return buffer.getvalue()


def test_a_member_whose_bytes_are_not_its_crc_is_refused(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"demo_pkg-1.0.dist-info/METADATA": METADATA}))
    stored = data.index(b"demo_pkg-1.0.dist-info/METADATA") + len("demo_pkg-1.0.dist-info/METADATA")
    data[stored + 3] ^= 0x01  # inside the deflated bytes: the scan declines, zipfile refuses
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(bytes(data))
    with pytest.raises(MetadataError, match="unreadable archive"):
        wheel_metadata(path, PROJECT)


def test_a_duplicated_metadata_entry_is_refused_as_before(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("demo_pkg-1.0.dist-info/METADATA", METADATA)
        archive.writestr("demo_pkg-1.0.dist-info/METADATA", b"Name: evil\nVersion: 6.6.6\n")
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(MetadataError, match=r"no single demo-pkg-\*\.dist-info/METADATA"):
        wheel_metadata(path, PROJECT)


def test_a_remote_wheel_is_read_without_zipfile_in_one_ranged_read_of_the_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = zip_bytes({**GOOD_WHEEL, "demo_pkg/big.bin": bytes(range(256)) * 400})
    fetched: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        fetched.append((start, end))
        return data[start:end]

    remote = RangeFile(len(data), fetch, budget=len(data))
    remote.add(len(data) - 200, data[-200:])  # the end, as the first read of a remote wheel
    monkeypatch.setattr(zipfile, "ZipFile", lambda *args, **kw: pytest.fail("zipfile read it"))
    assert wheel_metadata(remote, PROJECT) == METADATA
    member = data.index(b"demo_pkg-1.0.dist-info/METADATA") - 30
    assert len([span for span in fetched if span[0] <= member < span[1]]) == 1


def test_a_zip64_locator_before_the_end_record_is_left_to_zipfile(tmp_path: Path) -> None:
    """zipfile follows a locator in the 20 bytes before the end record; the scan does not try."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in GOOD_WHEEL.items():
            archive.writestr(name, data)
        last = zipfile.ZipInfo("demo_pkg/zz.py")
        last.comment = b"PK\x06\x07" + bytes(16)  # ends the central directory
        archive.writestr(last, b"")
    data = buffer.getvalue()
    assert _central_directory(io.BytesIO(data), len(data)) is None
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(data)
    assert wheel_metadata(path, PROJECT) == METADATA
    plain = zip_bytes(GOOD_WHEEL)
    found = _central_directory(io.BytesIO(plain), len(plain))
    assert found is not None and found[1] == len(GOOD_WHEEL)
