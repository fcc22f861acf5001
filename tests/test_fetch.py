"""`wheelhouse fetch`: committed locks and manifest bring back their files, hash-checked."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest
import tomli_w
from helpers import find_python, install_lock, installed, invoke, make_venv, ok
from indexserver import FIXTURES, IndexServer

from wheelhouse.model.urls import with_credentials

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LINUX = "manylinux_2_28_x86_64"
TARGET = f"cp312-{LINUX}"
REQUIREMENTS = ("alpha[fast]", "markerpkg", "native")


def build(root: Path, server: IndexServer, *args: str) -> None:
    ok(invoke("build", "-q", "-w", str(root), "--index-url", server.url, *args))


def checkout(built: Path, dest: Path) -> Path:
    """What a clone of a repository that commits the wheelhouse's locks holds."""
    dest.mkdir()
    shutil.copytree(built / "locks", dest / "locks")
    shutil.copytree(built / "constraints", dest / "constraints")
    shutil.copy2(built / "wheelhouse.toml", dest / "wheelhouse.toml")
    return dest


def distributions(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.name.endswith((".whl", ".tar.gz"))}


@pytest.fixture
def built(tmp_path: Path, index_server: IndexServer) -> Path:
    root = tmp_path / "built"
    build(root, index_server, *REQUIREMENTS, "--python", "3.12", "--platform", LINUX)
    index_server.reset_log()
    return root


def test_fetch_restores_a_checkout_that_verifies_and_installs_offline(
    built: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    clone = checkout(built, tmp_path / "clone")
    (clone / "constraints" / "all.txt").unlink()  # locks committed before env's file existed
    result = ok(invoke("fetch", "-w", str(clone)))
    assert f"{len(distributions(built))} file(s) downloaded, 0 already here" in result.output
    matrix = "constraints/all.txt"
    assert (clone / matrix).read_bytes() == (built / matrix).read_bytes()
    assert distributions(clone) == distributions(built)
    assert index_server.count("/simple/") == 0  # nothing was resolved
    ok(invoke("verify", "-w", str(clone)))
    assert (clone / "simple" / "alpha" / "index.html").read_bytes() == (
        built / "simple" / "alpha" / "index.html"
    ).read_bytes()
    venv = make_venv(tmp_path, find_python("3.12"))
    install_lock(clone, clone / "locks" / f"{TARGET}.txt", venv)
    assert installed(venv)["speedy"] == "1.0"


def test_fetch_after_deleting_files_and_index(
    built: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    for name in distributions(built):
        (built / name).unlink()
    shutil.rmtree(built / "simple")
    # A cache of its own: the build's cache would answer every download.
    ok(invoke("fetch", "-w", str(built), "-q", "--cache-dir", str(tmp_path / "cache")))
    ok(invoke("verify", "-w", str(built)))
    assert index_server.count("/files/", method="GET") == len(distributions(built))


def test_fetch_with_nothing_missing_downloads_nothing(
    built: Path, index_server: IndexServer
) -> None:
    result = ok(invoke("fetch", "-w", str(built)))
    assert "0 file(s) downloaded" in result.output
    assert index_server.count("/files/") == 0
    ok(invoke("verify", "-w", str(built)))


def test_a_file_whose_hash_differs_is_refused_and_nothing_committed(
    tmp_path: Path, mutable_index_server: IndexServer, fixtures_copy: Path
) -> None:
    root = tmp_path / "wh"
    build(root, mutable_index_server, "alpha", "--python", "3.12", "--platform", LINUX)
    clone = checkout(root, tmp_path / "clone")
    manifest = (clone / "wheelhouse.toml").read_bytes()
    wheel = fixtures_copy / "files" / "alpha-1.1-py3-none-any.whl"
    tampered = bytearray(wheel.read_bytes())
    tampered[-1] ^= 0xFF  # the same size, other bytes: only the sha256 tells
    wheel.write_bytes(bytes(tampered))
    result = invoke("fetch", "-w", str(clone), "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 1, result.output
    assert "alpha-1.1-py3-none-any.whl" in result.output and "sha256" in result.output
    assert "Traceback" not in result.output
    assert not (clone / "alpha-1.1-py3-none-any.whl").exists()
    assert not (clone / "simple").exists()
    assert (clone / "wheelhouse.toml").read_bytes() == manifest


def test_a_file_no_lock_names_is_not_fetched(
    built: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    clone = checkout(built, tmp_path / "clone")
    document = tomllib.loads((clone / "wheelhouse.toml").read_text())
    entry = dict(document["files"]["alpha-1.1-py3-none-any.whl"])
    old = FIXTURES / "files" / "alpha-1.0-py3-none-any.whl"
    entry.update(
        version="1.0",
        url=index_server.file_url(old.name),
        sha256=hashlib.sha256(old.read_bytes()).hexdigest(),
        size=old.stat().st_size,
    )
    document["files"]["alpha-1.0-py3-none-any.whl"] = entry
    (clone / "wheelhouse.toml").write_bytes(tomli_w.dumps(document).encode())
    ok(invoke("fetch", "-w", str(clone), "-q"))
    assert "alpha-1.0-py3-none-any.whl" not in distributions(clone)
    assert index_server.count("/files/alpha-1.0") == 0


def test_a_lock_naming_an_unrecorded_file_is_refused_before_any_download(
    built: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    clone = checkout(built, tmp_path / "clone")
    lock = clone / "locks" / f"{TARGET}.txt"
    lock.write_text(lock.read_text().replace("--hash=sha256:", "--hash=sha256:0", 1))
    result = invoke("fetch", "-w", str(clone))
    assert result.exit_code == 1
    assert "is not in [files]" in result.output and "hint:" in result.output
    assert index_server.count("/files/") == 0
    assert distributions(clone) == set()


def test_fetch_refuses_a_directory_that_is_not_a_wheelhouse(tmp_path: Path) -> None:
    result = invoke("fetch", "-w", str(tmp_path))
    assert result.exit_code == 1
    assert "wheelhouse.toml" in result.output


def test_a_wheel_built_here_cannot_be_fetched(built: Path, tmp_path: Path) -> None:
    clone = checkout(built, tmp_path / "clone")
    document = tomllib.loads((clone / "wheelhouse.toml").read_text())
    entry = document["files"]["alpha-1.1-py3-none-any.whl"]
    del entry["url"]
    entry["built-from"] = "alpha-1.1.tar.gz"
    (clone / "wheelhouse.toml").write_bytes(tomli_w.dumps(document).encode())
    result = invoke("fetch", "-w", str(clone))
    assert result.exit_code == 1
    assert "alpha-1.1-py3-none-any.whl was built here from alpha-1.1.tar.gz" in result.output
    assert distributions(clone) == set()


@pytest.mark.parametrize(
    ("url", "indexes", "expected"),
    [
        ("https://h.test/f/a.whl", ["https://u:t@h.test/simple"], "https://u:t@h.test/f/a.whl"),
        ("https://h.test/f/a.whl", ["https://u:t@other.test/simple"], "https://h.test/f/a.whl"),
        ("https://h.test/f/a.whl", ["http://u:t@h.test/simple"], "https://h.test/f/a.whl"),
        ("https://x@h.test/f/a.whl", ["https://u:t@h.test/simple"], "https://x@h.test/f/a.whl"),
        ("https://h.test:8443/a.whl", ["https://u@h.test/simple"], "https://h.test:8443/a.whl"),
    ],
)
def test_recorded_origins_get_back_the_credentials_of_their_index(
    url: str, indexes: list[str], expected: str
) -> None:
    assert with_credentials(url, indexes) == expected
