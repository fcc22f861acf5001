"""What ``wheelhouse env`` prints: settings that make plain pip and uv install only the pins.

The values point at the wheelhouse and at the chosen target's constraints; they
come as shell exports, a dotenv file, a pip.conf or a uv.toml.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomli_w

from wheelhouse.install.choice import Choice
from wheelhouse.install.errors import LockUnusable

__all__ = ["FORMATS", "offline_settings", "render_settings"]

#: The ways ``wheelhouse env`` prints its settings.
FORMATS = ("sh", "dotenv", "pip.conf", "uv.toml")


def offline_settings(choice: Choice) -> dict[str, str]:
    """Variables that make pip and uv install only from the wheelhouse, at its pins.

    uv reads no ``UV_NO_INDEX``: ``UV_OFFLINE`` keeps it off every index. The
    constraints are the hash-free file, since older pips refuse hashes there.
    """
    constraints = choice.wheelhouse.constraints_path(choice.target)
    if not constraints.is_file():
        raise LockUnusable(str(constraints), "the constraints file is missing")
    links, pins = _location(choice.wheelhouse.root), _location(constraints)
    pip = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": links, "PIP_CONSTRAINT": pins}
    return {**pip, "UV_OFFLINE": "1", "UV_FIND_LINKS": links, "UV_CONSTRAINT": pins}


def _location(path: Path) -> str:
    """pip and uv split these values on whitespace: such a path goes as a file URL."""
    return path.as_uri() if re.search(r"\s", str(path)) else str(path)


def render_settings(choice: Choice, form: str) -> Iterator[str]:
    """:func:`offline_settings` as shell exports, a dotenv file, a pip.conf or a uv.toml."""
    settings = offline_settings(choice)
    yield f"# wheelhouse {choice.wheelhouse.root}, target {choice.target}"
    if form == "sh":
        yield from (f"export {key}={shlex.quote(value)}" for key, value in settings.items())
    elif form == "dotenv":  # bare when safe: docker's --env-file keeps quotes in the value
        yield from (f"{key}={shlex.quote(value)}" for key, value in settings.items())
    elif form == "pip.conf":
        yield from ("[global]", "no-index = true", f"find-links = {settings['PIP_FIND_LINKS']}")
        yield f"constraint = {settings['PIP_CONSTRAINT']}"
    elif form == "uv.toml":
        yield from tomli_w.dumps(_uv_config(choice, settings["UV_FIND_LINKS"])).splitlines()
    else:
        raise ValueError(f"unknown format {form!r}; expected one of {', '.join(FORMATS)}")


def _uv_config(choice: Choice, find_links: str) -> dict[str, Any]:
    """uv.toml has no constraints-file key: the pins go in as constraint-dependencies."""
    text = choice.wheelhouse.constraints_path(choice.target).read_text(encoding="utf-8")
    pins = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    settings = {"no-index": True, "offline": True, "find-links": [find_links]}
    return {**settings, "constraint-dependencies": pins}
