"""`wheelhouse build` against the fixture index, with pip as the oracle."""

from __future__ import annotations

import hashlib
import os
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import find_python, install_lock, installed, make_venv, ok, run, run_uv
from indexserver import IndexServer

from wheelhouse.cli import cli
from wheelhouse.cli.progress import ProgressReporter
from wheelhouse.commands.targets import make_targets
from wheelhouse.index.client import IndexClient
from wheelhouse.model.distributions import Keep
from wheelhouse.model.locks import parse_requirements_lock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LINUX = "manylinux_2_28_x86_64"
#: The inputs and targets of the shared multi-target wheelhouse.
MULTI = (
    *("alpha[fast]", "markerpkg", "native", "stable", "modern", "requires-odd", "bt-top"),
    *("--python", "3.11", "--python", "3.12", "--platform", LINUX, "--platform", "win_amd64"),
)
HERE = Path(sys.executable)


def build(wheelhouse: Path, server: IndexServer, *args: str) -> Result:
    """Run `wheelhouse build` in-process against ``server``."""
    runner = CliRunner()
    return runner.invoke(
        cli, ["build", "-w", str(wheelhouse), "--index-url", server.url, "-q", *args]
    )


def pins(wheelhouse: Path, target: str) -> dict[str, str]:
    text = (wheelhouse / "locks" / f"{target}.txt").read_text()
    return {entry.name: entry.version for entry in parse_requirements_lock(text)}


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".wheelhouse.lock"
    }


