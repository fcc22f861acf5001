"""Finding interpreters: the active one, a CPython ``X.Y`` from wherever it is kept, and uv.

A candidate is never trusted by its name or path: :func:`find_python` probes it
and takes the path it reports for itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from packaging.tags import Tag

from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.probe import InterpreterInfo, Probe, probe

__all__ = ["active_venv_python", "default_python", "find_python", "find_uv", "start_probe"]


def default_python(environ: Mapping[str, str] = os.environ) -> Path:
    """The active virtual environment's interpreter, else the one running this tool."""
    return active_venv_python(environ) or Path(sys.executable)


def start_probe(python: Path | None, *, installed: bool = False) -> Probe:
    """Start asking ``python``, else :func:`default_python`, what it is; it answers meanwhile."""
    return Probe(python or default_python(), installed=installed)


def active_venv_python(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The interpreter of ``$VIRTUAL_ENV``; None when it names no venv with one."""
    if venv := environ.get("VIRTUAL_ENV"):
        scripts = "Scripts/python.exe" if sys.platform == "win32" else "bin/python"
        if (candidate := Path(venv) / scripts).is_file():
            return candidate
    return None


def find_python(version: str) -> Path | None:
    """A working CPython ``X.Y`` (or ``X.Y.Z``) from PATH, pyenv, uv, asdf or mise; else None.

    A candidate counts only if running it answers with ``version``; the path returned
    is the one it reports for itself (a pyenv shim's answer depends on where it runs).
    """
    seen: set[Path] = set()
    for candidate in _candidates(version):
        if candidate in seen or not os.access(candidate, os.X_OK):
            continue
        seen.add(candidate)
        with contextlib.suppress(InterpreterNotFound):
            if _serves(info := probe(candidate), version):
                return info.executable
    return None


def _candidates(version: str) -> Iterator[Path]:
    short = ".".join(version.split(".")[:2])
    for directory in os.get_exec_path():
        yield Path(directory) / f"python{short}"
    pattern = f"{version}.*" if version == short else version
    for root, layout in _managed_roots():
        installs = [path for path in root.glob(layout.format(pattern)) if path.is_dir()]
        for install in sorted(installs, key=_numeric_key, reverse=True):
            yield install / "bin" / f"python{short}"
    for directory in os.get_exec_path():
        yield from (Path(directory) / name for name in ("python3", "python"))


def _managed_roots() -> list[tuple[Path, str]]:
    """Where version managers keep interpreters, and how an install directory is named."""
    home, data = Path.home(), os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
    pyenv = os.environ.get("PYENV_ROOT") or str(home / ".pyenv")
    uv = os.environ.get("UV_PYTHON_INSTALL_DIR") or str(Path(data) / "uv" / "python")
    asdf = os.environ.get("ASDF_DATA_DIR") or str(home / ".asdf")
    return [
        (Path(pyenv) / "versions", "{}"),
        (Path(uv), "cpython-{}-*"),
        (Path(asdf) / "installs" / "python", "{}"),
        (Path(data) / "mise" / "installs" / "python", "{}"),
    ]


def _numeric_key(path: Path) -> tuple[int, ...]:
    """Newest patch first: ``3.12.10`` sorts after ``3.12.9``."""
    return tuple(int(part) for part in re.findall(r"\d+", path.name)[:3])


def _serves(info: InterpreterInfo, version: str) -> bool:
    """A CPython of ``version`` that installs ``cpXY-cpXY`` wheels (so not free-threaded)."""
    abi = f"cp{info.version[0]}{info.version[1]}"
    right = info.full_version == version or info.full_version.startswith(version + ".")
    return right and info.implementation == "cpython" and Tag(abi, abi, info.platform) in info.tags


def find_uv() -> Path | None:
    """The ``uv`` executable beside this interpreter (its package's script), else on PATH."""
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    on_path = shutil.which("uv")
    return Path(on_path) if on_path else None
