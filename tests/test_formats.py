"""In builds: a requirements file's --only-binary, --no-binary, --prefer-binary; yanked pins."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from helpers import require_fixture_machine
from indexserver import IndexServer

from wheelhouse.cli import cli
from wheelhouse.model.locks import parse_requirements_lock

LINUX = "manylinux_2_28_x86_64"


def build(root: Path, server: IndexServer, *args: str) -> Result:
    command = ["build", "-w", str(root), "--index-url", server.url, *args]
    return CliRunner().invoke(cli, command)


def pins(root: Path, target: str) -> dict[str, str]:
    text = (root / "locks" / f"{target}.txt").read_text()
    return {entry.name: entry.version for entry in parse_requirements_lock(text)}


def requirements(tmp_path: Path, text: str) -> str:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return str(path)


def test_only_binary_all_is_the_default_policy_not_a_requirement(
    tmp_path: Path, index_server: IndexServer
) -> None:
    req = requirements(tmp_path, "--only-binary :all:\nalpha\n")
    result = build(
        tmp_path / "wh", index_server, "-r", req, "--python", "3.12", "--platform", LINUX
    )
    assert result.exit_code == 0, result.output
    assert pins(tmp_path / "wh", f"cp312-{LINUX}")["alpha"] == "1.1"


def test_no_binary_without_build_is_refused_at_its_line(
    tmp_path: Path, index_server: IndexServer
) -> None:
    req = requirements(tmp_path, "alpha\n--no-binary native\nnative\n")
    result = build(
        tmp_path / "wh", index_server, "-r", req, "--python", "3.12", "--platform", LINUX
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"error: {req}:2: invalid line '--no-binary native': ")
    assert (
        lines[1]
        == "hint: pass --build to build them into wheels, or remove the line to take wheels"
    )
    assert not (tmp_path / "wh" / "wheelhouse.toml").exists()


def test_no_binary_with_build_builds_the_sdist(tmp_path: Path, index_server: IndexServer) -> None:
    require_fixture_machine()
    req = requirements(tmp_path, "--no-binary native\nnative==1.0\n")
    args = ("-r", req, "--build", "--python", "3.11", "--platform", LINUX)
    result = build(tmp_path / "wh", index_server, *args)
    assert result.exit_code == 0, result.output
    assert "1 wheel(s) built from sdists" in result.output
    assert (tmp_path / "wh" / "native-1.0.tar.gz").is_file()
    assert not list((tmp_path / "wh").glob("native-1.0-cp311-*.whl"))  # the index's wheels refused


def test_only_binary_for_one_project_holds_under_build(
    tmp_path: Path, index_server: IndexServer
) -> None:
    req = requirements(tmp_path, "--only-binary sdistonly\nsdistonly\n")
    args = ("-r", req, "--build", "--python", "3.12", "--platform", LINUX)
    result = build(tmp_path / "wh", index_server, *args)
    assert result.exit_code == 1
    assert "no file of sdistonly 1.0 for target" in result.output
    assert "source distribution refused by --only-binary" in result.output


def test_prefer_binary_takes_an_older_wheel_over_a_newer_sdist(
    tmp_path: Path, index_server: IndexServer
) -> None:
    req = requirements(tmp_path, "--prefer-binary\nnative\n")
    args = ("-r", req, "--build", "--python", "3.12", "--platform", LINUX)
    result = build(tmp_path / "wh", index_server, *args)
    assert result.exit_code == 0, result.output
    assert pins(tmp_path / "wh", f"cp312-{LINUX}")["native"] == "1.0"
    assert "0 wheel(s) built" in result.output


def test_a_yanked_version_pinned_by_a_constraint_is_taken_with_a_warning(
    tmp_path: Path, index_server: IndexServer
) -> None:
    pinned = tmp_path / "constraints.txt"
    pinned.write_text("delta==1.1\n")
    args = ("gamma", "-c", str(pinned), "--python", "3.12", "--platform", LINUX)
    result = build(tmp_path / "wh", index_server, *args)
    assert result.exit_code == 0, result.output
    assert pins(tmp_path / "wh", f"cp312-{LINUX}")["delta"] == "1.1"
    assert "warning: delta 1.1 is yanked (broken build); taken because it is pinned with ==" in (
        result.stderr
    )
