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

from wheelhouse import __version__
from wheelhouse.commands.build import (
    BuildReporter,
    BuildRequest,
    read_inputs,
    request_from_manifest,
)
from wheelhouse.commands.build import build as build_wheelhouse
from wheelhouse.commands.build import refresh as refresh_wheelhouse
from wheelhouse.commands.publish import PublishReporter
from wheelhouse.errors import WheelhouseError
from wheelhouse.house.directory import Wheelhouse, atomic_write
from wheelhouse.index.cache import Cache, default_cache_dir
from wheelhouse.index.client import IndexClient, index_url_from
from wheelhouse.model.diff import has_changes, render_json, render_markdown, render_text
from wheelhouse.model.distributions import BuiltWheel, DistFile
from wheelhouse.model.errors import InvalidFilename
from wheelhouse.model.publish import PublishPlan
from wheelhouse.model.targets import canonical_platform, parse_platform
from wheelhouse.model.urls import unique_urls
from wheelhouse.resolve.resolver import Resolution

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
    """Turn a WheelhouseError or an OSError into `error:`/`hint:` lines and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (WheelhouseError, OSError) as exc:
            if click.get_current_context().find_root().params.get("verbose"):
                raise
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("error: interrupted; the wheelhouse was left as it was", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _fail(exc: WheelhouseError | OSError) -> NoReturn:
    if isinstance(exc, OSError):
        from wheelhouse.errors import FileSystemError

        # A missing directory, a read-only mount or a full disk is for the user to
        # fix, not a bug: it gets words and a hint, as the tool's own errors do.
        exc = FileSystemError.from_os_error(exc)
    message = str(exc).splitlines() or [type(exc).__name__]
    click.echo(f"error: {message[0]}", err=True)
    for line in message[1:]:
        click.echo(line, err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
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
        click.option(
            "--index-url",
            "-i",
            default=None,
            metavar="URL",
            help="Index to resolve against (else $WHEELHOUSE_INDEX_URL, "
            "$PIP_INDEX_URL, then pip's default index).",
        ),
        click.option(
            "--extra-index-url",
            multiple=True,
            metavar="URL",
            help="More indexes whose files are merged in. Repeatable.",
        ),
        click.option(
            "--exclude-newer",
            type=TimestampType(),
            default=None,
            metavar="TIMESTAMP",
            help="Ignore files uploaded after this moment (ISO 8601 or YYYY-MM-DD, UTC).",
        ),
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(1, 64),
            default=8,
            show_default=True,
            help="Parallel downloads and resolutions.",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Persistent cache (else $WHEELHOUSE_CACHE_DIR, else the user cache directory).",
        ),
        click.option(
            "--only-binary/--build",
            "only_binary",
            default=None,
            help="Take wheels only (default), or also build sdists into wheels, with each "
            "target's interpreter (--python PATH, else one found on this machine).",
        ),
        click.option(
            "--keep-sdist",
            is_flag=True,
            default=None,
            help="Implies --build. Lock an sdist that nothing here can build for a target; "
            "pip builds it when installing, from build requirements put in the wheelhouse.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress output."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _sdist_policy(options: dict[str, Any]) -> tuple[bool | None, bool | None]:
    """``allow_sdist`` and ``keep_sdist`` as given (None when not); --keep-sdist implies --build."""
    only_binary, keep_sdist = options["only_binary"], options["keep_sdist"]
    if only_binary and keep_sdist:
        raise click.UsageError("--keep-sdist needs sdists: it cannot go with --only-binary")
    allow = True if keep_sdist else None if only_binary is None else not only_binary
    return allow, keep_sdist


class TimestampType(click.ParamType):  # type: ignore[type-arg]
    """An ISO 8601 moment or a date; naive values are UTC."""

    name = "timestamp"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 timestamp or date", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _check_platforms(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Validate each tag and give it its canonical spelling, once: it names the target."""
    for platform in value:
        try:
            parse_platform(platform)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return tuple(dict.fromkeys(canonical_platform(platform) for platform in value))


BUILD_EPILOG = """\b
Examples:
  wheelhouse build -r requirements.txt
  wheelhouse build requests 'ruff==0.6.9' --python 3.11 --python 3.12 \\
      --platform manylinux_2_28_x86_64 --platform macosx_11_0_arm64
  wheelhouse build -r requirements.txt -c constraints.txt --exclude-newer 2026-01-01
  wheelhouse build -r requirements.txt --python 3.11 --python 3.12 --build
"""


