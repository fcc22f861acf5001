"""The default install engine, checked by pip itself: `pip check`, `pip list`, pip's RECORDs.

Installs run with ``python -m wheelhouse install`` under ``unshare -n`` into
fresh venvs of a Python other than the one running the tool; pip (the test
runner's, pointed at the venv) is the oracle for what ends up installed and
for uninstalling it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require
from helpers import installed, make_venv, run, run_pip, unshare_prefix
from packaging.tags import Tag
from wheelhouses import make_wheel, make_wheelhouse, target_for, tree_digest

from wheelhouse.install import engine, installer
from wheelhouse.install.discovery import find_python
from wheelhouse.install.errors import BackendUnavailable
from wheelhouse.install.plan import BATCH_BYTES, batches
from wheelhouse.install.probe import InterpreterInfo

#: Not the tool's own Python: the workers run in the target interpreter.
OTHER = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
TAG = OTHER.replace(".", "")
V1 = ("alpha", "evolving==1.0", "native", "toolbox==1.0")
V2 = ("alpha", "evolving==1.1", "native", "toolbox==2.0")
PINS_V1 = {
    "alpha": "1.1",
    "beta": "2.0",
    "gamma": "1.0",
    "delta": "1.0",
    "evolving": "1.0",
    "native": "1.0",
    "toolbox": "1.0",
}
PINS_V2 = {**PINS_V1, "evolving": "1.1", "toolbox": "2.0"}
ROOTS = {"alpha", "evolving", "native", "toolbox"}


def python(version: str) -> Path:
    """CPython ``version`` by the product's discovery; on CI (``CI=true``) its lack fails."""
    found = find_python(version)
    require(f"Python {version}", found is not None, "the engine installs into other Pythons")
    assert found is not None
    return found


def toolbox(directory: Path, version: str) -> Path:
    """A project with console, GUI and ``.data`` scripts, data, headers and a platlib module.

    2.0 drops a module and a script.
    """
    files = {
        "toolbox/__init__.py": f"VERSION = {version!r}\n",
        "toolbox/cli.py": "import sys\nfrom toolbox import VERSION\n\n\n"
        "def main():\n    print('toolbox', VERSION, *sys.argv[1:])\n",
        f"toolbox-{version}.data/scripts/toolbox-sh": "#!python\nimport toolbox\n"
        "print('script', toolbox.VERSION)\n",
        f"toolbox-{version}.data/data/share/toolbox/readme.txt": f"toolbox {version}\n",
        f"toolbox-{version}.data/headers/toolbox.h": "#define TOOLBOX 1\n",
        f"toolbox-{version}.data/platlib/toolbox_native.py": "NATIVE = True\n",
    }
    scripts = "[console_scripts]\ntoolbox = toolbox.cli:main\n"
    if version == "1.0":
        files["toolbox/old.py"] = "GONE = False\n"
        scripts += "toolbox-old = toolbox.cli:main\n"
    scripts += "[gui_scripts]\ntoolbox-gui = toolbox.cli:main\n"
    return make_wheel(directory, "toolbox", version, files, entry_points=scripts)


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("toolbox")
    return [toolbox(directory, "1.0"), toolbox(directory, "2.0")]


@pytest.fixture(scope="session")
def v1(tmp_path_factory: pytest.TempPathFactory, wheels: list[Path]) -> Path:
    dest = tmp_path_factory.mktemp("v1") / "wheelhouse"
    return make_wheelhouse(dest, V1, [target_for("3.11"), target_for("3.12")], extra=wheels)


