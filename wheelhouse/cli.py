"""The command line: parses options into small values, wires objects, maps errors to exits."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from tqdm import tqdm

from wheelhouse import __version__
from wheelhouse.build import BuildReporter, BuildRequest, read_inputs
from wheelhouse.build import build as build_wheelhouse
from wheelhouse.client import IndexClient, index_url_from
from wheelhouse.distributions import DistFile
from wheelhouse.errors import WheelhouseError
from wheelhouse.resolver import Resolution
from wheelhouse.store import Wheelhouse
from wheelhouse.targets import parse_platform

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


requirement_files_option = click.option(
    "-r",
    "--requirement",
    "requirement_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Requirements file (pip's format). Repeatable.",
)
constraint_files_option = click.option(
    "-c",
    "--constraint",
    "constraint_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Constraints file (pip's format). Repeatable.",
)


def index_options(func: F) -> F:
    """Options shared by every command that reads an index."""
    options = [
        click.option("--index-url", "-i", default=None, metavar="URL",
                     help="Index to resolve against (else $WHEELHOUSE_INDEX_URL, "
                     "$PIP_INDEX_URL, then pip's default index)."),
        click.option("--extra-index-url", multiple=True, metavar="URL",
                     help="More indexes whose files are merged in. Repeatable."),
        click.option("--exclude-newer", type=TimestampType(), default=None,
                     metavar="TIMESTAMP",
                     help="Ignore files uploaded after this moment (ISO 8601 or YYYY-MM-DD, UTC)."),
        click.option("--jobs", "-j", type=click.IntRange(1, 64), default=8, show_default=True,
                     help="Parallel downloads and resolutions."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     default=None, help="Cache directory (else $WHEELHOUSE_CACHE_DIR)."),
        click.option("--only-binary/--build", "only_binary", default=True,
                     help="Take wheels only (default), or also build sdists into wheels."),
        click.option("-q", "--quiet", is_flag=True, help="No progress output."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class TimestampType(click.ParamType):
    """An ISO 8601 moment or a date; naive values are UTC."""

    name = "timestamp"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 timestamp or date", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _check_platforms(ctx: click.Context, param: click.Parameter,
                     value: tuple[str, ...]) -> tuple[str, ...]:
    for platform in value:
        try:
            parse_platform(platform)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return value


BUILD_EPILOG = """\b
Examples:
  wheelhouse build -r requirements.txt
  wheelhouse build requests 'ruff==0.6.9' --python 3.11 --python 3.12 \\
      --platform manylinux_2_28_x86_64 --platform macosx_11_0_arm64
  wheelhouse build -r requirements.txt -c constraints.txt --exclude-newer 2026-01-01
