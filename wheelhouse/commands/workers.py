"""Thread pools that a failure or Ctrl-C stops at once, for the commands' parallel work.

A plain ``with ThreadPoolExecutor()`` runs every queued task to its end before a
failure or Ctrl-C gets out of the block. Here pending tasks are dropped, running
ones are told to stop (they check :class:`Stop` at their next step), and the
caller's thread waits in short steps, so Ctrl-C reaches it on any platform.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["Stop", "Stopped", "finish", "parallel_map", "workers"]

T = TypeVar("T")
R = TypeVar("R")

#: How long the waiting thread sleeps between looks: well under a second.
_STEP = 0.2


class Stopped(Exception):
    """Raised inside a task whose run is being given up; nobody reads it."""


class Stop:
    """A flag that running tasks check between their steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def check(self) -> None:
        """Raise :class:`Stopped` once the run is being given up."""
        if self._event.is_set():
            raise Stopped


@contextlib.contextmanager
def workers(count: int, stop: Stop | None = None) -> Iterator[ThreadPoolExecutor]:
    """A pool of ``count`` threads; on any exception its work is abandoned, not awaited."""
    pool = ThreadPoolExecutor(max_workers=max(1, count))
    try:
        yield pool
    except BaseException:
        if stop is not None:
            stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def finish(futures: Iterable[Future[T]]) -> None:
    """Wait until every future is done, in steps that let Ctrl-C through."""
    pending = set(futures)
    while pending:
        _done, pending = wait(pending, timeout=_STEP)


def parallel_map(count: int, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[func(item) for item in items]`` on ``count`` threads; the first failure is raised."""
    with workers(count) as pool:
        futures = [pool.submit(func, item) for item in items]
        finish(futures)
    return [future.result() for future in futures]
