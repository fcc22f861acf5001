"""Opt-in: a real build against the public index (run with `-m network`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import (
    find_python,
    find_uv,
    installed,
    make_venv,
    pip_command,
    run,
    run_uv,
    unshare_prefix,
    venv_python,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

pytestmark = pytest.mark.network

LINUX = "manylinux_2_28_x86_64"


def test_requests_for_two_pythons_installs_offline(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    run(
        [
            sys.executable,
            "-m",
            "wheelhouse",
            "build",
            "-q",
            "-w",
            str(wh),
            "requests",
            "--python",
            "3.11",
            "--python",
            "3.12",
            "--platform",
            LINUX,
        ]
    )
    for version in ("3.11", "3.12"):
        venv = make_venv(tmp_path, find_python(version), name=f"v{version}", with_pip=True)
        lock = wh / "locks" / f"cp{version.replace('.', '')}-{LINUX}.txt"
        run(
            [
                *unshare_prefix(),
                str(venv),
                "-m",
                "pip",
                "install",
                "--no-index",
                "--find-links",
                str(wh),
                "--require-hashes",
                "-r",
                str(lock),
            ]
        )
        assert "requests" in installed(venv)
        assert "urllib3" in installed(venv)


HATCHLING = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
WORKSPACE = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["liba", "attrs"]

[dependency-groups]
dev = ["pytest"]

[tool.uv.sources]
liba = { workspace = true }

[tool.uv.workspace]
members = ["pkgs/*"]
"""


def _package(root: Path, name: str, pyproject: str, code: str) -> None:
    (root / "src" / name).mkdir(parents=True)
    (root / "src" / name / "__init__.py").write_text(code)
    (root / "pyproject.toml").write_text(f"{pyproject}\n{HATCHLING}")


def test_a_hatchling_uv_workspace_runs_its_tests_offline(tmp_path: Path) -> None:
    """The README recipe with real uv, hatchling and pytest: locked versions, uv.lock untouched."""
    root = tmp_path / "ws"
    _package(root, "app", WORKSPACE, "import attrs\nfrom liba import hello\n")
    liba = '[project]\nname = "liba"\nversion = "0.2.0"\nrequires-python = ">=3.11"\n'
    _package(root / "pkgs" / "liba", "liba", liba, "def hello():\n    return 42\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_app.py").write_text(
        "import app\n\n\ndef test_it():\n    assert app.hello() == 42\n"
    )
    run_uv("lock", cwd=root)
    locked = (root / "uv.lock").read_bytes()
    wh = tmp_path / "wh"
    wheelhouse = [sys.executable, "-m", "wheelhouse"]
    run(
        [*wheelhouse, "build", "-q", "-w", str(wh), "--from-lock", "uv.lock", "--group", "dev"],
        cwd=root,
    )

    uv = find_uv()
    assert uv is not None  # run_uv required it

    def offline(*command: str, env: dict[str, str] | None = None) -> str:
        return run([*unshare_prefix(), *command], cwd=root, env=env).stdout

    offline(uv, "venv", "-q", "--offline", "-p", sys.executable)
    venv = venv_python(root / ".venv")
    offline(*wheelhouse, "install", "-w", str(wh), "--python", str(venv))
    links = ("--offline", "--no-index", "--find-links", str(wh), "--no-deps", "-p", str(venv))
    offline(uv, "pip", "install", *links, "-e", ".", "-e", "pkgs/liba")
    assert "1 passed" in offline(uv, "run", "--no-sync", "--offline", "pytest", "-q")
    packages = tomllib.loads(locked.decode())["package"]
    versions = {p["name"]: p["version"] for p in packages if p["name"] in installed(venv)}
    assert versions == {name: installed(venv)[name] for name in versions}
    assert {"pytest", "attrs", "liba"} <= set(versions)
    assert (root / "uv.lock").read_bytes() == locked
    # pip, under wheelhouse env: hatchling and editables come from the wheelhouse.
    settings = offline(*wheelhouse, "env", "-w", str(wh), "--format", "dotenv")
    env = dict(line.split("=", 1) for line in settings.splitlines() if "=" in line)
    offline(*pip_command(venv), "install", "-e", "pkgs/liba", env=env)


def test_an_old_setup_py_sdist_builds_for_an_old_python(tmp_path: Path) -> None:
    """dill 0.3.1.1: setup.py only, no top-level PKG-INFO; Python 3.8's pip 23.0 lacks wheel."""
    find_python("3.8")  # the interpreter that builds for the target
    wh = tmp_path / "wh"
    build = ["build", "-q", "-w", str(wh), "--build", "dill==0.3.1.1", "--python", "3.8"]
    run([sys.executable, "-m", "wheelhouse", *build])
    assert (wh / "dill-0.3.1.1-py3-none-any.whl").is_file()
