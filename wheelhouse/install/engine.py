"""The default install engine: one worker per core, inside the target interpreter.

The wheels are split into shares of about equal size; each worker
(:mod:`wheelhouse.install.worker`, run with ``python -I -c``) checks its share
against the lock's hashes. Only when every worker has found every file right
are old versions removed (from their RECORDs) and the work handed out, one task
at a time to whichever worker is free: unpacking each wheel, biggest first,
then byte-compiling its ``.py`` files in batches that any worker takes, so one
large wheel does not leave the other cores idle, then adding the ``.pyc`` lines
to its RECORD. A file that differs from the lock leaves the environment
untouched. Each worker unpacks with the ``installer`` library and byte-compiles
with the target interpreter itself: one interpreter start per core, no pip.

:func:`compile_ahead` has the same workers compile wheels' bytecode into the
wheelhouse's ``bytecode/`` once, so that installs write each ``.pyc`` from it
and compile only what it lacks.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import importlib.util
import json
import os
import subprocess
import threading
from collections import deque
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from wheelhouse.house.layout import BYTECODE
from wheelhouse.install.choice import Choice
from wheelhouse.install.errors import EngineFailed, FilesDiffer
from wheelhouse.install.plan import Change, LockedFile, balanced, batches, usable_cores
from wheelhouse.install.probe import InterpreterInfo
from wheelhouse.install.process import spawn
from wheelhouse.install.removal import Removal, plan_removal, remove

__all__ = ["compile_ahead", "install_wheels", "unsupported"]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Worker:
    process: subprocess.Popen[str]
    log: Path


def unsupported(info: InterpreterInfo) -> str | None:
    """Why the engine cannot serve ``info``, or None: ``installer`` must run in it."""
    if importlib.util.find_spec("installer") is None:
        return "the installer library is not installed beside wheelhouse"
    try:
        found = metadata.distribution("installer")
        requires = SpecifierSet(",".join(found.metadata.get_all("Requires-Python") or []))
    except (metadata.PackageNotFoundError, InvalidSpecifier):
        return None  # no metadata to go by (a bundled copy): the workers will tell
    if requires.contains(info.full_version, prereleases=True):
        return None
    return f"installer {found.version} needs Python {requires}, {info.path} is {info.full_version}"


def install_wheels(
    choice: Choice, changes: Sequence[Change], requested: Collection[str], scratch: Path
) -> None:
    """Install the changed files; old versions go first, once every file is known right."""
    info = choice.interpreter
    removals = _removals(info, changes)  # refused before anything is touched
    wheels = {str(change.file.path): _wheel(change.file, requested) for change in changes}
    bytecode = choice.wheelhouse.root / BYTECODE
    workers: list[_Worker] = []
    try:
        workers = _started(info, [change.file for change in changes], wheels, bytecode, scratch)
        for path, stat in _checked(workers, str(choice.wheelhouse.lock_path(choice.target))):
            wheels[path]["stat"] = stat
        for removal in removals:
            remove(removal)
        tasks = [{"unpack": wheel} for wheel in _biggest_first(wheels.values())]
        _hand_out(workers, _Tasks(tasks))
    finally:
        _stop(workers)


def compile_ahead(
    info: InterpreterInfo, files: Sequence[LockedFile], bytecode: Path, lock: str, scratch: Path
) -> list[str]:
    """Compile the bytecode of ``files`` with ``info``'s interpreter into ``bytecode``.

    Each wheel is first checked against the lock's hash (``FilesDiffer`` names
    those that differ, ``lock`` saying whose hashes they are). A wheel whose
    archive, compiled from it by this interpreter, is already there is left as
    it is. Returns the archives written.
    """
    wheels = {str(file.path): _wheel(file, ()) for file in files}
    workers: list[_Worker] = []
    try:
        workers = _started(info, files, wheels, bytecode, scratch)
        for path, stat in _checked(workers, lock):
            wheels[path]["stat"] = stat
        tasks = _Tasks([{"ahead": wheel} for wheel in _biggest_first(wheels.values())])
        _hand_out(workers, tasks)
    finally:
        _stop(workers)
    return sorted(tasks.written)


def _started(
    info: InterpreterInfo,
    files: Sequence[LockedFile],
    wheels: dict[str, dict[str, Any]],
    bytecode: Path,
    scratch: Path,
) -> list[_Worker]:
    """One worker per usable core, each given its share of ``files`` to check."""
    source = importlib.resources.files("wheelhouse.install").joinpath("worker.py")
    command = [str(info.path), "-I", "-c", source.read_text(encoding="utf-8")]
    workers: list[_Worker] = []
    try:
        for number, share in enumerate(balanced(files, usable_cores())):
            job = _job(info, [wheels[str(file.path)] for file in share], bytecode)
            workers.append(_start(command, job, scratch / f"worker-{number}.log", scratch))
    except BaseException:
        _stop(workers)
        raise
    return workers


def _biggest_first(wheels: Collection[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(wheels, key=lambda wheel: -int(wheel["size"]))


def _removals(info: InterpreterInfo, changes: Sequence[Change]) -> list[Removal]:
    """What upgrades and downgrades remove, as the probe found it installed."""
    replaced = {change.file.name for change in changes if change.installed is not None}
    found: dict[str, Removal | None] = {}
    for dist in info.installed:
        if dist.name in replaced and dist.name not in found:  # the one imports would see
            found[dist.name] = plan_removal(dist, info.scheme)
    return [removal for removal in found.values() if removal is not None]


def _wheel(file: LockedFile, requested: Collection[str]) -> dict[str, Any]:
    """What a worker is told of a wheel; ``stat`` joins once a worker has hashed it."""
    return {
        "path": str(file.path),
        "sha256": file.sha256,
        "url": file.path.as_uri(),
        "requested": file.name in requested,
        "size": file.path.stat().st_size,
    }


def _job(info: InterpreterInfo, share: Sequence[dict[str, Any]], bytecode: Path) -> Any:
    spec = importlib.util.find_spec("installer")
    assert spec is not None and spec.submodule_search_locations
    location = os.path.dirname(next(iter(spec.submodule_search_locations)))
    return {
        "installer": location,
        "scheme": dict(info.scheme),
        "wheels": list(share),
        "bytecode": str(bytecode),
    }


def _start(command: Sequence[str], job: Any, log: Path, scratch: Path) -> _Worker:
    with open(log, "w", encoding="utf-8") as errors:
        process = spawn(command, tmp_dir=scratch, stderr=errors)
    worker = _Worker(process=process, log=log)
    _send(worker, json.dumps(job))
    return worker


def _send(worker: _Worker, line: str) -> None:
    stream = worker.process.stdin
    assert stream is not None
    with contextlib.suppress(OSError):  # it died: its reply, or the lack of one, says why
        stream.write(line + "\n")
        stream.flush()


def _reply(worker: _Worker) -> Any:
    """The worker's next message; one that ended without a word fails with its stderr."""
    assert worker.process.stdout is not None
    if line := worker.process.stdout.readline():
        return json.loads(line)
    status = worker.process.wait()
    text = worker.log.read_text(encoding="utf-8", errors="replace").strip()
    raise EngineFailed((text.splitlines() or [f"exit status {status}"])[-1])


