"""`wheelhouse build --build`: sdists built once per Python, kept, reused; pip as the oracle."""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers import (
    find_python,
    installed,
    make_venv,
    pip_command,
    require_fixture_machine,
    run,
    unshare_prefix,
)
from indexserver import FIXTURES, IndexServer
from packaging.utils import parse_wheel_filename

from wheelhouse.cli import cli
from wheelhouse.install.probe import probe
from wheelhouse.model.distributions import BuiltWheel, DistFile
from wheelhouse.model.locks import parse_requirements_lock
from wheelhouse.model.targets import Target
from wheelhouse.sdist import pep517 as sdists
from wheelhouse.sdist import wheels as maker
from wheelhouse.sdist.pep517 import DEFAULT_BUILD_REQUIRES, SdistInfo, can_build_for, read_sdist

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

LINUX = "manylinux_2_28_x86_64"
BOTH = ("--python", "3.11", "--python", "3.12", "--platform", LINUX)
FILES = FIXTURES / "files"


@pytest.fixture
def _this_machine() -> None:
    require_fixture_machine()


needs_this_machine = pytest.mark.usefixtures("_this_machine")


def build(wheelhouse: Path, server: IndexServer, *args: str) -> Result:
    """`wheelhouse build` in-process, so that tests can count pip's wheel builds."""
    command = ["build", "-w", str(wheelhouse), "--index-url", server.url, *args]
    return CliRunner().invoke(cli, command)


def ok(result: Result, code: int = 0) -> Result:
    assert result.exit_code == code, result.output + repr(result.exception)
    return result


def manifest(wheelhouse: Path) -> dict[str, Any]:
    return tomllib.loads((wheelhouse / "wheelhouse.toml").read_text())