@pytest.fixture(scope="session")
def v2(tmp_path_factory: pytest.TempPathFactory, wheels: list[Path]) -> Path:
    dest = tmp_path_factory.mktemp("v2") / "wheelhouse"
    return make_wheelhouse(dest, V2, [target_for("3.11"), target_for("3.12")], extra=wheels)


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m wheelhouse ARGS`` in a network namespace with no network."""
    return run([*unshare_prefix(), sys.executable, "-m", "wheelhouse", *args], check=check)


def site_packages(venv_python: Path) -> Path:
    return venv_python.parent.parent / "lib" / f"python{OTHER}" / "site-packages"


def dist_info(venv_python: Path, name: str, version: str) -> Path:
    return site_packages(venv_python) / f"{name}-{version}.dist-info"


def pip_list(venv_python: Path) -> dict[str, str]:
    out = run_pip("list", "--format=json", python=venv_python).stdout
    return {entry["name"]: entry["version"] for entry in json.loads(out)}


def record(path: Path) -> dict[str, tuple[str, str]]:
    """A RECORD as path to (hash, size), whatever its order or line endings."""
    rows = (line.split(",") for line in path.read_text().splitlines())
    return {row[0]: (row[1], row[2]) for row in rows}


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """An empty venv of the other Python, without pip (pip acts on it from outside)."""
    return make_venv(tmp_path, python(OTHER))


def test_the_whole_lock_passes_pips_checks(v1: Path, fresh: Path) -> None:
    out = cli("install", "-w", str(v1), "--python", str(fresh)).stdout
    assert out.startswith("installed 7, upgraded 0, downgraded 0, kept 0 in ")
    assert out.endswith(" s (wheelhouse)\n")
    run_pip("check", python=fresh)
    assert pip_list(fresh) == PINS_V1
    code = (
        "import alpha, native, toolbox.cli, toolbox_native; print(toolbox.VERSION, native.__name__)"
    )
    assert run([str(fresh), "-c", code]).stdout == "1.0 native\n"
    scripts = fresh.parent
    assert run([str(scripts / "toolbox"), "a"]).stdout == "toolbox 1.0 a\n"
    assert run([str(scripts / "toolbox-sh")]).stdout == "script 1.0\n"
    assert (scripts / "toolbox-gui").is_file() and os.access(scripts / "toolbox-gui", os.X_OK)
    headers = fresh.parent.parent / "include" / "site" / f"python{OTHER}" / "toolbox"
    assert (headers / "toolbox.h").is_file()
    assert (fresh.parent.parent / "share" / "toolbox" / "readme.txt").is_file()


def test_metadata_written_for_each_distribution(v1: Path, fresh: Path) -> None:
    cli("install", "-w", str(v1), "--python", str(fresh))
    for name, version in PINS_V1.items():
        info = dist_info(fresh, name, version)
        assert (info / "INSTALLER").read_text() == "wheelhouse\n"
        assert (info / "REQUESTED").exists() == (name in ROOTS), name
        origin = json.loads((info / "direct_url.json").read_text())
        digest = origin["archive_info"]["hashes"]["sha256"]
        assert origin["archive_info"]["hash"] == f"sha256={digest}"
        assert origin["url"].startswith(v1.as_uri() + "/")
        assert origin["url"].endswith(".whl")


def test_records_are_pips(v1: Path, tmp_path: Path) -> None:
    """The same wheels installed by pip and by the engine: the same RECORD but for INSTALLER.

    Scripts differ by their venv's interpreter path; ``.pyc`` entries carry no
    hash in either, as the interpreter may rewrite them.
    """
    ours = make_venv(tmp_path, python(OTHER), name="ours")
    pips = make_venv(tmp_path, python(OTHER), name="pips")
    cli("install", "-w", str(v1), "--python", str(ours), "toolbox", "native")
    chosen = tmp_path / "chosen.txt"
    chosen.write_text(_requirements(v1, ["toolbox", "native"]))
    run_pip(
        "install", "--no-deps", "--no-index", "--require-hashes", "-r", str(chosen), python=pips
    )
    for name in ("toolbox", "native"):
        mine = record(dist_info(ours, name, "1.0") / "RECORD")
        theirs = record(dist_info(pips, name, "1.0") / "RECORD")
        assert sorted(mine) == sorted(theirs)
        assert any(path.endswith(f".cpython-{TAG}.pyc") for path in mine)
        differ = {path for path in mine if mine[path] != theirs[path]}
        expected = {f"{name}-1.0.dist-info/INSTALLER"}
        if name == "toolbox":
            expected |= {f"../../../bin/{script}" for script in ("toolbox", "toolbox-old")}
            expected |= {"../../../bin/toolbox-gui", "../../../bin/toolbox-sh"}
        assert differ == expected


def _requirements(wheelhouse: Path, names: list[str]) -> str:
    """The wheelhouse's files of ``names`` for the other Python, as pip requirement lines."""
    lines = []
    for name in names:
        native = next(wheelhouse.glob(f"{name}-1.0-cp{TAG}-*.whl"), None)
        file = native or wheelhouse / f"{name}-1.0-py3-none-any.whl"
        lines.append(f"{file} --hash=sha256:{hashlib.sha256(file.read_bytes()).hexdigest()}\n")
    return "".join(lines)