@cli.command(epilog=BUILD_EPILOG)
@click.argument("requirements", nargs=-1)
@requirement_files_option
@constraint_files_option
@click.option(
    "--python",
    "pythons",
    multiple=True,
    metavar="VER|PATH",
    help="Target Python: a version (3.12) or an interpreter. Repeatable.",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="TAG",
    callback=_check_platforms,
    help="Target platform tag (manylinux_2_28_x86_64, win_amd64, ...). Repeatable.",
)
@index_options
@wheelhouse_option
@reports_errors
def build(wheelhouse_dir: Path, quiet: bool, cache_dir: Path | None, **options: Any) -> None:
    """Resolve, download and lock a wheelhouse for every target.

    Targets are every --python x --platform pair (default: the running
    interpreter's version and platform). Writes the files, locks/, simple/ and
    wheelhouse.toml into the wheelhouse directory.
    """
    request = _build_request(options)
    inputs = read_inputs(request)
    request = dataclasses.replace(
        request,
        index_url=_choose_index(request.index_url, inputs.index_url),
        extra_index_urls=unique_urls((*request.extra_index_urls, *inputs.extra_index_urls)),
    )
    wheelhouse = Wheelhouse.for_writing(wheelhouse_dir)
    reporter = ProgressReporter(quiet=quiet)
    try:
        with _index_client(request, cache_dir) as client:
            result = build_wheelhouse(wheelhouse, request, inputs, client, reporter)
    finally:
        reporter.close()  # a failure's message must not land inside a live bar
    _report_refused(result.refused)
    built = f", {len(result.built)} wheel(s) built from sdists" if request.allow_sdist else ""
    if not quiet:
        click.echo(
            f"wheelhouse {wheelhouse_dir}: {len(result.targets)} target(s) "
            f"({', '.join(t.name for t in result.targets)}), "
            f"{len(result.downloaded)} file(s) downloaded, {len(result.reused)} reused{built}"
        )


def _report_refused(refused: Sequence[InvalidFilename]) -> None:
    """Warn of suspicious index entries; count names that merely predate today's rules."""
    verbose = click.get_current_context().find_root().params.get("verbose")
    quiet = [entry for entry in refused if not entry.suspicious]
    for entry in refused:
        if entry.suspicious or verbose:
            click.echo(f"warning: {entry}", err=True)
    if quiet and not verbose:
        click.echo(
            f"note: skipped {len(quiet)} index entries whose names do not parse "
            "(--verbose lists them)",
            err=True,
        )


def _index_client(request: BuildRequest, cache_dir: Path | None) -> IndexClient:
    """One HTTP client for the whole run, over the persistent cache."""
    return IndexClient(
        index_urls=[request.index_url, *request.extra_index_urls],
        jobs=request.jobs,
        cache=Cache(cache_dir or default_cache_dir()),
    )


def _choose_index(option: str, from_file: str | None, recorded: str = "") -> str:
    """--index-url, the environment, a requirements file's -i, the recorded index, pip's default.

    ``recorded`` is what a refresh read in the manifest, written without credentials:
    the URLs before it are where a refresh takes them again.
    """
    overridden = option or os.environ.get("WHEELHOUSE_INDEX_URL") or os.environ.get("PIP_INDEX_URL")
    if overridden or not (from_file or recorded):
        return index_url_from(option or None)
    return from_file or recorded


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
        allow_sdist=bool(_sdist_policy(options)[0]),
        keep_sdist=bool(options["keep_sdist"]),
    )


class ProgressReporter(BuildReporter):
    """Build progress on a terminal through tqdm; silent in pipes and with --quiet."""

    def __init__(self, *, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar: Any = None

    def _say(self, text: str) -> None:
        if self.enabled:
            from tqdm import tqdm  # only a terminal pays for importing it

            tqdm.write(text, file=sys.stderr)

    def resolved(self, resolution: Resolution) -> None:
        self._say(f"resolved {resolution.target.name}: {len(resolution.pins)} pins")

    def building(self, sdist: DistFile, python: str) -> None:
        self._say(f"building {sdist.filename} with Python {python}")

    def built(self, wheel: BuiltWheel) -> None:
        self._say(f"built {wheel.wheel.filename}")

    def downloading(self, files: Sequence[DistFile]) -> None:
        if self.enabled:
            from tqdm import tqdm

            total = sum(file.size or 0 for file in files)
            self.bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                file=sys.stderr,
                desc=f"downloading {len(files)} files",
            )

    def progress(self, file: DistFile, nbytes: int) -> None:
        if self.bar is not None:
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


