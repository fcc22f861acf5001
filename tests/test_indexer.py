"""Indexing a directory: metadata files, pages with real hashes, idempotence, bad files.

The helpers at the top build tiny wheels and sdists whose contents each test
controls; test_server.py and test_nginx.py reuse them. pip and uv (tests/helpers.py)
are the independent oracles: they must install from every index written here.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import installed, make_venv, run_pip, run_uv
from indexserver import FIXTURES
from test_simple import (
    validate_project_html,
    validate_project_json,
    validate_root_html,
    validate_root_json,
)

from wheelhouse.cli import cli
from wheelhouse.commands.index import index as index_command
from wheelhouse.house import indexer
from wheelhouse.house.errors import BadDirectory
from wheelhouse.model.distributions import DistFile

# -- helpers shared with test_server.py and test_nginx.py ---------------------------------


def _metadata(name: str, version: str, requires: Sequence[str], requires_python: str | None) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Python: {requires_python}"] if requires_python else []
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    return "\n".join(lines) + "\n\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    requires_python: str | None = None,
    tag: str = "py3-none-any",
    metadata_name: str | None = None,
) -> Path:
    """A tiny installable wheel whose module ``<name>`` has ``VERSION = <version>``."""
    stem = re.sub(r"[-_.]+", "_", name)
    dist_info = f"{stem}-{version}.dist-info"
    module = stem.lower()
    files = {
        f"{module}/__init__.py": f'VERSION = "{version}"\n'.encode(),
        f"{dist_info}/METADATA": _metadata(
            metadata_name or name, version, requires, requires_python
        ).encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record = [_record_line(path, data) for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    path = directory / f"{stem}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return path


def make_sdist(
    directory: Path, name: str, version: str, *, metadata_name: str | None = None
) -> Path:
    """A tiny ``.tar.gz`` sdist with a PKG-INFO, byte-identical on every call."""
    stem = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"
    pkg_info = _metadata(metadata_name or name, version, (), None).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo(f"{stem}/PKG-INFO")
        info.size, info.mtime = len(pkg_info), 0
        archive.addfile(info, io.BytesIO(pkg_info))
    path = directory / f"{stem}.tar.gz"
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
        stream.write(buffer.getvalue())
    return path


def make_distributions(directory: Path) -> Path:
    """A directory of distributions that exercises the index: deps, versions, names."""
    directory.mkdir(parents=True, exist_ok=True)
    make_wheel(directory, "alpha", "1.0", requires=["beta>=1.0"], requires_python=">=3.8")
    make_wheel(directory, "beta", "1.0")
    make_wheel(directory, "beta", "1.10")
    make_wheel(directory, "beta", "1.9")
    make_wheel(directory, "Foo_Bar", "1.0", metadata_name="Foo.Bar")
    make_wheel(directory, "delta", "1.0", requires_python=">=3")
    make_wheel(directory, "delta", "2.0", requires_python=">=4")
    make_sdist(directory, "gamma", "0.1")
    return directory


def installed_from(python: Path) -> dict[str, str]:
    """The test projects installed in ``python``'s environment, by normalized name."""
    return {name: version for name, version in installed(python).items() if name in EXPECTED}


EXPECTED = {"alpha": "1.0", "beta": "1.10", "foo-bar": "1.0", "delta": "1.0"}
REQUIREMENTS = ("alpha", "foo.bar", "delta")


# -- tests -------------------------------------------------------------------------------------


@pytest.fixture
def distributions(tmp_path: Path) -> Path:
    return make_distributions(tmp_path / "dists")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _mtimes(root: Path) -> dict[str, int]:
    return {str(path): path.stat().st_mtime_ns for path in root.rglob("*")}