def pip_install_lock(wheelhouse: Path, target: str, python: Path, tmp_path: Path) -> Path:
    venv = make_venv(tmp_path, python, name=f"venv-{target}")
    install_lock(wheelhouse, wheelhouse / "locks" / f"{target}.txt", venv)
    return venv


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One multi-target wheelhouse shared by the read-only tests of this module."""
    root = tmp_path_factory.mktemp("multi") / "wh"
    with IndexServer() as server:
        ok(build(root, server, *MULTI))
        assert server.count("/files/", method="GET") > 0
    return root


def test_every_target_gets_a_lock_pylock_and_constraints(multi: Path) -> None:
    for python in ("cp311", "cp312"):
        for platform in (LINUX, "win_amd64"):
            target = f"{python}-{platform}"
            assert (multi / "locks" / f"{target}.txt").is_file()
            assert (multi / "locks" / f"pylock.{target}.toml").is_file()
            assert (multi / "constraints" / f"{target}.txt").is_file()
    assert (multi / "wheelhouse.toml").is_file()
    assert (multi / "simple" / "index.html").is_file()


def test_pins_follow_each_targets_python_and_markers(multi: Path) -> None:
    linux311 = pins(multi, f"cp311-{LINUX}")
    win312 = pins(multi, "cp312-win_amd64")
    assert linux311["modern"] == "1.0" and win312["modern"] == "2.0"
    assert "linuxonly" in linux311 and "winonly" not in linux311
    assert "winonly" in win312 and "linuxonly" not in win312
    assert "oldpython" in linux311 and "oldpython" not in win312  # python_version < 3.12
    assert linux311["bt-left"] == "1.0"  # backtracked
    assert linux311["delta"] == "1.0"  # not the yanked 1.1
    assert linux311["speedy"] == "1.0"  # the extra
    assert "zope-name-mixed" in linux311  # asked for as ZOPE_name.mixed


def test_full_version_marker_is_kept_in_the_lock(multi: Path) -> None:
    text = (multi / "locks" / f"cp311-{LINUX}.txt").read_text()
    assert 'fullver==1.0 ; python_full_version < "3.11.3"' in text
    assert "fullver" not in pins(multi, f"cp312-{LINUX}")


def test_hashes_are_exactly_the_targets_files(multi: Path) -> None:
    text = (multi / "locks" / f"cp312-{LINUX}.txt").read_text()
    entry = next(e for e in parse_requirements_lock(text) if e.name == "native")
    wheel = multi / "native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    assert entry.hashes == (hashlib.sha256(wheel.read_bytes()).hexdigest(),)
    assert not (
        multi / "native-1.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    ).exists()


def test_shared_file_stored_once_and_metadata_beside_wheels(multi: Path) -> None:
    wheels = sorted(path.name for path in multi.glob("*.whl"))
    assert wheels.count("alpha-1.1-py3-none-any.whl") == 1
    for wheel in wheels:
        assert (multi / f"{wheel}.metadata").is_file()


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_pip_installs_each_lock_offline(multi: Path, tmp_path: Path, version: str) -> None:
    python = find_python(version)
    venv = pip_install_lock(multi, f"cp{version.replace('.', '')}-{LINUX}", python, tmp_path)
    got = installed(venv)
    assert got["alpha"] == "1.1"
    assert got["modern"] == ("1.0" if version == "3.11" else "2.0")
    platform = run([str(venv), "-c", "import native; print(native.PLATFORM)"]).stdout
    expected = "manylinux_2_17" if version == "3.11" else "manylinux_2_28"
    assert expected in platform


def test_uv_installs_the_pylock_offline(multi: Path, tmp_path: Path) -> None:
    python = find_python("3.12")
    venv = make_venv(tmp_path, python)
    run_uv(
        "pip",
        "install",
        "--python",
        str(venv),
        "--offline",
        "--no-index",
        "-r",
        str(multi / "locks" / f"pylock.cp312-{LINUX}.toml"),
    )
    assert installed(venv)["modern"] == "2.0"


def test_rebuild_is_byte_identical_and_downloads_nothing(
    multi: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    copy = tmp_path / "again"
    copy.mkdir()
    for path in multi.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(multi)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    before = tree_digest(copy)
    ok(build(copy, index_server, *MULTI))
    after = tree_digest(copy)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {"wheelhouse.toml"}  # only the manifest carries a timestamp
    fetched = [r.path.rsplit("/", 1)[1] for r in index_server.log if r.path.startswith("/files/")]
    # Only metadata of versions no lock keeps (visited while backtracking, or
    # fetched ahead in case they would be): nothing the wheelhouse already has.
    assert "bt_left-2.0-py3-none-any.whl.metadata" in fetched
    for name in fetched:
        assert name.endswith(".metadata"), name
        assert not (copy / name.removesuffix(".metadata")).exists(), name


def test_constraints_and_requirement_files(tmp_path: Path, index_server: IndexServer) -> None:
    (tmp_path / "req.txt").write_text("alpha\n-c pins.txt\n")
    (tmp_path / "pins.txt").write_text("beta<2\n")
    ok(
        build(
            tmp_path / "wh",
            index_server,
            "-r",
            str(tmp_path / "req.txt"),
            "--python",
            "3.11",
            "--platform",
            LINUX,
        )
    )
    lock = (tmp_path / "wh" / "locks" / f"cp311-{LINUX}.txt").read_text()
    assert pins(tmp_path / "wh", f"cp311-{LINUX}")["beta"] == "1.0"
    assert f"-c {tmp_path / 'pins.txt'}" in lock


def test_exclude_newer_takes_the_older_release(tmp_path: Path, index_server: IndexServer) -> None:
    evolving = [e for e in index_server.entries("evolving")]
    old = min(evolving, key=lambda e: e.uploaded).uploaded
    ok(
        build(
            tmp_path / "wh",
            index_server,
            "evolving",
            "--python",
            "3.12",
            "--platform",
            LINUX,
            "--exclude-newer",
            old.isoformat(),
        )
    )
    assert pins(tmp_path / "wh", f"cp312-{LINUX}")["evolving"] == "1.0"


def test_default_target_is_the_running_interpreter(
    tmp_path: Path, index_server: IndexServer
) -> None:
    ok(build(tmp_path / "wh", index_server, "evolving"))
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}-"
    (lock,) = (tmp_path / "wh" / "locks").glob("*.txt")
    assert lock.name.startswith(tag)
    assert "linux_" not in lock.name.replace("manylinux_", "")  # a portable platform
    venv = make_venv(tmp_path)
    install_lock(tmp_path / "wh", lock, venv)
    assert installed(venv)["evolving"] == "1.1"


def test_interpreter_path_as_target(tmp_path: Path, index_server: IndexServer) -> None:
    python = find_python("3.12")
    ok(build(tmp_path / "wh", index_server, "markerpkg", "--python", str(python)))
    (lock,) = (tmp_path / "wh" / "locks").glob("cp312-*.txt")
    assert "fullver" not in lock.read_text()  # the real interpreter's full version is known


def test_html_only_index_without_metadata_files(tmp_path: Path, index_server: IndexServer) -> None:
    index_server.configure(html_only=True, no_metadata=True)
    ok(build(tmp_path / "wh", index_server, "alpha", "--python", "3.11", "--platform", LINUX))
    assert pins(tmp_path / "wh", f"cp311-{LINUX}")["delta"] == "1.0"
    whole_wheel_gets = [
        r
        for r in index_server.log
        if r.path.startswith("/files/") and r.method == "GET" and not r.range
    ]
    assert len(whole_wheel_gets) == 4  # only the downloads; metadata came by ranges


def test_one_page_request_per_project_across_targets(
    tmp_path: Path, index_server: IndexServer
) -> None:
    ok(
        build(
            tmp_path / "wh",
            index_server,
            "alpha",
            "--python",
            "3.11",
            "--python",
            "3.12",
            "--platform",
            LINUX,
            "--platform",
            "win_amd64",
        )
    )
    for project in ("alpha", "beta", "gamma", "delta"):
        assert index_server.count(f"/simple/{project}/", method="GET") == 1


def test_manifest_records_inputs_and_origins(multi: Path) -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    manifest = tomllib.loads((multi / "wheelhouse.toml").read_text())
    assert manifest["inputs"]["requirements"][0] == "alpha[fast]"
    assert {t["name"] for t in manifest["targets"]} == {
        f"cp311-{LINUX}",
        f"cp312-{LINUX}",
        "cp311-win_amd64",
        "cp312-win_amd64",
    }
    entry = manifest["files"]["alpha-1.1-py3-none-any.whl"]
    assert entry["url"].startswith("http://127.0.0.1:")
    assert len(entry["sha256"]) == 64
    assert os.sep not in manifest["files"]  # flat names only


def test_index_command_over_a_wheelhouse_rewrites_nothing(multi: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    run(["cp", "-a", str(multi), str(copy)])
    before = tree_digest(copy)
    result = CliRunner().invoke(cli, ["index", str(copy)])
    assert result.exit_code == 0, result.output
    assert tree_digest(copy) == before


def test_a_new_wheelhouse_is_filled_from_the_cache(
    tmp_path: Path, index_server: IndexServer
) -> None:
    cache = tmp_path / "cache"
    common = ("alpha", "--python", "3.11", "--platform", LINUX, "--cache-dir", str(cache))
    ok(build(tmp_path / "first", index_server, *common))
    index_server.reset_log()
    ok(build(tmp_path / "second", index_server, *common))
    assert [r.path for r in index_server.log if r.path.startswith("/files/")] == []
    assert tree_digest(tmp_path / "second").keys() == tree_digest(tmp_path / "first").keys()
    venv = pip_install_lock(tmp_path / "second", f"cp311-{LINUX}", find_python("3.11"), tmp_path)
    assert installed(venv)["delta"] == "1.0"


SECRET = "s3cr3t-token"


def test_index_credentials_are_written_nowhere(tmp_path: Path, index_server: IndexServer) -> None:
    wh = tmp_path / "wh"
    with_token = index_server.url.replace("http://", f"http://user:{SECRET}@")
    target = ("--python", "3.11", "--platform", LINUX)
    args = ["build", "-w", str(wh), "--index-url", with_token, "-q", "alpha", *target]
    ok(CliRunner().invoke(cli, args))
    assert [
        path for path in wh.rglob("*") if path.is_file() and SECRET.encode() in path.read_bytes()
    ] == []
    manifest = (wh / "wheelhouse.toml").read_text()
    assert f'url = "{index_server.url}"' in manifest
    assert f'url = "{index_server.base_url}/files/alpha-1.1-py3-none-any.whl"' in manifest


@pytest.mark.parametrize("html_only", [False, True])
def test_an_index_without_hashes_still_gives_hash_pinned_locks(
    tmp_path: Path, index_server: IndexServer, html_only: bool
) -> None:
    index_server.configure(no_hashes=True, html_only=html_only)
    wh, target = tmp_path / "wh", f"cp311-{LINUX}"
    args = ("alpha", "--python", "3.11", "--platform", LINUX)
    ok(build(wh, index_server, *args))
    entries = parse_requirements_lock((wh / "locks" / f"{target}.txt").read_text())
    files = {hashlib.sha256(path.read_bytes()).hexdigest() for path in wh.glob("*.whl")}
    assert entries and all(len(entry.hashes) == 1 and entry.hashes[0] in files for entry in entries)
    assert installed(pip_install_lock(wh, target, find_python("3.11"), tmp_path))["alpha"] == "1.1"
    index_server.reset_log()
    ok(build(wh, index_server, *args))
    assert [r.path for r in index_server.log if r.path.endswith(".whl")] == []


def test_platform_spellings_name_one_target_each(tmp_path: Path, index_server: IndexServer) -> None:
    wh = tmp_path / "wh"
    spellings = ("Manylinux_2_28_X86_64", "manylinux_2_28_x86_64", "manylinux2014-x86_64")
    platforms = [part for spelling in spellings for part in ("--platform", spelling)]
    ok(build(wh, index_server, "alpha", "--python", "3.11", *platforms))
    assert sorted(path.name for path in (wh / "locks").glob("*.txt")) == [
        "cp311-manylinux_2_17_x86_64.txt",  # the PEP 600 name of manylinux2014
        "cp311-manylinux_2_28_x86_64.txt",
    ]


def _wheel_requiring(directory: Path, name: str, version: str, *requires: str) -> Path:
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    lines = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", "\n".join(lines) + "\n\n")
    return wheel


def test_identical_builds_record_identical_resolutions(
    tmp_path: Path, mutable_index_server: IndexServer
) -> None:
    """Guessing ahead reads speedy's page (evolving 1.2 needs it); the resolver never does."""
    mutable_index_server.add_file(_wheel_requiring(tmp_path, "evolving", "1.2", "speedy"))
    (tmp_path / "c.txt").write_text("evolving<1.2\n")
    args = ("evolving", "-c", str(tmp_path / "c.txt"), "--python", "3.12", "--platform", LINUX)
    tables = []
    for name in ("first", "second"):
        ok(build(tmp_path / name, mutable_index_server, *args))
        tables.append(
            tomllib.loads((tmp_path / name / "wheelhouse.toml").read_text())["resolution"]
        )
    assert tables[0] == tables[1]
    assert set(tables[0]["pages"]) == {"evolving"}