def lock_hashes(wheelhouse: Path, target: str) -> dict[str, tuple[str, ...]]:
    text = (wheelhouse / "locks" / f"{target}.txt").read_text()
    return {entry.name: entry.hashes for entry in parse_requirements_lock(text)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def pip_wheel_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sdists pip builds from now on in this process, in order."""
    runs: list[str] = []
    real = maker.build_wheel

    def counting(python: Any, sdist: Path, out: Path, indexes: Any) -> Path:
        runs.append(f"{sdist.name} {python.version[0]}.{python.version[1]}")
        return real(python, sdist, out, indexes)

    monkeypatch.setattr(maker, "build_wheel", counting)
    return runs


@pytest.fixture
def no_interpreters(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine seems to have no interpreter to build with."""
    monkeypatch.setattr(sdists, "find_python", lambda version: None)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One wheelhouse for 3.11 and 3.12 with both fixture sdists built, for reading."""
    find_python("3.11")
    find_python("3.12")
    require_fixture_machine()
    root = tmp_path_factory.mktemp("built") / "wh"
    with IndexServer() as server:
        ok(build(root, server, "sdistonly", "cext", "--build", *BOTH))
    yield root


def copy_of(wheelhouse: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(wheelhouse, tmp_path / "copy", symlinks=True))


def test_pkg_info_is_final_only_from_metadata_2_2_without_dynamic_requires() -> None:
    def info(*lines: str) -> SdistInfo:
        text = "\n".join(["Name: x", "Version: 1", *lines]) + "\n\n"
        return SdistInfo(pkg_info=text.encode(), build_requires=())

    assert info("Metadata-Version: 2.2", "Requires-Dist: a").static_requirements
    assert info("Metadata-Version: 2.4", "Dynamic: Summary").static_requirements
    assert not info("Metadata-Version: 2.1", "Requires-Dist: a").static_requirements
    assert not info("Metadata-Version: 2.3", "Dynamic: requires-dist").static_requirements


def test_read_sdist_finds_pkg_info_and_build_requirements(tmp_path: Path) -> None:
    assert read_sdist(FILES / "sdistonly-1.0.tar.gz").build_requires == ()
    cext = read_sdist(FILES / "cext-1.0.tar.gz")
    assert cext.build_requires == ("cbuild",) and not cext.static_requirements
    source = tmp_path / "src" / "bare-1.0"  # no pyproject.toml: pip's default backend
    source.mkdir(parents=True)
    (source / "PKG-INFO").write_text("Metadata-Version: 2.2\nName: bare\nVersion: 1.0\n")
    bare = shutil.make_archive(str(tmp_path / "bare-1.0"), "zip", source.parent)
    assert read_sdist(Path(bare)).build_requires == DEFAULT_BUILD_REQUIRES


@needs_this_machine
def test_this_machine_builds_for_linux_targets_of_its_own_python() -> None:
    here = probe(Path(sys.executable))
    major, minor = here.version
    own = Target(python_version=(major, minor), platform=LINUX)
    assert can_build_for(here, own)
    assert can_build_for(here, Target(python_version=(major, minor), platform="linux_x86_64"))
    for platform in ("musllinux_1_2_x86_64", "win_amd64", "macosx_11_0_arm64"):
        assert not can_build_for(here, Target(python_version=(major, minor), platform=platform))
    assert not can_build_for(here, Target(python_version=(major, minor + 1), platform=LINUX))


def test_a_built_wheel_serves_its_sdist_on_targets_it_fits() -> None:
    def record(filename: str, python: str) -> BuiltWheel:
        wheel = DistFile.create(filename=filename, url=filename, project="x", sha256="w" * 64)
        return BuiltWheel(wheel=wheel, sdist="x-1.0.tar.gz", sdist_sha256="s" * 64, python=python)

    cp311 = Target(python_version=(3, 11), platform=LINUX)
    cp312 = Target(python_version=(3, 12), platform=LINUX)
    windows = Target(python_version=(3, 12), platform="win_amd64")
    platform = record("x-1.0-cp311-cp311-linux_x86_64.whl", "3.11")
    universal = record("x-1.0-py3-none-any.whl", "3.11")
    assert platform.serves("s" * 64, cp311) and not platform.serves("s" * 64, cp312)
    assert universal.serves("s" * 64, cp312) and universal.serves("s" * 64, windows)
    assert not universal.serves("t" * 64, cp311)  # another sdist
    again = BuiltWheel.from_dict(platform.wheel.filename, platform.to_dict())
    assert again.serves("s" * 64, cp311) and again.python == "3.11"


def test_each_sdist_is_built_once_per_python_and_recorded(built: Path) -> None:
    records = manifest(built)["built"]
    assert sorted(records) == [
        "cext-1.0-cp311-cp311-linux_x86_64.whl",
        "cext-1.0-cp312-cp312-linux_x86_64.whl",
        "sdistonly-1.0-py3-none-any.whl",  # universal: one build serves both targets
    ]
    cext = records["cext-1.0-cp312-cp312-linux_x86_64.whl"]
    assert cext["sdist"] == "cext-1.0.tar.gz"
    assert cext["sdist-sha256"] == sha256(FILES / "cext-1.0.tar.gz")
    assert cext["python"] == "3.12" and cext["python-full-version"].startswith("3.12.")
    assert Path(cext["interpreter"]).is_file()
    for name, record in records.items():
        assert record["sha256"] == sha256(built / name)
        assert manifest(built)["files"][name]["built-from"] == record["sdist"]
    for sdist in ("cext-1.0.tar.gz", "sdistonly-1.0.tar.gz"):  # kept, so they can rebuild
        assert sha256(built / sdist) == sha256(FILES / sdist)
        assert manifest(built)["files"][sdist]["url"].startswith("http://127.0.0.1:")


def test_locks_take_the_built_wheels_of_their_own_python(built: Path) -> None:
    for version in ("311", "312"):
        hashes = lock_hashes(built, f"cp{version}-{LINUX}")
        wheel = built / f"cext-1.0-cp{version}-cp{version}-linux_x86_64.whl"
        assert hashes["cext"] == (sha256(wheel),)
        assert hashes["sdistonly"] == (sha256(built / "sdistonly-1.0-py3-none-any.whl"),)
        assert hashes["gamma"] and hashes["delta"]  # their dependencies, from their metadata
    pylock = tomllib.loads((built / "locks" / f"pylock.cp311-{LINUX}.toml").read_text())
    (cext,) = [package for package in pylock["packages"] if package["name"] == "cext"]
    assert "sdist" not in cext
    assert [wheel["path"] for wheel in cext["wheels"]] == [
        "../cext-1.0-cp311-cp311-linux_x86_64.whl"
    ]


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_pip_installs_the_built_wheels_offline(built: Path, tmp_path: Path, version: str) -> None:
    venv = make_venv(tmp_path, find_python(version))
    lock = built / "locks" / f"cp{version.replace('.', '')}-{LINUX}.txt"
    command = [*pip_command(venv), "install", "--no-index", "--find-links", str(built)]
    run([*unshare_prefix(), *command, "--require-hashes", "-r", str(lock)])
    assert installed(venv)["cext"] == "1.0"
    code = "import cext, cext._speed as s, sdistonly; print(cext.add(40, 2), s.__file__)"
    answer, module = run([str(venv), "-I", "-c", code]).stdout.split()
    assert answer == "42"
    assert f"cpython-{version.replace('.', '')}" in module and module.endswith(".so")


def test_a_second_build_and_a_refresh_build_nothing(
    built: Path, tmp_path: Path, index_server: IndexServer, pip_wheel_runs: list[str]
) -> None:
    copy = copy_of(built, tmp_path)
    wheels = {path.name: path.stat().st_mtime_ns for path in copy.glob("*.whl")}
    result = ok(build(copy, index_server, "sdistonly", "cext", "--build", *BOTH))
    assert "0 wheel(s) built from sdists" in result.output
    ok(CliRunner().invoke(cli, ["refresh", "-q", "-w", str(copy)]))
    assert pip_wheel_runs == []
    assert {path.name: path.stat().st_mtime_ns for path in copy.glob("*.whl")} == wheels
    assert manifest(copy)["built"] == manifest(built)["built"]
    fetched = [r.path for r in index_server.log if r.path.startswith("/files/")]
    # Nothing downloaded either, sdists included; only metadata of what no lock keeps.
    assert [path for path in fetched if not path.endswith(".metadata")] == []


def test_a_changed_sdist_is_built_again(
    built: Path, tmp_path: Path, index_server: IndexServer, pip_wheel_runs: list[str]
) -> None:
    copy = copy_of(built, tmp_path)
    text = (copy / "wheelhouse.toml").read_text()
    old = manifest(copy)["built"]["sdistonly-1.0-py3-none-any.whl"]["sdist-sha256"]
    (copy / "wheelhouse.toml").write_text(text.replace(old, "0" * 64))
    ok(build(copy, index_server, "sdistonly", "cext", "--build", *BOTH))
    assert pip_wheel_runs == ["sdistonly-1.0.tar.gz 3.11"]
    assert manifest(copy)["built"]["sdistonly-1.0-py3-none-any.whl"]["sdist-sha256"] == old


def test_a_universal_built_wheel_serves_a_platform_this_machine_cannot_build_for(
    tmp_path: Path, index_server: IndexServer
) -> None:
    find_python("3.12")
    platforms = ("--platform", LINUX, "--platform", "win_amd64")
    ok(build(tmp_path / "wh", index_server, "sdistonly", "--build", "--python", "3.12", *platforms))
    wheel = tmp_path / "wh" / "sdistonly-1.0-py3-none-any.whl"
    assert lock_hashes(tmp_path / "wh", "cp312-win_amd64")["sdistonly"] == (sha256(wheel),)


def test_a_platform_this_machine_cannot_build_for_is_named(
    tmp_path: Path, index_server: IndexServer
) -> None:
    args = ("sdistonly", "--build", "--python", "3.12", "--platform", "win_amd64")
    result = ok(build(tmp_path / "wh", index_server, *args), code=1)
    assert result.output.startswith(
        "error: target cp312-win_amd64 needs wheels built from sdists (sdistonly 1.0), "
        "and this machine cannot build wheels for win_amd64"
    )
    assert "hint: " in result.output and "--keep-sdist" in result.output
    assert not (tmp_path / "wh" / "locks").exists()


@pytest.mark.usefixtures("no_interpreters")
def test_a_missing_interpreter_is_named_with_every_sdist_to_build(
    tmp_path: Path, index_server: IndexServer
) -> None:
    args = ("cext", "sdistonly", "--build", "--python", "3.12", "--platform", LINUX)
    result = ok(build(tmp_path / "wh", index_server, *args), code=1)
    assert (
        "needs wheels built from sdists (cext 1.0, sdistonly 1.0), "
        "and no Python 3.12 interpreter was found" in result.output
    )
    assert "--python PATH of a Python 3.12, or install Python 3.12" in result.output


@pytest.mark.usefixtures("no_interpreters")
def test_keep_sdist_locks_sdists_and_installs_offline(
    tmp_path: Path, index_server: IndexServer, pip_wheel_runs: list[str]
) -> None:
    python = find_python("3.12")
    wh, target = tmp_path / "wh", f"cp312-{LINUX}"
    ok(build(wh, index_server, "cext", "--keep-sdist", "--python", "3.12", "--platform", LINUX))
    assert pip_wheel_runs == []
    assert lock_hashes(wh, target)["cext"] == (sha256(FILES / "cext-1.0.tar.gz"),)
    assert "gamma" in lock_hashes(wh, target)  # from the metadata pip prepared
    assert "cbuild" not in lock_hashes(wh, target)
    requirements = manifest(wh)["build-requirements"][target]["files"]
    assert requirements == ["cbuild-1.0-py3-none-any.whl"]
    assert (wh / "cbuild-1.0-py3-none-any.whl").is_file()
    venv = make_venv(tmp_path, python)
    command = [*pip_command(venv), "install", "--no-index", "--find-links", str(wh)]
    # pip checks the locked hashes; the build requirements it installs to build are not locked.
    run(
        [*unshare_prefix(), *command, "--require-hashes", "-r", str(wh / "locks" / f"{target}.txt")]
    )
    assert run([str(venv), "-I", "-c", "import cext; print(cext.add(1, 2))"]).stdout.strip() == "3"


@pytest.mark.usefixtures("no_interpreters")
def test_kept_sdists_build_requirements_take_the_pins_where_they_fit(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """bt-sdist pins bt-shared<2 and builds with bt-left, whose newest needs bt-shared>=2.

    pip before 26 applies ``wheelhouse env``'s PIP_CONSTRAINT to its isolated
    build environment too: only bt-left 1.0 installs there, so it is the one kept.
    """
    wh, target = tmp_path / "wh", f"cp312-{LINUX}"
    ok(build(wh, index_server, "bt-sdist", "--keep-sdist", "--python", "3.12", "--platform", LINUX))
    assert "bt-shared" in lock_hashes(wh, target)
    requirements = manifest(wh)["build-requirements"][target]["files"]
    assert requirements == ["bt_left-1.0-py3-none-any.whl", "bt_shared-1.0-py3-none-any.whl"]


def test_a_failed_build_shows_the_end_of_pips_output_and_writes_nothing(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    find_python("3.12")
    monkeypatch.setenv("CC", "false")  # the fixture backend's compiler: it always fails
    args = ("cext", "--build", "--python", "3.12", "--platform", LINUX)
    result = ok(build(tmp_path / "wh", index_server, *args), code=1)
    assert result.output.startswith("error: cannot build a wheel from cext-1.0.tar.gz with Python")
    assert "CalledProcessError" in result.output and "hint: " in result.output
    # Nothing but the claim of a build that never committed: no manifest, no lock.
    assert sorted(path.name for path in (tmp_path / "wh").iterdir()) == [".wheelhouse.lock"]


def test_keep_sdist_cannot_go_with_only_binary(tmp_path: Path, index_server: IndexServer) -> None:
    result = build(tmp_path / "wh", index_server, "sdistonly", "--only-binary", "--keep-sdist")
    assert result.exit_code == 2 and "--keep-sdist" in result.output


def test_built_wheels_carry_their_tags(built: Path) -> None:
    for path in built.glob("cext-*.whl"):
        _name, _version, _build, tags = parse_wheel_filename(path.name)
        assert {tag.platform for tag in tags} == {"linux_x86_64"}


def test_the_pip_that_installs_build_requirements_trusts_pip_cert_as_the_build_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Its environment loses every PIP_* variable: the bundle PIP_CERT names goes as --cert."""
    indexes = sdists.PipIndexes(index_url="https://index.example/simple")
    assert "--cert" not in indexes.options()
    bundle = tmp_path / "corporate-ca.pem"
    monkeypatch.setenv("PIP_CERT", str(bundle))
    options = indexes.options()
    assert options[options.index("--cert") + 1] == str(bundle)
