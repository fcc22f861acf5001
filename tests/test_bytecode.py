"""Bytecode compiled ahead by ``wheelhouse compile``, and installs that write it.

The interpreter is the judge of the ``.pyc`` files: ``python -v`` says whether
it takes a cached file as matching its source, and an import that runs the
archive's code (not the source's) proves that the archive was used.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import make_venv, run, run_pip
from test_engine import OTHER, PINS_V1, TAG, V1, cli, pip_list, python, site_packages, toolbox
from wheelhouses import make_wheelhouse, target_for, tree_digest

from wheelhouse.commands.prune import prune
from wheelhouse.commands.verify import verify
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.install import ahead

CACHE_TAG = f"cpython-{TAG}"
ALPHA = "alpha-1.1-py3-none-any.whl"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-target wheelhouse whose other Python's wheels are compiled ahead."""
    directory = tmp_path_factory.mktemp("bytecode")
    extra = [toolbox(directory, "1.0")]
    wheelhouse = make_wheelhouse(
        directory / "wheelhouse", V1, [target_for("3.11"), target_for("3.12")], extra=extra
    )
    result = cli("compile", "-w", str(wheelhouse), "--python", OTHER)
    found = python(OTHER)
    assert (
        result.stdout == f"{target_for(OTHER)}: 7 wheels with {found}, 7 compiled, 0 already were\n"
    )
    return wheelhouse


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "wheelhouse"))


def archive(wheelhouse: Path, wheel: str = ALPHA) -> Path:
    return wheelhouse / "bytecode" / CACHE_TAG / f"{wheel}.zip"