python_option = click.option(
    "--python",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="The interpreter whose target to use.  [default: $VIRTUAL_ENV's, else this one]",
)


@cli.command(
    epilog="""\b
Examples:
  wheelhouse install -w /wheelhouse                 # the whole lock, into the active venv
  wheelhouse install -w /wheelhouse requests        # requests and its locked dependencies
  wheelhouse install -r requirements.txt --python /opt/venv/bin/python --dry-run
  wheelhouse install --backend uv --tmp-dir /var/tmp
"""
)
@click.argument("requirements", nargs=-1)
@requirement_files_option
@python_option
@click.option(
    "--backend",
    type=click.Choice(["pip", "uv"]),
    default="pip",
    show_default=True,
    help="The installer that runs; both get the exact locked files.",
)
@click.option("--dry-run", is_flag=True, help="Print what would change; install nothing.")
@click.option(
    "--tmp-dir",
    type=click.Path(exists=True, file_okay=False, writable=True, path_type=Path),
    help="An existing, writable directory for temporary files.  [default: $WHEELHOUSE_TMPDIR, "
    "else a directory under the target environment's prefix (on its filesystem, removed "
    "afterwards) when writable, else $TMPDIR]",
)
@wheelhouse_option
@reports_errors
def install(wheelhouse_dir: Path, **options: Any) -> None:
    """Install from the wheelhouse only, hash-checked, with no network.

    Picks the lock whose target the interpreter supports. With no REQ, installs
    the whole lock; with REQ or -r, those and their dependencies at the locked
    versions. Writes nothing inside the wheelhouse; temporary files go on the
    target environment's filesystem unless --tmp-dir says otherwise.
    """
    from wheelhouse.install import installer

    request = installer.InstallRequest(
        wheelhouse=wheelhouse_dir,
        requirements=tuple(options["requirements"]),
        requirement_files=tuple(options["requirement_files"]),
        python=options["python"],
        backend=options["backend"],
        dry_run=options["dry_run"],
        tmp_dir=options["tmp_dir"],
    )
    result = installer.install(request)
    if request.dry_run or not result.ran:
        for line in installer.render_plan(result):
            click.echo(line)


@cli.command(
    epilog="""\b
Examples:
  eval "$(wheelhouse env -w /wheelhouse)"; nox      # nox sessions get the pinned versions
  wheelhouse env --format dotenv > wheelhouse.env  # docker run --env-file wheelhouse.env
  wheelhouse env --format pip.conf > /etc/pip.conf
  wheelhouse env --format uv.toml > uv.toml         # uv --config-file uv.toml pip install ...
"""
)
@python_option
@click.option(
    "--format",
    "form",
    type=click.Choice(["sh", "dotenv", "pip.conf", "uv.toml"]),
    default="sh",
    show_default=True,
    help="Shell exports, a dotenv file, a pip.conf or a uv.toml.",
)
@wheelhouse_option
@reports_errors
def env(wheelhouse_dir: Path, python: Path | None, form: str) -> None:
    """Print settings that make pip, uv, nox and tox install only from the wheelhouse.

    pip gets PIP_NO_INDEX, PIP_FIND_LINKS and PIP_CONSTRAINT (the pins of the
    interpreter's target); uv gets UV_OFFLINE, UV_FIND_LINKS and UV_CONSTRAINT.
    """
    from wheelhouse.install import installer

    choice = installer.choose(wheelhouse_dir, python)
    for line in installer.render_settings(choice, form):
        click.echo(line)


REFRESH_EPILOG = """\b
Examples:
  wheelhouse refresh                         # move every pin to the newest that fits
  wheelhouse refresh --upgrade-package requests
  wheelhouse refresh --check                 # exit 1 when pins would change
  wheelhouse refresh --report pins.md --report-format markdown
"""


