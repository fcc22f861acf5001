"""Run ``python -m wheelhouse`` with its file mutations counted, and killed at one of them.

:mod:`killpoints` starts a command as ``python -c BOOTSTRAP ARGS...``; the
bootstrap imports this module, which wraps the functions that change a
directory, then runs ``wheelhouse`` as ``-m`` would. It stands alone (no test
imports), because it runs inside the command under test. Environment:

- ``WHEELHOUSE_KILL_ROOT``: only mutations of paths inside this directory count;
- ``WHEELHOUSE_KILL_LOG``: each counted mutation is appended there, one line,
  before the process can die of it;
- ``WHEELHOUSE_KILL_AT``: the process sends itself SIGKILL at that counted
  mutation (1-based): just before a rename, link or removal, and just after an
  open for writing of a final (not hidden) name, which is when a direct write
  would have left an empty file under that name.

``shutil.rmtree`` counts once, as a whole: the removals it makes by directory
descriptor have no path to judge.
"""

from __future__ import annotations

import builtins
import io
import os
import runpy
import shutil
import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["main"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_ORIGINAL_OPEN = os.open
#: ``busy`` is set while a wrapped call runs, so what it does in turn is not counted again.
_state = threading.local()


class _Counter:
    """The counted mutations so far, the log, and the one to die at."""

    def __init__(self, root: str, log: str, kill_at: int) -> None:
        self.root = os.path.realpath(root)
        self.log = log
        self.kill_at = kill_at
        self.count = 0
        self.lock = threading.Lock()

    def inside(self, path: Any) -> str | None:
        """``path`` relative to the root, or None when it is elsewhere or not a path."""
        if isinstance(path, int):
            return None
        absolute = os.path.abspath(os.fsdecode(os.fspath(path)))
        # The parent resolved, not the entry itself: unlinking a symlink acts on the link.
        full = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        return os.path.relpath(full, self.root)

    def note(self, what: str) -> bool:
        """Log one mutation; True when it is the one to die at."""
        with self.lock:
            self.count += 1
            fd = _ORIGINAL_OPEN(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{self.count} {what}\n".encode())
            finally:
                os.close(fd)
            return self.count == self.kill_at


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _paths_of(
    counter: _Counter, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[str]:
    """The entries a mutation changes that are inside the root, relative to it.

    A link changes only its new name: linking a file of the root from elsewhere
    (a cache keeping a copy) leaves the root as it was.
    """
    if any(kwargs.get(key) is not None for key in ("dir_fd", "src_dir_fd", "dst_dir_fd")):
        return []  # relative to a descriptor: only rmtree does that, and counts as a whole
    changed = args[1:2] if op in ("link", "symlink") else args[:2]
    found = [counter.inside(arg) for arg in changed if isinstance(arg, (str, bytes, os.PathLike))]
    return [path for path in found if path is not None]


def _before(counter: _Counter, op: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, counted (and maybe killed) just before it acts inside the root."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        paths = [] if getattr(_state, "busy", False) else _paths_of(counter, op, args, kwargs)
        if paths and counter.note(f"{op} {' -> '.join(paths)}"):
            _die()
        outer, _state.busy = getattr(_state, "busy", False), True
        try:
            return function(*args, **kwargs)
        finally:
            _state.busy = outer

    return wrapper


def _is_final(relative: str) -> bool:
    """A path readers look at: no hidden part (a temporary name, a staging directory)."""
    return not any(part.startswith(".") for part in relative.split(os.sep))


def _opening(counter: _Counter, function: Callable[..., Any], writes: Callable[..., bool]) -> Any:
    """``function`` (an open), counted and maybe killed just after opening a final name to write."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if getattr(_state, "busy", False) or kwargs.get("dir_fd") is not None or not args:
            return result
        if not writes(*args[1:], **kwargs):
            return result
        relative = counter.inside(args[0])
        if relative is not None and _is_final(relative) and counter.note(f"open-write {relative}"):
            _die()
        return result

    return wrapper


def _os_open_writes(flags: int = 0, *_: Any, **__: Any) -> bool:
    return bool(flags & _WRITE_FLAGS)


def _open_writes(mode: str = "r", *_: Any, **__: Any) -> bool:
    return any(letter in mode for letter in "wax+")


def install(counter: _Counter) -> None:
    """Wrap every function that changes a directory entry or opens a file to write."""
    for name in ("replace", "rename", "unlink", "remove", "rmdir", "link", "symlink"):
        setattr(os, name, _before(counter, name, getattr(os, name)))
    shutil.rmtree = _before(counter, "rmtree", shutil.rmtree)  # type: ignore[assignment]
    os.open = _opening(counter, os.open, _os_open_writes)
    builtins.open = io.open = _opening(counter, io.open, _open_writes)


def main() -> None:
    """Arm the hook from the environment, then run ``wheelhouse`` with this process's argv."""
    root = os.environ["WHEELHOUSE_KILL_ROOT"]
    log = os.environ["WHEELHOUSE_KILL_LOG"]
    install(_Counter(root, log, int(os.environ.get("WHEELHOUSE_KILL_AT") or 0)))
    runpy.run_module("wheelhouse", run_name="__main__", alter_sys=True)
