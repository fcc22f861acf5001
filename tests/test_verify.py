"""`wheelhouse verify`: a fresh build passes; each kind of damage is named, alone."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner, Result
from conftest import require
from helpers import require_fixture_machine
from indexserver import FIXTURES, IndexServer

from wheelhouse.cli import cli
from wheelhouse.commands.index import index as index_command
from wheelhouse.house import commit as commit_module
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.references import known_files
from wheelhouse.install import discovery
from wheelhouse.sdist import pep517 as sdists

LINUX = "manylinux_2_28_x86_64"
ALPHA = "alpha-1.1-py3-none-any.whl"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def verify(root: Path, *args: str) -> Result:
    return invoke("verify", "-w", str(root), *args)


def problems(result: Result) -> list[str]:
    """The problem lines of a failed verify, after checking it failed cleanly."""
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0].endswith(" found"), result.stderr
    assert "Traceback" not in result.output
    return result.stdout.splitlines()


def tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verify") / "wh"
    with IndexServer() as server:
        args = ["build", "-q", "-w", str(root), "--index-url", server.url, "alpha", "native"]
        result = invoke(*args, "--python", "3.11", "--python", "3.12", "--platform", LINUX)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def wh(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built wheelhouse, to damage."""
    return Path(shutil.copytree(built, tmp_path / "wh"))


def test_fresh_build_passes_and_nothing_is_written(wh: Path) -> None:
    (wh / ".wheelhouse.lock").unlink()  # not even the lock file: read-only mounts work
    before = tree(wh)
    result = verify(wh)
    assert result.exit_code == 0, result.output
    assert result.stdout == "OK: 6 files, 2 targets and 12 index pages verified\n"
    assert tree(wh) == before


def test_corrupted_file_is_named(wh: Path) -> None:
    path = wh / ALPHA
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes
    path.write_bytes(bytes(data))
    lines = problems(verify(wh))
    assert lines[0].startswith(f"corrupted file {ALPHA}: sha256 ")
    # Every lock that uses it says so; nothing else is blamed.
    assert all(ALPHA in line or "alpha==1.1" in line for line in lines)
    assert any(line.startswith("broken lock locks/cp311-") for line in lines)


def test_missing_file_is_named(wh: Path) -> None:
    (wh / ALPHA).unlink()
    lines = problems(verify(wh))
    assert f"missing file {ALPHA}: the manifest lists it" in lines
    assert f"stray file {ALPHA}.metadata: its wheel is not here" in lines


def test_stray_file_is_named(wh: Path) -> None:
    shutil.copy(FIXTURES / "files" / "beta-1.0-py3-none-any.whl", wh)
    lines = problems(verify(wh))
    assert lines[0] == "stray file beta-1.0-py3-none-any.whl: no lock or manifest knows it"
    # The index does not list it yet, and it has no metadata file: both follow from it.
    assert "missing metadata file beta-1.0-py3-none-any.whl.metadata" in lines[1]
    assert set(lines[2:]) == {
        "stale index page simple/beta/index.html",
        "stale index page simple/beta/index.json",
    }


def test_index_of_stray_files_matches_the_indexer(wh: Path) -> None:
    strays = ["beta-1.0-py3-none-any.whl", "native-2.0.tar.gz", "sdistonly-1.0.tar.gz"]
    for name in strays:
        shutil.copy(FIXTURES / "files" / name, wh)
    recorded = Wheelhouse.open(wh).read_manifest()["files"]
    index_command(wh, known_files(recorded))  # as prune and merge index a wheelhouse
    # The indexer's pages and metadata files are what verify expects: only strays remain.
    assert problems(verify(wh)) == [
        f"stray file {name}: no lock or manifest knows it" for name in strays
    ]


@pytest.mark.parametrize(
    "name", [f".{ALPHA}.part-0a1b2c3d4e5f", "simple/alpha/.index.html.0a1b2c.tmp"]
)
def test_partial_file_is_named(wh: Path, name: str) -> None:
    (wh / name).write_bytes(b"half")
    assert problems(verify(wh)) == [f"partial file {name}: left by an interrupted write"]


def test_stale_index_page_is_named(wh: Path) -> None:
    page = wh / "simple" / "alpha" / "index.html"
    page.write_text(page.read_text().replace("alpha-1.1", "alpha-9.9"))
    assert problems(verify(wh)) == ["stale index page simple/alpha/index.html"]


