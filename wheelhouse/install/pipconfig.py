"""``wheelhouse env --check``: whether the settings pip will use are the wheelhouse's.

pip reads its settings, later ones winning, from the global files
(``/etc/xdg/pip/pip.conf``, ``/etc/pip.conf``), the user's file (skipped when
``PIP_CONFIG_FILE`` names an existing file), the site file (``<venv>/pip.conf``),
the file ``PIP_CONFIG_FILE`` names, and last the ``PIP_*`` variables. Across
them, a command's own section (``[install]``) beats ``[global]``, and a variable
beats both. ``pip config debug`` lists every source with its values; this module
reads that listing and finds which source wins each setting ``pip install`` uses.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.install.discovery import active_venv_python
from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.probe import InterpreterInfo, probe
from wheelhouse.install.process import pip_command, run

__all__ = [
    "KEYS",
    "PIP_TIMEOUT",
    "PipCheck",
    "Setting",
    "check",
    "check_pip",
    "parse_config_debug",
    "winning",
]

#: Sources in the order pip applies them: a later one overrides an earlier one.
_VARIANTS = ("global", "user", "site", "env", "env_var")
#: Sections in the order ``pip install`` applies them; ``:env:`` holds the variables.
_SECTIONS = ("global", "install", ":env:")
#: The settings that keep pip on the wheelhouse's pins.
KEYS = ("no-index", "find-links", "constraint")
_TRUE = {"1", "y", "yes", "t", "true", "on"}
#: Seconds ``pip config debug`` may take: it reads a few files, so a pip still running hangs.
PIP_TIMEOUT = 60.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Setting:
    """One value as pip reads it: ``section.key``, the value, and where it comes from."""

    variant: str
    origin: str  # a file, or the variable's name
    key: str
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PipCheck:
    """What ``env --check`` found: one line per setting, and what is not the wheelhouse's."""

    python: Path
    guessed: bool  # neither --python nor $VIRTUAL_ENV named it: the one running wheelhouse
    lines: tuple[str, ...]
    wrong: tuple[str, ...]


def check(wheelhouse_dir: Path, python: Path | None) -> PipCheck:
    """Ask the pip of ``python`` (else ``$VIRTUAL_ENV``'s, else this one) what it reads.

    Any constraints file of the wheelhouse will do: every target's or one target's.
    """
    wheelhouse = Wheelhouse.open(Path(os.path.abspath(wheelhouse_dir)))
    chosen = python or active_venv_python() or Path(sys.executable)
    if not chosen.exists():
        raise InterpreterNotFound(str(chosen), "no such file")
    info = probe(chosen)
    files = [wheelhouse.matrix_constraints_path]
    files += [wheelhouse.constraints_path(target) for target in wheelhouse.lock_targets()]
    lines, wrong = check_pip(info, wheelhouse.root, files)
    guessed = python is None and active_venv_python() is None
    return PipCheck(python=info.path, guessed=guessed, lines=tuple(lines), wrong=tuple(wrong))


def parse_config_debug(text: str) -> list[Setting]:
    """Every value ``pip config debug`` lists, with its variant and file (or variable)."""
    found: list[Setting] = []
    variant = origin = ""
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip(" "))
        item = line.strip()
        if depth == 0 and item.endswith(":"):
            variant, origin = item[:-1], ""
        elif variant == "env_var" and depth == 2 and "=" in item:
            name, _, quoted = item.partition("=")
            key = ":env:." + name.removeprefix("PIP_").lower().replace("_", "-")
            found.append(Setting(variant=variant, origin=name, key=key, value=_literal(quoted)))
        elif depth == 2 and ", exists: " in item:
            origin = item.rpartition(", exists: ")[0]
        elif depth == 4 and ": " in item and origin:
            key, _, value = item.partition(": ")
            found.append(Setting(variant=variant, origin=origin, key=key, value=value))
    return found


def _literal(quoted: str) -> str:
    try:
        return str(ast.literal_eval(quoted))
    except (ValueError, SyntaxError):
        return quoted


def winning(settings: Sequence[Setting], key: str) -> Setting | None:
    """The setting of ``key`` that ``pip install`` uses; None when nothing sets it."""
    merged: dict[str, Setting] = {}
    for variant in _VARIANTS:  # within a variant, files come in the order pip reads them
        merged |= {s.key: s for s in settings if s.variant == variant}
    chosen = [merged.get(f"{section}.{key}") for section in _SECTIONS]
    return next((setting for setting in reversed(chosen) if setting is not None), None)


def check_pip(
    info: InterpreterInfo, root: Path, constraints: Sequence[Path]
) -> tuple[list[str], list[str]]:
    """Ask the interpreter's pip what it reads; one line per setting, and what is wrong.

    ``constraints`` are the wheelhouse's constraints files: pip must read one of them.
    Raises :class:`InterpreterNotFound` when pip cannot list its configuration, or
    takes longer than :data:`PIP_TIMEOUT`.
    """
    command = [*pip_command(info), "config", "debug"]
    try:
        result = run(command, capture=True, as_configured=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        reason = f"pip config debug did not finish within {PIP_TIMEOUT:g} seconds"
        raise InterpreterNotFound(str(info.path), reason) from None
    except OSError as exc:
        raise InterpreterNotFound(str(info.path), exc.strerror or str(exc)) from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["pip config debug failed"])[-1]
        raise InterpreterNotFound(str(info.path), reason)
    settings = parse_config_debug(result.stdout)
    lines, wrong = [], []
    for key in KEYS:
        setting = winning(settings, key)
        problem = _judge(key, setting, root, constraints)
        where = f", from {_origin(setting)}" if setting else ""
        shown = f"{key} = {setting.value}{where}" if setting else f"{key} is not set"
        lines.append(f"{'ok' if problem is None else 'WRONG':5} {shown}")
        if problem is not None:
            wrong.append(problem)
    return lines, wrong


def _origin(setting: Setting) -> str:
    if setting.variant == "env_var":
        return setting.origin
    return f"{setting.origin} [{setting.key.partition('.')[0]}]"


def _judge(
    key: str, setting: Setting | None, root: Path, constraints: Sequence[Path]
) -> str | None:
    """None when ``setting`` is the wheelhouse's; else what is wrong with it."""
    if setting is None:
        return f"{key} is not set"
    if key == "no-index":
        return None if setting.value.strip().lower() in _TRUE else _overridden(setting)
    paths = {_as_path(value) for value in setting.value.split()}
    if key == "find-links":
        return None if paths == {root.resolve()} else _overridden(setting)
    ours = {path.resolve() for path in constraints}
    return None if paths & ours else _overridden(setting)


def _overridden(setting: Setting) -> str:
    return f"{setting.key.partition('.')[2]} comes from {_origin(setting)}"


def _as_path(value: str) -> Path:
    if value.startswith("file:"):
        value = urllib.request.url2pathname(urllib.parse.urlsplit(value).path)
    return Path(value).resolve()
