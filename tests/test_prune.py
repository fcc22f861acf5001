"""`wheelhouse prune`: exactly the files no lock references go; pip still installs every lock."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import require
from helpers import (
    find_python,
    install_lock,
    installed,
    invoke,
    make_venv,
    ok,
    require_fixture_machine,
)
from indexserver import IndexServer

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.install import discovery
from wheelhouse.sdist import pep517 as sdists

LINUX = "manylinux_2_28_x86_64"
TARGETS = ("--python", "3.11", "--python", "3.12", "--platform", LINUX)
SMALL = ("evolving", "native")


def build(root: Path, server: IndexServer, *requirements: str) -> None:
    ok(invoke("build", "-q", "-w", str(root), "--index-url", server.url, *requirements, *TARGETS))


def tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".wheelhouse.lock"
    }


def without_manifest(digests: dict[str, str]) -> dict[str, str]:
    return {name: digest for name, digest in digests.items() if name != "wheelhouse.toml"}


@pytest.fixture(scope="module")
def shrunk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A wheelhouse rebuilt with fewer requirements, and a fresh build of those alone."""
    root = tmp_path_factory.mktemp("prune")
    with IndexServer() as server:
        build(root / "shrunk", server, "alpha[fast]", "stable", *SMALL)
        build(root / "shrunk", server, *SMALL)
        build(root / "fresh", server, *SMALL)
    return root / "shrunk", root / "fresh"


@pytest.fixture
def wh(shrunk: tuple[Path, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(shrunk[0], tmp_path / "wh"))


def test_prune_removes_exactly_the_unreferenced_files(
    wh: Path, shrunk: tuple[Path, Path], tmp_path: Path
) -> None:
    fresh = shrunk[1]
    gone = sorted(set(tree(wh)) - set(tree(fresh)))
    assert "alpha-1.1-py3-none-any.whl" in gone and "speedy-1.0-py3-none-any.whl" in gone
    result = ok(invoke("prune", "-w", str(wh)))
    assert sorted(line.removeprefix("removed ") for line in result.stdout.splitlines()[:-1]) == [
        name for name in gone if not name.startswith("simple/")
    ]
    # Same files, metadata and index pages as a build of the smaller inputs alone.
    assert without_manifest(tree(wh)) == without_manifest(tree(fresh))
    fresh_files = Wheelhouse.open(fresh).read_manifest()["files"]
    assert Wheelhouse.open(wh).read_manifest()["files"].keys() == fresh_files.keys()
    assert ok(invoke("verify", "-w", str(wh))).stdout.startswith("OK: ")


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_pip_installs_every_lock_after_prune(wh: Path, tmp_path: Path, version: str) -> None:
    ok(invoke("prune", "-w", str(wh)))
    venv = make_venv(tmp_path, find_python(version))
    lock = wh / "locks" / f"cp{version.replace('.', '')}-{LINUX}.txt"
    install_lock(wh, lock, venv)
    assert installed(venv)["evolving"] == "1.1"


def test_dry_run_lists_and_changes_nothing(wh: Path) -> None:
    before = tree(wh)
    result = ok(invoke("prune", "--dry-run", "-w", str(wh)))
    assert "would remove alpha-1.1-py3-none-any.whl" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].startswith("would remove 6 file(s) (")
    assert result.stdout.splitlines()[-1].endswith("; kept 3 file(s) that locks or builds need")
    assert tree(wh) == before


def test_prune_twice_removes_nothing_more(wh: Path) -> None:
    ok(invoke("prune", "-w", str(wh)))
    before = tree(wh)
    result = ok(invoke("prune", "-w", str(wh)))
    kept = "kept 3 file(s) that locks or builds need"
    assert result.stdout == f"removed 0 file(s) (0 bytes); {kept}\n"
    assert tree(wh) == before


