"""``wheelhouse compile``: bytecode compiled ahead, so that installs need not compile."""

from __future__ import annotations

from pathlib import Path

import click

from wheelhouse.cli.app import reports_errors
from wheelhouse.cli.options import quiet_option, wheelhouse_option

__all__ = ["compile_command"]


@click.command(
    "compile",
    epilog="""\b
Examples:
  wheelhouse compile -w /wheelhouse                 # each target's Python found here
  wheelhouse compile --python 3.12 --python /opt/py313/bin/python3.13
""",
)
@click.option(
    "--python",
    "pythons",
    multiple=True,
    metavar="VER|PATH",
    help="An interpreter to compile with (repeatable): a version, found as install finds "
    "it, or a path.  [default: each target's Python, those not on this machine skipped]",
)
@quiet_option
@wheelhouse_option
@reports_errors
def compile_command(wheelhouse_dir: Path, pythons: tuple[str, ...], quiet: bool) -> None:
    """Compile the locked wheels' bytecode once, for installs to copy.

    For each interpreter, checks the wheels its install would take against the
    lock's hashes and compiles their .py files with it into
    bytecode/<cache tag>/<wheel>.zip; wheels already compiled by it are skipped.
    wheelhouse install then writes each .pyc from there (valid as if compiled
    in place) and compiles only what is missing. pip and uv do not use it.
    """
    from wheelhouse.install.ahead import compile_bytecode

    done, skipped = compile_bytecode(wheelhouse_dir, pythons)
    for item in skipped:
        click.echo(f"note: skipped Python {item.python}: {item.reason}", err=True)
    if quiet:
        return
    for compiled in done:
        click.echo(
            f"{compiled.target}: {compiled.wheels} wheels with {compiled.interpreter}, "
            f"{compiled.written} compiled, {compiled.wheels - compiled.written} already were"
        )