@cli.command(epilog=REFRESH_EPILOG)
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when pins would change.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the pin diff to this file.",
)
@click.option(
    "--report-format",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help="Format of --report.",
)
@click.option(
    "-P",
    "--upgrade-package",
    "upgrade",
    multiple=True,
    metavar="NAME",
    help="Move only these pins; every other pin is kept if it still fits. Repeatable.",
)
@index_options
@wheelhouse_option
@reports_errors
def refresh(
    wheelhouse_dir: Path,
    quiet: bool,
    cache_dir: Path | None,
    check: bool,
    report: Path | None,
    report_format: str,
    upgrade: tuple[str, ...],
    **options: Any,
) -> None:
    """Re-resolve the inputs recorded in the manifest and print the pin diff.

    Files already in the wheelhouse are reused; only new ones are downloaded.
    Index, exclude-newer and sdist options default to what the manifest recorded.
    """
    wheelhouse = Wheelhouse.open(wheelhouse_dir)
    allow_sdist, keep_sdist = _sdist_policy(options)
    request = request_from_manifest(
        wheelhouse.read_manifest(),
        extra_index_urls=tuple(options["extra_index_url"]) or None,
        exclude_newer=options["exclude_newer"],
        jobs=options["jobs"],
        allow_sdist=allow_sdist,
        keep_sdist=keep_sdist,
    )
    inputs = read_inputs(request)
    # As build does, with the recorded index in place of pip's default; the files'
    # extra indexes join the recorded ones (which may hold the same URLs, redacted).
    request = dataclasses.replace(
        request,
        index_url=_choose_index(options["index_url"] or "", inputs.index_url, request.index_url),
        extra_index_urls=unique_urls((*request.extra_index_urls, *inputs.extra_index_urls)),
    )
    reporter = ProgressReporter(quiet=quiet)
    try:
        with _index_client(request, cache_dir) as client:
            result = refresh_wheelhouse(
                wheelhouse, request, inputs, client, reporter, check=check, upgrade=upgrade or None
            )
    finally:
        reporter.close()
    if result.build is not None:
        _report_refused(result.build.refused)
    for line in render_text(result.diffs):
        click.echo(line)
    if report is not None:
        text = (
            render_json(result.diffs)
            if report_format == "json"
            else "\n".join(render_markdown(result.diffs)) + "\n"
        )
        atomic_write(report, text.encode("utf-8"))
    if check and has_changes(result.diffs):
        sys.exit(1)


DIFF_EPILOG = """\b
Examples:
  wheelhouse diff old-wheelhouse/ wheelhouse/
  wheelhouse diff old.txt wheelhouse/locks/cp312-manylinux_2_28_x86_64.txt
  wheelhouse diff --format markdown old-wheelhouse/ wheelhouse/ > pin-changes.md
  wheelhouse diff --exit-code old-wheelhouse/ wheelhouse/ || echo "pins changed"
"""


@cli.command(epilog=DIFF_EPILOG)
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
@click.option("--exit-code", is_flag=True, help="Exit 1 when pins differ, like git diff.")
@reports_errors
def diff(old: Path, new: Path, output_format: str, exit_code: bool) -> None:
    """Pin diff between two wheelhouses or two lock files.

    OLD and NEW are each a wheelhouse directory (all its locks/<target>.txt) or
    one lock file; two lock files are compared as one target, named after NEW.
    Exits 0 whether pins differ or not, unless --exit-code is given.
    """
    from wheelhouse.commands.upkeep import diff_sources

    diffs = diff_sources(old, new)
    if output_format == "json":
        click.echo(render_json(diffs), nl=False)
    else:
        lines = render_markdown(diffs) if output_format == "markdown" else render_text(diffs)
        click.echo("\n".join(lines))
    if exit_code and has_changes(diffs):
        sys.exit(1)


@cli.command(
    epilog="""\b
Examples:
  wheelhouse verify -w ./wheelhouse
  wheelhouse verify --python /usr/bin/python3.12"""
)
@click.option(
    "--python",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="Also check that a target of the wheelhouse serves this interpreter.",
)
@wheelhouse_option
@reports_errors
def verify(wheelhouse_dir: Path, python: Path | None) -> None:
    """Check files, locks and index against each other; writes nothing.

    Hashes every file against the manifest, checks that every lock's hashes are
    files here, looks for stray and partial files, and compares metadata files
    and index pages with what the files say. Prints one line per problem and
    exits 1 if there is any.
    """
    from wheelhouse.commands.errors import VerifyFailed
    from wheelhouse.commands.verify import verify as verify_wheelhouse

    report = verify_wheelhouse(Wheelhouse.open(wheelhouse_dir), python)
    for problem in report.problems:
        click.echo(str(problem))
    if report.problems:
        raise VerifyFailed(str(wheelhouse_dir), [problem.kind for problem in report.problems])
    click.echo(report.summary())


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 10_000 else f"{size} bytes"


