"""``wheelhouse compile``: bytecode compiled once, at build time, for the installs to come.

For each interpreter, the wheels that ``wheelhouse install`` would install into
it (the whole lock of the target it chooses) are checked against the lock's
hashes and compiled by that interpreter, in one worker per core, into
``bytecode/<cache tag>/<wheel>.zip``. An install by the engine then writes each
``.pyc`` from there instead of compiling it, and compiles only what is missing;
pip and uv never look there. Nothing else in the wheelhouse changes.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.layout import BYTECODE
from wheelhouse.install import engine
from wheelhouse.install.choice import Choice, choose
from wheelhouse.install.discovery import default_python, find_python
from wheelhouse.install.errors import CannotCompile, InterpreterNotFound
from wheelhouse.install.installer import lock_files
from wheelhouse.model.errors import NoMatchingTarget
from wheelhouse.model.targets import parse_target_name

__all__ = ["Compiled", "Skipped", "compile_bytecode"]

_VERSION = re.compile(r"\d+\.\d+(\.\d+)?")


@dataclass(frozen=True, kw_only=True, slots=True)
class Compiled:
    """What one interpreter compiled: its target, its wheels, and the archives written."""

    interpreter: Path
    target: str
    wheels: int
    written: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Skipped:
    """A target's Python that was looked for and not found, or that serves no target."""

    python: str
    reason: str


def compile_bytecode(
    wheelhouse_dir: Path, pythons: Sequence[str]
) -> tuple[list[Compiled], list[Skipped]]:
    """Compile, for each interpreter, the bytecode of the wheels its install would take.

    ``pythons`` are versions (``3.12``, found as ``install`` finds them) or paths;
    none means each target's Python, those not found on this machine skipped.
    Holds the wheelhouse's write lock, so a prune cannot remove a wheel meanwhile.
    """
    wheelhouse = Wheelhouse.open(Path(os.path.abspath(wheelhouse_dir)))
    done: list[Compiled] = []
    skipped: list[Skipped] = []
    with wheelhouse.exclusive():
        for python in _interpreters(wheelhouse, pythons, skipped):
            try:
                choice = choose(wheelhouse.root, python)
                if reason := engine.unsupported(choice.interpreter):
                    raise CannotCompile(str(python), reason)
            except (NoMatchingTarget, CannotCompile) as exc:
                if pythons:
                    raise
                skipped.append(Skipped(python=str(python), reason=str(exc)))
                continue
            done.append(_compile(choice))
    return done, skipped


def _interpreters(
    wheelhouse: Wheelhouse, pythons: Sequence[str], skipped: list[Skipped]
) -> Iterator[Path]:
    """The interpreters asked for, or one for each Python the targets are for."""
    if not pythons:
        versions = sorted({_version_of(target) for target in wheelhouse.lock_targets()})
        if not versions:
            yield default_python()
        for version in versions:
            if found := find_python(version):
                yield found
            else:
                reason = "not found on PATH, nor where pyenv, uv, asdf or mise keep them"
                skipped.append(Skipped(python=version, reason=reason))
        return
    for python in dict.fromkeys(pythons):
        if not _VERSION.fullmatch(python):
            yield Path(python)
        elif found := find_python(python):
            yield found
        else:
            raise InterpreterNotFound(python, "no CPython of that version found here")


def _version_of(target: str) -> str:
    """``3.12`` for ``cp312-…``."""
    (major, minor), _platform = parse_target_name(target)
    return f"{major}.{minor}"


def _compile(choice: Choice) -> Compiled:
    files = [file for file in lock_files(choice) if file.path.name.endswith(".whl")]
    lock = str(choice.wheelhouse.lock_path(choice.target))
    with tempfile.TemporaryDirectory(prefix=".wheelhouse-tmp-") as scratch:
        bytecode = choice.wheelhouse.root / BYTECODE
        written = engine.compile_ahead(choice.interpreter, files, bytecode, lock, Path(scratch))
    return Compiled(
        interpreter=choice.interpreter.path,
        target=choice.target,
        wheels=len(files),
        written=len(written),
    )
