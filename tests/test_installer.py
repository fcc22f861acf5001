"""`wheelhouse install`: the interpreter's lock, exact files, hash-checked, with no network.

Installs run under ``unshare -n`` (no network at all) where the machine allows
it; what ends up installed is read back by the target interpreter itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipapp
from collections.abc import Iterator
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from conftest import require
from helpers import Recorder, find_uv, installed, make_venv, run, run_pip, unshare_prefix
from indexserver import FIXTURES, IndexServer
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version
from wheelhouses import PLATFORM, make_wheelhouse, target_for, tree_digest

import wheelhouse
from wheelhouse.install import installer, plan
from wheelhouse.install.discovery import find_python
from wheelhouse.install.errors import ExtraNotInLock, NotInLock, PinMismatch
from wheelhouse.install.probe import InterpreterInfo

REQUIREMENTS = ("alpha", "evolving==1.0", "native", "markerpkg")
#: What every 3.11/3.12 interpreter gets from the lock (markerpkg's other pins vary).
COMMON = {
    "alpha": "1.1",
    "beta": "2.0",
    "gamma": "1.0",
    "delta": "1.0",
    "evolving": "1.0",
    "native": "1.0",
    "markerpkg": "1.0",
    "linuxonly": "1.0",
}


def python(version: str) -> Path:
    """A working CPython ``version`` found by the product's own discovery; the test requires it."""
    found = find_python(version)
    require(f"Python {version}", found is not None, "the product's discovery finds none")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def wheelhouse_dir(
    tmp_path_factory: pytest.TempPathFactory, _session_index_server: IndexServer
) -> Path:
    """A wheelhouse for CPython 3.11 and 3.12 on this machine; no test may change it."""
    dest = tmp_path_factory.mktemp("shared") / "wheelhouse"
    targets = [target_for("3.11"), target_for("3.12")]
    return make_wheelhouse(dest, REQUIREMENTS, targets, _session_index_server.url)


@pytest.fixture
def unchanged(wheelhouse_dir: Path) -> Iterator[Path]:
    """The shared wheelhouse, checked to be exactly as it was after the test."""
    before = tree_digest(wheelhouse_dir)
    yield wheelhouse_dir
    assert tree_digest(wheelhouse_dir) == before


def cli(
    *args: str,
    offline: bool = True,
    check: bool = True,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m wheelhouse ARGS``, in a network namespace with no network by default."""
    prefix = unshare_prefix() if offline else []
    command = [*prefix, sys.executable, "-m", "wheelhouse", *args]
    return run(command, env=env, check=check, cwd=cwd)


def expected(version: str, full_version: str) -> dict[str, str]:
    """The lock's pins whose markers hold for this interpreter."""
    pins = dict(COMMON)
    if version == "3.11":
        pins["oldpython"] = "1.0"
    if Version(full_version) < Version("3.11.3"):
        pins["fullver"] = "1.0"
    return pins


def full_version(python: Path) -> str:
    code = "import platform; print(platform.python_version())"
    return run([str(python), "-I", "-c", code]).stdout.strip()


def native_wheel(venv_python: Path) -> str:
    """The file name ``native`` was installed from (pip and uv record it, PEP 610)."""
    code = "import importlib.metadata as m; print(m.distribution('native').read_text(%r))"
    code %= "direct_url.json"
    url = json.loads(run([str(venv_python), "-I", "-c", code]).stdout)["url"]
    return str(url).rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("version", "with_pip", "backend"),
    [("3.11", False, "wheelhouse"), ("3.12", True, "wheelhouse"), ("3.12", False, "pip")],
)
def test_whole_lock_offline_into_fresh_venvs(
    unchanged: Path, tmp_path: Path, version: str, with_pip: bool, backend: str
) -> None:
    venv = make_venv(tmp_path, python(version), with_pip=with_pip)
    out = cli("install", "-w", str(unchanged), "--python", str(venv), "--backend", backend).stdout
    got = {name: v for name, v in installed(venv).items() if name not in ("pip", "setuptools")}
    assert got == expected(version, full_version(venv))
    # One summary line, whichever backend installs.
    summary = (
        rf"installed {len(got)}, upgraded 0, downgraded 0, kept 0 in \d+\.\d\d s \({backend}\)\n"
    )
    assert re.fullmatch(summary, out), out
    tag = f"cp{version.replace('.', '')}"
    assert native_wheel(venv) == f"native-1.0-{tag}-{tag}-{PLATFORM}.manylinux2014_x86_64.whl"
    # Byte-compiled like pip does, by the interpreter itself (its own magic number).
    site = venv.parent.parent / "lib" / f"python{version}" / "site-packages"
    assert list((site / "alpha" / "__pycache__").glob(f"__init__.cpython-{tag[2:]}.pyc"))


