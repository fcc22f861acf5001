"""Errors the command line explains: operating-system failures, bad options, busy wheelhouses."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import make_venv, run
from wheelhouses import make_wheelhouse, target_for

from wheelhouse.cli import cli
from wheelhouse.commands import prune as prune_command
from wheelhouse.house.directory import Wheelhouse

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def explained(result: Result) -> tuple[str, str]:
    """The `error:` and `hint:` lines of a failure with exit status 1 and no traceback."""
    assert result.exit_code == 1, result.output + repr(result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: ") and hint.startswith("hint: "), result.stderr
    return error, hint


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A file where a directory is expected: every path under it fails with ENOTDIR."""
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return path


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    """A wheelhouse whose only lock is for the interpreter running the tests."""
    return make_wheelhouse(tmp_path / "wh", ["evolving==1.0"], [target_for(HERE)])


def test_an_unusable_tmpdir_from_the_environment_is_explained(
    wheelhouse: Path, blocker: Path, tmp_path: Path
) -> None:
    venv = make_venv(tmp_path)
    env = {"WHEELHOUSE_TMPDIR": str(blocker / "tmp")}
    result = invoke("install", "-w", str(wheelhouse), "--python", str(venv), env=env)
    error, hint = explained(result)
    assert error.startswith(f"error: {blocker / 'tmp'}") and error.endswith(": Not a directory")
    assert hint == "hint: check that every parent of the path is a directory"


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_tmp_dir_must_be_an_existing_directory(
    wheelhouse: Path, blocker: Path, tmp_path: Path, kind: str
) -> None:
    where = tmp_path / "missing" if kind == "missing" else blocker
    result = invoke("install", "-w", str(wheelhouse), "--tmp-dir", str(where))
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--tmp-dir'" in result.stderr
    assert "Traceback" not in result.output


def test_a_wheelhouse_under_a_file_is_explained_by_build(blocker: Path) -> None:
    error, hint = explained(invoke("build", "-q", "-w", str(blocker / "wh"), "alpha"))
    assert error == f"error: {blocker / 'wh'}: Not a directory"
    assert hint == "hint: check that every parent of the path is a directory"


def test_a_wheelhouse_under_a_file_is_explained_by_merge(wheelhouse: Path, blocker: Path) -> None:
    error, _ = explained(invoke("merge", "-w", str(blocker / "out"), str(wheelhouse)))
    assert error == f"error: {blocker / 'out'}: Not a directory"


def test_a_wheelhouse_that_is_a_file_is_a_usage_error(blocker: Path) -> None:
    result = invoke("prune", "-w", str(blocker))
    assert result.exit_code == 2 and "is a file" in result.stderr


def _disk_full(wheelhouse: Wheelhouse, *, dry_run: bool = False) -> prune_command.PrunePlan:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(wheelhouse.root / "x.whl"))


def test_an_os_error_is_one_line_and_a_hint_and_a_traceback_with_verbose(
    wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prune_command, "prune", _disk_full)
    error, hint = explained(invoke("prune", "-w", str(wheelhouse)))
    assert error == f"error: {wheelhouse / 'x.whl'}: {os.strerror(errno.ENOSPC)}"
    assert hint.startswith("hint: free some disk space")
    verbose = invoke("-v", "prune", "-w", str(wheelhouse))
    assert isinstance(verbose.exception, OSError) and verbose.stderr == ""


def test_index_over_a_wheelhouse_waits_for_no_build(wheelhouse: Path) -> None:
    """It takes the wheelhouse's write lock, so it never interleaves with a build."""
    with Wheelhouse(wheelhouse).exclusive():
        error, _ = explained(invoke("index", str(wheelhouse)))
    assert error == f"error: {wheelhouse} is being written by another process"
    assert not (wheelhouse / "simple").exists()
    assert invoke("index", str(wheelhouse)).exit_code == 0
    assert (wheelhouse / "simple" / "evolving" / "index.html").is_file()