def test_progress_is_closed_when_a_build_fails(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[ProgressReporter] = []
    monkeypatch.setattr(ProgressReporter, "close", lambda self: closed.append(self))
    result = build(tmp_path / "wh", index_server, "nosuchthing", "--platform", LINUX)
    assert result.exit_code == 1 and len(closed) == 1


def test_the_summary_tells_wheels_of_local_projects_from_wheels_of_sdists() -> None:
    """With --build, a local project's wheel is not one "built from sdists"."""
    from wheelhouse.cli.build import _summary
    from wheelhouse.commands.build import BuildResult
    from wheelhouse.model.distributions import BuiltWheel, DistFile
    from wheelhouse.model.targets import Target

    def built(filename: str, *, local: bool) -> BuiltWheel:
        wheel = DistFile.from_record(filename, {"sha256": "0" * 64, "size": 1})
        return BuiltWheel(wheel=wheel, sdist="x", sdist_sha256="0" * 64, python="3.12", local=local)

    wheels = [
        built("liba-0.1-py3-none-any.whl", local=True),
        built("sdistonly-1.0-py3-none-any.whl", local=False),
        built("cext-1.0-py3-none-any.whl", local=False),
    ]
    target = Target.from_name("cp312-manylinux_2_28_x86_64")
    result = BuildResult(targets=[target], locks=[], built=wheels)
    assert _summary(Path("wh"), result, allow_sdist=True).endswith(
        "0 reused, 2 wheel(s) built from sdists, 1 from local projects"
    )
    assert _summary(Path("wh"), result, allow_sdist=False).endswith(
        "0 reused, 1 wheel(s) built from local projects"
    )
    nothing = BuildResult(targets=[target], locks=[])
    assert _summary(Path("wh"), nothing, allow_sdist=True).endswith("0 wheel(s) built from sdists")


def test_a_resolving_build_keeps_whole_only_the_files_its_targets_can_take(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its pages keep the other files by name only; a lock's files are looked up whole."""
    told: list[Keep] = []
    monkeypatch.setattr(IndexClient, "keep_only", lambda self, keep: told.append(keep))
    args = ("--python", "3.11", "--python", "3.12", "--platform", LINUX)
    ok(build(tmp_path / "wh", index_server, "stable", *args))
    targets = make_targets(["3.11", "3.12"], [LINUX])
    assert told == [Keep(frozenset().union(*(t.tag_set for t in targets)), sdists=False)]
    ok(build(tmp_path / "sdists", index_server, "stable", "--build", *args))
    assert told[-1].sdists
    lock = tmp_path / "wh" / "locks" / f"cp312-{LINUX}.txt"
    told.clear()
    ok(build(tmp_path / "locked", index_server, "--from-lock", str(lock), *args[2:]))
    assert told == []