def _checked(workers: Sequence[_Worker], lock: str) -> list[tuple[str, Any]]:
    """Every file as each worker hashed it; FilesDiffer or EngineFailed if one is not right."""
    replies = [_reply(worker) for worker in workers]
    if failed := next((reply for reply in replies if "error" in reply), None):
        raise EngineFailed(failed["error"])
    if differ := [found["path"] for reply in replies for found in reply.get("mismatched", [])]:
        raise FilesDiffer([os.path.basename(path) for path in differ], lock)
    return [(found["path"], found["stat"]) for reply in replies for found in reply["checked"]]


def _hand_out(workers: Sequence[_Worker], tasks: _Tasks) -> None:
    """Every task to the next free worker; the first failure is raised once all have stopped."""
    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        list(pool.map(lambda worker: _feed(worker, tasks), workers))
    if failure := tasks.failure:
        raise EngineFailed(failure["error"], failure.get("path"))


def _feed(worker: _Worker, tasks: _Tasks) -> None:
    """Send ``worker`` tasks until none is left or a worker has failed."""
    while (task := tasks.take()) is not None:
        _send(worker, json.dumps(task))
        try:
            answer = _reply(worker)
        except Exception:
            tasks.done(task, {"error": "stopped"})  # the others stop waiting for its work
            raise
        tasks.done(task, answer)


