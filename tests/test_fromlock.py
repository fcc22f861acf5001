"""`wheelhouse build --from-lock`: the pins of locks made by uv, per target, resolving nothing.

The oracles: ``uv lock`` and ``uv export`` make the locks against the fixture
index; ``uv pip compile`` says which of an exported lock's pins hold on each
target; pip installs the result offline, hash-checked.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from click.testing import Result
from helpers import find_python, install_lock, installed, invoke, make_venv, ok, run_uv
from indexserver import FIXTURES, IndexServer

from wheelhouse.model.locks import parse_requirements_lock

LINUX = "manylinux_2_28_x86_64"
TARGETS = ("--python", "3.11", "--python", "3.12", "--platform", LINUX, "--platform", "win_amd64")
#: Each target, and how ``uv pip compile`` names it.
UV_TARGETS = {
    f"cp311-{LINUX}": ("3.11", "x86_64-manylinux_2_28"),
    f"cp312-{LINUX}": ("3.12", "x86_64-manylinux_2_28"),
    "cp311-win_amd64": ("3.11", "x86_64-pc-windows-msvc"),
    "cp312-win_amd64": ("3.12", "x86_64-pc-windows-msvc"),
}
PYPROJECT = """\
[project]
name = "proj"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["alpha[fast]", "markerpkg", "native<2", "modern"]

[project.optional-dependencies]
test = ["stable"]

[dependency-groups]
dev = ["evolving", {include-group = "lint"}]
lint = ["requires-odd"]
"""
#: Everything the project can ask for: its extra and both groups.
EVERYTHING = ("--all-extras", "--group", "dev", "--group", "lint")


def failed(result: Result) -> list[str]:
    """The error and hint lines of a command that failed cleanly."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output.splitlines()


def lock_of(root: Path, target: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Name to version and hashes, as a target's lock says."""
    text = (root / "locks" / f"{target}.txt").read_text()
    return {e.name: (e.version, e.hashes) for e in parse_requirements_lock(text)}


def exported(path: Path) -> dict[tuple[str, str], set[str]]:
    """Name and version to hashes, of a ``uv export`` / ``uv pip compile`` output."""
    found = {}
    for block in re.split(r"\n(?=\S)", path.read_text()):
        head = block.splitlines()[0].split("\\")[0].split(";")[0].strip()
        if "==" in head and not head.startswith("#"):
            name, version = head.split("==")
            found[name, version] = set(re.findall(r"sha256:([0-9a-f]{64})", block))
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, _session_index_server: IndexServer) -> Path:
    """A project locked with ``uv lock`` and exported with ``uv export`` against the fixtures."""
    root = tmp_path_factory.mktemp("project")
    (root / "pyproject.toml").write_text(PYPROJECT)
    url = _session_index_server.url
    run_uv("lock", "--index-url", url, cwd=root)
    export = ("export", "--no-emit-project", "--all-extras", "--all-groups", "--frozen")
    run_uv(*export, "--format", "pylock.toml", "-o", "pylock.toml", cwd=root)
    run_uv(*export, "--format", "requirements-txt", "-o", "requirements.txt", cwd=root)
    return root


@pytest.fixture(scope="module")
def oracle(project: Path, _session_index_server: IndexServer) -> dict[str, dict[str, str]]:
    """Per target, the pins of the exported lock whose markers hold there, as uv says."""
    pins = {}
    for target, (python, platform) in UV_TARGETS.items():
        out = project / f"oracle-{target}.txt"
        run_uv(
            *("pip", "compile", str(project / "requirements.txt"), "--no-deps", "-q"),
            *("--python-version", python, "--python-platform", platform),
            *("--index-url", _session_index_server.url, "-o", str(out)),
        )
        pins[target] = {name: version for name, version in exported(out)}
    return pins


@pytest.fixture(scope="module")
def from_uv_lock(
    project: Path, tmp_path_factory: pytest.TempPathFactory, _session_index_server: IndexServer
) -> Path:
    root = tmp_path_factory.mktemp("from-uv-lock") / "wh"
    url = _session_index_server.url
    lock = str(project / "uv.lock")
    ok(
        invoke(
            "build", "-q", "-w", str(root), "-i", url, "--from-lock", lock, *EVERYTHING, *TARGETS
        )
    )
    return root


@pytest.mark.parametrize("lock", ["uv.lock", "pylock.toml", "requirements.txt"])
def test_each_targets_pins_are_the_locks_for_its_markers_hashes_included(
    lock: str,
    project: Path,
    oracle: dict[str, dict[str, str]],
    from_uv_lock: Path,
    tmp_path: Path,
    index_server: IndexServer,
) -> None:
    root = from_uv_lock
    if lock != "uv.lock":
        root = tmp_path / "wh"
        ok(build(root, index_server, "--from-lock", str(project / lock), *TARGETS))
    locked = exported(project / "requirements.txt")
    for target, expected in oracle.items():
        ours = lock_of(root, target)
        assert {name: version for name, (version, _) in ours.items()} == expected, target
        for name, (version, hashes) in ours.items():
            assert len(hashes) == 1 and set(hashes) <= locked[name, version], (target, name)
    assert index_server.count("/metadata") == 0  # nothing was resolved