def test_pip_uninstalls_everything_it_installed(v1: Path, fresh: Path) -> None:
    scripts = sorted(path.name for path in fresh.parent.iterdir())
    cli("install", "-w", str(v1), "--python", str(fresh))
    run_pip("uninstall", "-y", *PINS_V1, python=fresh)
    # pip removes a directory whose every file it removes: here the last module at the top.
    site = site_packages(fresh)
    assert not site.exists() or list(site.iterdir()) == []
    assert sorted(path.name for path in fresh.parent.iterdir()) == scripts
    assert installed(fresh) == {}


def test_upgrade_then_downgrade_replaces_old_files(v1: Path, v2: Path, fresh: Path) -> None:
    cli("install", "-w", str(v1), "--python", str(fresh))
    package = site_packages(fresh) / "toolbox"
    # A .pyc that no RECORD lists (another optimization level) goes with its source too.
    run([str(fresh), "-O", "-c", "import toolbox.old"])
    assert len(list((package / "__pycache__").glob("old.*.pyc"))) == 2
    out = cli("install", "-w", str(v2), "--python", str(fresh)).stdout
    assert out.startswith("installed 0, upgraded 2, downgraded 0, kept 5 in ")
    assert pip_list(fresh) == PINS_V2
    run_pip("check", python=fresh)
    assert not (package / "old.py").exists()
    assert not list((package / "__pycache__").glob("old.*"))
    assert not (fresh.parent / "toolbox-old").exists()
    assert not dist_info(fresh, "toolbox", "1.0").exists()
    assert not dist_info(fresh, "evolving", "1.0").exists()
    assert run([str(fresh.parent / "toolbox")]).stdout == "toolbox 2.0\n"
    out = cli("install", "-w", str(v1), "--python", str(fresh)).stdout
    assert out.startswith("installed 0, upgraded 0, downgraded 2, kept 5 in ")
    assert pip_list(fresh) == PINS_V1
    assert (fresh.parent / "toolbox-old").exists()
    again = cli("install", "-w", str(v1), "--python", str(fresh), "--quiet").stdout
    assert again == ""


def test_a_wheel_that_differs_from_the_lock_changes_nothing(
    v1: Path, v2: Path, fresh: Path, tmp_path: Path
) -> None:
    cli("install", "-w", str(v1), "--python", str(fresh))
    before = tree_digest(fresh.parent.parent)
    tampered = Path(shutil.copytree(v2, tmp_path / "tampered"))
    wheel = tampered / "toolbox-2.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    scratch = tmp_path / "scratch"  # elsewhere, so the venv's own directory stays as it was
    scratch.mkdir()
    command = ("install", "-w", str(tampered), "--python", str(fresh), "--tmp-dir", str(scratch))
    result = cli(*command, check=False)
    assert result.returncode == 1
    lock = tampered / "locks" / f"{target_for(OTHER)}.txt"
    assert result.stderr.splitlines()[0] == (
        f"error: refused, their sha256 is not the one in {lock}: toolbox-2.0-py3-none-any.whl"
    )
    assert tree_digest(fresh.parent.parent) == before
    assert list(scratch.iterdir()) == []