def rewrite(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> None:
    """The archive with ``members`` replaced or added, all else as it was."""
    with zipfile.ZipFile(path) as old:
        kept = {name: old.read(name) for name in old.namelist()}
    with zipfile.ZipFile(path, "w", compression) as new:
        for name, data in {**kept, **members}.items():
            new.writestr(name, data)


def about(path: Path) -> dict[str, object]:
    with zipfile.ZipFile(path) as found:
        loaded: dict[str, object] = json.loads(found.read("bytecode.json"))
        return loaded


def ahead_code() -> bytes:
    """Code for alpha/__init__.py that the source does not have."""
    return marshal.dumps(compile("AHEAD = True\n", "alpha/__init__.py", "exec"))


def test_compile_writes_one_archive_per_wheel_and_skips_them_next_time(copy: Path) -> None:
    folder = copy / "bytecode" / CACHE_TAG
    names = sorted(path.name for path in folder.iterdir())
    assert len(names) == 7 and all((copy / name.removesuffix(".zip")).is_file() for name in names)
    alpha = archive(copy)
    digest = hashlib.sha256((copy / ALPHA).read_bytes()).hexdigest()
    assert about(alpha)["sha256"] == digest
    assert about(alpha)["magic"] == _magic(python(OTHER))
    with zipfile.ZipFile(alpha) as found:
        assert "purelib/alpha/__init__.py" in found.namelist()
    with zipfile.ZipFile(archive(copy, "toolbox-1.0-py3-none-any.whl")) as found:
        assert "platlib/toolbox_native.py" in found.namelist()  # from .data/platlib
    before = tree_digest(folder)
    again = cli("compile", "-w", str(copy)).stdout  # each target's Python found here
    assert (
        f"{target_for(OTHER)}: 7 wheels with {python(OTHER)}, 0 compiled, 7 already were\n" in again
    )
    assert tree_digest(folder) == before


def _magic(interpreter: Path) -> str:
    code = "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"
    return run([str(interpreter), "-c", code]).stdout.strip()


def test_install_writes_each_pyc_from_the_archive(copy: Path, tmp_path: Path) -> None:
    rewrite(archive(copy), {"purelib/alpha/__init__.py": ahead_code()})
    fresh = make_venv(tmp_path, python(OTHER))
    cli("install", "-w", str(copy), "--python", str(fresh))
    # The archive's code runs, under the header the interpreter takes as matching the source.
    result = run([str(fresh), "-B", "-v", "-c", "import alpha; print(alpha.AHEAD)"])
    assert result.stdout == "True\n"
    source = site_packages(fresh) / "alpha" / "__init__.py"
    cached = source.parent / "__pycache__" / f"__init__.cpython-{TAG}.pyc"
    assert f"{cached} matches {source}" in result.stderr
    assert cached.read_bytes()[4:8] == b"\0\0\0\0"  # timestamp-based, as pip writes them
    record = (site_packages(fresh) / "alpha-1.1.dist-info" / "RECORD").read_text()
    assert f"alpha/__pycache__/__init__.cpython-{TAG}.pyc,," in record
    # Every module of every wheel has its .pyc, and the interpreter takes each as it is.
    importing = "import alpha, beta, gamma, delta, evolving, native, toolbox.cli, toolbox_native"
    result = run([str(fresh), "-B", "-v", "-c", importing])
    site = str(site_packages(fresh))
    lines = [line for line in result.stderr.splitlines() if site in line]
    assert len([line for line in lines if " matches " in line]) == 9, lines
    assert not [line for line in lines if "bad" in line or "wrote" in line]
    # pip's own checks, and its uninstall from those RECORDs, leave nothing behind.
    run_pip("check", python=fresh)
    assert pip_list(fresh) == PINS_V1
    run_pip("uninstall", "-y", *PINS_V1, python=fresh)
    site_dir = site_packages(fresh)
    assert not site_dir.exists() or list(site_dir.iterdir()) == []


def test_an_archive_of_another_file_or_interpreter_is_not_used(copy: Path, tmp_path: Path) -> None:
    """Compiled from another wheel of that name, or by another Python: compiled afresh."""
    alpha = archive(copy)
    rewrite(alpha, {"purelib/alpha/__init__.py": ahead_code()})
    for number, change in enumerate(({"sha256": "0" * 64}, {"magic": "00000000"})):
        rewrite(alpha, {"bytecode.json": json.dumps({**about(alpha), **change}).encode()})
        fresh = make_venv(tmp_path, python(OTHER), name=f"venv{number}")
        cli("install", "-w", str(copy), "--python", str(fresh), "alpha")
        code = "import alpha; print(hasattr(alpha, 'AHEAD'))"
        assert run([str(fresh), "-B", "-c", code]).stdout == "False\n", change
        assert (site_packages(fresh) / "alpha" / "__pycache__").is_dir()


def test_with_source_date_epoch_the_pycs_check_a_hash_of_the_source(
    copy: Path, tmp_path: Path
) -> None:
    """As py_compile does then: PEP 552 checked-hash files, valid for the source as installed."""
    fresh = make_venv(tmp_path, python(OTHER))
    command = [*_cli_prefix(), "install", "-w", str(copy), "--python", str(fresh), "alpha"]
    run(command, env={"SOURCE_DATE_EPOCH": "315532800"})
    source = site_packages(fresh) / "alpha" / "__init__.py"
    cached = source.parent / "__pycache__" / f"__init__.cpython-{TAG}.pyc"
    assert cached.read_bytes()[4:8] == (3).to_bytes(4, "little")  # hash-based, checked
    result = run([str(fresh), "-B", "-v", "-c", "import alpha"])
    assert f"{cached} matches {source}" in result.stderr


def _cli_prefix() -> list[str]:
    return [sys.executable, "-m", "wheelhouse"]


def test_compile_refuses_a_wheel_that_differs_from_the_lock(copy: Path) -> None:
    shutil.rmtree(copy / "bytecode")
    wheel = copy / ALPHA
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    result = cli("compile", "-w", str(copy), "--python", OTHER, check=False)
    assert result.returncode == 1
    lock = copy / "locks" / f"{target_for(OTHER)}.txt"
    assert result.stderr.splitlines()[0] == (
        f"error: refused, their sha256 is not the one in {lock}: {ALPHA}"
    )
    assert not list((copy / "bytecode").rglob("*.zip"))


def test_compile_names_a_python_it_cannot_find(copy: Path) -> None:
    result = cli("compile", "-w", str(copy), "--python", "3.99", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: cannot use 3.99 as an interpreter: no CPython of that version found here",
        "hint: pass a version (--python 3.12) or the path of a working interpreter",
    ]


def test_a_target_python_not_found_is_skipped_with_a_note(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ahead, "find_python", lambda version: None)
    done, skipped = ahead.compile_bytecode(copy, [])
    assert done == []
    assert [item.python for item in skipped] == ["3.11", "3.12"]


def bytecode_problems(wheelhouse: Path) -> set[tuple[str, str]]:
    """What verify finds under ``bytecode/`` (a test wheelhouse has no index pages)."""
    problems = verify(Wheelhouse.open(wheelhouse)).problems
    return {(p.kind, p.path) for p in problems if p.path.startswith("bytecode/")}


def test_verify_reports_stale_and_damaged_archives_and_prune_removes_the_stale(
    copy: Path,
) -> None:
    folder = copy / "bytecode" / CACHE_TAG
    shutil.copy(archive(copy), folder / "gone-1.0-py3-none-any.whl.zip")
    beta = next(folder.glob("beta-*.zip"))
    rewrite(beta, {"bytecode.json": json.dumps({**about(beta), "sha256": "0" * 64}).encode()})
    gamma = next(folder.glob("gamma-*.zip"))
    data = bytearray(gamma.read_bytes())
    at = data.index(b"purelib/gamma/__init__.py") + len("purelib/gamma/__init__.py")
    data[at + 2] ^= 0xFF  # inside the member's compressed data
    gamma.write_bytes(bytes(data))
    problems = bytecode_problems(copy)
    relative = f"bytecode/{CACHE_TAG}"
    assert problems == {
        ("stale bytecode", f"{relative}/gone-1.0-py3-none-any.whl.zip"),
        ("stale bytecode", f"{relative}/{beta.name}"),
        ("corrupted bytecode", f"{relative}/{gamma.name}"),
    }
    plan = prune(Wheelhouse.open(copy))
    assert set(plan.leftovers) >= {
        f"{relative}/gone-1.0-py3-none-any.whl.zip",
        f"{relative}/{beta.name}",
    }
    assert not (folder / "gone-1.0-py3-none-any.whl.zip").exists() and not beta.exists()
    assert archive(copy).exists()


def test_an_interrupted_archive_write_is_a_leftover(copy: Path) -> None:
    partial = copy / "bytecode" / CACHE_TAG / f".{ALPHA}.zip.0123456789ab.tmp"
    partial.write_bytes(b"PK")
    assert bytecode_problems(copy) == {("partial file", partial.relative_to(copy).as_posix())}
    prune(Wheelhouse.open(copy))
    assert not partial.exists()


def _declaring_65_mib(data: bytes, name: bytes) -> bytes:
    """The archive with ``name``'s central directory entry declaring 65 MiB."""
    found = bytearray(data)
    central = found.index(name, found.index(name) + 1) - 46
    found[central + 24 : central + 28] = (65 << 20).to_bytes(4, "little")
    return bytes(found)


def _deflate_broken(data: bytes, name: bytes) -> bytes:
    """The archive with the first byte of ``name``'s deflated data naming no block type."""
    found = bytearray(data)
    local = found.index(name) - 30
    extra = int.from_bytes(found[local + 28 : local + 30], "little")
    found[local + 30 + len(name) + extra] = 0xFF
    return bytes(found)


@pytest.mark.parametrize(
    ("name", "about", "spoil"),
    [
        ("purelib/alpha/__init__.py", None, _declaring_65_mib),
        ("bytecode.json", None, _declaring_65_mib),
        ("bytecode.json", b"[]", None),
        ("bytecode.json", None, _deflate_broken),
    ],
    ids=["code-too-large", "about-too-large", "about-no-table", "about-no-deflate"],
)
def test_an_archive_that_does_not_read_back_is_compiled_around(
    copy: Path,
    tmp_path: Path,
    name: str,
    about: bytes | None,
    spoil: Callable[[bytes, bytes], bytes] | None,
) -> None:
    """A damaged or hostile archive cannot make a worker inflate gigabytes, nor fail an
    install or a prune: its sources are compiled, and prune drops an archive it cannot read."""
    alpha = archive(copy)
    members = {"purelib/alpha/__init__.py": ahead_code()}
    if about is not None:
        members["bytecode.json"] = about
    rewrite(alpha, members, compression=zipfile.ZIP_DEFLATED)
    if spoil is not None:
        alpha.write_bytes(spoil(alpha.read_bytes(), name.encode()))
    fresh = make_venv(tmp_path, python(OTHER))
    cli("install", "-w", str(copy), "--python", str(fresh), "alpha")
    code = "import alpha; print(hasattr(alpha, 'AHEAD'))"
    assert run([str(fresh), "-B", "-c", code]).stdout == "False\n"
    prune(Wheelhouse.open(copy))
    assert alpha.exists() == (name != "bytecode.json")
