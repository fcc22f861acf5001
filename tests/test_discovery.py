"""Finding interpreters: discovery that trusts no shim, and the default interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import find_python as oracle_python
from helpers import make_venv, shell_script

from wheelhouse.install.discovery import default_python, find_python
from wheelhouse.install.probe import probe

HERE = Path(sys.executable)


def isolate_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Version managers' directories that hold nothing, and a PATH of one empty directory."""
    for name in ("PYENV_ROOT", "UV_PYTHON_INSTALL_DIR", "ASDF_DATA_DIR", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_find_python_trusts_no_shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real, other = oracle_python("3.12"), oracle_python("3.11")
    bin_dir = isolate_discovery(tmp_path, monkeypatch)
    shell_script(
        bin_dir / "python3.12", 'echo "pyenv: python3.12: command not found" >&2; exit 127'
    )
    shell_script(bin_dir / "python3", f'exec {other} "$@"')  # answers, but with the wrong version
    assert find_python("3.12") is None
    install = tmp_path / "pyenv_root" / "versions" / "3.12.99" / "bin"
    install.mkdir(parents=True)
    (install / "python3.12").symlink_to(real)
    found = find_python("3.12")
    assert found is not None and probe(found).version == (3, 12)
    assert find_python("3.12.99") is None  # the directory's name is not what runs


def test_find_python_reports_the_real_executable_behind_a_shim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = oracle_python("3.11")
    shim = shell_script(
        isolate_discovery(tmp_path, monkeypatch) / "python3.11", f'exec {real} "$@"'
    )
    found = find_python("3.11")
    assert found is not None and found != shim
    assert found == probe(real).executable


def test_find_python_finds_what_the_machine_has() -> None:
    for version in ("3.11", "3.12"):
        oracle = oracle_python(version)
        found = find_python(version)
        assert found is not None and probe(found).full_version == probe(oracle).full_version
    assert find_python("3.99") is None


def test_default_python(tmp_path: Path) -> None:
    venv = make_venv(tmp_path, HERE)
    assert default_python({"VIRTUAL_ENV": str(venv.parent.parent)}) == venv
    assert default_python({"VIRTUAL_ENV": str(tmp_path / "gone")}) == HERE
    assert default_python({}) == HERE
