"""Install strictly from a wheelhouse: the lock's files for one interpreter, hash-checked.

The interpreter picks the lock; PEP 751 selection with its own environment and tags
picks one file per pin; pip or uv gets exactly those files, hash-checked.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from packaging.markers import Environment
from packaging.pylock import Pylock, PylockSelectError, PylockValidationError
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelhouse.house.directory import load_toml
from wheelhouse.house.errors import UnreadableFile
from wheelhouse.inputs.files import parse_inputs
from wheelhouse.install.choice import Choice, choose
from wheelhouse.install.discovery import find_uv
from wheelhouse.install.errors import (
    BackendUnavailable,
    InstallFailed,
    LockUnusable,
    NotInLock,
    PinMismatch,
)
from wheelhouse.install.probe import InterpreterInfo, installed_distributions, pip_command, run
from wheelhouse.model.locks import LockedRequirement, parse_requirements_lock
from wheelhouse.model.reqfile import Inputs

__all__ = [
    "MAX_PIPS",
    "Change",
    "InstallRequest",
    "InstallResult",
    "LockedFile",
    "install",
    "pip_groups",
    "plan",
    "render_plan",
    "scratch_root",
    "usable_cores",
]

#: A ``# via`` entry that names a project (``alpha`` or ``alpha[fast]``), not an input file.
_PROJECT = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[[^\]]*\])?$")
#: Concurrent pips at most: beyond this, disk and memory, not cores, set the pace.
MAX_PIPS = 8


@dataclass(frozen=True, kw_only=True, slots=True)
class InstallRequest:
    """What ``wheelhouse install`` was asked for; no requirements means the whole lock."""

    wheelhouse: Path
    requirements: tuple[str, ...] = ()
    requirement_files: tuple[Path, ...] = ()
    python: Path | None = None
    backend: Literal["pip", "uv"] = "pip"
    dry_run: bool = False
    tmp_dir: Path | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedFile:
    """The one file of a pin that this interpreter gets, as a pip requirement line."""

    name: NormalizedName
    version: Version
    path: Path
    sha256: str

    @property
    def line(self) -> str:
        return f"{self.path} --hash=sha256:{self.sha256}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """What installing one file does: ``install``, ``upgrade``, ``downgrade`` or ``keep``."""

    file: LockedFile
    action: str
    installed: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InstallResult:
    """What was chosen and planned; ``ran`` is False for a dry run or nothing to do."""

    choice: Choice
    changes: tuple[Change, ...]
    ran: bool


def install(request: InstallRequest) -> InstallResult:
    """Install the lock (or the requirements and their locked dependencies) offline."""
    choice = choose(request.wheelhouse, request.python)
    inputs = parse_inputs(list(request.requirements), list(request.requirement_files), [])
    files = _select(choice, inputs)
    changes = plan(files, installed_distributions(choice.interpreter.path))
    todo = [change for change in changes if change.action != "keep"]
    if not request.dry_run and todo:
        _run_backend(request, choice, todo)
    return InstallResult(choice=choice, changes=changes, ran=not request.dry_run and bool(todo))


def _read_lock(choice: Choice) -> tuple[Pylock, list[LockedRequirement]]:
    pylock_path = choice.wheelhouse.pylock_path(choice.target)
    try:
        pylock = Pylock.from_dict(load_toml(pylock_path))
        text = choice.wheelhouse.lock_path(choice.target).read_text(encoding="utf-8")
        return pylock, parse_requirements_lock(text)
    except UnreadableFile as exc:
        raise LockUnusable(exc.path, exc.reason) from None
    except OSError as exc:
        raise LockUnusable(str(exc.filename), exc.strerror or str(exc)) from None
    except (ValueError, PylockValidationError) as exc:
        raise LockUnusable(str(pylock_path), str(exc)) from None


def _select(choice: Choice, inputs: Inputs) -> list[LockedFile]:
    """The whole lock, or what ``inputs`` name and their dependencies; checked before pip runs."""
    pylock, entries = _read_lock(choice)
    wanted = _wanted(choice, entries, inputs) if inputs.requirements else None
    environment = cast(Environment, dict(choice.interpreter.environment))
    try:
        selected = list(pylock.select(environment=environment, tags=choice.interpreter.tags))
    except PylockSelectError as exc:
        raise LockUnusable(choice.target, str(exc)) from None
    return [
        _locked_file(choice, package.name, package.version, dist)
        for package, dist in selected
        if wanted is None or package.name in wanted
    ]


def _locked_file(choice: Choice, name: str, version: Version | None, dist: Any) -> LockedFile:
    """A selected file as an absolute path; one outside the wheelhouse is refused."""
    lock = choice.wheelhouse.pylock_path(choice.target)
    path = Path(os.path.normpath(lock.parent / str(dist.path)))
    digest = (dist.hashes or {}).get("sha256")
    inside = path.parent == choice.wheelhouse.root
    if not (inside and digest and path.is_file()):
        raise LockUnusable(str(lock), f"{dist.path}: no such file with a sha256 here")
    return LockedFile(
        name=canonicalize_name(name), version=version or Version("0"), path=path, sha256=digest
    )


def _wanted(choice: Choice, entries: list[LockedRequirement], inputs: Inputs) -> set[str]:
    """The requirements' projects and their dependencies; NotInLock or PinMismatch otherwise."""
    pins = {entry.name: entry.version for entry in entries}
    environment = dict(choice.interpreter.environment)
    missing: list[str] = []
    mismatched: list[tuple[str, str]] = []
    roots: set[str] = set()
    for requirement in (item.requirement for item in inputs.requirements):
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            missing.append(requirement.name)
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            mismatched.append((str(requirement), f"{name}=={pins[name]}"))
        roots.add(name)
    if missing:
        raise NotInLock(missing, choice.target)
    if mismatched:
        raise PinMismatch(mismatched, choice.target)
    return _closure(roots, entries)