def test_missing_and_stray_index_pages(wh: Path) -> None:
    (wh / "simple" / "native" / "index.json").unlink()
    (wh / "simple" / "ghost").mkdir()
    (wh / "simple" / "ghost" / "index.html").write_text("<html></html>")
    assert problems(verify(wh)) == [
        "missing index page simple/native/index.json",
        "stray index page simple/ghost/index.html",
    ]


def test_stale_metadata_file_is_named(wh: Path) -> None:
    (wh / f"{ALPHA}.metadata").write_bytes(b"Metadata-Version: 2.1\nName: alpha\nVersion: 1.1\n")
    lines = problems(verify(wh))
    assert lines[0].startswith(f"stale metadata file {ALPHA}.metadata: ")
    # The pages announce the metadata file's hash, so they went stale with it.
    assert set(lines[1:]) == {
        "stale index page simple/alpha/index.html",
        "stale index page simple/alpha/index.json",
    }


def test_locks_that_disagree_are_named(wh: Path) -> None:
    target = f"cp312-{LINUX}"
    constraints = wh / "constraints" / f"{target}.txt"
    constraints.write_text(constraints.read_text().replace("alpha==1.1", "alpha==1.0"))
    (wh / "locks" / f"pylock.cp311-{LINUX}.toml").unlink()
    twin = f"locks/cp311-{LINUX}.txt has no PEP 751 twin"
    assert problems(verify(wh)) == [
        f"missing file locks/pylock.cp311-{LINUX}.toml: {twin}",
        f"stale constraints constraints/{target}.txt: its pins differ from locks/{target}.txt",
    ]


def test_the_constraints_of_every_target_are_checked(wh: Path) -> None:
    matrix = wh / "constraints" / "all.txt"
    assert "alpha==1.1" in matrix.read_text()
    matrix.write_text(matrix.read_text().replace("alpha==1.1", "alpha==1.0"))
    stale = "stale constraints constraints/all.txt: its pins differ from the locks"
    assert problems(verify(wh)) == [stale]
    matrix.unlink()
    missing = "missing file constraints/all.txt: the constraints of every target for `env`"
    assert problems(verify(wh)) == [missing]


def test_lock_hash_of_another_file(wh: Path) -> None:
    lock = wh / "locks" / f"cp311-{LINUX}.txt"
    beta = hashlib.sha256((wh / "beta-2.0-py3-none-any.whl").read_bytes()).hexdigest()
    alpha = hashlib.sha256((wh / ALPHA).read_bytes()).hexdigest()
    lock.write_text(lock.read_text().replace(alpha, beta))
    lines = problems(verify(wh))
    expected = f"broken lock locks/cp311-{LINUX}.txt: alpha==1.1: sha256 {beta} is that of beta-"
    assert len(lines) == 1 and lines[0].startswith(expected)


def test_hint_fits_the_problems(wh: Path) -> None:
    (wh / f".{ALPHA}.part-00").write_bytes(b"")
    result = verify(wh)
    assert result.stderr == (
        f"error: {wh}: 1 problem found\nhint: `wheelhouse prune` removes stray and partial files\n"
    )


def test_python_with_a_matching_target(tmp_path: Path, index_server: IndexServer) -> None:
    root = tmp_path / "wh"
    build = ["build", "-q", "-w", str(root), "--index-url", index_server.url, "evolving"]
    assert invoke(*build).exit_code == 0  # the running interpreter's own target
    result = verify(root, "--python", sys.executable)
    assert result.exit_code == 0, result.output


def test_python_without_a_matching_target(tmp_path: Path, index_server: IndexServer) -> None:
    root = tmp_path / "wh"
    build = ["build", "-q", "-w", str(root), "--index-url", index_server.url, "evolving"]
    assert invoke(*build, "--python", "3.12", "--platform", "win_amd64").exit_code == 0
    lines = problems(verify(root, "--python", sys.executable))
    assert len(lines) == 1
    assert lines[0].startswith(f"no target for interpreter {sys.executable}: its tag is cp")
    assert lines[0].endswith("; the wheelhouse has: cp312-win_amd64")
    assert "build --python" in verify(root, "--python", sys.executable).stderr