def test_a_named_package_gets_its_pin_and_its_dependencies_only(
    unchanged: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    venv = make_venv(tmp_path, python("3.11"))
    # The index serves alpha's dependency tree and evolving 1.1; none of it may be used.
    strays = {"PIP_INDEX_URL": index_server.url, "PIP_FIND_LINKS": str(FIXTURES / "files")}
    cli("install", "-w", str(unchanged), "--python", str(venv), "gamma", offline=False, env=strays)
    cli(
        "install",
        "-w",
        str(unchanged),
        "--python",
        str(venv),
        "evolving",
        offline=False,
        env=strays,
    )
    assert installed(venv) == {"gamma": "1.0", "delta": "1.0", "evolving": "1.0"}
    assert index_server.log == []


def test_requirement_files_and_closure(unchanged: Path, tmp_path: Path) -> None:
    venv = make_venv(tmp_path, python("3.12"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# what the app needs\nAlpha>=1.0\nwinonly ; sys_platform == 'win32'\n")
    cli("install", "-w", str(unchanged), "--python", str(venv), "-r", str(requirements))
    assert installed(venv) == {"alpha": "1.1", "beta": "2.0", "gamma": "1.0", "delta": "1.0"}


def test_hashes_in_requirements_are_checked_against_the_lock(
    unchanged: Path, tmp_path: Path
) -> None:
    venv = make_venv(tmp_path, python("3.12"))
    digest = hashlib.sha256((unchanged / "evolving-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"alpha\nevolving==1.0 --hash=sha256:{'0' * 64}\n")
    command = ("install", "-w", str(unchanged), "--python", str(venv), "-r", str(requirements))
    result = cli(*command, check=False)
    assert result.returncode == 1 and installed(venv) == {}
    assert result.stderr.startswith(
        f"error: {requirements}:2: the lock's evolving 1.0 is evolving-1.0-py3-none-any.whl "
        f"(sha256:{digest}), which none of its --hash options names: sha256:{'0' * 64}\n"
    )
    requirements.write_text(f"evolving==1.0 --hash=sha256:{digest}\n")
    cli(*command)
    assert installed(venv) == {"evolving": "1.0"}


def test_stray_pip_settings_and_config_files_have_no_effect(
    unchanged: Path, tmp_path: Path
) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\nindex-url = http://127.0.0.1:9/dead\n"
        f"find-links = {FIXTURES / 'files'}\nconstraint = /nonexistent/bogus.txt\nno-deps = no\n"
    )
    (tmp_path / "xdg" / "pip").mkdir(parents=True)
    shutil.copy(config, tmp_path / "xdg" / "pip" / "pip.conf")
    strays = {
        "PIP_INDEX_URL": "http://127.0.0.1:9/dead",
        "PIP_CONSTRAINT": "/nonexistent/bogus.txt",
        "PIP_FIND_LINKS": str(FIXTURES / "files"),
        "PIP_UPGRADE": "1",
        "PIP_CONFIG_FILE": str(config),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    venv = make_venv(tmp_path, python("3.11"))
    cli("install", "-w", str(unchanged), "--python", str(venv), "evolving", env=strays)
    assert installed(venv) == {"evolving": "1.0"}


def _hostile(tmp_path: Path, index: str, proxy: str) -> dict[str, str]:
    """Settings of a user whose pip and uv would fetch evolving 1.1 from ``index``, via ``proxy``.

    Config files in the working directory, the user's config directory and named by
    variables; index, links and proxy variables. The proxy sees any request for
    any index, the default one included, even when every other setting is ignored.
    """
    links = str(FIXTURES / "files")
    toml = f'index-url = "{index}"\nextra-index-url = ["{index}"]\nfind-links = ["{links}"]\n'
    uv_toml = f"{toml}offline = false\nno-index = false\n[pip]\n{toml}"
    (tmp_path / "xdg" / "uv").mkdir(parents=True)
    for path in (tmp_path / "uv.toml", tmp_path / "xdg" / "uv" / "uv.toml"):
        path.write_text(uv_toml)
    (tmp_path / "pyproject.toml").write_text(f"[tool.uv]\n{toml}")
    (tmp_path / "pip.conf").write_text(f"[global]\nindex-url = {index}\nfind-links = {links}\n")
    proxies = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    return {
        **dict.fromkeys(("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL"), index),
        **dict.fromkeys(("UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX"), index),
        **dict.fromkeys(("PIP_FIND_LINKS", "UV_FIND_LINKS"), links),
        **dict.fromkeys(("PIP_NO_INDEX", "UV_OFFLINE", "UV_NO_INDEX", "UV_NO_CONFIG"), "false"),
        **dict.fromkeys(proxies, proxy),
        "PIP_CONFIG_FILE": str(tmp_path / "pip.conf"),
        "UV_CONFIG_FILE": str(tmp_path / "uv.toml"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }


@pytest.mark.parametrize("backend", ["wheelhouse", "pip", "uv"])
def test_hostile_settings_and_config_files_reach_no_index(
    unchanged: Path, tmp_path: Path, index_server: IndexServer, backend: str
) -> None:
    """Without --no-index and --offline, pip and uv would ask an index: this fails then."""
    if backend == "uv":
        require("uv", find_uv() is not None, "the test extra installs it")
    venv = make_venv(tmp_path, python("3.12"))
    with Recorder() as proxy:
        env = _hostile(tmp_path, index_server.url, proxy.url)
        command = ("install", "-w", str(unchanged), "--python", str(venv), "--backend", backend)
        cli(*command, "evolving", offline=False, env=env, cwd=tmp_path)
    assert installed(venv) == {"evolving": "1.0"}
    assert index_server.log == [] and proxy.lines == []


def test_pip_and_uv_are_told_to_use_no_index(
    unchanged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They get exact file paths, so they resolve nothing: the flags are the second wall.

    The test above cannot see them missing; this one reads the command lines.
    """
    require("uv", find_uv() is not None, "the test extra installs it")
    commands: list[list[str]] = []

    def record(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append([str(part) for part in command])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(installer, "run", record)
    venv = make_venv(tmp_path, python("3.12"))
    for backend in ("pip", "uv"):
        request = installer.InstallRequest(
            wheelhouse=unchanged, requirements=("evolving",), python=venv, backend=backend
        )
        installer.install(request)
    pip, uv = commands
    assert {"--no-index", "--require-hashes", "--no-deps"} <= set(pip)
    assert pip[pip.index("--find-links") + 1] == str(unchanged)
    assert {"--offline", "--no-index", "--no-config", "--require-hashes", "--no-deps"} <= set(uv)


def test_an_interpreter_no_target_serves_is_refused_and_nothing_installed(
    unchanged: Path, tmp_path: Path
) -> None:
    venv = make_venv(tmp_path, python("3.13"))
    result = cli("install", "-w", str(unchanged), "--python", str(venv), check=False)
    assert result.returncode == 1, result.stderr
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"error: no target of the wheelhouse matches {venv}")
    assert "(cp313-manylinux_" in first  # the interpreter's own, most specific tag
    assert first.endswith(f"the wheelhouse has: {target_for('3.11')}, {target_for('3.12')}")
    assert hint.startswith("hint: build the wheelhouse for this interpreter")
    assert installed(venv) == {}


def test_read_only_wheelhouse_and_tmp_dir(unchanged: Path, tmp_path: Path) -> None:
    """Bind-mounted read-only in a private mount namespace, with temporary files elsewhere."""
    unshare_prefix()
    mounts = subprocess.run(["unshare", "-m", "-n", "true"], check=False).returncode == 0
    require("unshare -m", mounts, "a private mount namespace needs privileges")
    venv = make_venv(tmp_path, python("3.12"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    mount = f"mount --bind {unchanged} {unchanged} && mount -o remount,bind,ro {unchanged}"
    write_fails = f"! touch {unchanged}/probe 2>/dev/null"
    command = f"{sys.executable} -m wheelhouse install -w {unchanged} --python {venv}"
    script = f"{mount} && {write_fails} && {command} --tmp-dir {scratch}"
    run(["unshare", "-m", "-n", "sh", "-c", script])
    assert installed(venv) == expected("3.12", full_version(venv))
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(("version", "tmp_dir"), [("3.11", True), ("3.12", False)])
def test_uv_backend(unchanged: Path, tmp_path: Path, version: str, tmp_dir: bool) -> None:
    """uv's cache goes to $WHEELHOUSE_TMPDIR, else into the venv (to link, not copy); then away."""
    found = shutil.which("uv") is not None or Path(sys.executable).with_name("uv").exists()
    require("uv", found, "the test extra installs it")
    venv = make_venv(tmp_path, python(version))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {"WHEELHOUSE_TMPDIR": str(scratch)} if tmp_dir else {}
    cli("install", "-w", str(unchanged), "--python", str(venv), "--backend", "uv", env=env)
    assert installed(venv) == expected(version, full_version(venv))
    leftovers = [path.name for path in venv.parent.parent.iterdir() if "wheelhouse" in path.name]
    assert leftovers == [] and list(scratch.iterdir()) == []


#: ``wheelhouse ARGS...`` in this interpreter, printing every program it started, by name,
#: and whether the installer had loaded by then.
_STARTS = """\
import os, subprocess, sys
from wheelhouse.cli import cli
started, real = [], subprocess.Popen.__init__
def recording(self, args, *rest, **options):
    loaded = "wheelhouse.install.installer" in sys.modules
    started.append(os.path.basename(str(args[0])) + ("" if loaded else "(early)"))
    real(self, args, *rest, **options)
subprocess.Popen.__init__ = recording
try:
    cli.main(sys.argv[1:], prog_name="wheelhouse")
finally:
    print(" ".join(started))
"""


def test_uv_backend_starts_one_probe_then_uv_and_nothing_else(
    unchanged: Path, tmp_path: Path
) -> None:
    """The probe starts before the installer loads, which it spends the time answering."""
    require("uv", find_uv() is not None, "the test extra installs it")
    venv = make_venv(tmp_path, python("3.12"))
    args = ["install", "-q", "-w", str(unchanged), "--python", str(venv), "--backend", "uv"]
    result = run([*unshare_prefix(), sys.executable, "-c", _STARTS, *args], check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"{venv.name}(early)", "uv"]
    assert installed(venv) == expected("3.12", full_version(venv))


def test_dry_run_reports_and_changes_nothing(unchanged: Path, tmp_path: Path) -> None:
    venv = make_venv(tmp_path, python("3.11"))
    files = FIXTURES / "files"
    for name in ("beta-1.0", "delta-2.0", "gamma-1.0"):
        wheel = files / f"{name}-py3-none-any.whl"
        run_pip("install", "--no-deps", "--no-index", str(wheel), python=venv)
    before = installed(venv)
    out = cli("install", "-w", str(unchanged), "--python", str(venv), "--dry-run", "alpha").stdout
    assert out.splitlines() == [
        f"target {target_for('3.11')} for {venv} (Python {full_version(venv)})",
        "would install alpha==1.1",
        "would upgrade beta==2.0, removing beta==1.0",
        "would downgrade delta==1.0, removing delta==2.0",
    ]
    assert installed(venv) == before
    cli("install", "-w", str(unchanged), "--python", str(venv), "alpha")
    assert installed(venv) == {"alpha": "1.1", "beta": "2.0", "gamma": "1.0", "delta": "1.0"}
    again = cli("install", "-w", str(unchanged), "--python", str(venv), "alpha", "--dry-run")
    assert again.stdout.splitlines()[-1] == (
        "nothing to install: every locked version is installed already"
    )
    done = cli("install", "-w", str(unchanged), "--python", str(venv), "alpha").stdout
    assert done.startswith("installed 0, upgraded 0, downgraded 0, kept 4 in ")


def test_not_in_lock_and_pin_mismatch_fail_before_pip_runs(
    unchanged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(installer, "run", lambda command, **_: calls.append(command))
    venv = make_venv(tmp_path, python("3.11"))
    request = installer.InstallRequest(wheelhouse=unchanged, python=venv)
    with pytest.raises(NotInLock) as missing:
        installer.install(replace(request, requirements=("evolving", "No_Such")))
    assert str(missing.value) == f"not in the wheelhouse ({target_for('3.11')}): No_Such"
    with pytest.raises(PinMismatch, match=r"evolving>1.0 \(the lock pins evolving==1.0\)"):
        installer.install(replace(request, requirements=("evolving>1.0",)))
    assert calls == []
    result = cli("install", "-w", str(unchanged), "--python", str(venv), "nosuch", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: not in the wheelhouse")
    assert installed(venv) == {}


@pytest.mark.parametrize("backend", ["wheelhouse", "pip"])
def test_a_tampered_file_is_refused(unchanged: Path, tmp_path: Path, backend: str) -> None:
    copy = Path(shutil.copytree(unchanged, tmp_path / "copy"))
    wheel = copy / "evolving-1.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    venv = make_venv(tmp_path, python("3.11"))
    command = ("install", "-w", str(copy), "--python", str(venv), "--backend", backend)
    result = cli(*command, "evolving", check=False)
    assert result.returncode == 1
    if backend == "pip":
        assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.stderr
        assert "error: pip exited with status 1" in result.stderr
    else:
        assert result.stderr.startswith("error: refused, their sha256 is not the one in ")
        assert result.stderr.splitlines()[0].endswith(": evolving-1.0-py3-none-any.whl")
    assert installed(venv) == {}


def test_not_a_wheelhouse(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("")
    result = cli("install", "-w", str(tmp_path), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path} is not a wheelhouse: it has no ")


def _info(*tags: str, version: tuple[int, int] = (3, 13)) -> InterpreterInfo:
    return InterpreterInfo(
        path=Path("/venv/bin/python"),
        executable=Path("/usr/bin/python3"),
        version=version,
        full_version="3.13.1",
        implementation="cpython",
        tags=tuple(Tag(*tag.split("-")) for tag in tags),
        environment={},
        prefix=Path("/venv"),
        base_prefix=Path("/usr"),
    )


def test_plan_is_a_pure_diff() -> None:
    def file(name: str, version: str) -> plan.LockedFile:
        return plan.LockedFile(
            name=canonicalize_name(name), version=Version(version), path=Path(name), sha256="0"
        )

    files = [file("a", "1.0"), file("b", "2.0"), file("c", "1.0"), file("d", "1.0"), file("e", "1")]
    changes = plan.plan(files, {"b": "1.5", "c": "1.0", "d": "2.0", "e": "not-a-version"})
    assert [(c.file.name, c.action, c.installed) for c in changes] == [
        ("a", "install", None),
        ("b", "upgrade", "1.5"),
        ("c", "keep", "1.0"),
        ("d", "downgrade", "2.0"),
        ("e", "upgrade", "not-a-version"),
    ]


def _zipapp(dest: Path) -> Path:
    """The tool and its dependencies but pip, from this environment, as one ``.pyz`` file."""
    root = dest / "pyz"
    shutil.copytree(Path(wheelhouse.__file__).parent, root / "wheelhouse")
    pending, seen = ["wheelhouse-mirror-builder"], {"wheelhouse-mirror-builder", "pip"}
    while pending:
        for text in metadata.requires(pending.pop()) or []:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            if name in seen or (requirement.marker and not requirement.marker.evaluate()):
                continue
            seen.add(name)
            pending.append(name)
            for file in metadata.files(name) or []:
                if not file.parts[0].startswith("..") and "__pycache__" not in file.parts:
                    (root / file).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(file.locate(), root / file)
    pyz = dest / "wheelhouse.pyz"
    zipapp.create_archive(root, pyz, main="wheelhouse.cli:main")
    return pyz


def test_a_zipapp_installs_with_nothing_but_python_and_pip(unchanged: Path, tmp_path: Path) -> None:
    """The final image's interpreter has pip but none of the tool's dependencies."""
    base = python("3.12")
    lacking = run([str(base), "-I", "-c", "import click, packaging"], check=False)
    assert lacking.returncode != 0, "this test needs an interpreter without click and packaging"
    pyz = _zipapp(tmp_path)
    venv = make_venv(tmp_path, base)
    command = [*unshare_prefix(), str(base), "-I", str(pyz), "install", "-w", str(unchanged)]
    run([*command, "--python", str(venv)])
    assert installed(venv) == expected("3.12", full_version(venv))


def test_files_are_split_into_disjoint_balanced_groups(tmp_path: Path) -> None:
    files = []
    for number, size in enumerate([900, 500, 400, 300, 100, 100]):
        path = tmp_path / f"p{number}-1.0-py3-none-any.whl"
        path.write_bytes(b"x" * size)
        files.append(
            plan.LockedFile(
                name=canonicalize_name(f"p{number}"), version=Version("1.0"), path=path, sha256="0"
            )
        )
    fresh = [plan.Change(file=file, action="install") for file in files]
    groups = installer.pip_groups(fresh, 2)
    assert sorted(f.name for group in groups for f in group) == sorted(f.name for f in files)
    loads = [sum(f.path.stat().st_size for f in group) for group in groups]
    assert loads == [1100, 1200] or loads == [1200, 1100]
    assert len(installer.pip_groups(fresh[:1], 8)) == 1


def _file(tmp_path: Path, name: str, size: int = 10) -> plan.LockedFile:
    path = tmp_path / f"{name}-1.0-py3-none-any.whl"
    path.write_bytes(b"x" * size)
    return plan.LockedFile(
        name=canonicalize_name(name), version=Version("1.0"), path=path, sha256="0"
    )


def test_fresh_installs_go_to_several_pips_anything_else_to_one(tmp_path: Path) -> None:
    files = [_file(tmp_path, f"p{number}", 100 - number) for number in range(6)]
    fresh = [plan.Change(file=file, action="install") for file in files]
    kept = plan.Change(file=_file(tmp_path, "kept"), action="keep", installed="1.0")
    assert len(installer.pip_groups([*fresh, kept], 4)) == 4
    assert len(installer.pip_groups(fresh[:2], 4)) == 2
    assert all(kept.file not in group for group in installer.pip_groups([*fresh, kept], 4))
    for action in ("upgrade", "downgrade"):
        changed = plan.Change(file=files[0], action=action, installed="0.5")
        (group,) = installer.pip_groups([changed, *fresh[1:], kept], 4)
        assert sorted(file.name for file in group) == sorted(file.name for file in files)


def test_workers_follow_the_cpus_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert plan.usable_cores() == 2  # a container's two CPUs, not the host's 64
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert plan.usable_cores() == plan.MAX_WORKERS == 8


def test_temporary_files_go_where_asked_else_under_the_prefix_else_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = replace(_info(), prefix=tmp_path)
    request = installer.InstallRequest(wheelhouse=tmp_path / "wh")
    assert installer.scratch_root(request, info) == tmp_path
    assert installer.scratch_root(request, replace(info, prefix=tmp_path / "none")) is None
    monkeypatch.setenv("WHEELHOUSE_TMPDIR", str(tmp_path / "env"))
    assert installer.scratch_root(request, info) == tmp_path / "env"
    explicit = replace(request, tmp_dir=tmp_path / "option")
    assert installer.scratch_root(explicit, info) == tmp_path / "option"


def test_pip_works_in_a_directory_under_the_prefix_removed_afterwards(
    unchanged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = make_venv(tmp_path, python("3.12"))
    seen: list[Path] = []

    def fake_run(command: list[str], *, tmp_dir: Path, **_: object) -> Any:
        assert tmp_dir.is_dir() and any(tmp_dir.glob("requirements-*.txt"))
        seen.append(tmp_dir)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(installer, "run", fake_run)
    request = installer.InstallRequest(wheelhouse=unchanged, python=venv, backend="pip")
    assert installer.install(request).ran
    assert seen and {path.parent for path in seen} == {Path(os.path.abspath(venv.parent.parent))}
    assert not any(path.exists() for path in seen)


def test_an_extra_the_lock_lacks_is_an_error_before_anything_runs(
    unchanged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index_server: IndexServer
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(installer, "run", lambda command, **_: calls.append(command))
    venv = make_venv(tmp_path, python("3.11"))
    request = installer.InstallRequest(wheelhouse=unchanged, python=venv)
    target = target_for("3.11")
    with pytest.raises(ExtraNotInLock) as lacking:  # built from alpha, without [fast]
        installer.install(replace(request, requirements=("alpha[fast]",)))
    assert str(lacking.value) == f"alpha[fast] needs what the lock {target} lacks: speedy"
    with pytest.raises(ExtraNotInLock, match=rf"^alpha has no extra 'nope' \({target}\)$"):
        installer.install(replace(request, requirements=("alpha[nope]",)))
    assert calls == []
    result = cli("install", "-w", str(unchanged), "--python", str(venv), "Alpha[Fast]", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: alpha[Fast] needs what the lock {target} lacks: speedy",
        "hint: rebuild the wheelhouse with alpha[Fast] among its inputs (or install without "
        "the extra)",
    ]
    assert installed(venv) == {}
    with_extra = make_wheelhouse(tmp_path / "wh", ("alpha[fast]",), [target], index_server.url)
    planned = installer.install(
        replace(request, wheelhouse=with_extra, requirements=("alpha[fast]",), dry_run=True)
    )
    assert {change.file.name for change in planned.changes} >= {"alpha", "beta", "speedy"}
