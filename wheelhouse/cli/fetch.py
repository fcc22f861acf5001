"""``wheelhouse fetch``: download what committed locks name, resolving nothing."""

from __future__ import annotations

import os
from pathlib import Path

import click

from wheelhouse.cli.app import reports_errors
from wheelhouse.cli.options import (
    cache_dir_option,
    index_url_option,
    jobs_option,
    quiet_option,
    wheelhouse_option,
)
from wheelhouse.cli.progress import ProgressReporter
from wheelhouse.commands.fetch import FetchResult, fetch
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.index.cache import Cache, default_cache_dir
from wheelhouse.index.client import IndexClient
from wheelhouse.index.tls import index_url_from
from wheelhouse.install.process import output

__all__ = ["fetch_command"]

FETCH_EPILOG = """\b
Examples:
  git clone ... && cd project
  wheelhouse fetch -w wheelhouse        # locks/ and wheelhouse.toml are committed
  wheelhouse install -w wheelhouse
  wheelhouse fetch -w wheelhouse --index-url https://user:token@host/simple
"""


@click.command("fetch", epilog=FETCH_EPILOG)
@index_url_option
@jobs_option
@cache_dir_option
@quiet_option
@wheelhouse_option
@reports_errors
def fetch_command(
    wheelhouse_dir: Path, index_url: str | None, jobs: int, cache_dir: Path | None, quiet: bool
) -> None:
    """Download every file the locks name and the directory lacks; rewrite the index.

    Resolves nothing: each file comes from the origin wheelhouse.toml records,
    checked against the hash the locks give. --index-url (or
    $WHEELHOUSE_INDEX_URL, $PIP_INDEX_URL) gives back the credentials the
    manifest never records to files on that index's host. A file whose
    download differs from its hash is discarded and nothing is committed.
    """
    wheelhouse = Wheelhouse.open(wheelhouse_dir)
    given = index_url or os.environ.get("WHEELHOUSE_INDEX_URL") or os.environ.get("PIP_INDEX_URL")
    recorded = str(wheelhouse.read_manifest().get("index", {}).get("url", ""))
    url = given or recorded or index_url_from(None)
    reporter = ProgressReporter(quiet=quiet)
    try:
        cache = Cache(cache_dir or default_cache_dir())
        with IndexClient([url], jobs=jobs, cache=cache, keyring=output) as client:
            result = fetch(wheelhouse, client, reporter, jobs=jobs, index_urls=[url])
    finally:
        reporter.close()
    if not quiet:
        click.echo(_summary(wheelhouse_dir, result))


def _summary(wheelhouse_dir: Path, result: FetchResult) -> str:
    return (
        f"wheelhouse {wheelhouse_dir}: {len(result.downloaded)} file(s) downloaded, "
        f"{result.present} already here; {result.index.summary()}"
    )
