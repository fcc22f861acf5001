"""``wheelhouse install`` and ``wheelhouse env``: install from the wheelhouse, offline."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Literal

import click

from wheelhouse.cli.app import reports_errors
from wheelhouse.cli.options import (
    python_option,
    quiet_option,
    requirement_files_option,
    requirements_argument,
    wheelhouse_option,
)

__all__ = ["env_command", "install_command"]


@click.command(
    "install",
    epilog="""\b
Examples:
  wheelhouse install -w /wheelhouse                 # the whole lock, into the active venv
  wheelhouse install -w /wheelhouse requests        # requests and its locked dependencies
  wheelhouse install -r requirements.txt --python /opt/venv/bin/python --dry-run
  wheelhouse install --backend uv --tmp-dir /var/tmp
""",
)
@requirements_argument
@requirement_files_option
@python_option()
@click.option(
    "--backend",
    type=click.Choice(["wheelhouse", "pip", "uv"]),
    default=None,
    help="What installs the exact locked files: wheelhouse's own engine (one worker per "
    "CPU, inside the target interpreter), pip or uv.  [default: wheelhouse; pip for an "
    "interpreter older than the installer library supports]",
)
@click.option("--dry-run", is_flag=True, help="Print what would change; install nothing.")
@click.option(
    "--tmp-dir",
    type=click.Path(exists=True, file_okay=False, writable=True, path_type=Path),
    help="An existing, writable directory for temporary files.  [default: $WHEELHOUSE_TMPDIR, "
    "else a directory under the target environment's prefix (on its filesystem, removed "
    "afterwards) when writable, else $TMPDIR]",
)
@quiet_option
@wheelhouse_option
@reports_errors
def install_command(
    wheelhouse_dir: Path,
    requirements: tuple[str, ...],
    requirement_files: tuple[Path, ...],
    python: Path | None,
    backend: Literal["wheelhouse", "pip", "uv"] | None,
    dry_run: bool,
    tmp_dir: Path | None,
    quiet: bool,
) -> None:
    """Install from the wheelhouse only, hash-checked, with no network.

    Picks the lock whose target the interpreter supports. With no REQ, installs
    the whole lock; with REQ or -r, those and their dependencies at the locked
    versions. Writes nothing inside the wheelhouse; temporary files go on the
    target environment's filesystem unless --tmp-dir says otherwise. Ends with
    one line: how many were installed, upgraded, downgraded and kept, and how
    long it took (none with --quiet).
    """
    from wheelhouse.install.discovery import start_probe

    started = time.monotonic()
    # The interpreter answers while the rest of the installer loads (a tenth of a second).
    with start_probe(python, installed=True) as probe:
        from wheelhouse.install import installer

        request = installer.InstallRequest(
            wheelhouse=wheelhouse_dir,
            requirements=requirements,
            requirement_files=requirement_files,
            python=python,
            backend=backend,
            dry_run=dry_run,
            tmp_dir=tmp_dir,
        )
        result = installer.install(request, probe=probe)
    if request.dry_run:
        for line in installer.render_plan(result):
            click.echo(line)
    elif not quiet:
        click.echo(installer.render_summary(result, time.monotonic() - started))


class _FailsClosed(click.Command):
    """A command whose usage errors, too, print settings that keep pip and uv offline."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            _refuse(_asked_format(given), exc.format_message())
            raise


def _asked_format(args: list[str]) -> str:
    """The ``--format`` among arguments that did not parse; the shell form when unclear."""
    from wheelhouse.install.settings import FORMATS

    for before, word in itertools.pairwise(["", *args]):
        value = word.partition("=")[2] if word.startswith("--format=") else word
        if (before == "--format" or word.startswith("--format=")) and value in FORMATS:
            return value
    return "sh"


def _refuse(form: str, reason: str) -> None:
    """Print, on stdout where ``eval`` or a config file takes it, settings that fail closed."""
    from wheelhouse.install.settings import render_refusal

    for line in render_refusal(form, reason):
        click.echo(line)


@click.command(
    "env",
    cls=_FailsClosed,
    epilog="""\b
Examples:
  eval "$(wheelhouse env -w /wheelhouse)"; nox      # every session gets its Python's pins
  eval "$(wheelhouse env --python .venv/bin/python)"  # one target's pins, or fail closed
  wheelhouse env --format dotenv > wheelhouse.env  # docker run --env-file wheelhouse.env
  wheelhouse env --format pip.conf > /etc/wheelhouse-pip.conf  # then PIP_CONFIG_FILE=...
  wheelhouse env --format uv.toml > uv.toml         # uv --config-file uv.toml pip install ...
  wheelhouse env --check --python .venv/bin/python  # does that pip read these settings?
""",
)
@python_option(
    "One interpreter: serve only its target's pins, and fail when no target serves it.  "
    "[default: every target's pins; for --check, $VIRTUAL_ENV's interpreter, else this one]"
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["sh", "dotenv", "pip.conf", "uv.toml"]),
    default="sh",
    show_default=True,
    help="Shell exports, a dotenv file, a pip.conf or a uv.toml.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Print nothing to use: ask the interpreter's pip which no-index, find-links and "
    "constraint it will read and from where; exit 1 unless they are the wheelhouse's.",
)
@wheelhouse_option
@reports_errors
def env_command(wheelhouse_dir: Path, python: Path | None, form: str, check: bool) -> None:
    """Print settings that make pip, uv, nox and tox install only from the wheelhouse.

    pip gets PIP_NO_INDEX, PIP_FIND_LINKS and PIP_CONSTRAINT; uv gets UV_OFFLINE,
    UV_FIND_LINKS and UV_CONSTRAINT. The constraints are those of every target
    (constraints/all.txt, each line with its target's marker), so one eval
    serves nox or tox sessions over several Pythons; --python narrows them to
    the target of that interpreter.

    Fails closed: when it cannot serve (not a wheelhouse, a missing constraints
    file, with --python no target for that interpreter), it still prints
    settings that keep pip and uv off every index, the shell form ends with
    `false` so that `eval` fails, and it exits 1 with the error on stderr.
    """
    if check:
        _check(wheelhouse_dir, python)
        return
    from wheelhouse.install.choice import choose
    from wheelhouse.install.settings import every_target, one_target, render_settings

    try:
        served = one_target(choose(wheelhouse_dir, python)) if python else None
        lines = list(render_settings(served or every_target(wheelhouse_dir), form))
    except BaseException as exc:  # whatever went wrong, eval must not succeed
        _refuse(form, str(exc) or type(exc).__name__)
        raise
    for line in lines:
        click.echo(line)


def _check(wheelhouse_dir: Path, python: Path | None) -> None:
    """``env --check``: one line per setting pip will read, exit 1 unless all are ours."""
    from wheelhouse.install.errors import PipNotPinned
    from wheelhouse.install.pipconfig import check

    result = check(wheelhouse_dir, python)
    if result.guessed:
        click.echo(
            f"warning: checked the pip of {result.python}, the interpreter wheelhouse runs on, "
            "since neither --python nor $VIRTUAL_ENV names one; pass --python PATH "
            "for the environment you install into",
            err=True,
        )
    for line in result.lines:
        click.echo(line)
    if result.wrong:
        raise PipNotPinned(str(result.python), result.wrong)