def test_writes_pages_and_metadata_with_real_hashes(distributions: Path) -> None:
    result = index_command(distributions)
    assert not result.skipped
    assert len(result.files) == 8
    for wheel in distributions.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            assert (distributions / f"{wheel.name}.metadata").read_bytes() == archive.read(name)
    page = json.loads((distributions / "simple/beta/index.json").read_text())
    for entry in page["files"]:
        data = (distributions / entry["filename"]).read_bytes()
        metadata = (distributions / (entry["filename"] + ".metadata")).read_bytes()
        assert entry["hashes"] == {"sha256": hashlib.sha256(data).hexdigest()}
        assert entry["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
        assert entry["size"] == len(data)
    assert [entry["filename"].split("-")[1] for entry in page["files"]] == ["1.0", "1.9", "1.10"]
    assert not (distributions / "gamma-0.1.tar.gz.metadata").exists()


def test_written_pages_validate(distributions: Path) -> None:
    index_command(distributions)
    pages = distributions / "simple"
    names = validate_root_html((pages / "index.html").read_bytes())
    assert validate_root_json((pages / "index.json").read_bytes()) == names
    for name in names:
        anchors = validate_project_html((pages / name / "index.html").read_bytes())
        document = validate_project_json((pages / name / "index.json").read_bytes())
        assert [entry["filename"] for entry in document["files"]] == list(anchors)
        assert all((distributions / filename).is_file() for filename in anchors)


def test_reads_requires_python_and_normalizes_names(distributions: Path) -> None:
    files = {file.filename: file for file in index_command(distributions).files}
    assert files["alpha-1.0-py3-none-any.whl"].requires_python == ">=3.8"
    assert files["Foo_Bar-1.0-py3-none-any.whl"].project == "foo-bar"
    assert sorted(p.name for p in (distributions / "simple").iterdir() if p.is_dir()) == [
        "alpha", "beta", "delta", "foo-bar", "gamma",
    ]  # fmt: skip


def test_identical_inputs_give_identical_bytes(tmp_path: Path) -> None:
    first = make_distributions(tmp_path / "one")
    second = make_distributions(tmp_path / "two")
    index_command(first)
    index_command(second)
    assert _tree(first / "simple") == _tree(second / "simple")
    assert _tree(first) == _tree(second)


def test_second_run_writes_nothing(distributions: Path) -> None:
    index_command(distributions)
    before = _mtimes(distributions)
    result = index_command(distributions)
    assert result.written == ()
    assert result.removed == ()
    assert result.unchanged == 2 + 2 * 5
    assert _mtimes(distributions) == before


def test_a_change_rewrites_only_the_pages_it_changes(distributions: Path) -> None:
    index_command(distributions)
    make_wheel(distributions, "beta", "2.0")
    result = index_command(distributions)
    assert set(result.written) == {
        "beta-2.0-py3-none-any.whl.metadata",
        "simple/beta/index.html",
        "simple/beta/index.json",
    }
    assert not list((distributions / "simple").rglob(".*.tmp"))


def test_vanished_projects_lose_their_pages(distributions: Path) -> None:
    index_command(distributions)
    for wheel in distributions.glob("delta-*.whl"):
        wheel.unlink()
    result = index_command(distributions)
    assert "simple/delta/index.html" in result.removed
    assert "delta-1.0-py3-none-any.whl.metadata" in result.removed
    assert not (distributions / "simple/delta").exists()
    assert "delta" not in (distributions / "simple/index.html").read_text()
    assert {"simple/index.html", "simple/index.json"} <= set(result.written)


def test_bogus_files_are_reported_and_skipped(distributions: Path) -> None:
    (distributions / "garbage-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    (distributions / "not a wheel.whl").write_bytes(b"")
    make_wheel(distributions, "liar", "1.0", metadata_name="other")
    truncated = make_sdist(distributions, "cut", "1.0")
    truncated.write_bytes(truncated.read_bytes()[:20])
    (distributions / "README.txt").write_text("ignored: not a distribution")
    result = index_command(distributions)
    reasons = {skipped.filename: skipped.reason for skipped in result.skipped}
    assert set(reasons) == {
        "garbage-1.0-py3-none-any.whl",
        "not a wheel.whl",
        "liar-1.0-py3-none-any.whl",
        "cut-1.0.tar.gz",
    }
    assert "other" in reasons["liar-1.0-py3-none-any.whl"]
    assert len(result.files) == 8
    assert not (distributions / "simple/liar").exists()


def test_known_files_are_trusted_without_rehashing(
    distributions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_command(distributions)
    known = {
        file.filename: DistFile.create(
            filename=file.filename,
            url=f"https://example.invalid/{file.filename}",
            project=file.project,
            sha256="ab" * 32,
            size=7,
            upload_time="2024-01-02T03:04:05Z",
            yanked="broken" if file.filename.startswith("beta-1.0-") else None,
            metadata_sha256="cd" * 32 if file.is_wheel else None,
        )
        for file in index_command(distributions).files
    }

    def refuse(path: Path) -> str:
        raise AssertionError(f"rehashed {path}")

    monkeypatch.setattr(indexer, "sha256_of", refuse)
    index_command(distributions, known)
    page = json.loads((distributions / "simple/beta/index.json").read_text())
    first = page["files"][0]
    assert first["hashes"] == {"sha256": "ab" * 32}
    assert first["core-metadata"] == {"sha256": "cd" * 32}
    assert (first["size"], first["yanked"]) == (7, "broken")
    assert first["upload-time"] == "2024-01-02T03:04:05.000000Z"
    assert first["url"] == "../../beta-1.0-py3-none-any.whl"


def test_known_files_still_get_their_metadata_file(distributions: Path) -> None:
    wheel = "alpha-1.0-py3-none-any.whl"
    known = {wheel: DistFile.create(filename=wheel, url=wheel, project="alpha", sha256="ab" * 32)}
    index_command(distributions, known)
    metadata = (distributions / f"{wheel}.metadata").read_bytes()
    assert b"Name: alpha" in metadata
    html = (distributions / "simple/alpha/index.html").read_text()
    assert f'data-core-metadata="sha256={hashlib.sha256(metadata).hexdigest()}"' in html


def test_stale_metadata_file_is_corrected(distributions: Path) -> None:
    wheel = distributions / "beta-1.0-py3-none-any.whl.metadata"
    index_command(distributions)
    good = wheel.read_bytes()
    wheel.write_bytes(b"Name: tampered\n")
    result = index_command(distributions)
    assert wheel.read_bytes() == good
    assert result.written == ("beta-1.0-py3-none-any.whl.metadata",)


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_bad_directory_is_an_error(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "there"
    if kind == "file":
        target.write_text("")
    with pytest.raises(BadDirectory, match="there"):
        index_command(target)


def test_empty_directory_gets_an_empty_index(tmp_path: Path) -> None:
    result = index_command(tmp_path)
    assert result.files == ()
    assert json.loads((tmp_path / "simple/index.json").read_text())["projects"] == []


def test_cli_index_prints_a_summary_and_warns_per_skipped_file(distributions: Path) -> None:
    (distributions / "bogus-1.0-py3-none-any.whl").write_bytes(b"junk")
    result = CliRunner().invoke(cli, ["index", str(distributions)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [
        "indexed 8 files of 5 projects: wrote 12 pages and 7 metadata files, 0 pages unchanged, "
        "0 removed, 1 skipped"
    ]
    assert result.stderr.startswith("warning: skipped bogus-1.0-py3-none-any.whl: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_cli_index_refuses_a_bad_directory(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "nowhere"
    if kind == "file":
        target.write_text("")
    result = CliRunner().invoke(cli, ["index", str(target)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {target}: ")
    assert "Traceback" not in result.output


def test_pip_installs_from_a_file_url(distributions: Path, tmp_path: Path) -> None:
    index_command(distributions)
    python = make_venv(tmp_path)
    index_url = (distributions / "simple").as_uri() + "/"
    run_pip("install", "--index-url", index_url, *REQUIREMENTS, python=python)
    assert installed_from(python) == EXPECTED


def test_uv_installs_from_a_file_url(distributions: Path, tmp_path: Path) -> None:
    index_command(distributions)
    python = make_venv(tmp_path)
    index_url = (distributions / "simple").as_uri() + "/"
    run_uv("pip", "install", "--python", str(python), "--index-url", index_url, *REQUIREMENTS)
    assert installed_from(python) == EXPECTED


def _fixture_entries() -> dict[str, dict[str, Any]]:
    document = json.loads((FIXTURES / "index.json").read_text())
    return {entry["file"]: entry for entry in document["files"] if not entry["invalid"]}


@pytest.fixture
def fixture_files(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "files", tmp_path / "files"))


def test_hashes_agree_with_the_fixture_generator(fixture_files: Path) -> None:
    result = index_command(fixture_files)
    assert not result.skipped
    expected = _fixture_entries()
    for file in result.files:
        entry = expected[file.filename]
        assert (file.sha256, file.size) == (entry["sha256"], entry["size"])
        assert file.metadata_sha256 == entry["metadata_sha256"]
        assert file.requires_python == entry["requires_python"]


def test_pip_honours_yanked_and_requires_python_from_known_files(
    fixture_files: Path, tmp_path: Path
) -> None:
    known = {
        name: DistFile.create(
            filename=name,
            url=name,
            project=entry["project"],
            sha256=entry["sha256"],
            size=entry["size"],
            requires_python=entry["requires_python"],
            upload_time=entry["upload_time"],
            yanked=entry["yanked"] or None,
            metadata_sha256=entry["metadata_sha256"],
        )
        for name, entry in _fixture_entries().items()
    }
    index_command(fixture_files, known)
    python = make_venv(tmp_path)
    index_url = (fixture_files / "simple").as_uri() + "/"
    run_pip("install", "--index-url", index_url, "gamma", "modern", python=python)
    versions = installed(python)
    assert versions["delta"] == "1.0"  # 1.1 is yanked, 2.0 excluded by gamma
    expected_modern = "2.0" if sys.version_info >= (3, 12) else "1.0"
    assert versions["modern"] == expected_modern
