"""Local projects as inputs: built here into wheels, once, with what building them needs.

The projects are built by ``wh-backend``, a build backend from the fixture
index that asks for ``wh-editables`` to build an editable wheel, as hatchling
asks for editables. The oracles: pip installs the lock offline, hash-checked,
and ``pip install -e`` finds the backend and ``wh-editables`` in the wheelhouse
with no index; uv does the same for a uv workspace.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import Result
from helpers import (
    find_uv,
    install_lock,
    installed,
    invoke,
    make_venv,
    ok,
    run,
    run_uv,
    unshare_prefix,
    venv_python,
)
from indexserver import FIXTURES, IndexServer

from wheelhouse.model.localproj import DynamicProject, moved_path
from wheelhouse.sdist.errors import LocalBuildFailed
from wheelhouse.sdist.local import _declared, _untar, source_digest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

BACKEND = '[build-system]\nrequires = ["wh-backend"]\nbuild-backend = "wh_backend"\n'


def project(root: Path, name: str, body: str, *, backend: str = BACKEND) -> Path:
    """A project directory built by ``backend``, with a package of its name."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'{backend}\n[project]\nname = "{name}"\n{body}')
    package = root / name.replace("-", "_")
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 42\n")
    return root


def one_error(result: Result) -> str:
    """The one ``error:`` line of a command that failed cleanly."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


def lock_text(wheelhouse: Path) -> str:
    (lock,) = (wheelhouse / "locks").glob("*.txt")
    return lock.read_text()


def test_a_local_project_is_built_once_kept_and_installs_offline(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    liba = project(tmp_path / "src" / "pkgs" / "liba", "liba", 'version = "0.1.0"\n')
    (tmp_path / "src" / "requirements.txt").write_text("-e ./pkgs/liba\nalpha\n")
    monkeypatch.chdir(tmp_path / "src")  # its paths are the working directory's, as pip's
    wh, url = tmp_path / "wh", index_server.url
    build = ("build", "-w", str(wh), "-i", url, "-r", "requirements.txt")
    assert "1 wheel(s) built from local projects" in ok(invoke(*build)).output
    text = lock_text(wh)
    assert "liba==0.1.0 \\" in text and "gamma==1.0" in text  # its dependencies, resolved
    assert "wh-backend" not in text and "wh-editables" not in text  # build requirements...
    for name in ("wh-backend", "wh-editables"):  # ...are kept in the wheelhouse and its index
        assert (wh / "simple" / name / "index.html").is_file()
    manifest = tomllib.loads((wh / "wheelhouse.toml").read_text())
    built = manifest["built"]["liba-0.1.0-py3-none-any.whl"]
    assert built["build-requires"] == ["wh-backend", "wh-editables"]
    assert built["source"] == "./pkgs/liba"
    assert "OK:" in ok(invoke("verify", "-w", str(wh))).output  # a source is no file here

    python = make_venv(tmp_path)
    install_lock(wh, next((wh / "locks").glob("*.txt")), python)
    assert installed(python)["liba"] == "0.1.0"
    # Then editable, over it: the backend and wh-editables come from the wheelhouse alone.
    offline = ("install", "--no-index", "--find-links", str(wh), "-e", str(liba))
    run([*unshare_prefix(), *_pip(python), *offline])
    imported = run([str(python), "-c", "import liba; print(liba.__file__)"]).stdout
    assert imported.strip() == str(liba / "liba" / "__init__.py")

    assert "wheel(s) built" not in ok(invoke(*build)).output  # unchanged source: kept
    (liba / "liba" / "__init__.py").write_text("VALUE = 43\n")
    assert "1 wheel(s) built from local projects" in ok(invoke(*build)).output
    assert lock_text(wh) != text  # the new wheel's hash


def _pip(python: Path) -> list[str]:
    return [sys.executable, "-m", "pip", "--python", str(python), "--no-input", "-q"]


def test_a_dynamic_pyproject_is_built_to_learn_its_dependencies(
    tmp_path: Path, index_server: IndexServer
) -> None:
    body = (
        'version = "1.0"\ndynamic = ["dependencies", "optional-dependencies"]\n\n'
        '[tool.wh-backend]\ndependencies = ["gamma"]\n\n'
        '[tool.wh-backend.optional-dependencies]\nfast = ["speedy"]\nslow = ["evolving"]\n'
    )
    app = project(tmp_path / "app", "app", body)
    wh = tmp_path / "wh"
    pyproject = str(app / "pyproject.toml")
    ok(invoke("build", "-w", str(wh), "-i", index_server.url, "-r", pyproject, "--extra", "fast"))
    pins = {line.split("==")[0] for line in lock_text(wh).splitlines() if "==" in line}
    assert pins == {"gamma", "delta", "speedy"}  # not the project itself, not the other extra
    assert "speedy==1.0 \\\n    --hash" in lock_text(wh)
    assert f"# via {pyproject} [extra fast]" in lock_text(wh)  # as for a static extra
    inputs = tomllib.loads((wh / "wheelhouse.toml").read_text())["inputs"]
    assert sorted(inputs["resolved-requirements"]) == ["gamma", "speedy"]


def test_the_extras_of_dynamic_metadata_are_read_in_either_quotes() -> None:
    metadata = (
        b"Name: p\nVersion: 1.0\nProvides-Extra: test\nProvides-Extra: doc\n"
        b"Requires-Dist: pytest ; extra == 'test'\n"
        b"Requires-Dist: mock ; 'test' == extra and python_version < '3.3'\n"
        b"Requires-Dist: sphinx ; extra == 'doc'\n\n"
    )
    found = _declared(metadata, DynamicProject(path="p", extras=frozenset({"test"})))
    assert [str(item.requirement) for item in found] == [
        "pytest",
        'mock; python_version >= "0" and python_version < "3.3"',  # the target decides the rest
    ]
    assert found[0].origin == "p [extra test]"


def test_a_package_named_build_is_source_the_build_directory_is_not(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "p", 'version = "1.0"\n')
    (root / "p" / "build").mkdir()
    (root / "p" / "build" / "__init__.py").write_text("A = 1\n")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("1\n")
    before = source_digest(root)
    (root / "build" / "out.txt").write_text("2\n")  # what a build writes
    assert source_digest(root) == before
    (root / "p" / "build" / "__init__.py").write_text("A = 2\n")
    assert source_digest(root) != before


def test_a_local_sdist_is_unpacked_as_data_not_owned_as_its_archive_says(tmp_path: Path) -> None:
    sdist = tmp_path / "p-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        member = tarfile.TarInfo("p-1.0/setup.py")
        member.uid = member.gid = 4242  # extracted by root without a filter, chown'ed to it
        member.mode = 0o4777
        archive.addfile(member, io.BytesIO(b""))
    _untar("p", sdist, tmp_path / "out")
    unpacked = (tmp_path / "out" / "p-1.0" / "setup.py").stat()
    assert (unpacked.st_uid, unpacked.st_gid) == (os.getuid(), os.getgid())
    assert unpacked.st_mode & 0o7777 == 0o644


def test_an_old_sdist_without_pkg_info_is_built_for_its_metadata(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """Built into a wheel with --build; prepared (PEP 517) for a target kept as an sdist."""
    wh, kept, url = tmp_path / "wh", tmp_path / "kept", index_server.url
    ok(invoke("build", "-w", str(wh), "-i", url, "--build", "oldsdist"))
    text = lock_text(wh)
    assert "oldsdist==1.0" in text and "delta==2.0" in text
    assert (
        "oldsdist-1.0-py3-none-any.whl" in (wh / "simple" / "oldsdist" / "index.html").read_text()
    )
    windows = ("--keep-sdist", "--platform", "win_amd64", "oldsdist")
    ok(invoke("build", "-w", str(kept), "-i", url, *windows))
    assert "delta==2.0" in lock_text(kept)
    assert (kept / "oldsdist-1.0.tar.gz").is_file()
    assert (kept / "wh_backend-1.0-py3-none-any.whl").is_file()  # pip builds it from here


def test_local_wheel_and_sdist_files_are_projects_too(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel file is taken as it is; an sdist file is built, keyed by its sha256."""
    for name in ("delta-1.0-py3-none-any.whl", "oldsdist-1.0.tar.gz"):
        shutil.copy(FIXTURES / "files" / name, tmp_path)
    monkeypatch.chdir(tmp_path)
    wheel = f"delta @ {(tmp_path / 'delta-1.0-py3-none-any.whl').as_uri()}"
    ok(invoke("build", "-w", "wh", "-i", index_server.url, wheel, "./oldsdist-1.0.tar.gz"))
    text = lock_text(tmp_path / "wh")
    digest = hashlib.sha256((tmp_path / "delta-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    assert f"delta==1.0 \\\n    --hash=sha256:{digest}" in text
    assert "oldsdist==1.0" in text
    built = tomllib.loads((tmp_path / "wh" / "wheelhouse.toml").read_text())["built"]
    assert built["oldsdist-1.0-py3-none-any.whl"]["source"] == "./oldsdist-1.0.tar.gz"


def test_a_local_project_argument_is_recorded_so_refresh_runs_anywhere(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded relative to the wheelhouse, as -r files are: the tree can move."""
    project(tmp_path / "tree" / "src" / "pkgs" / "liba", "liba", 'version = "0.1.0"\n')
    monkeypatch.chdir(tmp_path / "tree" / "src")
    ok(invoke("build", "-w", "../wh", "-i", index_server.url, "./pkgs/liba", "-e", "pkgs/liba"))
    manifest = tomllib.loads((tmp_path / "tree" / "wh" / "wheelhouse.toml").read_text())
    assert manifest["inputs"]["requirements"] == ["../src/pkgs/liba", "-e ../src/pkgs/liba"]
    (tmp_path / "tree").rename(tmp_path / "moved")
    monkeypatch.chdir(tmp_path)
    ok(invoke("refresh", "-w", "moved/wh"))
    assert "liba==0.1.0 \\" in lock_text(tmp_path / "moved" / "wh")


def test_build_requirements_agree_with_the_pins_for_pip_under_wheelhouse_env(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """The newest bt-left needs bt-shared>=2, the lock pins bt-shared 1.0.

    pip before 26 (this venv's, from ensurepip) applies PIP_CONSTRAINT to the
    isolated build environment as well: bt-left 1.0 must be the one kept.
    """
    backend = BACKEND.replace('["wh-backend"]', '["wh-backend", "bt-left"]')
    app = project(
        tmp_path / "app",
        "app",
        'version = "1.0"\ndependencies = ["bt-shared<2"]\n',
        backend=backend,
    )
    wh = tmp_path / "wh"
    ok(invoke("build", "-w", str(wh), "-i", index_server.url, "-e", str(app)))
    assert (wh / "bt_left-1.0-py3-none-any.whl").is_file()
    python = make_venv(tmp_path, with_pip=True)
    settings = ok(invoke("env", "-w", str(wh), "--format", "dotenv")).output
    env = dict(line.split("=", 1) for line in settings.splitlines() if "=" in line)
    run([*unshare_prefix(), str(python), "-m", "pip", "install", "-q", "-e", str(app)], env=env)
    assert installed(python)["bt-shared"] == "1.0"
    # A backend that needs what the pins exclude is resolved on its own all the same.
    (app / "pyproject.toml").write_text(
        (app / "pyproject.toml").read_text().replace('"bt-left"', '"bt-left>=2"')
    )
    ok(invoke("build", "-w", str(wh), "-i", index_server.url, "-e", str(app)))
    assert (wh / "bt_left-2.0-py3-none-any.whl").is_file()


def test_a_dependency_uv_takes_from_disk_must_be_given_not_taken_from_the_index(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv builds app's gamma from ../gamma; the index's gamma must not stand in for it."""
    sources = '\n[tool.uv.sources]\ngamma = { path = "../gamma", editable = true }\n'
    project(tmp_path / "app", "app", f'version = "1.0"\ndependencies = ["gamma"]\n{sources}')
    project(tmp_path / "gamma", "gamma", 'version = "7.0"\n')
    monkeypatch.chdir(tmp_path)
    build = ("build", "-w", "wh", "-i", index_server.url, "-e", "app")
    line = one_error(invoke(*build))
    assert line == (
        "error: app takes gamma from app/../gamma ([tool.uv.sources]), and the build is not "
        "given it: the index's gamma would be locked in its place"
    )
    ok(invoke(*build, "./gamma"))
    assert "gamma==7.0 \\" in lock_text(tmp_path / "wh")
    line = one_error(
        invoke("build", "-w", "wh2", "-i", index_server.url, "-r", "app/pyproject.toml")
    )
    assert line.startswith("error: app/pyproject.toml takes gamma from app/../gamma ")


@pytest.mark.parametrize(
    ("written", "recorded"),
    [
        ("./liba[test] ; python_version > '3'", "../x/./liba[test]; python_version > '3'"),
        ("-e .", "-e ../x/."),
        ("liba", "liba"),  # a project on the index
        ("liba @ file:///src/liba", "liba @ file:///src/liba"),
        ("~/liba", "~/liba"),
    ],
)
def test_only_the_path_of_a_local_project_argument_is_moved(written: str, recorded: str) -> None:
    assert moved_path(written, lambda path: f"../x/{path}") == recorded
    assert moved_path("./pkgs/liba", lambda path: "pkgs/liba") == "./pkgs/liba"  # still a path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("not a project", "is not a project to build: it has no pyproject.toml or setup.py"),
        ("not an archive", "is not a project to build: a file that is not a wheel or an sdist"),
        ("corrupt sdist", "the sdist cannot be unpacked: not a gzip file"),
        ("backend missing", "with its build backend wh_missing: its build requirements (wh-miss"),
        ("backend fails", "with its build backend wh_backend: RuntimeError: wh-backend was told"),
        ("dynamic fails", "pyproject.toml with its build backend wh_backend: RuntimeError"),
        ("another name", "is not a project to build: it builds p, not other"),
    ],
)
def test_a_local_project_that_cannot_be_built_is_one_line(
    tmp_path: Path, index_server: IndexServer, kind: str, expected: str
) -> None:
    where = tmp_path / "p"
    argument = ["-r", str(where / "pyproject.toml")] if kind == "dynamic fails" else [str(where)]
    if kind == "not a project":
        where.mkdir()
        argument = ["-e", str(where)]  # the command line's -e PATH
    elif kind == "not an archive":
        where.write_text("notes\n")
        argument = [f"p @ {where.as_uri()}"]
    elif kind == "corrupt sdist":
        where = tmp_path / "bad.tar.gz"
        where.write_text("notatar\n")
        argument = [str(where)]
    elif kind == "another name":
        project(where, "p", 'version = "1.0"\n')
        argument = [f"other @ {where.as_uri()}"]
    elif kind == "backend missing":
        missing = BACKEND.replace('"wh-backend"', '"wh-missing"').replace(
            "wh_backend", "wh_missing"
        )
        project(where, "p", 'version = "1.0"\n', backend=missing)
    else:
        dynamic = 'dynamic = ["dependencies"]\n' if kind == "dynamic fails" else ""
        project(where, "p", f'version = "1.0"\n{dynamic}\n[tool.wh-backend]\nfail = true\n')
    wh = tmp_path / "wh"
    line = one_error(invoke("build", "-w", str(wh), "-i", index_server.url, *argument))
    assert expected in line
    assert not wh.exists() or not (wh / "locks").exists()  # nothing written


def test_an_invalid_build_requirement_names_its_project_without_a_backend() -> None:
    error = LocalBuildFailed("./p, ./q", "", "invalid build requirement 'x y': bad")
    assert str(error) == "cannot build ./p, ./q: invalid build requirement 'x y': bad"


HANGING_BACKEND = """\
import os, subprocess, sys, time

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(os.environ["HANG_PID"], "w") as out:
        out.write(str(child.pid))
    time.sleep(600)
"""


def test_a_build_backend_that_hangs_is_killed_with_all_it_started(
    tmp_path: Path, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = '[build-system]\nrequires = []\nbuild-backend = "hang"\nbackend-path = ["."]\n'
    where = project(tmp_path / "p", "p", 'version = "1.0"\n', backend=backend)
    (where / "hang.py").write_text(HANGING_BACKEND)
    monkeypatch.setenv("WHEELHOUSE_BUILD_TIMEOUT", "3")
    monkeypatch.setenv("HANG_PID", str(tmp_path / "pid"))
    wh = str(tmp_path / "wh")
    line = one_error(invoke("build", "-w", wh, "-i", index_server.url, str(where)))
    assert line.endswith("its wheel hook did not finish within 3 s (WHEELHOUSE_BUILD_TIMEOUT)")
    stat = Path(f"/proc/{(tmp_path / 'pid').read_text()}/stat")
    assert not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")  # killed


UV_ROOT = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["liba", "alpha[fast]", "markerpkg"]

[dependency-groups]
dev = ["wh-testrun", "evolving"]

[tool.uv.sources]
liba = { workspace = true }

[tool.uv.workspace]
members = ["pkgs/*"]
"""
UV_TESTS = """\
import app, evolving, gamma


def test_the_member_is_there():
    assert app.VALUE == 42


def test_the_locked_versions_are_there():
    assert (evolving.__version__, gamma.__version__) == ("1.0", "1.0")
"""


def test_a_uv_workspace_runs_its_tests_offline_with_the_locked_versions(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """The README recipe: build from uv.lock, then install and test with no network."""
    root = project(tmp_path / "app", "app", "", backend=BACKEND)
    (root / "pyproject.toml").write_text(f"{BACKEND}\n{UV_ROOT}")
    (root / "app" / "__init__.py").write_text("from liba import VALUE\n")
    project(root / "pkgs" / "liba", "liba", 'version = "0.2.0"\ndependencies = ["gamma"]\n')
    (root / "tests").mkdir()
    (root / "tests" / "test_app.py").write_text(UV_TESTS)
    # Locked before evolving 1.1 came out: the newest is not what the lock takes.
    run_uv("lock", "--index-url", index_server.url, "--exclude-newer", "2025-01-01", cwd=root)
    locked = (root / "uv.lock").read_bytes()
    wh = tmp_path / "wh"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        ok(invoke("build", "-w", str(wh), "--from-lock", "uv.lock", "--group", "dev"))

    uv = find_uv()
    assert uv is not None  # run_uv required it

    def offline(*command: str) -> str:
        return run([*unshare_prefix(), *command], cwd=root).stdout

    offline(uv, "venv", "-q", "--offline", "-p", sys.executable)
    venv = venv_python(root / ".venv")
    offline(sys.executable, "-m", "wheelhouse", "install", "-w", str(wh), "--python", str(venv))
    # Editable installs of the members: their backend and wh-editables come from the wheelhouse.
    links = ("--offline", "--no-index", "--find-links", str(wh), "--no-deps", "-p", str(venv))
    offline(uv, "pip", "install", *links, "-e", ".", "-e", "pkgs/liba")
    tests = "import sys, wh_testrun; sys.exit(wh_testrun.main())"
    output = offline(uv, "run", "--no-sync", "--offline", "python", "-c", tests)
    assert output.count("passed ") == 2, output
    assert installed(venv)["evolving"] == "1.0"
    assert (root / "uv.lock").read_bytes() == locked
