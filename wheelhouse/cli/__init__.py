"""The command line: the only part that imports click and tqdm.

It parses options into small values, wires the commands' objects together and
turns errors into exit statuses (in :mod:`wheelhouse.cli.app`).
"""

from wheelhouse.cli import build, install, publish, upkeep
from wheelhouse.cli.app import cli, main

__all__ = ["cli", "main"]

for _command in (
    build.build_command,
    build.refresh_command,
    install.install_command,
    install.env_command,
    upkeep.diff_command,
    upkeep.verify_command,
    upkeep.prune_command,
    upkeep.merge_command,
    upkeep.index_command,
    upkeep.serve_command,
    publish.publish_command,
):
    cli.add_command(_command)
