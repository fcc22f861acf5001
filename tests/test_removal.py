"""Removing an installed version from its RECORD: what goes, what stays, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from wheelhouse.install.errors import CannotUninstall
from wheelhouse.install.probe import InstalledDistribution
from wheelhouse.install.removal import plan_removal, remove


def environment(root: Path) -> dict[str, str]:
    """A venv-like scheme under ``root``."""
    site = root / "lib" / "python3.12" / "site-packages"
    for directory in (site, root / "bin", root / "include" / "site" / "python3.12"):
        directory.mkdir(parents=True)
    return {
        "purelib": str(site),
        "platlib": str(site),
        "scripts": str(root / "bin"),
        "data": str(root),
        "headers": str(root / "include" / "site" / "python3.12"),
    }


def installed(scheme: dict[str, str], record: list[str]) -> InstalledDistribution:
    """A ``demo 1.0`` whose files are the RECORD's (written, whatever they are)."""
    site = Path(scheme["purelib"])
    for row in record:
        path = site / row
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(row)
    info = site / "demo-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "RECORD").write_text("".join(f"{row},,\n" for row in record))
    return InstalledDistribution(name=canonicalize_name("demo"), version="1.0", path=info)


def test_listed_files_their_bytecode_and_empty_directories_go(tmp_path: Path) -> None:
    scheme = environment(tmp_path)
    record = [
        "demo/__init__.py",
        "demo/sub/mod.py",
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/RECORD",
        "../../../bin/demo",
    ]
    dist = installed(scheme, record)
    site = Path(scheme["purelib"])
    cache = site / "demo" / "sub" / "__pycache__"
    cache.mkdir()
    for name in ("mod.cpython-312.pyc", "mod.cpython-313.opt-1.pyc", "mod.pypy310.pyc"):
        (cache / name).write_bytes(b"")
    (site / "shared").mkdir()
    (site / "shared" / "keep.py").write_text("")
    removal = plan_removal(dist, scheme)
    assert removal is not None
    remove(removal)
    assert sorted(path.name for path in site.iterdir()) == ["shared"]
    assert sorted(path.name for path in (tmp_path / "bin").iterdir()) == []
    assert (tmp_path / "bin").is_dir()  # a scheme directory stays, even empty


def test_a_cache_no_record_covers_keeps_its_directory(tmp_path: Path) -> None:
    scheme = environment(tmp_path)
    dist = installed(scheme, ["demo/mod.py", "demo-1.0.dist-info/RECORD"])
    cache = Path(scheme["purelib"]) / "demo" / "__pycache__"
    cache.mkdir()
    (cache / "mod.cpython-312.pyc").write_bytes(b"")
    (cache / "stranger.cpython-312.pyc").write_bytes(b"")
    (cache / "mod.other.cpython-312.pyc").write_bytes(b"")  # a module named "mod.other"
    removal = plan_removal(dist, scheme)
    assert removal is not None
    remove(removal)
    assert sorted(path.name for path in cache.iterdir()) == [
        "mod.other.cpython-312.pyc",
        "stranger.cpython-312.pyc",
    ]


def test_a_record_reaching_outside_the_environment_is_refused(tmp_path: Path) -> None:
    scheme = environment(tmp_path / "venv")
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    dist = installed(scheme, ["demo/__init__.py", "demo-1.0.dist-info/RECORD"])
    (dist.path / "RECORD").write_text("demo/__init__.py,,\n../../../../precious.txt,,\n")  # type: ignore[operator]
    with pytest.raises(CannotUninstall, match=r"its RECORD lists .*precious\.txt"):
        plan_removal(dist, scheme)
    assert outside.read_text() == "keep me"
    assert (Path(scheme["purelib"]) / "demo" / "__init__.py").exists()


def test_no_record_is_refused_and_a_foreign_site_is_left_alone(tmp_path: Path) -> None:
    scheme = environment(tmp_path / "venv")
    dist = installed(scheme, ["demo/__init__.py"])
    (dist.path / "RECORD").unlink()  # type: ignore[operator]
    with pytest.raises(CannotUninstall, match="it has no RECORD file"):
        plan_removal(dist, scheme)
    elsewhere = InstalledDistribution(
        name=dist.name,
        version="1.0",
        path=tmp_path / "usr" / "site-packages" / "demo-1.0.dist-info",
    )
    assert plan_removal(elsewhere, scheme) is None
