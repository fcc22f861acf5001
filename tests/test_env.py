"""`wheelhouse env`: settings under which plain pip, uv, nox and tox install only the pins.

Each test points the tools somewhere else first (an index that serves the newer
``evolving`` 1.1, a find-links directory that holds it) and checks that the
settings win, with the network off where the machine allows it.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import pytest
from conftest import require
from helpers import find_uv, make_venv, run, unshare_prefix
from indexserver import FIXTURES, IndexServer
from wheelhouses import make_wheelhouse, target_for

from wheelhouse.install.discovery import find_python
from wheelhouse.model.locks import parse_requirements_lock

HERE = Path(sys.executable)
TOOLS = HERE.parent
VERSION = "import importlib.metadata as m; print('evolving', m.version('evolving'))"
NOXFILE = f"""\
import nox


@nox.session(venv_backend="virtualenv")
def check(session):
    session.install("evolving")
    session.run("python", "-c", {VERSION!r})
"""
TOX_INI = f"""\
[tox]
env_list = check

[testenv:check]
skip_install = true
deps = evolving
commands = python -c "{VERSION}"
"""


@pytest.fixture(scope="module")
def wheelhouse(
    tmp_path_factory: pytest.TempPathFactory, _session_index_server: IndexServer
) -> Path:
    """Pins evolving 1.0 for this interpreter's Python (and 3.12), under a path with a space."""
    dest = tmp_path_factory.mktemp("env") / "with space" / "wheelhouse"
    targets = sorted(
        {target_for(f"{sys.version_info[0]}.{sys.version_info[1]}"), target_for("3.12")}
    )
    make_wheelhouse(dest, ["evolving==1.0", "alpha"], targets, _session_index_server.url)
    # A file no lock names, as a refresh leaves until a prune: only the constraints keep it out.
    shutil.copy(FIXTURES / "files" / "evolving-1.1-py3-none-any.whl", dest)
    return dest


@pytest.fixture
def elsewhere(tmp_path: Path, index_server: IndexServer) -> dict[str, str]:
    """A user's pip and uv settings that would fetch evolving 1.1."""
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {index_server.url}\nfind-links = {FIXTURES}/files\n")
    return {"PIP_CONFIG_FILE": str(config), "UV_INDEX_URL": index_server.url}


def env_command(wheelhouse: Path, *args: str) -> str:
    return shlex.join([sys.executable, "-m", "wheelhouse", "env", "-w", str(wheelhouse), *args])


def in_shell(
    command: str, wheelhouse: Path | None, extra: dict[str, str], offline: bool = True
) -> str:
    """Run ``command`` in bash, after ``eval "$(wheelhouse env)"`` unless ``wheelhouse`` is None."""
    setup = f'eval "$({env_command(wheelhouse)})" && ' if wheelhouse else ""
    prefix = unshare_prefix() if offline else []
    path = f"{TOOLS}:/usr/bin:/bin"
    result = run([*prefix, "bash", "-c", setup + command], env={**extra, "PATH": path})
    return result.stdout + result.stderr


def test_pip_gets_the_pin_not_the_newer_release(
    wheelhouse: Path, tmp_path: Path, elsewhere: dict[str, str], index_server: IndexServer
) -> None:
    venv = make_venv(tmp_path, HERE, with_pip=True)
    install = f"{venv} -m pip install --disable-pip-version-check evolving && {venv} -c {VERSION!r}"
    assert "evolving 1.1" in in_shell(install, None, elsewhere, offline=False)  # the control
    run([str(venv), "-m", "pip", "uninstall", "-y", "-q", "evolving"])
    index_server.reset_log()
    assert "evolving 1.0" in in_shell(install, wheelhouse, elsewhere, offline=False)
    assert index_server.log == []


def test_uv_gets_the_pin(
    wheelhouse: Path, tmp_path: Path, elsewhere: dict[str, str], index_server: IndexServer
) -> None:
    require("uv", find_uv() is not None, "the test extra installs it")
    venv = make_venv(tmp_path, HERE)
    install = f"uv pip install --python {venv} evolving && {venv} -c {VERSION!r}"
    uv_env = {**elsewhere, "UV_NO_CACHE": "1"}
    assert "evolving 1.0" in in_shell(install, wheelhouse, uv_env, offline=False)
    assert index_server.log == []


