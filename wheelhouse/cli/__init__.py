"""The command line: the only part that imports click and tqdm.

It parses options into small values, wires the commands' objects together and
turns errors into exit statuses (in :mod:`wheelhouse.cli.app`). Each family of
commands is imported when one of them runs, so ``install`` starts fast.
"""

from types import ModuleType

from wheelhouse.cli.app import cli, main

__all__ = ["cli", "main"]


def _build() -> ModuleType:
    from wheelhouse.cli import build

    return build


def _install() -> ModuleType:
    from wheelhouse.cli import install

    return install


def _compile() -> ModuleType:
    from wheelhouse.cli import compile

    return compile


def _upkeep() -> ModuleType:
    from wheelhouse.cli import upkeep

    return upkeep


def _fetch() -> ModuleType:
    from wheelhouse.cli import fetch

    return fetch


def _publish() -> ModuleType:
    from wheelhouse.cli import publish

    return publish


#: Each command, by the function that imports its module; ``<name>_command`` is in it.
_COMMANDS = {
    "build": _build,
    "refresh": _build,
    "fetch": _fetch,
    "install": _install,
    "env": _install,
    "compile": _compile,
    "diff": _upkeep,
    "verify": _upkeep,
    "prune": _upkeep,
    "merge": _upkeep,
    "index": _upkeep,
    "serve": _upkeep,
    "publish": _publish,
}
for _name, _family in _COMMANDS.items():
    cli.add_lazy(_name, _family, f"{_name}_command")