def _closure(roots: set[str], entries: Iterable[LockedRequirement]) -> set[str]:
    """``roots`` and everything they require, from the ``# via`` lines (PEP 751 has no graph)."""
    children: dict[str, set[str]] = {}
    for entry in entries:
        for parent in filter(None, map(_PROJECT.match, entry.via)):
            children.setdefault(canonicalize_name(parent[1]), set()).add(entry.name)
    found, pending = set(roots), list(roots)
    while pending:
        fresh = children.get(pending.pop(), set()) - found
        pending += fresh
        found |= fresh
    return found


def plan(files: Iterable[LockedFile], installed: Mapping[str, str]) -> tuple[Change, ...]:
    """What installing ``files`` changes, given what is installed (name to version)."""
    return tuple(_change(file, installed.get(file.name)) for file in files)


def _change(file: LockedFile, installed: str | None) -> Change:
    try:
        current = Version(installed) if installed is not None else None
    except InvalidVersion:
        current = None  # pip replaces what it cannot compare
    action = "install" if installed is None else "upgrade"
    if current is not None and current >= file.version:
        action = "keep" if current == file.version else "downgrade"
    return Change(file=file, action=action, installed=installed)


def render_plan(result: InstallResult) -> Iterator[str]:
    """The dry run's report: what would be installed, upgraded or downgraded, and removed."""
    info = result.choice.interpreter
    yield f"target {result.choice.target} for {info.path} (Python {info.full_version})"
    for change in result.changes:
        pinned = f"{change.file.name}=={change.file.version}"
        removed = f", removing {change.file.name}=={change.installed}" if change.installed else ""
        if change.action != "keep":
            yield f"would {change.action} {pinned}{removed}"
    if all(change.action == "keep" for change in result.changes):
        yield "nothing to install: every locked version is installed already"