class _Tasks:
    """What the workers have left to do, taken one task at a time by whichever is free.

    Unpacking comes first, biggest wheel first. Each unpacked wheel adds batches
    of its ``.py`` files to byte-compile (those its bytecode archive lacks), so
    the files of one large wheel are compiled by every worker at once; when all
    of a wheel's batches are back, one more task adds their ``.pyc`` lines to
    its RECORD. After the first failure nothing more is handed out.
    """

    def __init__(self, tasks: Sequence[dict[str, Any]]) -> None:
        self._queue: deque[dict[str, Any]] = deque(tasks)
        self._busy = 0
        self._ready = threading.Condition()
        self._lines: dict[str, dict[str, str]] = {}  # RECORD: source path -> its .pyc line
        self._left: dict[str, int] = {}  # RECORD: batches not back yet
        self._rows: dict[str, list[str]] = {}  # RECORD: .pyc lines of the files compiled
        self.failure: dict[str, Any] | None = None
        self.written: list[str] = []  # bytecode archives written

    @property
    def queued(self) -> tuple[dict[str, Any], ...]:
        """The tasks waiting for a worker, next first."""
        with self._ready:
            return tuple(self._queue)

    def take(self) -> dict[str, Any] | None:
        """The next task; None when all is done (or failed), after waiting for tasks in flight."""
        with self._ready:
            while not self._queue and self._busy and self.failure is None:
                self._ready.wait()
            if not self._queue or self.failure is not None:
                return None
            self._busy += 1
            return self._queue.popleft()

    def done(self, task: dict[str, Any], answer: dict[str, Any]) -> None:
        """A worker's ``answer`` to ``task``: the tasks it leads to are queued."""
        with self._ready:
            self._busy -= 1
            if "error" in answer:
                self.failure = self.failure or answer
            elif "unpack" in task:
                self._unpacked(answer)
            elif "compile" in task:
                self._compiled(task["record"], answer["compiled"])
            elif "ahead" in task and answer["compiled"] is not None:
                self.written.append(answer["ahead"])
            self._ready.notify_all()

    def _unpacked(self, answer: dict[str, Any]) -> None:
        record, sources, ahead = answer["record"], answer["sources"], answer["precompiled"]
        found = batches([(path, size) for path, _line, size, _key in sources])
        if found:
            self._lines[record] = {path: line for path, line, _size, _key in sources}
            self._left[record], self._rows[record] = len(found), list(ahead)
        elif ahead:
            self._queue.append({"record": record, "rows": ahead})
        self._queue.extend({"compile": batch, "record": record} for batch in found)

    def _compiled(self, record: str, compiled: list[str]) -> None:
        self._rows[record] += [self._lines[record][path] for path in compiled]
        self._left[record] -= 1
        if self._left[record] == 0 and self._rows[record]:
            self._queue.append({"record": record, "rows": self._rows[record]})


def _stop(workers: Sequence[_Worker]) -> None:
    """Close every worker's input (one still waiting ends, writing nothing) and reap it."""
    for worker in workers:
        if worker.process.stdin is not None and not worker.process.stdin.closed:
            with contextlib.suppress(OSError):  # a dead worker's pipe
                worker.process.stdin.close()
        worker.process.wait()
        if worker.process.stdout is not None:
            worker.process.stdout.close()