def build(root: Path, server: IndexServer, *args: str) -> Result:
    return invoke("build", "-q", "-w", str(root), "--index-url", server.url, *args)


def test_a_target_takes_its_best_file_among_the_locked_ones(from_uv_lock: Path) -> None:
    for target, wheel in (
        (f"cp311-{LINUX}", "native-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
        (f"cp312-{LINUX}", "native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"),
        ("cp312-win_amd64", "native-1.0-cp312-cp312-win_amd64.whl"),
    ):
        digest = hashlib.sha256((FIXTURES / "files" / wheel).read_bytes()).hexdigest()
        assert lock_of(from_uv_lock, target)["native"][1] == (digest,)
        assert (from_uv_lock / wheel).is_file()


def test_the_marker_a_target_cannot_settle_is_kept(from_uv_lock: Path) -> None:
    text = (from_uv_lock / "locks" / f"cp311-{LINUX}.txt").read_text()
    assert 'fullver==1.0 ; python_full_version < "3.11.3"' in text
    assert "fullver" not in lock_of(from_uv_lock, f"cp312-{LINUX}")


def test_via_follows_the_locks_graph(from_uv_lock: Path) -> None:
    text = (from_uv_lock / "locks" / f"cp312-{LINUX}.txt").read_text()
    assert "speedy==1.0 \\\n" in text and "    # via alpha\n" in text
    assert "    # via proj\n" in text


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_pip_installs_a_lock_imported_target_offline(
    from_uv_lock: Path, tmp_path: Path, version: str
) -> None:
    venv = make_venv(tmp_path, find_python(version))
    target = f"cp{version.replace('.', '')}-{LINUX}"
    install_lock(from_uv_lock, from_uv_lock / "locks" / f"{target}.txt", venv)
    got = installed(venv)
    assert got["stable"] == "1.0" and got["requires-odd"] == "1.0"
    assert got["modern"] == ("1.0" if version == "3.11" else "2.0")


def test_fetch_and_verify_a_lock_imported_wheelhouse(from_uv_lock: Path) -> None:
    ok(invoke("verify", "-w", str(from_uv_lock)))
    ok(invoke("fetch", "-w", str(from_uv_lock), "-q"))


def test_uv_lock_takes_only_the_extras_and_groups_chosen(
    project: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    lock = str(project / "uv.lock")
    ok(build(tmp_path / "plain", index_server, "--from-lock", lock, *TARGETS[:2], *TARGETS[4:6]))
    plain = lock_of(tmp_path / "plain", f"cp311-{LINUX}")
    assert "alpha" in plain and "speedy" in plain
    assert not {"stable", "evolving", "requires-odd"} & plain.keys()
    ok(build(tmp_path / "lint", index_server, "--from-lock", lock, "--group", "lint", *TARGETS))
    assert "requires-odd" in lock_of(tmp_path / "lint", f"cp311-{LINUX}")
    assert "evolving" not in lock_of(tmp_path / "lint", f"cp311-{LINUX}")


def test_an_extra_the_lock_does_not_declare_is_refused(
    project: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    lock = str(project / "uv.lock")
    lines = failed(build(tmp_path / "wh", index_server, "--from-lock", lock, "--extra", "nope"))
    assert "declares no extra nope (it has: test)" in lines[0]
    assert not (tmp_path / "wh" / "wheelhouse.toml").exists()
    lines = failed(
        build(
            tmp_path / "wh",
            index_server,
            "--from-lock",
            str(project / "pylock.toml"),
            "--extra",
            "test",
        )
    )
    assert "declares no extra test (it has: none)" in lines[0]


def test_a_locked_version_with_no_file_for_a_target_is_named(
    tmp_path: Path, index_server: IndexServer
) -> None:
    sdist = FIXTURES / "files" / "native-2.0.tar.gz"
    wheel = (
        FIXTURES / "files" / "native-2.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )
    hashes = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (sdist, wheel)]
    lock = tmp_path / "requirements.txt"
    lock.write_text("native==2.0 " + " ".join(f"--hash=sha256:{h}" for h in hashes) + "\n")
    lines = failed(
        build(
            tmp_path / "wh",
            index_server,
            "--from-lock",
            str(lock),
            "--python",
            "3.12",
            "--platform",
            LINUX,
        )
    )
    assert lines[0].startswith(f"error: no file of native 2.0 for target cp312-{LINUX}: ")
    assert "sdist only" in lines[0]
    assert lines[-1] == "hint: pass --build to build the locked sdist into a wheel"


def test_a_lock_hash_the_download_does_not_match_is_refused(
    project: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    text = (project / "uv.lock").read_text()
    digest = hashlib.sha256(
        (FIXTURES / "files" / "alpha-1.1-py3-none-any.whl").read_bytes()
    ).hexdigest()
    (tmp_path / "uv.lock").write_text(text.replace(digest, "0" * 64))
    lines = failed(
        build(
            tmp_path / "wh",
            index_server,
            "--from-lock",
            str(tmp_path / "uv.lock"),
            *TARGETS[:2],
            *TARGETS[4:6],
        )
    )
    assert "alpha-1.1-py3-none-any.whl" in lines[0] and "0" * 64 in lines[0]
    assert not (tmp_path / "wh" / "locks").exists()
    assert not (tmp_path / "wh" / "alpha-1.1-py3-none-any.whl").exists()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("alpha>=1.0 --hash=sha256:" + "a" * 64, "line 2: 'alpha>=1.0': not pinned to one version"),
        ("alpha==1.1", "line 2: 'alpha==1.1': it needs --hash=sha256:"),
        ("-e .", "line 2: '-e .' is a local project"),
        ("--find-links ./dist", "line 2: option --find-links is not supported in a lock"),
    ],
)
def test_a_requirements_file_that_is_not_a_lock_is_refused(
    line: str, expected: str, tmp_path: Path, index_server: IndexServer
) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"# a lock\n{line}\n")
    lines = failed(build(tmp_path / "wh", index_server, "--from-lock", str(lock)))
    assert lines[0] == f"error: {lock}: {expected}" or lines[0].startswith(
        f"error: {lock}: {expected}"
    )


def test_from_lock_takes_no_requirements(tmp_path: Path, index_server: IndexServer) -> None:
    result = build(tmp_path / "wh", index_server, "alpha", "--from-lock", str(tmp_path / "x.txt"))
    assert result.exit_code == 2
    assert "--from-lock takes no REQ" in result.output


def test_refresh_reads_the_lock_again(tmp_path: Path, index_server: IndexServer) -> None:
    lock = tmp_path / "requirements.txt"

    def pin(version: str) -> None:
        wheel = FIXTURES / "files" / f"alpha-{version}-py3-none-any.whl"
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lock.write_text(f"alpha=={version} --hash=sha256:{digest}\n")

    pin("1.0")
    root = tmp_path / "wh"
    ok(build(root, index_server, "--from-lock", str(lock), "--python", "3.12", "--platform", LINUX))
    pin("1.1")
    result = ok(invoke("refresh", "-w", str(root)))
    assert "alpha 1.0 -> 1.1" in result.output
    assert lock_of(root, f"cp312-{LINUX}")["alpha"][0] == "1.1"
    assert "beta" not in lock_of(root, f"cp312-{LINUX}")  # a lock's pins, no resolution


def test_a_pylock_chooses_by_extras_and_dependency_groups(
    tmp_path: Path, index_server: IndexServer
) -> None:
    def package(name: str, marker: str | None) -> str:
        wheel = FIXTURES / "files" / f"{name}-1.0-py3-none-any.whl"
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        line = f'marker = "{marker}"\n' if marker else ""
        return (
            f'[[packages]]\nname = "{name}"\nversion = "1.0"\n{line}'
            f'wheels = [{{ url = "{index_server.file_url(wheel.name)}", '
            f'hashes = {{ sha256 = "{digest}" }} }}]\n\n'
        )

    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\nextras = ["fast"]\n'
        'dependency-groups = ["dev"]\ndefault-groups = ["dev"]\n\n'
        + package("delta", None)
        + package("speedy", "'fast' in extras")
        + package("gamma", "'dev' in dependency_groups")
    )
    target = ("--python", "3.12", "--platform", LINUX)
    ok(build(tmp_path / "default", index_server, "--from-lock", str(lock), *target))
    assert set(lock_of(tmp_path / "default", f"cp312-{LINUX}")) == {"delta", "gamma"}
    ok(
        build(
            tmp_path / "fast",
            index_server,
            "--from-lock",
            str(lock),
            "--extra",
            "fast",
            "--group",
            "dev",
            *target,
        )
    )
    assert set(lock_of(tmp_path / "fast", f"cp312-{LINUX}")) == {"delta", "gamma", "speedy"}


def test_a_wheelhouse_pylock_is_a_lock_too(
    from_uv_lock: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    """``path`` entries name files the index is asked for, by name and hash."""
    target = f"cp312-{LINUX}"
    pylock = tmp_path / f"pylock.{target}.toml"
    shutil.copy(from_uv_lock / "locks" / pylock.name, pylock)
    ok(
        build(
            tmp_path / "wh",
            index_server,
            "--from-lock",
            str(pylock),
            "--python",
            "3.12",
            "--platform",
            LINUX,
        )
    )
    assert lock_of(tmp_path / "wh", target) == lock_of(from_uv_lock, target)
