"""Every option declared once, and the small values that commands receive from them."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from wheelhouse.model.strategies import STRATEGIES

__all__ = [
    "IndexOptions",
    "TimestampType",
    "cache_dir_option",
    "choice_options",
    "constraint_files_option",
    "editable_option",
    "from_lock_option",
    "index_options",
    "index_url_option",
    "jobs_option",
    "platforms_option",
    "python_option",
    "quiet_option",
    "requirement_files_option",
    "requirements_argument",
    "target_pythons_option",
    "wheelhouse_option",
]

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
requirements_argument = click.argument("requirements", nargs=-1)
editable_option = click.option(
    "-e",
    "--editable",
    "editables",
    multiple=True,
    metavar="PATH",
    help="A local project, as pip's -e takes it: built into a wheel here, with what an "
    "editable install of it needs. Repeatable.",
)
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
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress output.")
from_lock_option = click.option(
    "--from-lock",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Take the exact pins and hashes of a pylock.toml, a uv.lock or a fully hashed "
    "requirements file for every target their markers fit; resolve nothing.",
)


_CHOICE_OPTIONS = [
    click.option(
        "--extra",
        "extras",
        multiple=True,
        metavar="NAME",
        help="An extra of -r pyproject.toml ([project.optional-dependencies]) or of "
        "--from-lock. Repeatable.",
    ),
    click.option("--all-extras", is_flag=True, help="Every extra (see --extra)."),
    click.option(
        "--group",
        "groups",
        multiple=True,
        metavar="NAME",
        help="A dependency group of -r pyproject.toml ([dependency-groups], PEP 735) or "
        "of --from-lock. Repeatable.",
    ),
]


def choice_options(func: F) -> F:
    """``--extra``, ``--all-extras`` and ``--group``; the command gets them as ``choice``."""

    @functools.wraps(func)
    def with_choice(*args: Any, **kwargs: Any) -> Any:
        from wheelhouse.model.pyproject import Choice

        choice = Choice(
            extras=kwargs.pop("extras"),
            all_extras=kwargs.pop("all_extras"),
            groups=kwargs.pop("groups"),
        )
        return func(*args, choice=choice, **kwargs)

    for option in reversed(_CHOICE_OPTIONS):
        with_choice = option(with_choice)
    return with_choice  # type: ignore[return-value]


def python_option(
    help_text: str = "The interpreter whose target to use.  "
    "[default: $VIRTUAL_ENV's, else this one]",
) -> Callable[[F], F]:
    """``--python PATH``: one interpreter, whose target a command serves or checks."""
    return click.option(
        "--python",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="PATH",
        help=help_text,
    )


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
    from wheelhouse.model.targets import canonical_platform, parse_platform

    for platform in value:
        try:
            parse_platform(platform)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return tuple(dict.fromkeys(canonical_platform(platform) for platform in value))


target_pythons_option = click.option(
    "--python",
    "pythons",
    multiple=True,
    metavar="VER|PATH",
    help="Target Python: a version (3.12) or an interpreter. Repeatable.",
)
platforms_option = click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="TAG",
    callback=_check_platforms,
    help="Target platform tag (manylinux_2_28_x86_64, win_amd64, ...). Repeatable.",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexOptions:
    """What build and refresh are told about indexes, downloads, the cache and sdists.

    Each field is None (or empty) when its option was not given, so that
    refresh can fall back on what the manifest recorded.
    """

    index_url: str | None
    extra_index_urls: tuple[str, ...]
    index_strategy: str | None
    exclude_newer: datetime | None
    jobs: int
    cache_dir: Path | None
    only_binary: bool | None
    keep_sdist: bool | None
    quiet: bool

    def sdist_policy(self) -> tuple[bool | None, bool | None]:
        """``allow_sdist`` and ``keep_sdist``, None when not given; --keep-sdist implies --build."""
        if self.only_binary and self.keep_sdist:
            raise click.UsageError("--keep-sdist needs sdists: it cannot go with --only-binary")
        only_binary = self.only_binary
        allow = True if self.keep_sdist else None if only_binary is None else not only_binary
        return allow, self.keep_sdist


index_url_option = click.option(
    "--index-url",
    "-i",
    default=None,
    metavar="URL",
    help="The index (else $WHEELHOUSE_INDEX_URL, $PIP_INDEX_URL, a requirements "
    "file's -i, the recorded index for refresh, fetch and build with no REQ, then "
    "pip's default index). "
    "Credentials: in the URL, else $NETRC or ~/.netrc, else `keyring get` for "
    "https://USER@host/simple.",
)
jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Parallel downloads and resolutions.",
)
cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Persistent cache (else $WHEELHOUSE_CACHE_DIR, else the user cache directory).",
)

_INDEX_OPTIONS = [
    index_url_option,
    click.option(
        "--extra-index-url",
        "extra_index_urls",
        multiple=True,
        metavar="URL",
        help="More indexes, asked in order after --index-url (see --index-strategy). Repeatable.",
    ),
    click.option(
        "--index-strategy",
        type=click.Choice(STRATEGIES),
        default=None,
        help="With several indexes: take a project's versions from the first index that "
        "has it (first-index, the default, so that a public project cannot shadow a private "
        "name), or merge every index's files as pip does (unsafe-best-match).",
    ),
    click.option(
        "--exclude-newer",
        type=TimestampType(),
        default=None,
        metavar="TIMESTAMP",
        help="Ignore files uploaded after this moment (ISO 8601 or YYYY-MM-DD, UTC).",
    ),
    jobs_option,
    cache_dir_option,
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
    quiet_option,
]


def index_options(func: F) -> F:
    """Declare the options of every command that reads an index; it gets them as ``index``."""
    names = [field.name for field in dataclasses.fields(IndexOptions)]

    @functools.wraps(func)
    def with_index(*args: Any, **kwargs: Any) -> Any:
        index = IndexOptions(**{name: kwargs.pop(name) for name in names})
        return func(*args, index=index, **kwargs)

    for option in reversed(_INDEX_OPTIONS):
        with_index = option(with_index)
    return with_index  # type: ignore[return-value]
