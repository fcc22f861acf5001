"""`wheelhouse refresh`: re-resolve recorded inputs, download only what is new, report."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers import find_python, install_lock, installed, make_venv
from indexserver import IndexServer

import wheelhouse.cli.build as cli_module
from wheelhouse.cli import cli
from wheelhouse.index.client import IndexClient
from wheelhouse.model.manifest import record_path, request_from_manifest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LINUX = "manylinux_2_28_x86_64"
TARGET = f"cp312-{LINUX}"
BEFORE_2025 = datetime(2024, 12, 31, tzinfo=timezone.utc)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ok(result: Result, code: int = 0) -> Result:
    assert result.exit_code == code, result.output + repr(result.exception)
    return result


@pytest.fixture
def old_wheelhouse(tmp_path: Path, mutable_index_server: IndexServer) -> Path:
    """A wheelhouse built while the index had only the 2024 releases."""
    mutable_index_server.hide_after = BEFORE_2025
    wh = tmp_path / "wh"
    ok(
        invoke(
            "build",
            "-q",
            "-w",
            str(wh),
            "--index-url",
            mutable_index_server.url,
            "evolving",
            "modern",
            "alpha",
            "--python",
            "3.12",
            "--platform",
            LINUX,
        )
    )
    mutable_index_server.hide_after = None
    mutable_index_server.reset_log()
    return wh


def lock_text(wh: Path) -> str:
    return (wh / "locks" / f"{TARGET}.txt").read_text()


def test_refresh_reports_the_upgrade_and_downloads_only_new_files(
    old_wheelhouse: Path, mutable_index_server: IndexServer
) -> None:
    kept = old_wheelhouse / "alpha-1.1-py3-none-any.whl"
    kept_stat = kept.stat()
    result = ok(invoke("refresh", "-q", "-w", str(old_wheelhouse)))
    assert f"{TARGET}: evolving 1.0 -> 1.1 (upgraded)" in result.output
    assert f"{TARGET}: modern 1.0 -> 2.0 (upgraded)" in result.output
    downloads = [
        r.path
        for r in mutable_index_server.log
        if r.path.startswith("/files/") and r.path.endswith(".whl")
    ]
    assert sorted(downloads) == [
        "/files/beta-2.0-py3-none-any.whl",
        "/files/evolving-1.1-py3-none-any.whl",
        "/files/modern-2.0-py3-none-any.whl",
    ]
    assert kept.stat().st_mtime_ns == kept_stat.st_mtime_ns
    assert kept.stat().st_ino == kept_stat.st_ino
    assert "evolving==1.1" in lock_text(old_wheelhouse)


def test_refreshed_lock_installs_offline(old_wheelhouse: Path, tmp_path: Path) -> None:
    ok(invoke("refresh", "-q", "-w", str(old_wheelhouse)))
    venv = make_venv(tmp_path, find_python("3.12"))
    install_lock(old_wheelhouse, old_wheelhouse / "locks" / f"{TARGET}.txt", venv)
    assert installed(venv)["evolving"] == "1.1"


def test_check_changes_nothing_and_exits_1_when_pins_would_move(
    old_wheelhouse: Path, mutable_index_server: IndexServer
) -> None:
    before = {p: p.read_bytes() for p in old_wheelhouse.rglob("*") if p.is_file()}
    result = ok(invoke("refresh", "--check", "-q", "-w", str(old_wheelhouse)), code=1)
    assert "evolving 1.0 -> 1.1" in result.output
    after = {p: p.read_bytes() for p in old_wheelhouse.rglob("*") if p.is_file()}
    assert after == before
    assert not mutable_index_server.requests("/files/", method="GET") or all(
        r.path.endswith(".metadata") or r.range
        for r in mutable_index_server.log
        if r.path.startswith("/files/")
    )


def test_check_exits_0_when_nothing_changed(
    old_wheelhouse: Path, mutable_index_server: IndexServer
) -> None:
    ok(invoke("refresh", "-q", "-w", str(old_wheelhouse)))
    result = ok(invoke("refresh", "--check", "-q", "-w", str(old_wheelhouse)), code=0)
    assert "no pin changes" in result.output


def test_upgrade_package_moves_only_that_pin(old_wheelhouse: Path) -> None:
    result = ok(invoke("refresh", "-q", "-w", str(old_wheelhouse), "-P", "Evolving"))
    assert "evolving 1.0 -> 1.1" in result.output
    assert "modern" not in result.output and "beta" not in result.output
    assert "modern==1.0" in lock_text(old_wheelhouse)


def test_markdown_and_json_reports(old_wheelhouse: Path, tmp_path: Path) -> None:
    md, js = tmp_path / "report.md", tmp_path / "report.json"
    ok(invoke("refresh", "--check", "-q", "-w", str(old_wheelhouse), "--report", str(md)), 1)
    ok(
        invoke(
            "refresh",
            "--check",
            "-q",
            "-w",
            str(old_wheelhouse),
            "--report",
            str(js),
            "--report-format",
            "json",
        ),
        1,
    )
    markdown = md.read_text()
    assert TARGET in markdown and "| evolving |" in markdown.replace("`", "")
    document = json.loads(js.read_text())
    assert document["schema"] == 1
    assert "evolving" in js.read_text()


def test_refresh_needs_a_wheelhouse(tmp_path: Path) -> None:
    result = invoke("refresh", "-w", str(tmp_path / "nothing"))
    assert result.exit_code == 1
    assert "is not a wheelhouse" in result.output


def test_nothing_changed_costs_page_lookups_only(
    old_wheelhouse: Path, mutable_index_server: IndexServer
) -> None:
    ok(invoke("refresh", "-q", "-w", str(old_wheelhouse)))
    before = {p: p.read_bytes() for p in old_wheelhouse.rglob("*") if p.is_file()}
    mutable_index_server.reset_log()
    result = ok(invoke("refresh", "-q", "-w", str(old_wheelhouse)))
    assert "no pin changes" in result.output
    paths = [r.path for r in mutable_index_server.log]
    assert paths and all(path.startswith("/simple/") for path in paths)
    assert len(paths) == len(set(paths))  # one look-up per page
    after = {p: p.read_bytes() for p in old_wheelhouse.rglob("*") if p.is_file()}
    assert after == before


def test_a_changed_page_is_resolved_again(
    old_wheelhouse: Path, mutable_index_server: IndexServer
) -> None:
    ok(invoke("refresh", "-q", "-w", str(old_wheelhouse)))
    mutable_index_server.yank("evolving-1.1-py3-none-any.whl", "bad release")
    result = ok(invoke("refresh", "-q", "-w", str(old_wheelhouse)))
    assert "evolving 1.1 -> 1.0 (downgraded)" in result.output
    assert "evolving==1.0" in lock_text(old_wheelhouse)


@pytest.mark.parametrize("edit", ["-i", "--extra-index-url"])
def test_refresh_reads_the_indexes_named_in_requirement_files(
    tmp_path: Path, mutable_index_server: IndexServer, index_server: IndexServer, edit: str
) -> None:
    """The recorded index still hides the 2025 release; the edited file names one that has it."""
    mutable_index_server.hide_after = BEFORE_2025
    wh, requirements = tmp_path / "wh", tmp_path / "requirements.txt"
    requirements.write_text(f"-i {mutable_index_server.url}\nevolving\n")
    target = ("--python", "3.12", "--platform", LINUX)
    ok(invoke("build", "-q", "-w", str(wh), "-r", str(requirements), *target))
    assert "evolving==1.0" in lock_text(wh)
    old = "" if edit == "-i" else f"-i {mutable_index_server.url}\n"
    requirements.write_text(f"{old}{edit} {index_server.url}\nevolving\n")
    # An extra index only adds versions of a project the first one has when merged.
    merge = () if edit == "-i" else ("--index-strategy", "unsafe-best-match")
    result = ok(invoke("refresh", "-q", "-w", str(wh), *merge))
    assert f"{TARGET}: evolving 1.0 -> 1.1 (upgraded)" in result.output
    assert index_server.count("/simple/evolving/", method="GET") == 1


def test_refresh_keeps_the_recorded_index_strategy(
    tmp_path: Path, mutable_index_server: IndexServer, index_server: IndexServer
) -> None:
    """first-index keeps a project's versions to the first index that has it, refresh too."""
    mutable_index_server.hide_after = BEFORE_2025
    wh, target = tmp_path / "wh", ("--python", "3.12", "--platform", LINUX)
    indexes = ("-i", mutable_index_server.url, "--extra-index-url", index_server.url)
    ok(invoke("build", "-q", "-w", str(wh), "evolving", *indexes, *target))
    assert "evolving==1.0" in lock_text(wh)
    assert 'strategy = "first-index"' in (wh / "wheelhouse.toml").read_text()
    assert "no pin changes" in ok(invoke("refresh", "-q", "-w", str(wh))).output
    assert index_server.count("/simple/evolving/") == 0, "the extra index heard the name"
    merged = ("--index-strategy", "unsafe-best-match")
    ok(invoke("build", "-q", "-w", str(wh), "evolving", *indexes, *target, *merged))
    assert "evolving==1.1" in lock_text(wh)
    assert 'strategy = "unsafe-best-match"' in (wh / "wheelhouse.toml").read_text()
    ok(invoke("refresh", "-q", "-w", str(wh), "--check"))  # still merged: 1.1 stays


