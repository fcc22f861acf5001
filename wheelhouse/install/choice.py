"""Choosing the lock for an interpreter: the wheelhouse target whose tags it installs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.install.discovery import start_probe
from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.probe import InterpreterInfo, Probe
from wheelhouse.model.targets import match_target

__all__ = ["Choice", "choose"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Choice:
    """An interpreter and the wheelhouse target that serves it."""

    wheelhouse: Wheelhouse
    interpreter: InterpreterInfo
    target: str


def choose(wheelhouse_dir: Path, python: Path | Probe | None, *, installed: bool = False) -> Choice:
    """Open the wheelhouse, probe the interpreter and pick the target that serves it.

    The one probe also lists what is installed when ``installed`` is true; a
    :class:`Probe` already under way (started with ``installed`` as needed) is used as is.
    """
    if isinstance(python, Probe):
        return _choose(wheelhouse_dir, python)
    with start_probe(python, installed=installed) as probe:
        return _choose(wheelhouse_dir, probe)


def _choose(wheelhouse_dir: Path, probe: Probe) -> Choice:
    wheelhouse = Wheelhouse.open(Path(os.path.abspath(wheelhouse_dir)))
    if not probe.python.exists():
        raise InterpreterNotFound(str(probe.python), "no such file")
    info = probe.info()
    targets = wheelhouse.lock_targets()
    target = match_target(targets, tags=info.tags, tag=info.tag, interpreter=str(info.path))
    return Choice(wheelhouse=wheelhouse, interpreter=info, target=target)