def test_index_over_a_plain_directory_takes_no_lock(tmp_path: Path) -> None:
    assert invoke("index", str(tmp_path)).exit_code == 0
    assert not (tmp_path / ".wheelhouse.lock").exists()


def test_index_over_a_wheelhouse_with_a_malformed_manifest(wheelhouse: Path) -> None:
    (wheelhouse / "wheelhouse.toml").write_text("[files\n")
    error, _ = explained(invoke("index", str(wheelhouse)))
    assert error.startswith(f"error: cannot read {wheelhouse / 'wheelhouse.toml'}: ")


@pytest.mark.parametrize(
    "command", [("verify",), ("prune", "--dry-run"), ("env",), ("install", "--dry-run")]
)
def test_a_stray_text_file_in_locks_is_no_lock(wheelhouse: Path, command: tuple[str, ...]) -> None:
    assert invoke("index", str(wheelhouse)).exit_code == 0
    (wheelhouse / "locks" / "README.txt").write_text("These are the locks.\n")
    result = invoke(*command, "-w", str(wheelhouse))
    assert result.exit_code == 0, result.output + repr(result.exception)


DEEP = {
    "headers": "\n[" + ".".join(["a"] * 1000) + "]\n",
    "arrays": "\nx = " + "[" * 100_000 + "]" * 100_000 + "\n",
}


@pytest.mark.parametrize("nesting", sorted(DEEP))
@pytest.mark.parametrize(
    "command", [("verify",), ("prune", "--dry-run"), ("env",), ("install", "--dry-run"), ("build",)]
)
def test_a_deeply_nested_manifest_is_one_line_naming_it(
    wheelhouse: Path, nesting: str, command: tuple[str, ...]
) -> None:
    manifest = wheelhouse / "wheelhouse.toml"
    manifest.write_text(manifest.read_text() + DEEP[nesting])
    error, _ = explained(invoke(*command, "-w", str(wheelhouse)))
    assert error == f"error: cannot read {manifest}: its tables or arrays nest more than 32 deep"


def _lock(wheelhouse: Path, kind: str) -> Path:
    name = f"pylock.{target_for(HERE)}.toml" if kind == "pylock" else f"{target_for(HERE)}.txt"
    return wheelhouse / "locks" / name


@pytest.mark.parametrize(
    ("kind", "spoil", "reason"),
    [
        ("txt", lambda text: "this is == not a lock\n", "not a pinned requirement"),
        ("pylock", lambda text: text + "\nx = " + "[" * 100_000 + "]" * 100_000, "nest more"),
        ("pylock", lambda text: text.replace("path = ", "url = "), "has a file with no path"),
        ("pylock", None, "No such file or directory"),
    ],
)
def test_an_unusable_lock_is_named_with_what_is_wrong(
    wheelhouse: Path, kind: str, spoil: Callable[[str], str] | None, reason: str
) -> None:
    """The file at fault, not its twin, and no ``None`` and no path given twice."""
    lock = _lock(wheelhouse, kind)
    if spoil is None:
        lock.unlink()
    else:
        lock.write_text(spoil(lock.read_text()))
    error, _ = explained(invoke("install", "--dry-run", "-w", str(wheelhouse)))
    assert error.startswith(f"error: cannot use the lock {lock}: ")
    assert reason in error and "None" not in error and error.count(str(lock)) == 1


def test_verify_names_what_is_missing_without_none(wheelhouse: Path) -> None:
    lock = _lock(wheelhouse, "pylock")
    lock.write_text(lock.read_text().replace("path = ", "url = "))
    manifest = wheelhouse / "wheelhouse.toml"
    manifest.write_text(manifest.read_text().replace('name = "cp', 'label = "cp'))
    result = invoke("verify", "-w", str(wheelhouse))
    assert result.exit_code == 1 and "None" not in result.output
    assert "evolving-1.0-py3-none-any.whl has no path in the wheelhouse" in result.output
    assert "wheelhouse.toml: a [[targets]] entry has no name" in result.output