def test_refresh_takes_credentials_again_from_the_environment(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_token = index_server.url.replace("http://", "http://user:s3cr3t@")
    monkeypatch.setenv("PIP_INDEX_URL", with_token)
    wh = tmp_path / "wh"
    ok(invoke("build", "-q", "-w", str(wh), "alpha", "--python", "3.12", "--platform", LINUX))
    assert "s3cr3t" not in (wh / "wheelhouse.toml").read_text()
    given: list[Sequence[str]] = []

    class Recording(IndexClient):
        def __init__(self, index_urls: Sequence[str], **options: Any) -> None:
            given.append(index_urls)
            super().__init__(index_urls, **options)

    monkeypatch.setattr(cli_module, "IndexClient", Recording)
    ok(invoke("refresh", "-q", "-w", str(wh)))
    assert given == [[with_token]]


def test_recorded_input_files_are_found_from_anywhere_and_after_the_project_moves(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, outside = tmp_path / "proj", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "requirements.txt").write_text("alpha\n")
    (outside / "constraints.txt").write_text("evolving==1.0\n")  # the index also has 1.1
    target = ("--python", "3.12", "--platform", LINUX)
    constraints = ("-c", str(outside / "constraints.txt"))
    monkeypatch.chdir(project)
    ok(
        invoke(
            "build",
            "-q",
            "-w",
            "wheelhouse",
            "-i",
            index_server.url,
            "-r",
            "requirements.txt",
            *constraints,
            *target,
        )
    )
    recorded = tomllib.loads((project / "wheelhouse" / "wheelhouse.toml").read_text())["inputs"]
    assert recorded["requirement-files"] == ["../requirements.txt"]
    assert recorded["constraint-files"] == [str(outside / "constraints.txt")]  # outside the tree
    monkeypatch.chdir(outside)
    (project / "requirements.txt").write_text("alpha\nevolving\n")
    result = ok(invoke("refresh", "-q", "-w", "../proj/wheelhouse"))
    assert f"{TARGET}: evolving 1.0 (added)" in result.output
    project.rename(tmp_path / "proj2")
    (tmp_path / "proj2" / "requirements.txt").write_text("alpha\nevolving\nmodern\n")
    monkeypatch.chdir(tmp_path)
    ok(invoke("build", "-q", "-w", "proj2/wheelhouse"))
    lock = (tmp_path / "proj2" / "wheelhouse" / "locks" / f"{TARGET}.txt").read_text()
    assert "modern==" in lock and "evolving==1.0" in lock
    assert "# via -r proj2/requirements.txt" in lock
    ok(invoke("refresh", "-q", "-w", "proj2/wheelhouse", "--check"))


def test_input_paths_of_older_manifests_stay_where_build_ran() -> None:
    house, here = Path("/srv/proj/wh"), Path("/srv/proj")
    inputs = {"requirement-files": ["requirements.txt", "../../x/r.txt"], "from-lock": "/a.lock"}
    old = request_from_manifest({"inputs": inputs}, house=house, cwd=here)
    assert old.requirement_files == (Path("requirements.txt"), Path("../../x/r.txt"))
    new = request_from_manifest(
        {"inputs": {**inputs, "paths": "wheelhouse"}}, house=house, cwd=here
    )
    assert new.requirement_files == (Path("wh/requirements.txt"), Path("/srv/x/r.txt"))
    assert new.from_lock == Path("/a.lock")
    assert record_path(Path("/srv/x/r.txt"), house, [here]) == Path("/srv/x/r.txt")
    assert record_path(Path("/srv/proj/a/r.txt"), house, [here]) == Path("../a/r.txt")
