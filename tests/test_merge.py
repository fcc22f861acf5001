"""`wheelhouse merge`: one-target builds merged equal a build of both; refusals write nothing."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w
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

from wheelhouse.install import discovery
from wheelhouse.sdist import pep517 as sdists

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

LINUX = "manylinux_2_28_x86_64"
INPUTS = ("alpha[fast]", "native", "stable", "evolving")


def build(root: Path, server: IndexServer, *args: str) -> None:
    common = ("build", "-q", "-w", str(root), "--index-url", server.url, "--platform", LINUX)
    ok(invoke(*common, *INPUTS, *args))


def merge(out: Path, *sources: Path) -> Result:
    return invoke("merge", "-w", str(out), *map(str, sources))


def tree(root: Path) -> dict[str, str]:
    """Every file but the manifest (it carries a timestamp) and the lock file."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in ("wheelhouse.toml", ".wheelhouse.lock")
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One wheelhouse per target, as a CI matrix makes them, and one of both targets."""
    root = tmp_path_factory.mktemp("merge")
    with IndexServer() as server:
        build(root / "py311", server, "--python", "3.11")
        build(root / "py312", server, "--python", "3.12")
        build(root / "both", server, "--python", "3.11", "--python", "3.12")
    return {name: root / name for name in ("py311", "py312", "both")}


def test_merge_equals_a_build_of_both_targets(builds: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = ok(merge(out, builds["py311"], builds["py312"]))
    assert result.stdout.startswith(f"wheelhouse {out}: 2 target(s) (cp311-{LINUX}, cp312-{LINUX})")
    # Same locks, same files and metadata, same index pages, byte for byte.
    assert tree(out) == tree(builds["both"])
    assert ok(invoke("verify", "-w", str(out))).stdout.startswith("OK: ")


def test_merged_manifest_serves_refresh(builds: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(merge(out, builds["py312"], builds["py311"]))
    merged = tomllib.loads((out / "wheelhouse.toml").read_text())
    both = tomllib.loads((builds["both"] / "wheelhouse.toml").read_text())
    for section in ("inputs", "index", "options", "files"):
        assert merged[section] == both[section], section
    assert sorted(merged["targets"], key=str) == sorted(both["targets"], key=str)


def test_merge_into_an_existing_wheelhouse(builds: dict[str, Path], tmp_path: Path) -> None:
    out = Path(shutil.copytree(builds["py311"], tmp_path / "out"))
    result = ok(merge(out, builds["py312"], builds["py311"], out))
    assert tree(out) == tree(builds["both"])
    assert result.stdout.endswith(", 1 copied\n")  # only native's cp312 wheel was new


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_pip_installs_each_merged_lock(
    builds: dict[str, Path], tmp_path: Path, version: str
) -> None:
    out = tmp_path / "out"
    ok(merge(out, builds["py311"], builds["py312"]))
    venv = make_venv(tmp_path, find_python(version))
    lock = out / "locks" / f"cp{version.replace('.', '')}-{LINUX}.txt"
    install_lock(out, lock, venv)
    assert installed(venv)["native"] == "1.0"


def failed(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("hint: "), result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.output
    return lines[0]


def test_conflicting_pins_are_refused_and_nothing_is_written(
    tmp_path: Path, index_server: IndexServer, builds: dict[str, Path]
) -> None:
    # Same inputs and index, built before and after evolving 1.1 left the index.
    build(tmp_path / "early", index_server, "--python", "3.12")
    index_server.remove_file("evolving-1.1-py3-none-any.whl")
    build(tmp_path / "late", index_server, "--python", "3.12")
    line = failed(merge(tmp_path / "out", tmp_path / "early", tmp_path / "late"))
    assert line == (
        f"error: target cp312-{LINUX} differs between {tmp_path / 'early'} and "
        f"{tmp_path / 'late'}: pins evolving 1.1 vs 1.0"
    )
    assert not (tmp_path / "out").exists()
    existing = Path(shutil.copytree(tmp_path / "early", tmp_path / "existing"))
    before = {**tree(existing), "wheelhouse.toml": (existing / "wheelhouse.toml").read_text()}
    assert "cp312" in failed(merge(existing, tmp_path / "late"))
    assert {
        **tree(existing),
        "wheelhouse.toml": (existing / "wheelhouse.toml").read_text(),
    } == before


def test_different_inputs_are_refused(
    tmp_path: Path, index_server: IndexServer, builds: dict[str, Path]
) -> None:
    other = tmp_path / "other"
    ok(invoke("build", "-q", "-w", str(other), "--index-url", index_server.url, "evolving",
              "--python", "3.13", "--platform", LINUX))  # fmt: skip
    line = failed(merge(tmp_path / "out", builds["py311"], other))
    assert line.startswith(
        f"error: cannot merge {other} (B) with {builds['py311']} (A): "
        "their manifests differ in [inputs]: "
        "requirements: only in A ['alpha[fast]', 'native', 'stable']; "
    ), line
    assert "differ in [inputs] requirements" not in line
    assert not (tmp_path / "out").exists()


def test_one_file_name_with_two_hashes_is_refused(builds: dict[str, Path], tmp_path: Path) -> None:
    odd = Path(shutil.copytree(builds["py312"], tmp_path / "odd"))
    manifest = odd / "wheelhouse.toml"
    digest = hashlib.sha256((odd / "alpha-1.1-py3-none-any.whl").read_bytes()).hexdigest()
    manifest.write_text(manifest.read_text().replace(digest, "0" * 64))
    line = failed(merge(tmp_path / "out", builds["py311"], odd))
    assert line == (
        f"error: alpha-1.1-py3-none-any.whl has a different sha256 in {builds['py311']} "
        f"and in {odd}"
    )
    assert not (tmp_path / "out").exists()


def test_a_corrupted_source_file_is_refused(builds: dict[str, Path], tmp_path: Path) -> None:
    bad = Path(shutil.copytree(builds["py312"], tmp_path / "bad"))
    (bad / "evolving-1.1-py3-none-any.whl").write_bytes(b"not a wheel")
    line = failed(merge(tmp_path / "out", bad))
    assert line == (
        f"error: {bad}: evolving-1.1-py3-none-any.whl does not match the sha256 "
        "its manifest records"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("missing", "not a wheelhouse: it does not exist"),
        ("source tree", "not a wheelhouse: it has no wheelhouse.toml"),
        ("no locks", "the wheelhouse has no locks"),
    ],
)
def test_a_source_that_is_not_a_built_wheelhouse(
    builds: dict[str, Path], tmp_path: Path, setup: str, reason: str
) -> None:
    source = tmp_path / "src"
    if setup == "source tree":
        source.mkdir()
        (source / "pyproject.toml").write_text("")
    elif setup == "no locks":
        shutil.copytree(builds["py311"], source)
        shutil.rmtree(source / "locks")
    line = failed(merge(tmp_path / "out", builds["py312"], source))
    assert line == f"error: {source}: {reason}"
    assert not (tmp_path / "out").exists()


def test_out_that_is_not_a_wheelhouse(builds: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    line = failed(merge(tmp_path, builds["py311"]))
    assert (
        line == f"error: {tmp_path} is not a wheelhouse: it is not empty and has no wheelhouse.toml"
    )
    assert [path.name for path in tmp_path.iterdir()] == ["pyproject.toml"]


def test_no_source_is_a_usage_error(tmp_path: Path) -> None:
    assert merge(tmp_path / "out").exit_code == 2


# Wheelhouses with wheels built from sdists (--build) and sdists kept (--keep-sdist).

UNIVERSAL = "sdistonly-1.0-py3-none-any.whl"


def manifest(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = tomllib.loads((root / "wheelhouse.toml").read_text())
    return document


def rewrite(root: Path, manifest: dict[str, Any]) -> None:
    (root / "wheelhouse.toml").write_text(tomli_w.dumps(manifest))


def same_as_one_build(merged: dict[str, Any], built: dict[str, Any]) -> None:
    """Every table equal but the creation time; targets in any order."""
    # A build's [resolution] (the pages it read, under a key of its targets) is its own:
    # a merge leaves it out, and the next refresh resolves again.
    sections = built.keys() - {"wheelhouse", "targets", "resolution"}
    assert merged.keys() - {"wheelhouse", "targets"} == sections
    for section in sections:
        assert merged[section] == built[section], section
    assert sorted(merged["targets"], key=str) == sorted(built["targets"], key=str)


@pytest.fixture(scope="module")
def sdist_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Per target and for both: ``--build`` of the fixture sdists, ``--keep-sdist`` of cext."""
    for version in ("3.11", "3.12"):
        found = discovery.find_python(version) is not None
        require(f"Python {version}", found, "--build builds with the target's interpreter")
    require_fixture_machine()
    root = tmp_path_factory.mktemp("merge-sdists")
    pythons: dict[str, tuple[str, ...]] = {"311": ("--python", "3.11"), "312": ("--python", "3.12")}
    pythons["both"] = (*pythons["311"], *pythons["312"])
    with IndexServer() as server, pytest.MonkeyPatch.context() as patch:
        for name, args in pythons.items():
            build_only(root / f"built{name}", server, "sdistonly", "cext", "--build", *args)
        patch.setattr(sdists, "find_python", lambda version: None)  # nothing builds: cext kept
        for name, args in pythons.items():
            build_only(root / f"kept{name}", server, "cext", "--keep-sdist", *args)
    return {path.name: path for path in root.iterdir()}


