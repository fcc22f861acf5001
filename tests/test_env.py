"""`wheelhouse env`: settings under which plain pip, uv, nox and tox install only the pins.

Each test points the tools somewhere else first (an index that serves the newer
``evolving`` 1.1, a find-links directory that holds it) and checks that the
settings win, with the network off where the machine allows it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import require
from helpers import (
    find_python,
    find_uv,
    make_venv,
    run,
    run_python,
    shell_script,
    unshare_prefix,
)
from indexserver import FIXTURES, IndexServer
from packaging.markers import Marker
from packaging.requirements import Requirement
from wheelhouses import make_wheelhouse, target_for

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.install.discovery import find_python as discover_python
from wheelhouse.model.locks import LockedRequirement, parse_requirements_lock
from wheelhouse.model.targets import Target

HERE = Path(sys.executable)
TOOLS = HERE.parent
VERSION = "import importlib.metadata as m; print('evolving', m.version('evolving'))"
#: The Pythons of the nox and tox matrix: their modern pins differ (1.0, then 2.0).
MATRIX = ("3.11", "3.12")
REPORT = (
    "import importlib.metadata as m, sys; "
    "print('py%d.%d' % sys.version_info[:2], 'modern', m.version('modern'), "
    "'evolving', m.version('evolving'))"
)
#: What each Python of the matrix reports when it got its own target's pins.
PINNED = ("py3.11 modern 1.0 evolving 1.0", "py3.12 modern 2.0 evolving 1.0")
NOXFILE = """\
import nox


@nox.session(python={pythons!r}, venv_backend={backend!r})
def check(session):
    session.install("evolving", "modern")
    session.run("python", "-c", {report!r})
"""
TOX_INI = """\
[tox]
env_list = py311, py312

[testenv]
runner = {runner}
skip_install = true
deps =
    evolving
    modern
commands = python -c "{report}"
"""


@pytest.fixture(scope="module")
def wheelhouse(
    tmp_path_factory: pytest.TempPathFactory, _session_index_server: IndexServer
) -> Path:
    """Pins evolving 1.0 for 3.10 to 3.12 and this Python, under a path with a space.

    modern pins differ: 1.0 up to 3.11, 2.0 from 3.12 (its requires-python).
    """
    dest = tmp_path_factory.mktemp("env") / "with space" / "wheelhouse"
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    targets = sorted({target_for(version) for version in (*MATRIX, "3.10", running)})
    requirements = ["evolving==1.0", "alpha", "modern"]
    make_wheelhouse(dest, requirements, targets, _session_index_server.url)
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
    env = {"PATH": f"{TOOLS}:/usr/bin:/bin", **extra}
    result = run([*prefix, "bash", "-c", setup + command], env=env)
    return result.stdout + result.stderr


def test_pip_gets_the_pin_not_the_newer_release(
    wheelhouse: Path, tmp_path: Path, elsewhere: dict[str, str], index_server: IndexServer
) -> None:
    # This venv's pip: one that reads PEP 714 metadata fields of the index (pip 23.2 does not).
    venv = make_venv(tmp_path, HERE)
    pip = f"{HERE} -m pip --python {venv} --disable-pip-version-check"
    install = f"{pip} install evolving && {venv} -c {VERSION!r}"
    assert "evolving 1.1" in in_shell(install, None, elsewhere, offline=False)  # the control
    run([str(HERE), "-m", "pip", "--python", str(venv), "uninstall", "-y", "-q", "evolving"])
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


def _matrix_path() -> str:
    """PATH with this venv's tools and a python3.X of each Python of the matrix."""
    pythons = [str(find_python(version).parent) for version in MATRIX]
    return ":".join([str(TOOLS), *pythons, "/usr/bin", "/bin"])


@pytest.mark.parametrize("backend", ["virtualenv", "uv"])
def test_nox_sessions_over_two_pythons_get_their_own_pins(
    wheelhouse: Path, tmp_path: Path, elsewhere: dict[str, str], backend: str
) -> None:
    if backend == "uv":
        require("uv", find_uv() is not None, "the test extra installs it")
    noxfile = NOXFILE.format(pythons=list(MATRIX), backend=backend, report=REPORT)
    (tmp_path / "noxfile.py").write_text(noxfile)
    nox = f"cd {tmp_path} && nox --envdir {tmp_path / '.nox'} --no-color"
    out = in_shell(nox, wheelhouse, {**elsewhere, "PATH": _matrix_path()})
    assert all(line in out for line in PINNED), out