def test_a_nox_session_gets_the_pin(
    wheelhouse: Path, tmp_path: Path, elsewhere: dict[str, str]
) -> None:
    (tmp_path / "noxfile.py").write_text(NOXFILE)
    nox = f"cd {tmp_path} && nox --envdir {tmp_path / '.nox'} --no-color"
    assert "evolving 1.0" in in_shell(nox, wheelhouse, elsewhere)


def test_a_tox_env_gets_the_pin(
    wheelhouse: Path, tmp_path: Path, elsewhere: dict[str, str]
) -> None:
    (tmp_path / "tox.ini").write_text(TOX_INI)
    tox = f"cd {tmp_path} && tox -e check --workdir {tmp_path / '.tox'}"
    assert "evolving 1.0" in in_shell(tox, wheelhouse, elsewhere)


def test_pip_conf_and_dotenv_formats(wheelhouse: Path, tmp_path: Path) -> None:
    venv = make_venv(tmp_path, HERE, with_pip=True)
    conf = tmp_path / "pip.conf"
    conf.write_text(run(shlex.split(env_command(wheelhouse, "--format", "pip.conf"))).stdout)
    install = f"{venv} -m pip install -q evolving && {venv} -c {VERSION!r}"
    assert "evolving 1.0" in in_shell(install, None, {"PIP_CONFIG_FILE": str(conf)})
    dotenv = run(shlex.split(env_command(wheelhouse, "--format", "dotenv"))).stdout
    settings = dict(
        (key, shlex.split(value)[0])
        for key, value in (line.split("=", 1) for line in dotenv.splitlines()[1:])
    )
    assert settings["PIP_NO_INDEX"] == "1" and settings["UV_OFFLINE"] == "1"
    run([str(venv), "-m", "pip", "uninstall", "-y", "-q", "evolving"])
    assert "evolving 1.0" in in_shell(install, None, settings)


def test_uv_toml_format(wheelhouse: Path, tmp_path: Path) -> None:
    require("uv", find_uv() is not None, "the test extra installs it")
    venv = make_venv(tmp_path, HERE)
    config = tmp_path / "uv.toml"
    config.write_text(run(shlex.split(env_command(wheelhouse, "--format", "uv.toml"))).stdout)
    install = f"uv pip install --config-file {config} --python {venv} evolving alpha"
    in_shell(f"{install} && {venv} -c {VERSION!r}", None, {"UV_NO_CACHE": "1"})
    assert "evolving 1.0" in in_shell(f"{venv} -c {VERSION!r}", None, {})


def test_sh_output_names_the_interpreters_target(wheelhouse: Path) -> None:
    out = run(shlex.split(env_command(wheelhouse, "--python", sys.executable))).stdout
    target = target_for(f"{sys.version_info[0]}.{sys.version_info[1]}")
    constraints = wheelhouse / "constraints" / f"{target}.txt"
    assert out.splitlines() == [
        f"# wheelhouse {wheelhouse}, target {target}",
        "export PIP_NO_INDEX=1",
        f"export PIP_FIND_LINKS={wheelhouse.as_uri()}",  # a path with a space goes as a URL
        f"export PIP_CONSTRAINT={constraints.as_uri()}",
        "export UV_OFFLINE=1",
        f"export UV_FIND_LINKS={wheelhouse.as_uri()}",
        f"export UV_CONSTRAINT={constraints.as_uri()}",
    ]
    assert "--hash" not in constraints.read_text()  # pip < 24 refuses hashed constraints
    lock = (wheelhouse / "locks" / f"{target}.txt").read_text()
    pins = [f"{entry.name}=={entry.version}" for entry in parse_requirements_lock(lock)]
    assert [line for line in constraints.read_text().splitlines() if line[0] != "#"] == pins


def test_errors(wheelhouse: Path, tmp_path: Path) -> None:
    python313 = find_python("3.13")
    copy = Path(shutil.copytree(wheelhouse, tmp_path / "copy"))
    for path in (copy / "constraints").iterdir():
        path.unlink()
    result = run(shlex.split(env_command(copy)), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot use the lock ")
    assert "the constraints file is missing" in result.stderr
    result = run(shlex.split(env_command(tmp_path)), check=False)
    assert result.returncode == 1 and "is not a wheelhouse" in result.stderr
    if python313:
        result = run(shlex.split(env_command(wheelhouse, "--python", str(python313))), check=False)
        assert result.returncode == 1 and "no target of the wheelhouse" in result.stderr
