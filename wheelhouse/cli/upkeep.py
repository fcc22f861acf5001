"""Commands that look after wheelhouses: diff, verify, prune, merge, index and serve."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from wheelhouse.cli.app import exit_when_changed, reports_changes, reports_errors
from wheelhouse.cli.options import python_option, wheelhouse_option
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.model.diff import has_changes, render_json, render_markdown, render_text

__all__ = [
    "diff_command",
    "index_command",
    "merge_command",
    "prune_command",
    "serve_command",
    "verify_command",
]


DIFF_EPILOG = """\b
Examples:
  wheelhouse diff old-wheelhouse/ wheelhouse/
  wheelhouse diff old.txt wheelhouse/locks/cp312-manylinux_2_28_x86_64.txt
  wheelhouse diff --format markdown old-wheelhouse/ wheelhouse/ > pin-changes.md
  wheelhouse diff --exit-code old-wheelhouse/ wheelhouse/ || echo "pins changed"
"""


@click.command("diff", epilog=DIFF_EPILOG)
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text: one line per change; markdown: tables for a merge request; json: schema 1.",
)
@click.option(
    "--exit-code", is_flag=True, help="Exit 1 when pins differ, like git diff; 3 on a failure."
)
@reports_errors
def diff_command(old: Path, new: Path, output_format: str, exit_code: bool) -> None:
    """Pin diff between two wheelhouses or two lock files.

    OLD and NEW are each a wheelhouse directory (all its locks/<target>.txt) or
    one lock file; two lock files are compared as one target, named after NEW.
    Exits 0 whether pins differ or not, unless --exit-code is given.
    """
    if exit_code:
        reports_changes()
    from wheelhouse.commands.diff import diff_sources

    diffs = diff_sources(old, new)
    if output_format == "json":
        click.echo(render_json(diffs), nl=False)
    else:
        lines = render_markdown(diffs) if output_format == "markdown" else render_text(diffs)
        click.echo("\n".join(lines))
    exit_when_changed(exit_code and has_changes(diffs))


@click.command(
    "verify",
    epilog="""\b
Examples:
  wheelhouse verify -w ./wheelhouse
  wheelhouse verify --python /usr/bin/python3.12""",
)
@python_option("Also check that a target of the wheelhouse serves this interpreter.")
@wheelhouse_option
@reports_errors
def verify_command(wheelhouse_dir: Path, python: Path | None) -> None:
    """Check files, locks and index against each other; writes nothing.

    Hashes every file against the manifest, checks that every lock's hashes are
    files here, looks for stray and partial files, and compares metadata files
    and index pages with what the files say. Prints one line per problem and
    exits 1 if there is any.
    """
    from wheelhouse.commands.errors import VerifyFailed
    from wheelhouse.commands.verify import verify

    report = verify(Wheelhouse.open(wheelhouse_dir), python)
    for problem in report.problems:
        click.echo(str(problem))
    if report.problems:
        raise VerifyFailed(str(wheelhouse_dir), [problem.kind for problem in report.problems])
    click.echo(report.summary())


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 10_000 else f"{size} bytes"


@click.command(
    "prune",
    epilog="""\b
Examples:
  wheelhouse prune --dry-run
  wheelhouse refresh && wheelhouse prune""",
)
@click.option("--dry-run", is_flag=True, help="List what would go; change nothing.")
@wheelhouse_option
@reports_errors
def prune_command(wheelhouse_dir: Path, dry_run: bool) -> None:
    """Remove files that no lock or build needs.

    Removes distribution files whose hash no lock lists (with their .metadata
    files and their manifest entries), unless they are the sdist of a kept
    built wheel or a build requirement of a target that locks sdists; also
    metadata of missing wheels and leftovers of interrupted writes. Then
    rewrites the index.
    """
    from wheelhouse.commands.prune import prune

    plan = prune(Wheelhouse.open(wheelhouse_dir), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for relative in (*plan.files, *plan.leftovers):
        click.echo(f"{verb} {relative}")
    click.echo(
        f"{verb} {len(plan.files)} file(s) ({_megabytes(plan.freed)}); "
        f"kept {plan.kept} file(s) that locks or builds need"
    )


@click.command(
    "merge",
    epilog="""\b
Examples:
  wheelhouse merge -w wheelhouse linux-x86_64/ linux-aarch64/ macos-arm64/
  wheelhouse merge -w wheelhouse artifacts/*/""",
)
@click.argument(
    "sources", nargs=-1, required=True, metavar="SRC...", type=click.Path(path_type=Path)
)
@wheelhouse_option
@reports_errors
def merge_command(wheelhouse_dir: Path, sources: tuple[Path, ...]) -> None:
    """Combine wheelhouses built on different machines into one.

    Each SRC is a wheelhouse built from the same inputs, index and options (as
    a CI matrix builds one target per machine). Files are stored once, locks
    copied, manifests combined and the index rewritten over -w. An existing -w
    wheelhouse keeps its own targets. Refuses, writing nothing, when sources
    disagree on inputs, on a target's pins, or on a file's hash.
    """
    from wheelhouse.commands.merge import merge

    result = merge(wheelhouse_dir, sources)
    click.echo(
        f"wheelhouse {wheelhouse_dir}: {len(result.targets)} target(s) "
        f"({', '.join(result.targets)}), {result.files} file(s), {len(result.copied)} copied"
    )


@click.command(
    "index",
    epilog="""\b
Examples:
  wheelhouse index ./dist
  pip install --index-url "file://$PWD/dist/simple/" NAME""",
)
@click.argument("directory", type=click.Path(path_type=Path))
@reports_errors
def index_command(directory: Path) -> None:
    """Write a simple index over any directory of distributions.

    Writes DIRECTORY/simple/ (PEP 503 HTML and PEP 691 JSON pages, with PEP 658
    metadata files beside the wheels); only pages whose bytes change are rewritten.
    Files that are not valid distributions are skipped with a warning. Over a
    wheelhouse, what its manifest records (upload times, yanked) goes into the pages.
    """
    from wheelhouse.commands.index import index

    result = index(directory)
    for skipped in result.skipped:
        click.echo(f"warning: skipped {skipped}", err=True)
    click.echo(result.summary())


@click.command(
    "serve",
    epilog="""\b
Examples:
  wheelhouse serve -w ./wheelhouse --port 8000
  pip install --index-url http://127.0.0.1:8000/simple/ NAME""",
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
def serve_command(wheelhouse_dir: Path, host: str, port: int) -> None:
    """Serve the wheelhouse read-only over HTTP as an index.

    Answers PEP 691 JSON or HTML by the Accept header and serves the files;
    writes nothing. Stop it with Ctrl-C.
    """
    from wheelhouse.house.server import make_server

    log = functools.partial(click.echo, err=True)
    with make_server(wheelhouse_dir, host, port, log=log) as httpd:
        click.echo(f"serving {wheelhouse_dir} read-only at {httpd.index_url}")
        click.echo(f"install with: pip install --index-url {httpd.index_url} NAME")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