def test_pyc_files_stay_valid_when_the_venv_moves(v1: Path, fresh: Path, tmp_path: Path) -> None:
    """Timestamp-based like pip's: the source's mtime and size, not its path, validate them."""
    cli("install", "-w", str(v1), "--python", str(fresh))
    cached = site_packages(fresh) / "toolbox" / "__pycache__" / f"__init__.cpython-{TAG}.pyc"
    assert cached.read_bytes()[4:8] == b"\0\0\0\0"  # PEP 552 flags: timestamp-based
    moved = tmp_path / "moved"
    os.rename(fresh.parent.parent, moved)
    result = run([str(moved / "bin" / "python"), "-B", "-v", "-c", "import toolbox"])
    source = moved / "lib" / f"python{OTHER}" / "site-packages" / "toolbox" / "__init__.py"
    assert f"{source.parent / '__pycache__' / cached.name} matches {source}" in result.stderr


def test_one_probe_and_no_pip_per_run(
    v1: Path, fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wheelhouse.install import probe

    probes: list[object] = []
    real = probe.start
    monkeypatch.setattr(probe, "start", lambda command: probes.append(command) or real(command))
    monkeypatch.setattr(installer, "run", lambda *args, **kw: pytest.fail("pip or uv ran"))
    result = installer.install(installer.InstallRequest(wheelhouse=v1, python=fresh))
    assert result.ran and result.backend == "wheelhouse"
    assert len(probes) == 1
    assert installed(fresh) == PINS_V1


def test_install_loads_no_resolver_http_or_sdist_code(v1: Path, fresh: Path) -> None:
    code = (
        "import sys\n"
        "from wheelhouse.cli import cli\n"
        f"cli.main(['install', '-w', {str(v1)!r}, '--python', {str(fresh)!r}, '--dry-run'],"
        " standalone_mode=False)\n"
        "heavy = ('httpx', 'resolvelib', 'wheelhouse.resolve', 'wheelhouse.index',"
        " 'wheelhouse.sdist', 'wheelhouse.commands')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = run([sys.executable, "-c", code]).stdout.splitlines()
    assert out[0] == f"target {target_for(OTHER)} for {fresh} (Python {_full(fresh)})"
    assert out[-1] == "[]"


def _full(python: Path) -> str:
    return run(
        [str(python), "-c", "import platform; print(platform.python_version())"]
    ).stdout.strip()


def _info(full_version: str) -> InterpreterInfo:
    return InterpreterInfo(
        path=Path("/venv/bin/python"),
        executable=Path("/usr/bin/python3"),
        version=(3, int(full_version.split(".")[1])),
        full_version=full_version,
        implementation="cpython",
        tags=(Tag("cp39", "cp39", "linux_x86_64"),),
        environment={},
        prefix=Path("/venv"),
        base_prefix=Path("/usr"),
    )


def test_an_interpreter_installer_cannot_run_in_gets_pip_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = _info("3.9.18"), _info("3.12.1")
    reason = engine.unsupported(old)
    assert reason is not None and reason.endswith("/venv/bin/python is 3.9.18")
    assert engine.unsupported(new) is None
    choose = installer._backend
    assert choose(None, old) == "pip" and choose(None, new) == "wheelhouse"
    assert choose("uv", old) == "uv"
    with pytest.raises(BackendUnavailable, match=r"needs Python >=3\.10"):
        choose("wheelhouse", old)


def test_a_wheel_that_escapes_its_scheme_fails_naming_it(tmp_path: Path) -> None:
    """Its hash is the lock's, but a path in it leads out of site-packages: nothing lands there."""
    evil = make_wheel(tmp_path, "evil", "1.0", {"evil/__init__.py": "", "../../../../../x.py": ""})
    wheelhouse = make_wheelhouse(tmp_path / "wh", ["evil"], [target_for(OTHER)], extra=[evil])
    venv = make_venv(tmp_path, python(OTHER))
    result = cli("install", "-w", str(wheelhouse), "--python", str(venv), check=False)
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: installing {wheelhouse / evil.name} failed: ValueError: ")
    assert "outside of the target directory" in first
    assert not list(tmp_path.rglob("x.py"))


def test_compile_batches_split_by_bytes_and_files() -> None:
    """In order; a batch closes at the byte or file limit; a file over the limit stands alone."""
    sources = [("a", 60), ("b", 60), ("c", 300), ("d", 10), ("e", 10), ("f", 10)]
    assert batches(sources, most=100, files=2) == [["a"], ["b"], ["c"], ["d", "e"], ["f"]]
    assert batches([], most=100) == []


def test_a_large_wheels_files_are_compiled_by_every_worker() -> None:
    """Unpacked, a wheel's sources become batches that any free worker takes; its RECORD gets
    the lines of the files that compiled once every batch is back."""
    tasks = engine._Tasks([{"unpack": {"path": "big.whl"}}, {"unpack": {"path": "small.whl"}}])
    big, small = tasks.take(), tasks.take()
    assert (big, small) == ({"unpack": {"path": "big.whl"}}, {"unpack": {"path": "small.whl"}})
    sources = [[f"/sp/m{n}.py", f"__pycache__/m{n}.pyc", BATCH_BYTES, "k"] for n in range(3)]
    answer = {"record": "/sp/big/RECORD", "sources": sources, "precompiled": ["__pycache__/a.pyc"]}
    tasks.done(big, answer)
    assert [task.get("compile") for task in tasks.queued] == [[f"/sp/m{n}.py"] for n in range(3)]
    first, second = tasks.take(), tasks.take()  # both workers compile the big wheel's files
    assert first is not None and second is not None
    tasks.done(small, {"record": "/sp/small/RECORD", "sources": [], "precompiled": []})
    tasks.done(first, {"compiled": ["/sp/m0.py"]})
    third = tasks.take()
    assert third is not None and third["compile"] == ["/sp/m2.py"]
    tasks.done(third, {"compiled": []})  # a file that does not compile gets no .pyc line
    assert not tasks.queued  # the RECORD waits for the last batch
    tasks.done(second, {"compiled": ["/sp/m1.py"]})
    rows = ["__pycache__/a.pyc", "__pycache__/m0.pyc", "__pycache__/m1.pyc"]
    assert tasks.queued == ({"record": "/sp/big/RECORD", "rows": rows},)


def test_a_wheel_compiled_ahead_needs_only_its_record_task() -> None:
    """Every ``.pyc`` written from the bytecode archive: no batch, the RECORD task at once."""
    tasks = engine._Tasks([{"unpack": {"path": "a.whl"}}])
    unpack = tasks.take()
    assert unpack is not None
    ahead = ["__pycache__/m0.pyc", "__pycache__/m1.pyc"]
    tasks.done(unpack, {"record": "/sp/a/RECORD", "sources": [], "precompiled": ahead})
    assert tasks.queued == ({"record": "/sp/a/RECORD", "rows": ahead},)


def test_after_a_failure_no_task_is_handed_out() -> None:
    tasks = engine._Tasks([{"unpack": {"path": "a.whl"}}, {"unpack": {"path": "b.whl"}}])
    first = tasks.take()
    assert first is not None
    tasks.done(first, {"error": "OSError: disk full", "path": "a.whl"})
    assert tasks.queued  # b.whl is left, and stays so
    assert tasks.take() is None
    assert tasks.failure == {"error": "OSError: disk full", "path": "a.whl"}
