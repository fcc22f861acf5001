"""The default install engine: one worker per core, inside the target interpreter.

The wheels are split into shares of about equal weight; each worker
(:mod:`wheelhouse.install.worker`, run with ``python -I -c``) checks its share
against the lock's hashes and waits. Only when every worker has found every file
right are old versions removed (from their RECORDs) and the workers told to go:
a file that differs from the lock leaves the environment untouched. Each worker
unpacks with the ``installer`` library and byte-compiles with the target
interpreter itself, so there is one interpreter start per core, not one pip.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import importlib.util
import json
import os
import subprocess
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from wheelhouse.install.choice import Choice
from wheelhouse.install.errors import EngineFailed, FilesDiffer
from wheelhouse.install.plan import Change, LockedFile, balanced, usable_cores
from wheelhouse.install.probe import InterpreterInfo, spawn
from wheelhouse.install.removal import Removal, plan_removal, remove

__all__ = ["install_wheels", "unsupported"]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Worker:
    process: subprocess.Popen[str]
    log: Path


def unsupported(info: InterpreterInfo) -> str | None:
    """Why the engine cannot serve ``info``, or None: ``installer`` must run in it."""
    if importlib.util.find_spec("installer") is None:
        return "the installer library is not installed beside wheelhouse"
    try:
        version = metadata.version("installer")
        requires = SpecifierSet(
            ",".join(metadata.metadata("installer").get_all("Requires-Python") or [])
        )
    except (metadata.PackageNotFoundError, InvalidSpecifier):
        return None  # no metadata to go by (a bundled copy): the workers will tell
    if requires.contains(info.full_version, prereleases=True):
        return None
    return f"installer {version} needs Python {requires}, {info.path} is {info.full_version}"


def install_wheels(
    choice: Choice, changes: Sequence[Change], requested: Collection[str], scratch: Path
) -> None:
    """Install the changed files; old versions go first, once every file is known right."""
    info = choice.interpreter
    removals = _removals(info, changes)  # refused before anything is touched
    shares = balanced([change.file for change in changes], usable_cores())
    source = importlib.resources.files("wheelhouse.install").joinpath("worker.py")
    command = [str(info.path), "-I", "-c", source.read_text(encoding="utf-8")]
    workers: list[_Worker] = []
    try:
        for number, share in enumerate(shares):
            job = _job(info, share, requested)
            workers.append(_start(command, job, scratch / f"worker-{number}.log", scratch))
        _checked(workers, str(choice.wheelhouse.lock_path(choice.target)))
        for removal in removals:
            remove(removal)
        _finish(workers)
    finally:
        _stop(workers)


def _removals(info: InterpreterInfo, changes: Sequence[Change]) -> list[Removal]:
    """What upgrades and downgrades remove, as the probe found it installed."""
    replaced = {change.file.name for change in changes if change.installed is not None}
    found: dict[str, Removal | None] = {}
    for dist in info.installed:
        if dist.name in replaced and dist.name not in found:  # the one imports would see
            found[dist.name] = plan_removal(dist, info.scheme)
    return [removal for removal in found.values() if removal is not None]


def _job(info: InterpreterInfo, share: Sequence[LockedFile], requested: Collection[str]) -> Any:
    spec = importlib.util.find_spec("installer")
    assert spec is not None and spec.submodule_search_locations
    wheels = [
        {
            "path": str(file.path),
            "sha256": file.sha256,
            "url": file.path.as_uri(),
            "requested": file.name in requested,
        }
        for file in share
    ]
    location = os.path.dirname(next(iter(spec.submodule_search_locations)))
    return {"installer": location, "scheme": dict(info.scheme), "wheels": wheels}


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


def _checked(workers: Sequence[_Worker], lock: str) -> None:
    """Every worker's word that its share matches the lock; FilesDiffer or EngineFailed if not."""
    replies = [_reply(worker) for worker in workers]
    if failed := next((reply for reply in replies if "error" in reply), None):
        raise EngineFailed(failed["error"])
    if differ := [found["path"] for reply in replies for found in reply.get("mismatched", [])]:
        raise FilesDiffer([os.path.basename(path) for path in differ], lock)


def _finish(workers: Sequence[_Worker]) -> None:
    for worker in workers:
        _send(worker, "go")
    replies = [_reply(worker) for worker in workers]
    if failed := next((reply for reply in replies if "error" in reply), None):
        raise EngineFailed(failed["error"], failed.get("path"))


def _stop(workers: Sequence[_Worker]) -> None:
    """Close every worker's input (one still waiting ends, writing nothing) and reap it."""
    for worker in workers:
        if worker.process.stdin is not None and not worker.process.stdin.closed:
            with contextlib.suppress(OSError):  # a dead worker's pipe
                worker.process.stdin.close()
        worker.process.wait()
        if worker.process.stdout is not None:
            worker.process.stdout.close()
