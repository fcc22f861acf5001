"""Bad input to `wheelhouse build`: one clear line, exit 1, no traceback, nothing lost."""

from __future__ import annotations

import hashlib
import socket
import sys
from pathlib import Path

import pytest
from helpers import run
from indexserver import FIXTURES, IndexServer

from wheelhouse.house.directory import Wheelhouse

LINUX = "manylinux_2_28_x86_64"
TARGET = ("--python", "3.11", "--platform", LINUX)


def wheelhouse(wh: Path, index_url: str, *args: str) -> tuple[int, str, str]:
    """Run the real executable, as a user would."""
    result = run(
        [
            sys.executable,
            "-m",
            "wheelhouse",
            "build",
            "-w",
            str(wh),
            "--index-url",
            index_url,
            *args,
        ],
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


def failed(code: int, stderr: str) -> str:
    assert code == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ")
    return stderr


def digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".wheelhouse.lock"
    }


def test_unknown_project_is_named_with_its_requirer(
    tmp_path: Path, index_server: IndexServer
) -> None:
    (tmp_path / "req.txt").write_text("alpha\nnosuchthing>=1\n")
    code, _, err = wheelhouse(
        tmp_path / "wh", index_server.url, "-r", str(tmp_path / "req.txt"), *TARGET
    )
    assert "no version of nosuchthing>=1 for target cp311-" in failed(code, err)
    assert "hint: " in err


def test_conflict_is_explained_with_each_requirer(
    tmp_path: Path, index_server: IndexServer
) -> None:
    code, _, err = wheelhouse(tmp_path / "wh", index_server.url, "clash-a", "clash-b", *TARGET)
    failed(code, err)
    assert "clash-a==1.0 requires clash-base==1.0" in err
    assert "clash-b==1.0 requires clash-base==2.0" in err


def test_sdist_only_names_project_version_target_and_option(
    tmp_path: Path, index_server: IndexServer
) -> None:
    code, _, err = wheelhouse(tmp_path / "wh", index_server.url, "sdistonly", *TARGET)
    assert f"no file of sdistonly 1.0 for target cp311-{LINUX}" in failed(code, err)
    assert "--build" in err


def test_no_wheel_for_the_platform(tmp_path: Path, index_server: IndexServer) -> None:
    code, _, err = wheelhouse(
        tmp_path / "wh",
        index_server.url,
        "native==1.0",
        "--python",
        "3.11",
        "--platform",
        "musllinux_1_1_x86_64",
    )
    failed(code, err)
    assert "native" in err and "cp311-musllinux_1_1_x86_64" in err


def test_requires_python_excludes_every_version(tmp_path: Path, index_server: IndexServer) -> None:
    code, _, err = wheelhouse(tmp_path / "wh", index_server.url, "futureonly", *TARGET)
    assert (
        f"error: no file of futureonly 1.0 for target cp311-{LINUX} (required by the command "
        "line): its Requires-Python >=3.99 excludes the target's Python\n"
    ) in failed(code, err)
    assert "--build" not in err and "supports the target's Python" in err


def test_malformed_line_names_file_and_line(tmp_path: Path, index_server: IndexServer) -> None:
    (tmp_path / "c.txt").write_text("# pins\n\nbeta<<2\n")
    code, _, err = wheelhouse(
        tmp_path / "wh", index_server.url, "alpha", "-c", str(tmp_path / "c.txt"), *TARGET
    )
    assert f"{tmp_path / 'c.txt'}:3:" in failed(code, err)
    assert not (tmp_path / "wh").exists()


def test_unknown_platform_is_a_usage_error(tmp_path: Path, index_server: IndexServer) -> None:
    code, _, err = wheelhouse(
        tmp_path / "wh", index_server.url, "alpha", "--platform", "plan9_amd64"
    )
    assert code == 2 and "plan9_amd64" in err and "Traceback" not in err


def test_missing_interpreter_path(tmp_path: Path, index_server: IndexServer) -> None:
    code, _, err = wheelhouse(
        tmp_path / "wh", index_server.url, "alpha", "--python", str(tmp_path / "nopython")
    )
    assert "nopython" in failed(code, err)