"""


@cli.command(epilog=BUILD_EPILOG)
@click.argument("requirements", nargs=-1)
@requirement_files_option
@constraint_files_option
@click.option("--python", "pythons", multiple=True, metavar="VER|PATH",
              help="Target Python: a version (3.12) or an interpreter. Repeatable.")
@click.option("--platform", "platforms", multiple=True, metavar="TAG", callback=_check_platforms,
              help="Target platform tag (manylinux_2_28_x86_64, win_amd64, ...). Repeatable.")
@index_options
@wheelhouse_option
@reports_errors
def build(wheelhouse_dir: Path, quiet: bool, cache_dir: Path | None, **options: Any) -> None:
    """Resolve, download and lock a wheelhouse for every target.

    Targets are every --python × --platform pair (default: the running
    interpreter's version and platform). Writes the files, locks/, simple/ and
    wheelhouse.toml into the wheelhouse directory.
    """
    request = _build_request(options)
    inputs = read_inputs(request)
    request = dataclasses.replace(
        request,
        index_url=_choose_index(request.index_url, inputs.index_url),
        extra_index_urls=(*request.extra_index_urls, *inputs.extra_index_urls),
    )
    if request.allow_sdist:
        _not_built("build --build")
    wheelhouse = Wheelhouse.for_writing(wheelhouse_dir)
    reporter = ProgressReporter(quiet=quiet)
    with IndexClient(index_urls=[request.index_url, *request.extra_index_urls]) as client:
        result = build_wheelhouse(wheelhouse, request, inputs, client, reporter)
    reporter.close()
    for refused in result.refused:
        click.echo(f"warning: {refused}", err=True)
    if not quiet:
        click.echo(
            f"wheelhouse {wheelhouse_dir}: {len(result.targets)} target(s) "
            f"({', '.join(t.name for t in result.targets)}), "
            f"{len(result.downloaded)} file(s) downloaded, {len(result.reused)} reused"
        )


def _choose_index(option: str, from_file: str | None) -> str:
    """--index-url, then the environment, then a requirements file's -i, then pip's default."""
    overridden = option or os.environ.get("WHEELHOUSE_INDEX_URL") or os.environ.get("PIP_INDEX_URL")
    if overridden or not from_file:
        return index_url_from(option or None)
    return from_file


def _build_request(options: dict[str, Any]) -> BuildRequest:
    return BuildRequest(
        requirements=tuple(options["requirements"]),
        requirement_files=tuple(options["requirement_files"]),
        constraint_files=tuple(options["constraint_files"]),
        pythons=tuple(options["pythons"]),
        platforms=tuple(options["platforms"]),
        index_url=options["index_url"] or "",
        extra_index_urls=tuple(options["extra_index_url"]),
        exclude_newer=options["exclude_newer"],
        jobs=options["jobs"],
        allow_sdist=not options["only_binary"],
    )


class ProgressReporter(BuildReporter):
    """Build progress on a terminal through tqdm; silent in pipes and with --quiet."""

    def __init__(self, *, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar: tqdm[Any] | None = None

    def resolved(self, resolution: Resolution) -> None:
        if self.enabled:
            tqdm.write(f"resolved {resolution.target.name}: {len(resolution.pins)} pins",
                       file=sys.stderr)

    def downloading(self, files: Sequence[DistFile]) -> None:
        if self.enabled:
            total = sum(file.size or 0 for file in files)
            self.bar = tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr,
                            desc=f"downloading {len(files)} files")

    def progress(self, file: DistFile, nbytes: int) -> None:
        if self.bar is not None:
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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


@cli.command(
    epilog="""\b
Examples:
  wheelhouse index ./dist
  pip install --index-url "file://$PWD/dist/simple/" NAME"""
)
@click.argument("directory", type=click.Path(path_type=Path))
@reports_errors
def index(directory: Path) -> None:
    """Write a simple index over any directory of distributions.

    Writes DIRECTORY/simple/ (PEP 503 HTML and PEP 691 JSON pages, with PEP 658
    metadata files beside the wheels); only pages whose bytes change are rewritten.
    Files that are not valid distributions are skipped with a warning.
    """
    from wheelhouse.indexer import index_directory

    result = index_directory(directory)
    for skipped in result.skipped:
        click.echo(f"warning: skipped {skipped}", err=True)
    click.echo(result.summary())


@cli.command(
    epilog="""\b
Examples:
  wheelhouse serve -w ./wheelhouse --port 8000
  pip install --index-url http://127.0.0.1:8000/simple/ NAME"""
)
@wheelhouse_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@reports_errors
def serve(wheelhouse_dir: Path, host: str, port: int) -> None:
    """Serve the wheelhouse read-only over HTTP as an index.

    Answers PEP 691 JSON or HTML by the Accept header and serves the files;
    writes nothing. Stop it with Ctrl-C.
    """
    from wheelhouse.server import make_server

    log = functools.partial(click.echo, err=True)
    with make_server(wheelhouse_dir, host, port, log=log) as httpd:
        click.echo(f"serving {wheelhouse_dir} read-only at {httpd.index_url}")
        click.echo(f"install with: pip install --index-url {httpd.index_url} NAME")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)


def main() -> None:
    cli(prog_name="wheelhouse")