def build_only(root: Path, server: IndexServer, *args: str) -> None:
    common = ("build", "-q", "-w", str(root), "--index-url", server.url, "--platform", LINUX)
    ok(invoke(*common, *args))


@pytest.mark.parametrize("kind", ["built", "kept"])
def test_merge_of_sdist_builds_equals_a_build_of_both_targets(
    sdist_builds: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "out"
    # The newer Python first: the universal wheel's record is still the one 3.11 made.
    ok(merge(out, sdist_builds[f"{kind}312"], sdist_builds[f"{kind}311"]))
    assert tree(out) == tree(sdist_builds[f"{kind}both"])
    same_as_one_build(manifest(out), manifest(sdist_builds[f"{kind}both"]))
    assert ok(invoke("verify", "-w", str(out))).stdout.startswith("OK: ")


def test_merge_keeps_the_tables_of_sdist_builds(
    sdist_builds: dict[str, Path], tmp_path: Path
) -> None:
    ok(merge(tmp_path / "built", sdist_builds["built311"], sdist_builds["built312"]))
    built = manifest(tmp_path / "built")["built"]
    assert sorted(built) == [
        "cext-1.0-cp311-cp311-linux_x86_64.whl",
        "cext-1.0-cp312-cp312-linux_x86_64.whl",
        UNIVERSAL,
    ]
    assert built[UNIVERSAL] == manifest(sdist_builds["built311"])["built"][UNIVERSAL]
    ok(merge(tmp_path / "kept", sdist_builds["kept311"], sdist_builds["kept312"]))
    assert manifest(tmp_path / "kept")["build-requirements"] == {
        f"cp{version}-{LINUX}": {"files": ["cbuild-1.0-py3-none-any.whl"]}
        for version in ("311", "312")
    }


def test_a_built_wheel_from_another_sdist_is_refused(
    sdist_builds: dict[str, Path], tmp_path: Path
) -> None:
    odd = Path(shutil.copytree(sdist_builds["built312"], tmp_path / "odd"))
    changed = manifest(odd)
    changed["built"][UNIVERSAL]["sdist-sha256"] = "0" * 64
    rewrite(odd, changed)
    line = failed(merge(tmp_path / "out", sdist_builds["built311"], odd))
    assert line.startswith(
        f"error: cannot merge {odd} (B) with {sdist_builds['built311']} (A): their manifests "
        f'differ in [built."{UNIVERSAL}"]: sdist-sha256: A has \''
    ), line
    assert line.endswith(", B has '" + "0" * 56 + "...")  # each value cut at 60 characters
    assert not (tmp_path / "out").exists()


def test_different_build_requirements_of_one_target_are_refused(
    sdist_builds: dict[str, Path], tmp_path: Path
) -> None:
    odd = Path(shutil.copytree(sdist_builds["kept312"], tmp_path / "odd"))
    changed = manifest(odd)
    changed["build-requirements"][f"cp312-{LINUX}"]["files"].append("gamma-1.0-py3-none-any.whl")
    rewrite(odd, changed)
    line = failed(merge(tmp_path / "out", sdist_builds["keptboth"], odd))
    assert line.endswith(
        f'their manifests differ in [build-requirements."cp312-{LINUX}"]: '
        "files: only in B ['gamma-1.0-py3-none-any.whl']"
    ), line
    assert not (tmp_path / "out").exists()
