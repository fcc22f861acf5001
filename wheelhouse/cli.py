"""The command line: parses options into small values, wires objects, maps errors to exits."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from wheelhouse import __version__
from wheelhouse.errors import WheelhouseError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def _default_wheelhouse() -> Path:
    return Path(os.environ.get("WHEELHOUSE_DIR") or "wheelhouse")


wheelhouse_option = click.option(
    "-w",
    "--wheelhouse",
    "wheelhouse_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=_default_wheelhouse,
    show_default="$WHEELHOUSE_DIR, else ./wheelhouse",
    help="The wheelhouse directory.",
)


def reports_errors(func: F) -> F:
    """Turn a WheelhouseError into `error:`/`hint:` lines and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WheelhouseError as exc:
            if click.get_current_context().find_root().params.get("verbose"):
                raise
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("error: interrupted; the wheelhouse was left as it was", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _fail(exc: WheelhouseError) -> NoReturn:
    message = str(exc).splitlines() or [type(exc).__name__]
    click.echo(f"error: {message[0]}", err=True)
    for line in message[1:]:
        click.echo(line, err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
    sys.exit(1)


def _not_built(name: str) -> NoReturn:
    click.echo(f"error: `wheelhouse {name}` is not available in this version yet", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="wheelhouse")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and more detail.")
def cli(verbose: bool) -> None:
    """Build offline wheelhouse mirrors and install strictly from them."""


@cli.command()
@wheelhouse_option
def build(wheelhouse_dir: Path) -> None:
    """Resolve, download and lock a wheelhouse for every target."""
    _not_built("build")


@cli.command()
@wheelhouse_option
def install(wheelhouse_dir: Path) -> None:
    """Install from the wheelhouse only, hash-checked, with no network."""
    _not_built("install")


@cli.command()
@wheelhouse_option
def env(wheelhouse_dir: Path) -> None:
    """Print settings that make pip, uv, nox and tox install only from the wheelhouse."""
    _not_built("env")


@cli.command()
@wheelhouse_option
def refresh(wheelhouse_dir: Path) -> None:
    """Re-resolve the recorded inputs and print the pin diff."""
    _not_built("refresh")


@cli.command()
def diff() -> None:
    """Pin diff between two wheelhouses or two lock files."""
    _not_built("diff")


@cli.command()
@wheelhouse_option
def verify(wheelhouse_dir: Path) -> None:
    """Check files, locks and index against each other."""
    _not_built("verify")


@cli.command()
@wheelhouse_option
def prune(wheelhouse_dir: Path) -> None:
    """Remove files that no lock references."""
    _not_built("prune")


@cli.command()
@wheelhouse_option
def merge(wheelhouse_dir: Path) -> None:
    """Combine wheelhouses built on different machines into one."""
    _not_built("merge")


@cli.command()
def index() -> None:
    """Write a simple index over any directory of distributions."""
    _not_built("index")


@cli.command()
@wheelhouse_option
def serve(wheelhouse_dir: Path) -> None:
    """Serve the wheelhouse read-only over HTTP as an index."""
    _not_built("serve")


def main() -> None:
    cli(prog_name="wheelhouse")
