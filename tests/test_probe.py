"""Probing interpreters, the stdlib fallback for tags, and running pip in a controlled way."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import make_venv, run, run_pip, shell_script
from indexserver import FIXTURES
from packaging.markers import default_environment
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name
from wheelhouses import make_wheelhouse, target_for

from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.probe import _PROBE, probe
from wheelhouse.install.process import controlled_environment, pip_command

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


def _answer() -> dict[str, Any]:
    """What the probe prints for this interpreter, to spoil one part at a time."""
    answer: dict[str, Any] = json.loads(run([sys.executable, "-I", "-c", _PROBE]).stdout)
    return answer


#: Answers of the wrong shape: each takes a good answer and returns what is printed.
SPOILED: dict[str, Callable[[dict[str, Any]], object]] = {
    "a list": lambda answer: [answer],
    "a string": lambda answer: "Python 3.12",
    "no version": lambda answer: {k: v for k, v in answer.items() if k != "version"},
    "a version of strings": lambda answer: {**answer, "version": ["3", "12"]},
    "a short version": lambda answer: {**answer, "version": [3]},
    "tags that are numbers": lambda answer: {**answer, "tags": [1, 2]},
    "a tag that does not parse": lambda answer: {**answer, "tags": ["cp312"]},
    "an environment of numbers": lambda answer: {**answer, "environment": {"os_name": 1}},
    "a prefix that is a list": lambda answer: {**answer, "prefix": ["/usr"]},
    "installed pairs": lambda answer: {**answer, "installed": [["alpha", "1.0"]]},
    "a scheme of booleans": lambda answer: {**answer, "scheme": {"purelib": True}},
}


@pytest.mark.parametrize("spoil", sorted(SPOILED))
def test_an_answer_of_the_wrong_shape_is_one_error_naming_the_interpreter(
    tmp_path: Path, spoil: str
) -> None:
    (tmp_path / "answer.json").write_text(json.dumps(SPOILED[spoil](_answer())))
    python = shell_script(tmp_path / "python3", f"cat '{tmp_path / 'answer.json'}'")
    with pytest.raises(InterpreterNotFound) as caught:
        probe(python)
    assert str(caught.value).startswith(f"cannot use {python} as an interpreter: ")
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize("answer", ["[" * 100_000 + "]" * 100_000, "{'not': json}", ""])
def test_nonsense_and_deep_nesting_are_one_error(tmp_path: Path, answer: str) -> None:
    (tmp_path / "answer.txt").write_text(answer)
    python = shell_script(tmp_path / "python3", f"cat '{tmp_path / 'answer.txt'}'")
    with pytest.raises(InterpreterNotFound, match="did not answer like Python 3"):
        probe(python)


def test_the_cli_reports_a_bad_answer_in_one_line(tmp_path: Path) -> None:
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    wheelhouse = make_wheelhouse(tmp_path / "wh", ["evolving==1.0"], [target_for(version)])
    python = shell_script(tmp_path / "python3", 'echo \'{"version": "3.12"}\'')
    command = [sys.executable, "-m", "wheelhouse", "install", "-w", str(wheelhouse)]
    result = run([*command, "--python", str(python)], check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    error, hint = result.stderr.splitlines()
    assert error == (
        f"error: cannot use {python} as an interpreter: its answer to the probe is malformed: "
        "'version' is missing or not a list"
    )
    assert hint.startswith("hint: ")


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


def test_installed_is_what_importlib_metadata_finds(tmp_path: Path) -> None:
    """The probe reads metadata headers itself, without importlib.metadata's import cost."""
    venv = make_venv(tmp_path, HERE)
    site = Path(
        run(
            [str(venv), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    kinds = {
        "Zope.Mixed-1.0.dist-info/METADATA": "Name: Zope.Mixed\nVersion: 1.0\n\nName: other\n",
        "plain-2.0.egg-info/PKG-INFO": "Metadata-Version: 1.1\nname: plain\nversion: 2.0\n",
        "legacy-3.0-py3.8.egg-info": "Metadata-Version: 1.0\nName: legacy\nVersion: 3.0\n",
        "unnamed-4.0.dist-info/METADATA": "Version: 4.0\n\nName: in the body\n",
        "notes.txt": "Name: not a distribution\n",
    }
    for relative, text in kinds.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    oracle = (
        "import json; from importlib import metadata; print(json.dumps("
        "[(d.metadata['Name'], d.version, str(d._path)) for d in metadata.distributions()]))"
    )
    expected = json.loads(run([str(venv), "-I", "-c", oracle]).stdout)
    found = [(d.name, d.version, str(d.path)) for d in probe(venv, installed=True).installed]
    assert found == [(canonicalize_name(n), v, p) for n, v, p in expected if n]
    assert {name for name, _, _ in found} == {"zope-mixed", "plain", "legacy"}