def test_leftovers_of_interrupted_writes_go(wh: Path) -> None:
    leftovers = [".evolving-1.1-py3-none-any.whl.part-0a1b2c", "locks/.cp311-x.txt.abcd.tmp"]
    for name in leftovers:
        (wh / name).write_bytes(b"partial")
    result = ok(invoke("prune", "-w", str(wh)))
    for name in leftovers:
        assert f"removed {name}" in result.stdout.splitlines()
        assert not (wh / name).exists()
    assert (wh / "evolving-1.1-py3-none-any.whl").is_file()


def test_a_file_only_the_locks_know_is_kept(wh: Path) -> None:
    manifest = (wh / "wheelhouse.toml").read_text()
    start = manifest.index('[files."evolving-1.1-py3-none-any.whl"]')
    end = manifest.index("[files.", start + 1)
    (wh / "wheelhouse.toml").write_text(manifest[:start] + manifest[end:])
    result = ok(invoke("prune", "-w", str(wh)))
    assert "evolving-1.1" not in result.stdout
    assert (wh / "evolving-1.1-py3-none-any.whl").is_file()


def _failed(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("hint: "), result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_wheelhouse_without_locks_is_refused(wh: Path) -> None:
    shutil.rmtree(wh / "locks")
    before = tree(wh)
    line = _failed(invoke("prune", "-w", str(wh)))
    assert line == f"error: {wh}: it has no locks, so pruning would remove every file"
    assert tree(wh) == before


def test_an_unreadable_lock_is_refused(wh: Path) -> None:
    lock = wh / "locks" / f"cp311-{LINUX}.txt"
    lock.write_text("garbage here\n")
    before = tree(wh)
    assert _failed(invoke("prune", "-w", str(wh))).startswith(f"error: cannot read {lock}: ")
    assert tree(wh) == before


def test_not_a_wheelhouse(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("")
    assert _failed(invoke("prune", "-w", str(tmp_path))).startswith(
        f"error: {tmp_path} is not a wheelhouse"
    )


def test_a_malformed_built_table_is_refused(wh: Path) -> None:
    with (wh / "wheelhouse.toml").open("a") as manifest:
        manifest.write('\n[built."evolving-1.1-py3-none-any.whl"]\npython = "3.12"\n')
    before = tree(wh)
    line = _failed(invoke("prune", "-w", str(wh)))
    assert line.endswith(": [built] is not a table of tables as a build writes it")
    assert tree(wh) == before


def test_busy_wheelhouse_is_refused(wh: Path) -> None:
    before = tree(wh)
    with Wheelhouse.open(wh).exclusive():
        line = _failed(invoke("prune", "-w", str(wh)))
    assert line == f"error: {wh} is being written by another process"
    assert tree(wh) == before


# Wheelhouses with wheels built from sdists (--build) and sdists kept (--keep-sdist).

CEXT = ("cext-1.0-cp311-cp311-linux_x86_64.whl", "cext-1.0-cp312-cp312-linux_x86_64.whl")


def manifest(root: Path) -> dict[str, Any]:
    return Wheelhouse.open(root).read_manifest()


@pytest.fixture(scope="module")
def sdist_builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """``--build`` of both fixture sdists, the same rebuilt without cext, and a ``--keep-sdist``."""
    for version in ("3.11", "3.12"):
        found = discovery.find_python(version) is not None
        require(f"Python {version}", found, "--build builds with the target's interpreter")
    require_fixture_machine()
    root = tmp_path_factory.mktemp("sdists")
    with IndexServer() as server, pytest.MonkeyPatch.context() as patch:
        build(root / "built", server, "sdistonly", "cext", "--build")
        shutil.copytree(root / "built", root / "shrunk")
        build(root / "shrunk", server, "sdistonly", "--build")
        # No Python 3.12 here: cext is built for cp311, kept as an sdist for cp312.
        found = discovery.find_python
        patch.setattr(sdists, "find_python", lambda v: None if v == "3.12" else found(v))
        build(root / "kept", server, "cext", "--keep-sdist")
    yield {name: root / name for name in ("built", "shrunk", "kept")}


def copied(source: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(source, tmp_path / source.name))


def test_prune_keeps_the_sdists_of_built_wheels(
    sdist_builds: dict[str, Path], tmp_path: Path
) -> None:
    wh = copied(sdist_builds["built"], tmp_path)
    before = tree(wh)
    result = ok(invoke("prune", "-w", str(wh)))
    assert result.stdout.startswith("removed 0 file(s) (0 bytes); kept 7 file(s)")
    assert without_manifest(tree(wh)) == without_manifest(before)
    assert manifest(wh) == manifest(sdist_builds["built"])
    assert ok(invoke("verify", "-w", str(wh))).stdout.startswith("OK: ")


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_pip_installs_every_built_lock_after_prune(
    sdist_builds: dict[str, Path], tmp_path: Path, version: str
) -> None:
    wh = copied(sdist_builds["built"], tmp_path)
    ok(invoke("prune", "-w", str(wh)))
    venv = make_venv(tmp_path, find_python(version))
    lock = wh / "locks" / f"cp{version.replace('.', '')}-{LINUX}.txt"
    install_lock(wh, lock, venv)
    assert installed(venv)["cext"] == installed(venv)["sdistonly"] == "1.0"


def test_prune_drops_built_wheels_no_lock_needs_with_their_sdists_and_records(
    sdist_builds: dict[str, Path], tmp_path: Path
) -> None:
    wh = copied(sdist_builds["shrunk"], tmp_path)
    result = ok(invoke("prune", "-w", str(wh)))
    # cext's dependencies went with it; sdistonly takes the newest delta.
    gone = [*CEXT, "cext-1.0.tar.gz", "delta-1.0-py3-none-any.whl", "gamma-1.0-py3-none-any.whl"]
    assert [line.removeprefix("removed ") for line in result.stdout.splitlines()[:-1]] == [
        *gone,
        *(f"{name}.metadata" for name in gone if name.endswith(".whl")),
    ]
    assert (wh / "sdistonly-1.0.tar.gz").is_file()
    pruned = manifest(wh)
    assert list(pruned["built"]) == ["sdistonly-1.0-py3-none-any.whl"]
    kept = [path.name for path in wh.iterdir() if path.name.endswith((".whl", ".tar.gz"))]
    assert sorted(pruned["files"]) == sorted(kept)
    assert ok(invoke("verify", "-w", str(wh))).stdout.startswith("OK: ")


def test_prune_keeps_the_build_requirements_of_kept_sdists(
    sdist_builds: dict[str, Path], tmp_path: Path
) -> None:
    wh = copied(sdist_builds["kept"], tmp_path)
    recorded = manifest(wh)
    assert recorded["build-requirements"] == {
        f"cp312-{LINUX}": {"files": ["cbuild-1.0-py3-none-any.whl"]}
    }
    assert list(recorded["built"]) == [CEXT[0]]
    before = tree(wh)
    assert ok(invoke("prune", "-w", str(wh))).stdout.startswith("removed 0 file(s)")
    assert without_manifest(tree(wh)) == without_manifest(before)
    assert manifest(wh) == recorded
    assert ok(invoke("verify", "-w", str(wh))).stdout.startswith("OK: ")
    # pip builds cext from the kept sdist, with cbuild from the wheelhouse: nothing else.
    venv = make_venv(tmp_path, find_python("3.12"))
    lock = wh / "locks" / f"cp312-{LINUX}.txt"
    install_lock(wh, lock, venv)
    assert installed(venv)["cext"] == "1.0"


def test_prune_drops_build_requirements_of_targets_without_a_lock(
    sdist_builds: dict[str, Path], tmp_path: Path
) -> None:
    wh = copied(sdist_builds["kept"], tmp_path)
    for path in [*wh.glob(f"locks/*cp312-{LINUX}.*"), *wh.glob(f"constraints/cp312-{LINUX}.*")]:
        path.unlink()
    result = ok(invoke("prune", "-w", str(wh)))
    assert "removed cbuild-1.0-py3-none-any.whl" in result.stdout.splitlines()
    assert "removed cext-1.0.tar.gz" not in result.stdout  # the cp311 wheel's sdist
    assert "build-requirements" not in manifest(wh)
    assert list(manifest(wh)["built"]) == [CEXT[0]]