@pytest.mark.parametrize("runner", ["virtualenv", "uv-venv-runner"])
def test_tox_envs_over_two_pythons_get_their_own_pins(
    wheelhouse: Path, tmp_path: Path, elsewhere: dict[str, str], runner: str
) -> None:
    """tox's own virtualenv runner (pip inside), and tox-uv's (uv pip)."""
    (tmp_path / "tox.ini").write_text(TOX_INI.format(runner=runner, report=REPORT))
    tox = f"cd {tmp_path} && tox --workdir {tmp_path / '.tox'}"
    out = in_shell(tox, wheelhouse, {**elsewhere, "PATH": _matrix_path()})
    assert all(line in out for line in PINNED), out


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
    python313 = discover_python("3.13")
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


#: Settings of a user's shell that ``env`` must not leave in force when it cannot serve.
WIDENING = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX_URL", "UV_INDEX")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheelhouse with one target only, for a Python other than the one running."""
    other = "3.11" if sys.version_info[:2] == (3, 12) else "3.12"
    dest = tmp_path_factory.mktemp("foreign") / "wheelhouse"
    return make_wheelhouse(dest, ["evolving==1.0"], [target_for(other)])


def _no_constraints(wheelhouse: Path, tmp_path: Path) -> str:
    copy = Path(shutil.copytree(wheelhouse, tmp_path / "copy"))
    shutil.rmtree(copy / "constraints")
    return env_command(copy)


def _bad_probe(wheelhouse: Path, tmp_path: Path) -> str:
    python = shell_script(tmp_path / "python", "echo '[1, 2]'")
    return env_command(wheelhouse, "--python", str(python))


