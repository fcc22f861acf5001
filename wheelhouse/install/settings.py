"""What ``wheelhouse env`` prints: settings that make plain pip and uv install only the pins.

The values point at the wheelhouse and at its constraints: by default the file of
every target (``constraints/all.txt``, each line with its targets' marker), so one
set of settings serves a matrix of Pythons; for one interpreter, its target's file.
They come as shell exports, a dotenv file, a pip.conf or a uv.toml. When ``env``
cannot serve, :func:`render_refusal` prints what keeps pip and uv off every index anyway.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from wheelhouse.errors import printable
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.install.choice import Choice
from wheelhouse.install.errors import LockUnusable

__all__ = [
    "FORMATS",
    "Served",
    "every_target",
    "offline_settings",
    "one_target",
    "render_refusal",
    "render_settings",
]

#: The ways ``wheelhouse env`` prints its settings.
FORMATS = ("sh", "dotenv", "pip.conf", "uv.toml")
#: pip commands that read find-links, no-index and constraints. A pip.conf names them
#: besides ``[global]`` because a command's section beats ``[global]`` of any file.
_PIP_COMMANDS = ("install", "download", "wheel", "lock")
#: Kept off the network by a refusal. uv 0.13 reads no ``UV_NO_INDEX``; it costs nothing.
_OFFLINE = {"PIP_NO_INDEX": "1", "UV_OFFLINE": "1", "UV_NO_INDEX": "1"}
#: Every variable through which pip or uv learns of an index or a links page.
_WIDENING = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_FIND_LINKS",
)
#: A dotenv line that sets nothing: docker's ``--env-file`` refuses a name with spaces.
_NOT_A_SETTING = "wheelhouse env could not serve this environment; see the error it printed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Served:
    """What ``env`` points pip and uv at: a wheelhouse and one of its constraints files."""

    wheelhouse: Wheelhouse
    constraints: Path
    targets: tuple[str, ...]

    @property
    def label(self) -> str:
        if len(self.targets) == 1:
            return f"target {self.targets[0]}"
        return f"targets {', '.join(self.targets)}"


def every_target(wheelhouse_dir: Path) -> Served:
    """The wheelhouse with the constraints of every target, each line with its marker."""
    wheelhouse = Wheelhouse.open(Path(os.path.abspath(wheelhouse_dir)))
    constraints = wheelhouse.matrix_constraints_path
    return Served(
        wheelhouse=wheelhouse,
        constraints=constraints,
        targets=tuple(wheelhouse.lock_targets()),
    )


def one_target(choice: Choice) -> Served:
    """The wheelhouse with the constraints of the target that serves one interpreter."""
    constraints = choice.wheelhouse.constraints_path(choice.target)
    return Served(wheelhouse=choice.wheelhouse, constraints=constraints, targets=(choice.target,))


def offline_settings(served: Served) -> dict[str, str]:
    """Variables that make pip and uv install only from the wheelhouse, at its pins.

    uv reads no ``UV_NO_INDEX``: ``UV_OFFLINE`` keeps it off every index. The
    constraints are hash-free, since older pips refuse hashes there.
    """
    if not served.targets:
        raise LockUnusable(str(served.wheelhouse.locks_dir), "the wheelhouse has no locks")
    if not served.constraints.is_file():
        raise LockUnusable(str(served.constraints), "the constraints file is missing")
    links, pins = _location(served.wheelhouse.root), _location(served.constraints)
    pip = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": links, "PIP_CONSTRAINT": pins}
    return {**pip, "UV_OFFLINE": "1", "UV_FIND_LINKS": links, "UV_CONSTRAINT": pins}


def _location(path: Path) -> str:
    """pip and uv split these values on whitespace: such a path goes as a file URL."""
    return path.as_uri() if re.search(r"\s", str(path)) else str(path)


def render_settings(served: Served, form: str) -> Iterator[str]:
    """:func:`offline_settings` as shell exports, a dotenv file, a pip.conf or a uv.toml."""
    settings = offline_settings(served)
    yield f"# wheelhouse {served.wheelhouse.root}, {served.label}"
    if form == "sh":
        yield from (f"export {key}={shlex.quote(value)}" for key, value in settings.items())
    elif form == "dotenv":  # bare when safe: docker's --env-file keeps quotes in the value
        yield from (f"{key}={shlex.quote(value)}" for key, value in settings.items())
    elif form == "pip.conf":
        for section in ("global", *_PIP_COMMANDS):
            yield from (f"[{section}]", "no-index = true")
            yield f"find-links = {settings['PIP_FIND_LINKS']}"
            yield f"constraint = {settings['PIP_CONSTRAINT']}"
    elif form == "uv.toml":
        yield from tomli_w.dumps(_uv_config(served, settings["UV_FIND_LINKS"])).splitlines()
    else:
        raise ValueError(f"unknown format {form!r}; expected one of {', '.join(FORMATS)}")


def _uv_config(served: Served, find_links: str) -> dict[str, Any]:
    """uv.toml has no constraints-file key: the pins go in as constraint-dependencies."""
    text = served.constraints.read_text(encoding="utf-8")
    pins = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    settings = {"no-index": True, "offline": True, "find-links": [find_links]}
    return {**settings, "constraint-dependencies": pins}


def render_refusal(form: str, reason: str) -> Iterator[str]:
    """What ``env`` prints when it cannot serve: settings that fail closed, in ``form``.

    pip and uv are kept off every index whatever else is set. The shell code clears
    index and links variables an earlier ``eval`` or the user set, then runs ``false``:
    ``eval`` fails (``set -e`` stops there) without leaving an interactive shell. A
    dotenv file ends with a line that docker refuses; loaders that skip bad lines
    still get the offline settings. pip.conf and uv.toml have no way to fail, so they
    only keep pip and uv offline. ``reason`` becomes a one-line comment.
    """
    yield f"# wheelhouse env cannot serve: {printable(reason)[:500]}"
    if form == "dotenv":
        yield from (f"{key}={value}" for key, value in _OFFLINE.items())
        yield _NOT_A_SETTING
    elif form == "pip.conf":
        for section in ("global", *_PIP_COMMANDS):
            yield from (f"[{section}]", "no-index = true")
    elif form == "uv.toml":
        yield from ("offline = true", "no-index = true")
    else:  # the shell form also serves an unknown one: it is what an `eval` expects
        yield from (f"export {key}={value}" for key, value in _OFFLINE.items())
        yield f"unset {' '.join(_WIDENING)}"
        yield "false"
