"""``wheelhouse build`` and ``wheelhouse refresh``: resolve, download, lock; re-resolve."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import click

from wheelhouse.cli.app import exit_when_changed, is_verbose, reports_changes, reports_errors
from wheelhouse.cli.options import (
    IndexOptions,
    choice_options,
    constraint_files_option,
    from_lock_option,
    index_options,
    platforms_option,
    requirement_files_option,
    requirements_argument,
    target_pythons_option,
    wheelhouse_option,
)
from wheelhouse.cli.progress import ProgressReporter
from wheelhouse.commands.build import BuildResult, build, read_inputs
from wheelhouse.commands.collector import collecting_rarely
from wheelhouse.commands.refresh import rebuild, rebuild_targets, refresh
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.files import atomic_write
from wheelhouse.index.cache import Cache, default_cache_dir
from wheelhouse.index.client import IndexClient
from wheelhouse.index.tls import index_url_from
from wheelhouse.model.diff import TargetDiff, has_changes, render_json, render_markdown, render_text
from wheelhouse.model.errors import InvalidFilename
from wheelhouse.model.limits import Limits
from wheelhouse.model.manifest import BuildRequest, request_from_manifest
from wheelhouse.model.pages import FIRST_INDEX
from wheelhouse.model.pyproject import Choice, is_pyproject
from wheelhouse.model.urls import unique_urls

__all__ = ["build_command", "refresh_command"]

R = TypeVar("R")


BUILD_EPILOG = """\b
Examples:
  wheelhouse build -r requirements.txt
  wheelhouse build requests 'ruff==0.6.9' --python 3.11 --python 3.12 \\
      --platform manylinux_2_28_x86_64 --platform macosx_11_0_arm64
  wheelhouse build -r requirements.txt -c constraints.txt --exclude-newer 2026-01-01
  wheelhouse build -r requirements.txt --python 3.11 --python 3.12 --build
  wheelhouse build -r pyproject.toml --extra test --group dev
  wheelhouse build --from-lock uv.lock --group dev --python 3.12 --platform win_amd64
