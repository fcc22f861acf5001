"""The command group, its ``--verbose``, and the one place where errors become exit statuses.

Exit statuses: 0 success; 1 a failure explained on stderr (``error:`` and
``hint:`` lines, no traceback unless ``--verbose``), or pins that differ when
the user asked to hear it; 2 a usage error, which click reports.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn, TypeVar

import click

from wheelhouse import __version__
from wheelhouse.errors import FileSystemError, WheelhouseError

__all__ = ["LazyGroup", "cli", "exit_when_changed", "is_verbose", "main", "reports_errors"]

F = TypeVar("F", bound=Callable[..., Any])


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used or listed.

    ``wheelhouse install`` in a final image then never loads the resolver, the
    HTTP client or the sdist builder that ``build`` needs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[Callable[[], ModuleType], str]] = {}

    def add_lazy(self, name: str, family: Callable[[], ModuleType], attribute: str) -> None:
        """Register ``name`` as ``attribute`` of the module ``family`` imports, on first use."""
        self.lazy[name] = (family, attribute)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            family, attribute = self.lazy[cmd_name]
            self.add_command(getattr(family(), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="wheelhouse")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and more detail.")
def cli(verbose: bool) -> None:
    """Build offline wheelhouse mirrors and install strictly from them."""


def main() -> None:
    """The ``wheelhouse`` program."""
    cli(prog_name="wheelhouse")


def is_verbose() -> bool:
    """Whether the running command was given ``wheelhouse -v``."""
    return bool(click.get_current_context().find_root().params.get("verbose"))


def reports_errors(func: F) -> F:
    """Turn a WheelhouseError or an OSError into `error:`/`hint:` lines and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (WheelhouseError, OSError) as exc:
            if is_verbose():
                raise
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("error: interrupted; the wheelhouse was left as it was", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _fail(exc: WheelhouseError | OSError) -> NoReturn:
    if isinstance(exc, OSError):
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


def exit_when_changed(changed: bool) -> None:
    """Exit 1, with nothing more to say, when pins differ and the user asked to know."""
    if changed:
        sys.exit(1)
