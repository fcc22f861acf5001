"""The command group, its ``--verbose``, and the one place where errors become exit statuses.

Exit statuses (:data:`EXIT_STATUSES`): 0 success; 1 a failure explained on
stderr (``error:`` and ``hint:`` lines, no traceback unless ``--verbose``);
2 a usage error, which click reports; 130 interrupted (Ctrl-C). A command that
reports a change by its status (``refresh --check``, ``diff --exit-code``)
exits 1 for "changed" and 3 for a failure, so a script can tell them apart.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn, TypeVar

import click

from wheelhouse import __version__
from wheelhouse.errors import FileSystemError, WheelhouseError

__all__ = [
    "EXIT_STATUSES",
    "LazyGroup",
    "cli",
    "exit_when_changed",
    "is_verbose",
    "main",
    "reports_changes",
    "reports_errors",
]

F = TypeVar("F", bound=Callable[..., Any])

FAILED, USAGE, FAILED_WHILE_CHECKING, INTERRUPTED = 1, 2, 3, 130
#: For ``--help`` and the README: every exit status the program uses.
EXIT_STATUSES = """\b
Exit statuses:
  0    success
  1    a failure, explained in an error: line and a hint: line
       (refresh --check, diff --exit-code: pins differ)
  2    a usage error
  3    refresh --check, diff --exit-code: a failure, so no answer
  130  interrupted (Ctrl-C); writes are all or nothing, as after a kill
"""
_STATUS_KEY = "wheelhouse.failure-status"


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs or shows its help.

    ``wheelhouse install`` in a final image then never loads the resolver, the
    HTTP client or the sdist builder that ``build`` needs; ``wheelhouse --help``
    loads no command at all, since each is registered with its one-line summary.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[Callable[[], ModuleType], str, str]] = {}

    def add_lazy(
        self, name: str, family: Callable[[], ModuleType], attribute: str, summary: str
    ) -> None:
        """Register ``name`` as ``attribute`` of the module ``family`` imports, on first use.

        ``summary`` is what ``--help`` lists for it: the first line of its help.
        """
        self.lazy[name] = (family, attribute, summary)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            family, attribute, _summary = self.lazy[cmd_name]
            self.add_command(getattr(family(), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing shows only first lines: stand-ins carrying them spare every import.
        shown = {
            name: self.commands.get(name) or click.Command(name, help=self.lazy[name][2])
            for name in self.list_commands(ctx)
        }
        click.Group(commands=shown).format_commands(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        # Here rather than in click, which would say "Aborted!" and exit 1.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted()


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_STATUSES
)
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

    return wrapper  # type: ignore[return-value]


def reports_changes() -> None:
    """The running command tells "changed" by exit status 1: its failures exit 3 instead."""
    click.get_current_context().meta[_STATUS_KEY] = FAILED_WHILE_CHECKING


def _interrupted() -> NoReturn:
    """Ctrl-C: one line, status 130, at once.

    By now the main thread has unwound: a commit not yet recorded was discarded
    and the lock released. Worker threads may still wait on a network read that
    nothing will use; Python's own exit would wait for each, so leave without it.
    """
    from wheelhouse.install.process import kill_running

    click.echo("interrupted", err=True)
    kill_running()  # builds run in their own process groups, which Ctrl-C does not reach
    if threading.active_count() == 1:
        sys.exit(INTERRUPTED)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(INTERRUPTED)


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
    sys.exit(click.get_current_context().meta.get(_STATUS_KEY, FAILED))


def exit_when_changed(changed: bool) -> None:
    """Exit 1, with nothing more to say, when pins differ and the user asked to know."""
    if changed:
        sys.exit(FAILED)