"""


@click.command("build", epilog=BUILD_EPILOG)
@requirements_argument
@requirement_files_option
@constraint_files_option
@from_lock_option
@choice_options
@target_pythons_option
@platforms_option
@index_options
@wheelhouse_option
@reports_errors
def build_command(
    wheelhouse_dir: Path,
    index: IndexOptions,
    requirements: tuple[str, ...],
    requirement_files: tuple[Path, ...],
    constraint_files: tuple[Path, ...],
    from_lock: Path | None,
    choice: Choice,
    pythons: tuple[str, ...],
    platforms: tuple[str, ...],
) -> None:
    """Resolve, download and lock a wheelhouse for every target.

    Targets are every --python x --platform pair (default: the running
    interpreter's version and platform). Writes the files, locks/, simple/ and
    wheelhouse.toml into the wheelhouse directory. With no REQ and no -r on an
    existing wheelhouse, builds its recorded inputs for the targets given
    (default: the recorded ones), keeping every pin that still fits.

    -r pyproject.toml reads the project's [project] dependencies, with the
    extras and dependency groups --extra, --all-extras and --group choose.
    --from-lock takes a lock's pins for every target, resolving nothing.
    """
    _check_choice(requirement_files, constraint_files, from_lock, choice, requirements, index)
    if not requirements and not requirement_files and from_lock is None:
        _rebuild(wheelhouse_dir, index, pythons, platforms)
        return
    allow_sdist, _ = index.sdist_policy()
    request = BuildRequest(
        requirements=requirements,
        requirement_files=requirement_files,
        constraint_files=constraint_files,
        pythons=pythons,
        platforms=platforms,
        index_url=index.index_url or "",
        extra_index_urls=index.extra_index_urls,
        index_strategy=index.index_strategy or FIRST_INDEX,
        exclude_newer=index.exclude_newer,
        jobs=index.jobs,
        allow_sdist=bool(allow_sdist),
        keep_sdist=bool(index.keep_sdist),
        from_lock=from_lock,
        choice=choice,
        limits=Limits.from_environ(os.environ),
    )
    _build(wheelhouse_dir, request, index)


def _check_choice(
    requirement_files: Sequence[Path],
    constraint_files: Sequence[Path],
    from_lock: Path | None,
    choice: Choice,
    requirements: Sequence[str],
    index: IndexOptions,
) -> None:
    """A lock stands alone; extras and groups need a project or a lock to choose from."""
    if from_lock is not None and (requirements or requirement_files or constraint_files):
        raise click.UsageError("--from-lock takes no REQ, -r or -c: the lock's pins are the input")
    if from_lock is not None and index.exclude_newer is not None:
        raise click.UsageError("--from-lock takes no --exclude-newer: the lock's pins are exact")
    projects = [path for path in requirement_files if is_pyproject(str(path))]
    if choice and from_lock is None and not projects:
        raise click.UsageError(
            "--extra, --all-extras and --group choose from -r pyproject.toml or --from-lock"
        )


def _build(wheelhouse_dir: Path, request: BuildRequest, index: IndexOptions) -> None:
    inputs = read_inputs(request)
    request = dataclasses.replace(
        request,
        index_url=_choose_index(request.index_url, inputs.index_url),
        extra_index_urls=unique_urls((*request.extra_index_urls, *inputs.extra_index_urls)),
    )
    wheelhouse = Wheelhouse.for_writing(wheelhouse_dir)
    result = _online(
        request,
        index,
        lambda client, reporter: build(wheelhouse, request, inputs, client, reporter),
    )
    _report_refused(result.refused)
    _report_yanked(result)
    if not index.quiet:
        click.echo(_summary(wheelhouse_dir, result, request.allow_sdist))


def _rebuild(
    wheelhouse_dir: Path, index: IndexOptions, pythons: Sequence[str], platforms: Sequence[str]
) -> None:
    """Build the recorded inputs again, for new targets or the recorded ones."""
    wheelhouse = Wheelhouse(wheelhouse_dir)
    if not wheelhouse.is_ours(strict=True) or not wheelhouse.read_manifest().get("inputs"):
        raise click.UsageError(
            "no requirements given: pass REQ... or -r FILE (with no requirements, build "
            "rebuilds the recorded inputs of an existing wheelhouse)"
        )
    request = _refresh_request(Wheelhouse.open(wheelhouse_dir), index)
    targets = rebuild_targets(wheelhouse.read_manifest(), pythons, platforms)
    request = dataclasses.replace(request, pythons=tuple(pythons), platforms=tuple(platforms))
    inputs = read_inputs(request)
    request = dataclasses.replace(
        request,
        index_url=_choose_index(index.index_url or "", inputs.index_url, request.index_url),
        extra_index_urls=unique_urls((*request.extra_index_urls, *inputs.extra_index_urls)),
    )
    kept = wheelhouse.read_pins()
    result = _online(
        request,
        index,
        lambda client, reporter: rebuild(
            wheelhouse, request, inputs, client, reporter, targets, kept
        ),
    )
    _report_refused(result.refused)
    _report_yanked(result)
    if not index.quiet:
        click.echo(_summary(wheelhouse_dir, result, request.allow_sdist))


def _summary(wheelhouse_dir: Path, result: BuildResult, allow_sdist: bool) -> str:
    built = f", {len(result.built)} wheel(s) built from sdists" if allow_sdist else ""
    return (
        f"wheelhouse {wheelhouse_dir}: {len(result.targets)} target(s) "
        f"({', '.join(t.name for t in result.targets)}), "
        f"{len(result.downloaded)} file(s) downloaded, {len(result.reused)} reused{built}"
    )


def _online(
    request: BuildRequest,
    index: IndexOptions,
    step: Callable[[IndexClient, ProgressReporter], R],
) -> R:
    """Run a step with one HTTP client for the whole run, over the persistent cache.

    The garbage collector runs rarely meanwhile (:func:`collecting_rarely`).
    """
    reporter = ProgressReporter(quiet=index.quiet)
    try:
        with (
            collecting_rarely(),
            IndexClient(
                index_urls=[request.index_url, *request.extra_index_urls],
                jobs=request.jobs,
                cache=Cache(index.cache_dir or default_cache_dir()),
                limits=request.limits,
                strategy=request.index_strategy,
            ) as client,
        ):
            return step(client, reporter)
    finally:
        reporter.close()  # a failure's message must not land inside a live bar


def _report_yanked(result: BuildResult) -> None:
    """Warn of each yanked file taken, as pip and uv do."""
    for file in result.yanked:
        reason = f" ({file.yanked})" if file.yanked else ""
        click.echo(
            f"warning: {file.project} {file.version} is yanked{reason}; "
            f"taken because it is pinned with ==",
            err=True,
        )


def _report_refused(refused: Sequence[InvalidFilename]) -> None:
    """Warn of suspicious index entries; count names that merely predate today's rules."""
    verbose = is_verbose()
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


def _choose_index(option: str, from_file: str | None, recorded: str = "") -> str:
    """--index-url, the environment, a requirements file's -i, the recorded index, pip's default.

    ``recorded`` is what a refresh read in the manifest, written without credentials:
    the URLs before it are where a refresh takes them again.
    """
    overridden = option or os.environ.get("WHEELHOUSE_INDEX_URL") or os.environ.get("PIP_INDEX_URL")
    if overridden or not (from_file or recorded):
        return index_url_from(option or None)
    return from_file or recorded


REFRESH_EPILOG = """\b
Examples:
  wheelhouse refresh                         # move every pin to the newest that fits
  wheelhouse refresh --upgrade-package requests
  wheelhouse refresh --check                 # exit 1 when pins would change, 3 on a failure
  wheelhouse refresh --report pins.md --report-format markdown
"""


@click.command("refresh", epilog=REFRESH_EPILOG)
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing; exit 0 when pins would stay, 1 when they would change, 3 on a failure.",
)
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
def refresh_command(
    wheelhouse_dir: Path,
    index: IndexOptions,
    check: bool,
    report: Path | None,
    report_format: str,
    upgrade: tuple[str, ...],
) -> None:
    """Re-resolve the inputs recorded in the manifest and print the pin diff.

    Files already in the wheelhouse are reused; only new ones are downloaded.
    Index, exclude-newer and sdist options default to what the manifest recorded.
    With --check, a failure exits 3, so that 1 always means "pins would change".
    """
    if check:
        reports_changes()
    wheelhouse = Wheelhouse.open(wheelhouse_dir)
    diffs = _refresh(wheelhouse, _refresh_request(wheelhouse, index), index, check, upgrade)
    for line in render_text(diffs):
        click.echo(line)
    if report is not None:
        _write_report(report, report_format, diffs)
    exit_when_changed(check and has_changes(diffs))