@cli.command(
    epilog="""\b
Examples:
  wheelhouse prune --dry-run
  wheelhouse refresh && wheelhouse prune"""
)
@click.option("--dry-run", is_flag=True, help="List what would go; change nothing.")
@wheelhouse_option
@reports_errors
def prune(wheelhouse_dir: Path, dry_run: bool) -> None:
    """Remove files that no lock or build needs.

    Removes distribution files whose hash no lock lists (with their .metadata
    files and their manifest entries), unless they are the sdist of a kept
    built wheel or a build requirement of a target that locks sdists; also
    metadata of missing wheels and leftovers of interrupted writes. Then
    rewrites the index.
    """
    from wheelhouse.commands.upkeep import prune as prune_wheelhouse

    plan = prune_wheelhouse(Wheelhouse.open(wheelhouse_dir), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for relative in (*plan.files, *plan.leftovers):
        click.echo(f"{verb} {relative}")
    click.echo(
        f"{verb} {len(plan.files)} file(s) ({_megabytes(plan.freed)}); "
        f"kept {plan.kept} file(s) that locks or builds need"
    )


@cli.command(
    epilog="""\b
Examples:
  wheelhouse merge -w wheelhouse linux-x86_64/ linux-aarch64/ macos-arm64/
  wheelhouse merge -w wheelhouse artifacts/*/"""
)
@click.argument(
    "sources", nargs=-1, required=True, metavar="SRC...", type=click.Path(path_type=Path)
)
@wheelhouse_option
@reports_errors
def merge(wheelhouse_dir: Path, sources: tuple[Path, ...]) -> None:
    """Combine wheelhouses built on different machines into one.

    Each SRC is a wheelhouse built from the same inputs, index and options (as
    a CI matrix builds one target per machine). Files are stored once, locks
    copied, manifests combined and the index rewritten over -w. An existing -w
    wheelhouse keeps its own targets. Refuses, writing nothing, when sources
    disagree on inputs, on a target's pins, or on a file's hash.
    """
    from wheelhouse.commands.merge import merge as merge_wheelhouses

    result = merge_wheelhouses(wheelhouse_dir, sources)
    click.echo(
        f"wheelhouse {wheelhouse_dir}: {len(result.targets)} target(s) "
        f"({', '.join(result.targets)}), {result.files} file(s), {len(result.copied)} copied"
    )


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
    Files that are not valid distributions are skipped with a warning. Over a
    wheelhouse, what its manifest records (upload times, yanked) goes into the pages.
    """
    from contextlib import nullcontext

    from wheelhouse.commands.upkeep import known_files
    from wheelhouse.house.indexer import index_directory

    # Over a wheelhouse, the manifest keeps what the files cannot tell (upload
    # times, yanked), so the pages match what build wrote; its lock keeps these
    # writes from interleaving with a running build's.
    wheelhouse = Wheelhouse(directory)
    over_wheelhouse = wheelhouse.manifest_path.is_file()
    with wheelhouse.exclusive() if over_wheelhouse else nullcontext():
        manifest = wheelhouse.read_manifest()
        result = index_directory(directory, known_files(manifest.get("files", {})))
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
    from wheelhouse.house.server import make_server

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


class PublishProgress(PublishReporter):
    """Upload progress on a terminal through tqdm; silent in pipes and with --quiet."""

    def __init__(self, *, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar: Any = None

    def uploading(self, plan: PublishPlan) -> None:
        if self.enabled and plan.uploads:
            from tqdm import tqdm

            self.bar = tqdm(
                total=plan.upload_bytes,
                unit="B",
                unit_scale=True,
                file=sys.stderr,
                desc=f"uploading {len(plan.uploads)} objects",
            )

    def progress(self, nbytes: int) -> None:
        if self.bar is not None:
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


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
def publish(wheelhouse_dir: Path, quiet: bool, **options: Any) -> None:
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


cli.add_command(publish)