def _run_backend(request: InstallRequest, choice: Choice, changes: Sequence[Change]) -> None:
    """pip or uv, with their temporary files in a directory of their own, removed afterwards."""
    root = scratch_root(request, choice.interpreter)
    with tempfile.TemporaryDirectory(prefix=".wheelhouse-tmp-", dir=root) as name:
        scratch = Path(name)
        if request.backend == "uv":
            files = [change.file for change in changes]
            _run_uv(choice, _requirements_file(scratch / "requirements.txt", files), scratch)
            return
        paths = [
            _requirements_file(scratch / f"requirements-{number}.txt", group)
            for number, group in enumerate(pip_groups(changes, usable_cores()))
        ]
        with ThreadPoolExecutor(max_workers=len(paths)) as pool:
            codes = list(pool.map(lambda path: _run_pip(choice, path, scratch), paths))
        if failed := next((code for code in codes if code != 0), None):
            raise InstallFailed("pip", failed)


def scratch_root(request: InstallRequest, info: InterpreterInfo) -> Path | None:
    """Where the temporary directory goes: as the caller says, else under the target's prefix.

    On the target's own filesystem, a read-only root or a small ``/tmp`` does not
    matter and uv can link from its cache. None (``$TMPDIR``) when the prefix is
    not writable.
    """
    explicit = request.tmp_dir or os.environ.get("WHEELHOUSE_TMPDIR")
    if explicit:
        return Path(explicit)
    return info.prefix if os.access(info.prefix, os.W_OK) else None


def usable_cores() -> int:
    """CPUs this process may use (a container's cpuset, not the host's count), at most MAX_PIPS."""
    if hasattr(os, "sched_getaffinity"):
        return min(len(os.sched_getaffinity(0)), MAX_PIPS)
    return min(os.cpu_count() or 1, MAX_PIPS)


def pip_groups(changes: Sequence[Change], cores: int) -> list[list[LockedFile]]:
    """The files to install split into one share per pip to run at once.

    pip unpacks and byte-compiles on one core, so fresh installs go to up to
    ``cores`` pips, each with a disjoint share (no resolution links them). Any
    upgrade, downgrade or removal makes it one pip: pips that remove old
    versions at once race over shared namespace directories and scripts.
    """
    todo = [change for change in changes if change.action != "keep"]
    fresh = all(change.action == "install" for change in todo)
    return _balanced([change.file for change in todo], cores if fresh else 1)


def _requirements_file(path: Path, files: Sequence[LockedFile]) -> Path:
    path.write_text("".join(f"{file.line}\n" for file in files), encoding="utf-8")
    return path


def _balanced(files: Sequence[LockedFile], count: int) -> list[list[LockedFile]]:
    """Split ``files`` into at most ``count`` groups of about equal size, biggest first."""
    groups: list[list[LockedFile]] = [[] for _ in range(max(1, min(count, len(files))))]
    loads = [0] * len(groups)
    for file in sorted(files, key=lambda file: (-_size(file.path), file.name)):
        lightest = loads.index(min(loads))
        groups[lightest].append(file)
        loads[lightest] += _size(file.path)
    return groups


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _run_pip(choice: Choice, requirements: Path, scratch: Path) -> int:
    command = [
        *pip_command(choice.interpreter),
        *("install", "--quiet", "--no-index", "--find-links", str(choice.wheelhouse.root)),
        *("--no-deps", "--require-hashes", "--no-cache-dir", "-r", str(requirements)),
    ]
    return run(command, tmp_dir=scratch).returncode


def _run_uv(choice: Choice, requirements: Path, scratch: Path) -> None:
    if (uv := find_uv()) is None:
        raise BackendUnavailable("uv", "no uv executable beside this Python or on PATH")
    command = [
        *(str(uv), "pip", "install", "--python", str(choice.interpreter.path)),
        *("--offline", "--no-index", "--no-config", "--no-deps", "--require-hashes"),
        *("--find-links", str(choice.wheelhouse.root), "--cache-dir", str(scratch / "uv-cache")),
        # A cache on the environment's filesystem lets uv link; elsewhere it would warn.
        *(() if _same_filesystem(scratch, choice.interpreter.prefix) else ("--link-mode", "copy")),
        *("-r", str(requirements)),
    ]
    if (code := run(command, tmp_dir=scratch).returncode) != 0:
        raise InstallFailed("uv", code)


def _same_filesystem(first: Path, second: Path) -> bool:
    try:
        return os.stat(first).st_dev == os.stat(second).st_dev
    except OSError:
        return False