def _refresh_request(wheelhouse: Wheelhouse, index: IndexOptions) -> BuildRequest:
    """The recorded request, with what the options say instead."""
    allow_sdist, keep_sdist = index.sdist_policy()
    return request_from_manifest(
        wheelhouse.read_manifest(),
        extra_index_urls=index.extra_index_urls or None,
        index_strategy=index.index_strategy,
        limits=Limits.from_environ(os.environ),
        exclude_newer=index.exclude_newer,
        jobs=index.jobs,
        allow_sdist=allow_sdist,
        keep_sdist=keep_sdist,
    )


def _refresh(
    wheelhouse: Wheelhouse,
    request: BuildRequest,
    index: IndexOptions,
    check: bool,
    upgrade: tuple[str, ...],
) -> list[TargetDiff]:
    inputs = read_inputs(request)
    # As build does, with the recorded index in place of pip's default; the files'
    # extra indexes join the recorded ones (which may hold the same URLs, redacted).
    request = dataclasses.replace(
        request,
        index_url=_choose_index(index.index_url or "", inputs.index_url, request.index_url),
        extra_index_urls=unique_urls((*request.extra_index_urls, *inputs.extra_index_urls)),
    )
    result = _online(
        request,
        index,
        lambda client, reporter: refresh(
            wheelhouse, request, inputs, client, reporter, check=check, upgrade=upgrade or None
        ),
    )
    if result.build is not None:
        _report_refused(result.build.refused)
        _report_yanked(result.build)
    return list(result.diffs)


def _write_report(report: Path, report_format: str, diffs: Sequence[TargetDiff]) -> None:
    text = (
        render_json(diffs) if report_format == "json" else "\n".join(render_markdown(diffs)) + "\n"
    )
    atomic_write(report, text.encode("utf-8"))
