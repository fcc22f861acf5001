"""Probing interpreters, the stdlib fallback for tags, and running pip in a controlled way."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import make_venv, run, run_pip, shell_script
from indexserver import FIXTURES
from packaging.markers import default_environment
from packaging.tags import sys_tags

from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.probe import (
    controlled_environment,
    pip_command,
    probe,
)

HERE = Path(sys.executable)


def test_probe_answers_like_packaging_in_the_interpreter_itself() -> None:
    info = probe(HERE)
    assert info.path == HERE.absolute()
    assert info.version == sys.version_info[:2]
    assert info.full_version == default_environment()["python_full_version"]
    assert info.implementation == "cpython"
    assert list(info.tags) == list(sys_tags())
    assert dict(info.environment) == default_environment()
    assert info.prefix == Path(sys.prefix)
    assert info.is_venv == (sys.prefix != sys.base_prefix)
    assert info.pip_version is not None and info.tags_source == "pip"


def test_the_stdlib_fallback_computes_the_same_tags(tmp_path: Path) -> None:
    """A venv without pip has neither pip's packaging nor packaging: the host computes tags."""
    venv = make_venv(tmp_path, HERE)
    bare, full = probe(venv), probe(HERE)
    assert bare.tags_source == "stdlib" and bare.pip_version is None
    assert set(bare.tags) == set(full.tags)
    portable = [tag for tag in full.tags if not tag.platform.startswith("linux_")]
    assert [tag for tag in bare.tags if not tag.platform.startswith("linux_")] == portable
    assert bare.is_venv and bare.path == venv and bare.executable == venv


def test_platform_and_tag_skip_the_unportable_linux_tag() -> None:
    info = probe(HERE)
    assert not info.platform.startswith("linux_")
    assert info.tag == f"cp{sys.version_info[0]}{sys.version_info[1]}-{info.platform}"
    assert info.target.name == info.tag
    assert info.target.python_full_version == info.full_version


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('echo "pyenv: python3.12: command not found" >&2; exit 127', "command not found"),
        ("echo hello", "did not answer like Python 3"),
    ],
)
def test_probe_refuses_what_is_not_an_interpreter(tmp_path: Path, body: str, reason: str) -> None:
    with pytest.raises(InterpreterNotFound, match=reason):
        probe(shell_script(tmp_path / "python3.12", body))
    with pytest.raises(InterpreterNotFound, match="No such file"):
        probe(tmp_path / "missing")


def test_controlled_environment(tmp_path: Path) -> None:
    base = {"PIP_INDEX_URL": "x", "UV_INDEX_URL": "y", "PATH": "/bin", "PIP_CONFIG_FILE": "z"}
    env = controlled_environment(tmp_dir=tmp_path, base=base)
    assert env == {
        "PATH": "/bin",
        "PIP_CONFIG_FILE": os.devnull,
        "TMPDIR": str(tmp_path),
        "TEMP": str(tmp_path),
        "TMP": str(tmp_path),
    }


def test_pip_command_uses_the_interpreters_pip_or_drives_it_from_here(tmp_path: Path) -> None:
    bare = make_venv(tmp_path, HERE, name="bare")
    assert pip_command(probe(bare))[:6] == [
        sys.executable,
        "-I",
        "-m",
        "pip",
        "--python",
        str(bare),
    ]
    assert pip_command(probe(HERE))[:4] == [str(HERE.absolute()), "-I", "-m", "pip"]
    assert pip_command(probe(HERE))[-2:] == ["--no-input", "--disable-pip-version-check"]
    version = run([*pip_command(probe(bare)), "--version"]).stdout
    assert f"(python {sys.version_info[0]}.{sys.version_info[1]})" in version


def test_installed_distributions_and_scheme(tmp_path: Path) -> None:
    venv = make_venv(tmp_path, HERE)
    assert probe(venv).installed == ()  # not asked for
    assert probe(venv, installed=True).installed_versions == {}
    wheel = FIXTURES / "files" / "zope_name_mixed-1.0-py3-none-any.whl"
    run_pip("install", "--no-deps", "--no-index", str(wheel), python=venv)
    info = probe(venv, installed=True)
    assert info.installed_versions == {"zope-name-mixed": "1.0"}
    site = venv.parent.parent / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (dist,) = info.installed
    assert dist.path == site / "site-packages" / "zope_name_mixed-1.0.dist-info"
    assert info.scheme["purelib"] == str(site / "site-packages")
    assert info.scheme["scripts"] == str(venv.parent)
    assert info.scheme["data"] == str(venv.parent.parent)
    assert info.scheme["headers"] == str(venv.parent.parent / "include" / "site" / site.name)
