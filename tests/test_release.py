"""The release artifacts of ``scripts/release``: the wheel, and a zipapp for CPython 3.10 to 3.13.

The artifacts are built once, from this environment's installed distributions
(``--from-environment``), so nothing is downloaded. The zipapp then builds a
wheelhouse from the fixture index and installs it with no network under every
Python it serves, and the wheel installs into a fresh virtual environment.
"""

from __future__ import annotations

import email.parser
import importlib.machinery
import sys
import sysconfig
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from helpers import (
    find_python,
    installed,
    make_venv,
    run,
    run_pip,
    run_python,
    unshare_prefix,
)
from indexserver import IndexServer
from releases import RELEASE, Artifacts, built_artifacts  # noqa: F401 (the fixture)

import wheelhouse

PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def test_the_wheel_is_the_projects_own_distribution(artifacts: Artifacts) -> None:
    wheel = artifacts.wheel
    assert wheel.name == f"wheelhouse_mirror_builder-{wheelhouse.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        info = f"wheelhouse_mirror_builder-{wheelhouse.__version__}.dist-info"
        headers = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        names = archive.namelist()
    assert headers["Name"] == "wheelhouse-mirror-builder"
    assert "wheelhouse = wheelhouse.cli:main" in entry_points
    assert "wheelhouse/install/worker.py" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/")]


def test_the_wheel_installs_into_a_fresh_venv(artifacts: Artifacts, tmp_path: Path) -> None:
    wheel = artifacts.wheel
    venv = make_venv(tmp_path, with_pip=True)
    run_pip("install", "--no-index", "--no-deps", str(wheel), python=venv)
    # The dependencies, with no index to get them from: this environment's, behind
    # the venv's own site-packages, so the wheel's copy of the tool comes first.
    site = Path(run_python(venv, "import sysconfig; print(sysconfig.get_path('purelib'))"))
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    assert run([str(venv.parent / "wheelhouse"), "--version"]).stdout.split() == [
        "wheelhouse,",
        "version",
        wheelhouse.__version__,
    ]
    where = run_python(venv, "import wheelhouse; print(wheelhouse.__file__)")
    assert Path(where).is_relative_to(site)


def test_the_zipapp_bundles_no_compiled_module_and_no_pip(artifacts: Artifacts) -> None:
    pyz = artifacts.pyz
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
    assert "__main__.py" in names and "wheelhouse/cli/app.py" in names
    assert "tomli/_parser.py" in names  # what Python 3.10 reads TOML with
    assert not [name for name in names if name.endswith((".so", ".pyd", ".pyc"))]
    assert not [name for name in names if name.startswith(("pip/", "bin/"))]


@pytest.mark.parametrize("version", PYTHONS)
def test_the_zipapp_builds_and_installs_offline_on(
    version: str, artifacts: Artifacts, index_server: IndexServer, tmp_path: Path
) -> None:
    pyz = artifacts.pyz
    python = find_python(version)
    tool = [str(python), "-I", str(pyz)]
    assert (
        run([*tool, "--version"]).stdout.strip() == f"wheelhouse, version {wheelhouse.__version__}"
    )
    house = tmp_path / "wheelhouse"
    build = ["build", "-w", str(house), "--index-url", index_server.url, "-q", "alpha"]
    run([*tool, *build, "--python", version])
    run([*tool, "verify", "-w", str(house)])
    venv = make_venv(tmp_path, python)
    run([*unshare_prefix(), *tool, "install", "-w", str(house), "--python", str(venv)])
    assert installed(venv) == {"alpha": "1.1", "beta": "2.0", "gamma": "1.0", "delta": "1.0"}


def _script() -> ModuleType:
    """``scripts/release`` as a module, for its checks of a bundle."""
    loader = importlib.machinery.SourceFileLoader("release_script", str(RELEASE))
    module = ModuleType(loader.name)
    module.__file__ = str(RELEASE)
    sys.modules[loader.name] = module  # dataclasses look their module up
    loader.exec_module(module)
    return module


def _distribution(stage: Path, name: str, *requires: str) -> None:
    info = stage / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    lines = [f"Name: {name}", "Version: 1.0", *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


def test_a_requirement_of_the_oldest_python_only_is_still_bundled(tmp_path: Path) -> None:
    dist = _script()
    _distribution(
        tmp_path,
        "tool",
        "needed",
        "backport; python_version < '3.11'",
        "old; python_version < '3.8'",
    )
    _distribution(tmp_path, "needed")
    assert [str(r) for r in dist.missing(tmp_path)] == ['backport; python_version < "3.11"']


def test_a_backport_of_a_standard_module_is_refused(tmp_path: Path) -> None:
    dist = _script()
    (tmp_path / "pathlib.py").write_text("")
    with pytest.raises(dist.DistError, match="shadow the standard library: pathlib"):
        dist.check_stdlib(tmp_path)


def test_compiled_modules_go_and_need_their_source(tmp_path: Path) -> None:
    dist = _script()
    package = tmp_path / "fast"
    package.mkdir()
    for name in ("_parser.py", "_parser.cpython-311-x86_64-linux-gnu.so"):
        (package / name).write_text("")
    (tmp_path / "1a2b__mypyc.cpython-311-x86_64-linux-gnu.so").write_text("")
    dist.strip_compiled(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["_parser.py", "fast"]
    (package / "_only.cpython-311-x86_64-linux-gnu.so").write_text("")
    with pytest.raises(dist.DistError, match="compiled, with no Python source"):
        dist.strip_compiled(tmp_path)