def test_refresh_check_tells_a_failure_from_a_change(tmp_path: Path) -> None:
    """1 means "pins would change", so a failure under --check exits 3."""
    result = invoke("refresh", "--check", "-w", str(tmp_path / "nothing"))
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert invoke("refresh", "-w", str(tmp_path / "nothing")).exit_code == 1


def test_diff_exit_code_tells_a_failure_from_a_difference(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    assert invoke("diff", "--exit-code", missing, missing).exit_code == 3
    assert invoke("diff", missing, missing).exit_code == 1


@pytest.mark.parametrize("command", ["build", "refresh", "fetch"])
def test_index_url_help_names_every_place_an_index_comes_from(command: str) -> None:
    """refresh and fetch fall back on the recorded index, and fetch resolves nothing."""
    text = " ".join(invoke(command, "--help").output.split())
    help_of_index = text.partition("--index-url URL")[2].partition(" --")[0]
    for place in ("$WHEELHOUSE_INDEX_URL", "$PIP_INDEX_URL", "the recorded index", "pip's default"):
        assert place in help_of_index, (place, help_of_index)
    assert "resolve against" not in help_of_index


#: What only build, refresh and fetch need (their error classes aside, which any command may
#: report, and the empty packages around them): it would cost every other command a third
#: of a second.
_BUILD_ONLY = (
    "httpx",
    "resolvelib",
    "wheelhouse.resolve.",
    "wheelhouse.index.",
    "wheelhouse.sdist.",
    "wheelhouse.commands.build",
    "wheelhouse.model.pages",
)
#: Runs ``wheelhouse ARGS...`` in a fresh interpreter, then prints which modules it loaded.
_LOADED = """\
import sys
from wheelhouse.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="wheelhouse")
finally:
    print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_loaded(*args: str) -> list[str]:
    """The modules ``wheelhouse ARGS...`` loaded; it may fail (verify finding problems)."""
    result = run([sys.executable, "-c", _LOADED, *args], check=False)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    return result.stderr.splitlines()[-1].split()


def _build_only(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(_BUILD_ONLY) and not m.endswith(".errors")]


def test_help_loads_no_command_and_lists_each_by_the_first_line_of_its_help() -> None:
    code = (
        "import sys, click\n"
        "from wheelhouse.cli import cli\n"
        "ctx = click.Context(cli, info_name='wheelhouse')\n"
        "listed = cli.get_help(ctx)\n"
        "print(sorted(m for m in sys.modules if m.startswith('wheelhouse.cli.')))\n"
        "for name in cli.list_commands(ctx):\n"
        "    cli.get_command(ctx, name)\n"
        "print(listed == cli.get_help(ctx))\n"
    )
    loaded, same = run([sys.executable, "-c", code]).stdout.splitlines()
    assert loaded == "['wheelhouse.cli.app']"
    assert same == "True"  # the summaries registered are what the commands' help says
    modules = _modules_loaded("--help")
    assert "click" in modules and _build_only(modules) == []


@pytest.mark.parametrize(
    "command",
    [("install", "--dry-run"), ("install", "--backend", "uv", "--dry-run"), ("env",), ("verify",)],
)
def test_commands_that_never_reach_an_index_load_none_of_its_code(
    wheelhouse: Path, command: tuple[str, ...]
) -> None:
    python = ("--python", sys.executable) if command[0] == "install" else ()
    modules = _modules_loaded(*command, "-w", str(wheelhouse), *python)
    assert "wheelhouse.cli.install" in modules or "wheelhouse.cli.upkeep" in modules
    assert _build_only(modules) == []
    if "uv" in command:  # nor the engine, when uv installs
        assert "wheelhouse.install.engine" not in modules
