"""The committed fixture index: reproducible, and made of real distributions."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import tarfile
import zipfile
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from helpers import run, run_pip
from indexserver import FIXTURES
from packaging.metadata import Metadata
from packaging.tags import parse_tag
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_fixtures.py"
FILES = FIXTURES / "files"
WHEELS = sorted(p.name for p in FILES.glob("*.whl"))
SDISTS = sorted(p.name for p in FILES.glob("*.tar.gz"))
#: Sdists of old, with no PKG-INFO: only a build tells their metadata.
OLD_SDISTS = ["oldsdist-1.0.tar.gz"]
ENTRIES = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))["files"]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _record_digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _assert_record(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        records = [n for n in names if n.endswith(".dist-info/RECORD")]
        assert len(records) == 1, records
        lines = archive.read(records[0]).decode().splitlines()
        rows = dict((line.split(",", 1)[0], line.split(",", 1)[1]) for line in lines)
        assert sorted(rows) == sorted(names)
        assert rows.pop(records[0]) == ","
        for name, row in rows.items():
            data = archive.read(name)
            assert row == f"{_record_digest(data)},{len(data)}", name


def _wheel_member(wheel: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name)


def test_generator_reproduces_the_committed_fixtures(tmp_path: Path) -> None:
    stale = tmp_path / "out" / "files" / "stale-0.1-py3-none-any.whl"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left over")
    run([sys.executable, str(SCRIPT), "--output", str(tmp_path / "out")])
    generated, committed = _tree(tmp_path / "out"), _tree(FIXTURES)
    assert sorted(generated) == sorted(committed)
    assert [n for n in generated if generated[n] != committed[n]] == []


def test_index_json_describes_every_file() -> None:
    listed = {entry["file"] for entry in ENTRIES}
    assert listed == {p.name for p in FILES.iterdir()}
    for entry in ENTRIES:
        data = (FILES / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        if entry["filename"].endswith(".whl") and not entry["invalid"]:
            core = _wheel_member(FILES / entry["file"], ".dist-info/METADATA")
            assert entry["metadata_sha256"] == hashlib.sha256(core).hexdigest()
        else:
            assert entry["metadata_sha256"] is None


def test_valid_entries_name_their_own_file() -> None:
    for entry in ENTRIES:
        if entry["invalid"]:
            assert entry["filename"] != entry["file"]
            continue
        assert entry["filename"] == entry["file"]
        if entry["filename"].endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(entry["filename"])
        else:
            name, version = parse_sdist_filename(entry["filename"])
        assert (name, version) == (canonicalize_name(entry["project"]), Version(entry["version"]))


def test_upload_times_follow_versions() -> None:
    latest: dict[str, tuple[Version, str]] = {}
    for entry in ENTRIES:
        if entry["invalid"]:
            continue
        assert entry["upload_time"].endswith("Z")
        name, version = canonicalize_name(entry["project"]), Version(entry["version"])
        if name in latest and latest[name][0] < version:
            assert latest[name][1] < entry["upload_time"], entry["filename"]
        latest[name] = (version, entry["upload_time"])


def test_the_index_covers_every_scenario() -> None:
    projects = {entry["project"] for entry in ENTRIES}
    assert {"alpha", "sdistonly", "bt-top", "clash-a", "cycle-a", "Zope.Name_Mixed"} <= projects
    yanked = {e["filename"]: e["yanked"] for e in ENTRIES if e["yanked"]}
    assert yanked == {"delta-1.1-py3-none-any.whl": "broken build"}
    invalid = {e["filename"] for e in ENTRIES if e["invalid"]}
    assert "../escape-1.0.tar.gz" in invalid
    tags = {str(t) for name in WHEELS for t in parse_wheel_filename(name)[3]}
    for wanted in ("py3-none-any", "cp311-abi3-win_amd64", "cp313-cp313-manylinux2014_x86_64"):
        assert wanted in tags
    for platform in ("musllinux_1_2_x86_64", "macosx_11_0_arm64", "manylinux_2_28_aarch64"):
        assert f"cp312-cp312-{platform}" in tags


@pytest.mark.parametrize("filename", WHEELS)
def test_wheel_record_is_correct(filename: str) -> None:
    _assert_record(FILES / filename)


@pytest.mark.parametrize("filename", WHEELS)
def test_wheel_agrees_with_its_name(filename: str) -> None:
    name, version, _build, tags = parse_wheel_filename(filename)
    wheel = FILES / filename
    metadata = Metadata.from_email(_wheel_member(wheel, ".dist-info/METADATA"))
    assert (canonicalize_name(metadata.name), metadata.version) == (name, version)
    info = BytesHeaderParser().parsebytes(_wheel_member(wheel, ".dist-info/WHEEL"))
    assert {t for line in info.get_all("Tag", []) for t in parse_tag(line)} == tags
    pure = all(str(t) == "py3-none-any" for t in tags)
    assert info["Root-Is-Purelib"] == ("true" if pure else "false")
    source = _wheel_member(wheel, "/__init__.py").decode()
    assert f'__version__ = "{version}"' in source
    assert ("PLATFORM =" in source) == (not pure)
    with zipfile.ZipFile(wheel) as archive:
        assert {n.split("/")[0] for n in archive.namelist()} == {
            name.replace("-", "_"),
            f"{name.replace('-', '_')}-{version}.dist-info",
        }


@pytest.mark.parametrize("filename", sorted(set(SDISTS) - set(OLD_SDISTS)))
def test_sdist_layout(filename: str) -> None:
    name, version = parse_sdist_filename(filename)
    stem = filename.removesuffix(".tar.gz")
    with tarfile.open(FILES / filename) as archive:
        members = {m.name: m for m in archive.getmembers()}
        assert all(m.isfile() and m.mtime == 1577836800 and m.uid == 0 for m in members.values())
        pkg_info = archive.extractfile(f"{stem}/PKG-INFO")
        pyproject = archive.extractfile(f"{stem}/pyproject.toml")
        assert pkg_info is not None and pyproject is not None
        metadata = Metadata.from_email(pkg_info.read())
        assert 'backend-path = ["_backend"]' in pyproject.read().decode()
    assert (canonicalize_name(metadata.name), metadata.version) == (name, version)
    assert f"{stem}/_backend/fixture_backend.py" in members


def test_sdist_builds_offline_with_pip(tmp_path: Path) -> None:
    run_pip(
        "wheel", "--no-index", "--no-deps", "-w", str(tmp_path), str(FILES / "native-1.0.tar.gz")
    )
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name == "native-1.0-py3-none-any.whl"
    _assert_record(wheel)
    assert 'PLATFORM = "sdist"' in _wheel_member(wheel, "native/__init__.py").decode()


def test_sdist_backend_rebuilds_an_sdist(tmp_path: Path) -> None:
    with tarfile.open(FILES / "sdistonly-1.0.tar.gz") as archive:
        for member in archive.getmembers():
            source = archive.extractfile(member)
            assert source is not None and ".." not in member.name
            (tmp_path / member.name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / member.name).write_bytes(source.read())
    tree, out = tmp_path / "sdistonly-1.0", tmp_path / "out"
    out.mkdir()
    code = f"import fixture_backend as b; print(b.build_sdist({str(out)!r}))"
    result = run([sys.executable, "-c", code], cwd=tree, env={"PYTHONPATH": "_backend"})
    assert result.stdout.strip() == "sdistonly-1.0.tar.gz"
    with tarfile.open(out / "sdistonly-1.0.tar.gz") as rebuilt:
        names = sorted(rebuilt.getnames())
    with tarfile.open(FILES / "sdistonly-1.0.tar.gz") as original:
        assert names == sorted(original.getnames())


@pytest.mark.parametrize("filename", OLD_SDISTS)
def test_an_old_sdist_has_no_pkg_info_and_a_backend_from_the_index(filename: str) -> None:
    stem = filename.removesuffix(".tar.gz")
    with tarfile.open(FILES / filename) as archive:
        names = set(archive.getnames())
        pyproject = archive.extractfile(f"{stem}/pyproject.toml")
        assert pyproject is not None
        assert 'requires = ["wh-backend"]' in pyproject.read().decode()
    assert f"{stem}/PKG-INFO" not in names
