"""``wheelhouse publish``: a wheelhouse to S3-compatible object storage, with its progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from wheelhouse.cli.app import reports_errors
from wheelhouse.cli.options import wheelhouse_option
from wheelhouse.cli.progress import ByteBar
from wheelhouse.commands.publish import PublishReporter
from wheelhouse.model.publish import PublishPlan

__all__ = ["publish_command"]


PUBLISH_EPILOG = """\b
Examples:
  wheelhouse publish -w ./wheelhouse s3://my-bucket/wheels
  wheelhouse publish s3://my-bucket/wheels --dry-run --delete
  wheelhouse publish s3://wheels/team --endpoint-url http://127.0.0.1:9000
  pip install --index-url https://BUCKET-ADDRESS/wheels/simple/ \\
      --require-hashes -r wheelhouse/locks/TARGET.txt
"""


def _s3_location(ctx: click.Context, param: click.Parameter, value: str) -> Any:
    from wheelhouse.model.publish import S3Location

    try:
        return S3Location.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from urllib.parse import urlsplit

    if value is not None and not (urlsplit(value).scheme in ("http", "https") and "//" in value):
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL", ctx, param)
    return value


class PublishProgress(PublishReporter, ByteBar):
    """Upload progress on a terminal through tqdm; silent in pipes and with --quiet."""

    def uploading(self, plan: PublishPlan) -> None:
        if plan.uploads:
            self.start(plan.upload_bytes, f"uploading {len(plan.uploads)} objects")

    def progress(self, nbytes: int) -> None:
        self.advance(nbytes)


@click.command("publish", epilog=PUBLISH_EPILOG)
@click.argument("location", metavar="s3://BUCKET/PREFIX", callback=_s3_location)
@click.option(
    "--endpoint-url",
    metavar="URL",
    default=None,
    callback=_endpoint_url,
    help="An S3-compatible store's endpoint.  [default: the SDK's: $AWS_ENDPOINT_URL_S3, "
    "$AWS_ENDPOINT_URL, the shared config, else AWS]",
)
@click.option(
    "--delete",
    is_flag=True,
    help="Once everything is up, delete the objects under the prefix that the wheelhouse "
    "does not have. Never touches keys outside the prefix.",
)
@click.option(
    "--dry-run", is_flag=True, help="List what would be uploaded and deleted; change nothing."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Parallel uploads.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@wheelhouse_option
@reports_errors
def publish_command(wheelhouse_dir: Path, quiet: bool, **options: Any) -> None:
    """Upload a verified wheelhouse to S3-compatible object storage, as an index.

    pip and uv then install from <bucket address>/PREFIX/simple/ over plain
    HTTP. Files go up first, index pages next, locks and wheelhouse.toml last;
    objects already there with the same content are skipped, so running it
    again completes an interrupted publish. Refuses a wheelhouse that fails
    verify. Credentials come from the AWS SDK's usual chain. Needs the s3 extra.
    """
    from wheelhouse.commands.publish import PublishRequest, render_plan
    from wheelhouse.commands.publish import publish as publish_wheelhouse

    request = PublishRequest(wheelhouse=wheelhouse_dir, **options)
    reporter = PublishProgress(quiet=quiet)
    try:
        result = publish_wheelhouse(request, reporter)
    finally:
        reporter.close()  # a failure's message must not land inside a live bar
    if request.dry_run or not quiet:
        for line in render_plan(result):
            click.echo(line)