def _failed(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("hint: "), result.stderr
    return lines[0]


def test_not_a_wheelhouse(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("hello")
    assert _failed(verify(tmp_path)).startswith(f"error: {tmp_path} is not a wheelhouse")
    assert _failed(verify(tmp_path / "none")).endswith("it does not exist")


def test_unreadable_manifest(wh: Path) -> None:
    (wh / "wheelhouse.toml").write_text("[files\n")
    assert _failed(verify(wh)).startswith(f"error: cannot read {wh / 'wheelhouse.toml'}: ")


def test_python_that_is_not_an_interpreter(wh: Path) -> None:
    line = _failed(verify(wh, "--python", str(wh / "nope")))
    assert line == f"error: cannot use {wh / 'nope'} as an interpreter: no such file"


# Files kept for builds: the sdists of built wheels, kept sdists and their build requirements.

CBUILD = "cbuild-1.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def with_sdists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by a machine without Python 3.12: wheels built for cp311, sdists kept for cp312."""
    found = discovery.find_python("3.11") is not None
    require("Python 3.11", found, "--build builds with the target's interpreter")
    require_fixture_machine()
    root = tmp_path_factory.mktemp("verify-sdists") / "wh"
    found = discovery.find_python
    with IndexServer() as server, pytest.MonkeyPatch.context() as patch:
        patch.setattr(sdists, "find_python", lambda v: None if v == "3.12" else found(v))
        args = ["build", "-q", "-w", str(root), "--index-url", server.url, "sdistonly", "cext"]
        targets = ["--python", "3.11", "--python", "3.12", "--platform", LINUX]
        result = invoke(*args, "--keep-sdist", *targets)
    assert result.exit_code == 0, result.output
    return root


def forget(root: Path, filename: str) -> None:
    """Take a file out of the manifest's [files]."""
    manifest = Wheelhouse.open(root).read_manifest()
    del manifest["files"][filename]
    (root / "wheelhouse.toml").write_text(tomli_w.dumps(manifest))


def test_files_kept_for_builds_are_expected(with_sdists: Path) -> None:
    manifest = Wheelhouse.open(with_sdists).read_manifest()
    assert sorted(manifest["built"]) == [
        "cext-1.0-cp311-cp311-linux_x86_64.whl",
        "sdistonly-1.0-py3-none-any.whl",
    ]
    assert manifest["build-requirements"] == {f"cp312-{LINUX}": {"files": [CBUILD]}}
    result = verify(with_sdists)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: 7 files, 2 targets and ")


def test_a_build_requirement_missing_from_files_is_named(with_sdists: Path, tmp_path: Path) -> None:
    wh = Path(shutil.copytree(with_sdists, tmp_path / "wh"))
    forget(wh, CBUILD)
    lines = problems(verify(wh))
    table = f'[build-requirements."cp312-{LINUX}"]'
    assert lines[0] == f"unrecorded file {CBUILD}: {table} names it but [files] does not"
    assert not any(line.startswith("stray file") for line in lines)


def test_the_missing_sdist_of_a_built_wheel_is_named(with_sdists: Path, tmp_path: Path) -> None:
    wh = Path(shutil.copytree(with_sdists, tmp_path / "wh"))
    (wh / "sdistonly-1.0.tar.gz").unlink()
    forget(wh, "sdistonly-1.0.tar.gz")
    table = '[built."sdistonly-1.0-py3-none-any.whl"]'
    assert problems(verify(wh)) == [
        f"missing file sdistonly-1.0.tar.gz: {table} names it but [files] does not",
        "stale index page simple/sdistonly/index.html",
        "stale index page simple/sdistonly/index.json",
    ]


def test_an_interrupted_commit_is_reported_and_the_next_write_finishes_it(
    wh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    house = Wheelhouse.open(wh)
    lock = house.lock_path("cp311-manylinux_2_28_x86_64").read_bytes()
    with monkeypatch.context() as patch:
        # Killed right after the commit was decided: nothing swapped in yet.
        patch.setattr(commit_module, "_roll_forward", lambda root, record: None)
        with house.exclusive(), house.committing("refresh"):
            house.write("locks/cp311-manylinux_2_28_x86_64.txt", lock + b"# new\n")
    result = verify(wh)
    assert "interrupted commit .wheelhouse-commit: refresh was killed" in result.stdout
    _failed(result)
    assert "finish the interrupted commit" in result.stderr
    # Read-only commands already see the new lock; a write command finishes the commit.
    assert invoke("prune", "-w", str(wh)).exit_code == 0
    assert house.lock_path("cp311-manylinux_2_28_x86_64").read_bytes().endswith(b"# new\n")
    assert not (wh / ".wheelhouse-commit").exists()
