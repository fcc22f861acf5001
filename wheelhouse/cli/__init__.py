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


#: Each command: the function that imports its module (``<name>_command`` is in
#: it) and the first line of its help, which ``wheelhouse --help`` lists.
_COMMANDS = {
    "build": (_build, "Resolve, download and lock a wheelhouse for every target."),
    "refresh": (
        _build,
        "Re-resolve the inputs recorded in the manifest and print the pin diff.",
    ),
    "fetch": (
        _fetch,
        "Download every file the locks name and the directory lacks; rewrite the index.",
    ),
    "install": (_install, "Install from the wheelhouse only, hash-checked, with no network."),
    "env": (
        _install,
        "Print settings that make pip, uv, nox and tox install only from the wheelhouse.",
    ),
    "compile": (_compile, "Compile the locked wheels' bytecode once, for installs to copy."),
    "diff": (_upkeep, "Pin diff between two wheelhouses or two lock files."),
    "verify": (_upkeep, "Check files, locks and index against each other; writes nothing."),
    "prune": (_upkeep, "Remove files that no lock or build needs."),
    "merge": (_upkeep, "Combine wheelhouses built on different machines into one."),
    "index": (_upkeep, "Write a simple index over any directory of distributions."),
    "serve": (_upkeep, "Serve the wheelhouse read-only over HTTP as an index."),
    "publish": (
        _publish,
        "Upload a verified wheelhouse to S3-compatible object storage, as an index.",
    ),
}
for _name, (_family, _summary) in _COMMANDS.items():
    cli.add_lazy(_name, _family, f"{_name}_command", _summary)