#: Every way ``env`` can fail to serve: each makes the command that ``eval`` runs.
FAILURES: dict[str, Callable[[Path, Path], str]] = {
    "not a wheelhouse": lambda wheelhouse, tmp_path: env_command(tmp_path),
    "no constraints": _no_constraints,
    "no such interpreter": lambda wh, _: env_command(wh, "--python", "/nonexistent/python"),
    "a probe that answers nonsense": _bad_probe,
    "a usage error": lambda wh, tmp_path: env_command(wh, "--python", str(tmp_path)),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failure_stops_set_e_and_leaves_the_shell_offline(
    wheelhouse: Path, tmp_path: Path, failure: str
) -> None:
    command = FAILURES[failure](wheelhouse, tmp_path)
    stopped = run(["bash", "-c", f'set -e; eval "$({command})"; echo reached'], check=False)
    assert stopped.returncode != 0 and "reached" not in stopped.stdout
    assert "error: " in stopped.stderr.lower() and "Traceback" not in stopped.stderr
    user = dict.fromkeys(WIDENING, "http://127.0.0.1:9/simple/")
    after = run(["bash", "-c", f'eval "$({command})"; env'], env=user, check=False).stdout
    assert {"PIP_NO_INDEX=1", "UV_OFFLINE=1", "UV_NO_INDEX=1"} <= set(after.splitlines())
    assert not [line for line in after.splitlines() if line.startswith(WIDENING)]


def test_a_failure_prints_settings_and_exits_1(foreign: Path) -> None:
    result = run(shlex.split(env_command(foreign, "--python", sys.executable)), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no target of the wheelhouse matches ")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# wheelhouse env cannot serve: no target of the wheelhouse")
    assert lines[-2].startswith("unset PIP_INDEX_URL ") and lines[-1] == "false"


def test_after_a_failure_pip_and_uv_reach_no_index(
    foreign: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    """The user's shell points pip and uv at an index with evolving; neither may ask it."""
    require("uv", find_uv() is not None, "the test extra installs it")
    (tmp_path / "pip.conf").write_text(f"[global]\nindex-url = {index_server.url}\n")
    (tmp_path / "uv.toml").write_text(f'index-url = "{index_server.url}"\n')
    user = {
        **dict.fromkeys(("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL"), index_server.url),
        "PIP_CONFIG_FILE": str(tmp_path / "pip.conf"),  # env neither clears nor needs to clear
        "UV_CONFIG_FILE": str(tmp_path / "uv.toml"),
    }
    target = tmp_path / "target"
    pip = f"python -m pip install -q --target {target} evolving"
    uv = f"uv pip install --target {target} evolving"
    command = env_command(foreign, "--python", sys.executable)
    script = f'unset UV_NO_CONFIG; eval "$({command})"; {pip}; {uv}; ls {target}'
    out = run(["bash", "-c", script], env={**user, "PATH": f"{TOOLS}:/usr/bin:/bin"}, check=False)
    assert "evolving" not in out.stdout, out.stdout + out.stderr
    assert index_server.log == []
    control = run(["bash", "-c", f"{pip} && ls {target}"], env={**user, "PATH": f"{TOOLS}:/bin"})
    assert "evolving" in control.stdout and index_server.log  # the settings did point there


def _dotenv(text: str) -> dict[str, str]:
    """What a loader that skips bad lines (python-dotenv) takes from a dotenv file."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#")
    return {key: value for key, value in pairs}


@pytest.mark.parametrize("form", ["dotenv", "pip.conf", "uv.toml"])
def test_every_format_fails_closed(
    foreign: Path, tmp_path: Path, index_server: IndexServer, form: str
) -> None:
    command = env_command(foreign, "--format", form, "--python", sys.executable)
    result = run(shlex.split(command), check=False)
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    config = tmp_path / "settings"
    config.write_text(result.stdout)
    download = ["python", "-m", "pip", "download", "-q", "-d", str(tmp_path), "evolving"]
    (tmp_path / "requirements.in").write_text("evolving\n")
    compile_ = ["uv", "pip", "compile", "--index-url", index_server.url, "requirements.in"]
    env = {"PIP_INDEX_URL": index_server.url, "PATH": f"{TOOLS}:/usr/bin:/bin"}
    if form == "dotenv":
        assert result.stdout.splitlines()[-1].split("=")[0].count(" ")  # docker refuses it
        env |= _dotenv(result.stdout)
        assert run(download, env=env, check=False).returncode != 0
    elif form == "pip.conf":
        env["PIP_CONFIG_FILE"] = str(config)
        assert run(download, env=env, check=False).returncode != 0
    else:
        require("uv", find_uv() is not None, "the test extra installs it")
        compile_[3:3] = ["--config-file", str(config)]
        assert run(compile_, cwd=tmp_path, env=env, check=False).returncode != 0
    assert list(tmp_path.glob("evolving-*")) == []
    assert index_server.log == []


def test_the_matrix_constraints_give_each_target_exactly_its_pins(wheelhouse: Path) -> None:
    text = (wheelhouse / "constraints" / "all.txt").read_text()
    lines = [Requirement(line) for line in text.splitlines() if line[0] != "#"]
    served: dict[str, set[str]] = {}
    for name in Wheelhouse.open(wheelhouse).lock_targets():
        target = Target.from_name(name)
        lock = parse_requirements_lock((wheelhouse / "locks" / f"{name}.txt").read_text())
        for full in (target.full_versions[0], target.full_versions[-1]):
            environment = target.environment(full)
            given = {
                str(line).partition(";")[0].strip() for line in lines if _holds(line, environment)
            }
            wanted = {f"{e.name}=={e.version}" for e in lock if _holds(e, environment)}
            assert given == wanted, (name, full)
            served[name] = given
    assert "modern==1.0" in served[target_for("3.11")]
    assert "modern==2.0" in served[target_for("3.12")]
    assert "evolving==1.0" in text.splitlines()  # every target agrees: no marker


def _pin(line: Requirement) -> str:
    return f"{line.name}{line.specifier}"


def _holds(line: Requirement | LockedRequirement, environment: dict[str, str]) -> bool:
    marker = line.marker if isinstance(line, Requirement) else line.marker and Marker(line.marker)
    return marker is None or marker.evaluate(environment)


@pytest.fixture(scope="module")
def old_pip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python 3.10 venv with the pip its ensurepip bundles: pip 23, older than 24.

    Installed straight from the bundled wheel, without ensurepip's setuptools or bytecode.
    """
    old = make_venv(tmp_path_factory.mktemp("old"), find_python("3.10"))
    where = "import ensurepip, os; print(os.path.dirname(ensurepip.__file__))"
    (wheel,) = (Path(run_python(old, where)) / "_bundled").glob("pip-*.whl")
    pip = [str(old), f"{wheel}/pip", "install", "-q", "--no-compile", "--no-index"]
    run([*pip, "--disable-pip-version-check", "--no-deps", str(wheel)])
    assert run([str(old), "-m", "pip", "--version"]).stdout.startswith("pip 23.")
    return old


def test_an_old_and_a_new_pip_take_the_marker_constraints(
    wheelhouse: Path, old_pip: Path, tmp_path: Path
) -> None:
    old = old_pip
    new = make_venv(tmp_path, find_python("3.12"), name="new")
    pip = f"{TOOLS / 'python'} -m pip --python {new}"
    installs = [
        f"{old} -m pip install -q evolving modern && {old} -c {REPORT!r}",
        f"{pip} install -q evolving modern && {new} -c {REPORT!r}",
    ]
    out = in_shell(" && ".join(installs), wheelhouse, {})
    assert "py3.10 modern 1.0 evolving 1.0" in out and PINNED[1] in out, out


def _hostile_user(tmp_path: Path) -> dict[str, str]:
    """A user's pip.conf and a PIP_ variable that point pip away from the wheelhouse."""
    user = tmp_path / "xdg" / "pip" / "pip.conf"
    user.parent.mkdir(parents=True)
    loose = tmp_path / "loose.txt"
    loose.write_text("")
    user.write_text(
        f"[install]\nno-index = false\nfind-links = {FIXTURES}/files\nconstraint = {loose}\n"
    )
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "XDG_CONFIG_DIRS": str(tmp_path / "no-global"),  # the machine's /etc/xdg/pip stays out
        "PIP_FIND_LINKS": f"{FIXTURES}/files",
    }


def test_check_names_what_overrides_the_wheelhouse(
    wheelhouse: Path, old_pip: Path, tmp_path: Path
) -> None:
    """pip's own config listing, through an old pip (its venv's) and a new one (--python)."""
    ours = tmp_path / "wheelhouse-pip.conf"
    ours.write_text(run(shlex.split(env_command(wheelhouse, "--format", "pip.conf"))).stdout)
    user = _hostile_user(tmp_path)
    constraints = (wheelhouse / "constraints" / "all.txt").as_uri()  # its path has a space
    new = make_venv(tmp_path, find_python("3.12"))
    for venv in (old_pip, new):
        check = f"{env_command(wheelhouse, '--check', '--python', str(venv))}"
        # The wheelhouse's file as PIP_CONFIG_FILE wins over the user's; PIP_FIND_LINKS beats it.
        result = run(["bash", "-c", check], env={**user, "PIP_CONFIG_FILE": str(ours)}, check=False)
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stdout.splitlines() == [
            f"ok    no-index = true, from {ours} [install]",
            f"WRONG find-links = {FIXTURES}/files, from PIP_FIND_LINKS",
            f"ok    constraint = {constraints}, from {ours} [install]",
        ]
        assert result.stderr == (
            f"error: pip of {venv} would not install only from the wheelhouse: "
            "find-links comes from PIP_FIND_LINKS\n"
            "hint: unset or correct what is named; PIP_* variables beat every pip.conf, "
            "and PIP_CONFIG_FILE beats the user's and the site's files\n"
        )
    # Without PIP_CONFIG_FILE the user's [install] section would win over a [global] one;
    # the wheelhouse's file, as the venv's own pip.conf, names [install] too.
    shutil.copy(ours, new.parent.parent / "pip.conf")
    unset = "unset PIP_CONFIG_FILE PIP_FIND_LINKS"
    check = env_command(wheelhouse, "--check", "--python", str(new))
    result = run(["bash", "-c", f"{unset}; {check}"], env=user, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["ok"] * 3
    pip = f"{HERE} -m pip --python {new} install -q evolving"
    install = f"{unset}; {pip} && {new} -c {VERSION!r}"
    assert "evolving 1.0" in in_shell(install, None, user)  # pip agrees: the pin, not 1.1


def test_check_without_python_or_venv_warns_which_pip_it_asks(wheelhouse: Path) -> None:
    result = run(shlex.split(env_command(wheelhouse, "--check")), check=False)
    assert result.stderr.startswith(f"warning: checked the pip of {sys.executable}, ")
    assert "pass --python PATH" in result.stderr.splitlines()[0]
    assert result.returncode == 1  # the test's pip reads no configuration at all
    venv = {"VIRTUAL_ENV": str(Path(sys.executable).parent.parent)}
    result = run(shlex.split(env_command(wheelhouse, "--check")), env=venv, check=False)
    assert "warning" not in result.stderr


def test_check_refuses_bad_input_in_one_line(wheelhouse: Path, tmp_path: Path) -> None:
    python = shell_script(tmp_path / "python", "echo '[1, 2]'")
    cases = {
        env_command(tmp_path, "--check"): f"error: {tmp_path} is not a wheelhouse",
        env_command(wheelhouse, "--check", "--python", "/nonexistent/python"): (
            "error: cannot use /nonexistent/python as an interpreter: no such file"
        ),
        env_command(wheelhouse, "--check", "--python", str(python)): f"error: cannot use {python}",
    }
    for command, message in cases.items():
        result = run(shlex.split(command), check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith(message), result.stderr


def test_env_serves_a_read_only_wheelhouse(wheelhouse: Path) -> None:
    """Bind-mounted read-only in a private mount namespace: env only points at its files."""
    unshare_prefix()
    mounts = subprocess.run(["unshare", "-m", "-n", "true"], check=False).returncode == 0
    require("unshare -m", mounts, "a private mount namespace needs privileges")
    where = shlex.quote(str(wheelhouse))
    mount = f"mount --bind {where} {where} && mount -o remount,bind,ro {where}"
    commands = [
        f"! touch {where}/probe 2>/dev/null",
        env_command(wheelhouse),
        env_command(wheelhouse, "--format", "uv.toml"),
        env_command(wheelhouse, "--python", sys.executable),
    ]
    out = run(["unshare", "-m", "-n", "sh", "-c", " && ".join([mount, *commands])]).stdout
    assert f"export PIP_CONSTRAINT={(wheelhouse / 'constraints' / 'all.txt').as_uri()}" in out
    assert "constraint-dependencies = [" in out and "export UV_CONSTRAINT=" in out