def test_unreachable_index_names_the_url(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple/"
    code, _, err = wheelhouse(tmp_path / "wh", url, "alpha", *TARGET)
    assert f"127.0.0.1:{port}/simple/alpha/" in failed(code, err)


def test_transient_5xx_are_retried(tmp_path: Path, index_server: IndexServer) -> None:
    index_server.configure(fail_5xx=2)
    code, _, err = wheelhouse(tmp_path / "wh", index_server.url, "alpha", *TARGET)
    assert code == 0, err


def test_exclude_newer_without_upload_times(tmp_path: Path, index_server: IndexServer) -> None:
    index_server.configure(no_upload_time=True)
    code, _, err = wheelhouse(
        tmp_path / "wh", index_server.url, "alpha", *TARGET, "--exclude-newer", "2025-01-01"
    )
    assert "needs upload times" in failed(code, err)


def test_refused_file_names_are_reported_and_skipped(
    tmp_path: Path, index_server: IndexServer
) -> None:
    code, _, err = wheelhouse(tmp_path / "wh", index_server.url, "badfiles", *TARGET)
    assert code == 0, err
    assert "refused file" in err
    names = {path.name for path in (tmp_path / "wh").iterdir()}
    assert "badfiles-1.0-py3-none-any.whl" in names
    assert not any(name.startswith("other") or "escape" in name for name in names)


@pytest.mark.parametrize("switch", ["wrong_hash", "truncate"])
def test_failed_download_loses_nothing(
    tmp_path: Path, index_server: IndexServer, switch: str
) -> None:
    wh = tmp_path / "wh"
    code, _, err = wheelhouse(wh, index_server.url, "evolving", *TARGET)
    assert code == 0, err
    before = digest(wh)
    index_server.configure(**{switch: True})
    code, _, err = wheelhouse(wh, index_server.url, "alpha", *TARGET)
    failed(code, err)
    if switch == "wrong_hash":
        assert ("sha256 of" in err and "alpha-1.1-py3-none-any.whl" in err) or "expected" in err
    assert digest(wh) == before  # locks, index, manifest and files as they were
    assert not [
        path
        for path in wh.iterdir()
        if path.name.startswith(".") and path.name != ".wheelhouse.lock"
    ]


def test_a_second_build_fails_clearly_while_one_runs(
    tmp_path: Path, index_server: IndexServer
) -> None:
    wh = tmp_path / "wh"
    code, _, err = wheelhouse(wh, index_server.url, "evolving", *TARGET)
    assert code == 0, err
    before = digest(wh)
    with Wheelhouse(wh).exclusive():
        code, _, err = wheelhouse(wh, index_server.url, "alpha", *TARGET)
    assert "being written by another process" in failed(code, err)
    assert digest(wh) == before


def test_non_wheelhouse_directory_is_refused_untouched(
    tmp_path: Path, index_server: IndexServer
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "setup.py").write_text("print('hello')\n")
    before = digest(source)
    code, _, err = wheelhouse(source, index_server.url, "alpha", *TARGET)
    assert "is not a wheelhouse" in failed(code, err)
    assert digest(source) == before
    assert sorted(path.name for path in source.iterdir()) == ["setup.py"]


SECRET = "s3cr3t-token"


def test_index_credentials_stay_out_of_errors(tmp_path: Path, index_server: IndexServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://user:{SECRET}@127.0.0.1:{port}/simple/"
    code, out, err = wheelhouse(tmp_path / "wh", url, "alpha", *TARGET)
    assert f"http://127.0.0.1:{port}/simple/alpha/" in failed(code, err)
    index_server.configure(wrong_hash=True)
    url = index_server.url.replace("http://", f"http://user:{SECRET}@")
    code, more, also = wheelhouse(tmp_path / "wh2", url, "alpha", *TARGET)
    assert "sha256 of" in failed(code, also)
    assert SECRET not in out + err + more + also


def test_no_requirements_into_a_new_directory_is_a_usage_error(
    tmp_path: Path, index_server: IndexServer
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "setup.py").write_text("")
    for directory in (tmp_path / "new", tmp_path / "src"):
        before = digest(tmp_path)
        code, _, err = wheelhouse(directory, index_server.url, *TARGET)
        assert code == 2, err
        assert "no requirements given" in err and "Traceback" not in err
        assert digest(tmp_path) == before
    assert not (tmp_path / "new").exists()


def test_no_requirements_on_a_wheelhouse_builds_its_inputs_for_new_targets(
    tmp_path: Path, index_server: IndexServer
) -> None:
    wh = tmp_path / "wh"
    code, _, err = wheelhouse(wh, index_server.url, "alpha", "evolving<2", *TARGET)
    assert code == 0, err
    lock = (wh / "locks" / f"cp311-{LINUX}.txt").read_bytes()
    # The index moves on; adding a target keeps the pins of the one that stays.
    code, _, err = wheelhouse(wh, index_server.url, "--python", "3.11", "--python", "3.12")
    assert code == 0, err
    assert (wh / "locks" / f"cp311-{LINUX}.txt").read_bytes() == lock
    assert (wh / "locks" / f"cp312-{LINUX}.txt").is_file()
    manifest = Wheelhouse.open(wh).read_manifest()
    assert manifest["inputs"]["requirements"] == ["alpha", "evolving<2"]


@pytest.mark.parametrize("missing", ["inputs", "targets"])
def test_refresh_refuses_a_manifest_with_nothing_recorded(
    tmp_path: Path, index_server: IndexServer, missing: str
) -> None:
    wh = tmp_path / "wh"
    code, _, err = wheelhouse(wh, index_server.url, "alpha", *TARGET)
    assert code == 0, err
    house = Wheelhouse.open(wh)
    manifest = house.read_manifest()
    manifest.pop(missing)
    with house.exclusive():
        house.write_manifest(manifest)
    before = digest(wh)
    result = run(
        [
            sys.executable,
            "-m",
            "wheelhouse",
            "refresh",
            "-w",
            str(wh),
            "--index-url",
            index_server.url,
        ],
        check=False,
    )
    err = failed(result.returncode, result.stderr)
    assert f"records no {missing}" in err
    assert digest(wh) == before


def test_an_empty_manifest_is_not_a_wheelhouse_and_nothing_is_deleted(
    tmp_path: Path, index_server: IndexServer
) -> None:
    wh = tmp_path / "wh"
    code, _, err = wheelhouse(wh, index_server.url, "alpha", *TARGET)
    assert code == 0, err
    (wh / "wheelhouse.toml").write_text("")
    before = digest(wh)
    result = run([sys.executable, "-m", "wheelhouse", "refresh", "-w", str(wh)], check=False)
    assert "not a wheelhouse" in failed(result.returncode, result.stderr)
    assert digest(wh) == before


def _sha256(filename: str) -> str:
    return hashlib.sha256((FIXTURES / "files" / filename).read_bytes()).hexdigest()


EVOLVING = "evolving-1.0-py3-none-any.whl"
ZEROS = "sha256:" + "0" * 64


def test_a_hashed_requirement_that_matches_builds(
    tmp_path: Path, index_server: IndexServer
) -> None:
    (tmp_path / "req.txt").write_text(f"evolving==1.0 \\\n    --hash=sha256:{_sha256(EVOLVING)}\n")
    code, _, err = wheelhouse(tmp_path / "wh", index_server.url, "-r", str(tmp_path / "req.txt"))
    assert code == 0, err
    assert (tmp_path / "wh" / EVOLVING).is_file()


@pytest.mark.parametrize("no_hashes", [False, True], ids=["index-digests", "digests-on-download"])
def test_a_file_matching_none_of_the_hashes_is_refused(
    tmp_path: Path, index_server: IndexServer, no_hashes: bool
) -> None:
    """Before any download when the index gives digests; after it, before any lock, if not."""
    index_server.configure(no_hashes=no_hashes)
    (tmp_path / "req.txt").write_text(f"alpha\nevolving==1.0 --hash={ZEROS} --hash {ZEROS[:-1]}1\n")
    wh = tmp_path / "wh"
    code, _, err = wheelhouse(wh, index_server.url, "-r", str(tmp_path / "req.txt"), *TARGET)
    error, hint = failed(code, err).splitlines()
    assert error == (
        f"error: {tmp_path / 'req.txt'}:2: no file of evolving 1.0 for target cp311-{LINUX} "
        f"matches its --hash options: {EVOLVING} (sha256:{_sha256(EVOLVING)}) against "
        f"{ZEROS}, {ZEROS[:-1]}1"
    )
    assert hint.startswith("hint: ")
    assert not (wh / "wheelhouse.toml").exists() and not (wh / "locks").exists()
    if not no_hashes:  # the digests were known: nothing was downloaded
        assert not [request for request in index_server.log if request.path.endswith(".whl")]


def test_only_the_hashed_files_of_a_pin_are_locked(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """native 1.0 has two wheels for this target; the line allows one (pip's filter too)."""
    chosen = "native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    (tmp_path / "req.txt").write_text(f"native==1.0 --hash=sha256:{_sha256(chosen)}\n")
    wh = tmp_path / "wh"
    target = ("--python", "3.12", "--platform", LINUX)
    code, _, err = wheelhouse(wh, index_server.url, "-r", str(tmp_path / "req.txt"), *target)
    assert code == 0, err
    lock = (wh / "locks" / f"cp312-{LINUX}.txt").read_text()
    assert lock.count("--hash=sha256:") == 1 and _sha256(chosen) in lock
    assert sorted(path.name for path in wh.glob("*.whl")) == [chosen]


@pytest.mark.parametrize("spec", ["evolving", "evolving>=1.0", "evolving==1.*", "evolving<2,>=1"])
def test_a_hashed_requirement_must_be_pinned(
    tmp_path: Path, index_server: IndexServer, spec: str
) -> None:
    (tmp_path / "req.txt").write_text(f"# pinned by hand\n{spec} --hash={ZEROS}\n")
    code, _, err = wheelhouse(
        tmp_path / "wh", index_server.url, "-r", str(tmp_path / "req.txt"), *TARGET
    )
    error = failed(code, err).splitlines()[0]
    assert error.startswith(f"error: {tmp_path / 'req.txt'}:2: evolving")
    assert "pins no version" in error
    assert index_server.log == []  # refused before the index was asked


def test_a_hashed_constraint_is_enforced_too(tmp_path: Path, index_server: IndexServer) -> None:
    (tmp_path / "c.txt").write_text(f"delta==1.0 --hash={ZEROS}\n")
    code, _, err = wheelhouse(
        tmp_path / "wh", index_server.url, "gamma", "-c", str(tmp_path / "c.txt"), *TARGET
    )
    assert f"error: {tmp_path / 'c.txt'}:1: no file of delta 1.0 " in failed(code, err)
