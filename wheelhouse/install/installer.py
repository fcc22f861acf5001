"""Install strictly from a wheelhouse: the lock's files for one interpreter, hash-checked.

The interpreter picks the lock; PEP 751 selection with its own environment and tags
picks one file per pin; the engine (:mod:`wheelhouse.install.engine`), pip or uv
gets exactly those files, hash-checked.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from packaging.pylock import Pylock, PylockSelectError, PylockValidationError
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from wheelhouse.house.errors import UnreadableFile
from wheelhouse.house.reading import load_toml, read_lock
from wheelhouse.install.choice import Choice, choose
from wheelhouse.install.discovery import find_uv
from wheelhouse.install.errors import (
    BackendUnavailable,
    ExtraNotInLock,
    HashNotListed,
    InstallFailed,
    LockUnusable,
    NotInLock,
    PinMismatch,
)
from wheelhouse.install.plan import Change, LockedFile, balanced, plan, usable_cores
from wheelhouse.install.probe import InterpreterInfo, Probe
from wheelhouse.install.process import pip_command, run
from wheelhouse.model.locks import LockedRequirement

if TYPE_CHECKING:
    from packaging.markers import Environment
    from packaging.requirements import Requirement

    from wheelhouse.model.reqfile import Inputs

# Each command starts a fresh process, so what only some installs need (the
# engine, pip's thread pool, requirement parsing, wheel metadata) is imported
# where it is used, not here: ``--backend uv`` then loads none of the engine.

__all__ = [
    "Backend",
    "InstallRequest",
    "InstallResult",
    "install",
    "lock_files",
    "pip_groups",
    "render_plan",
    "render_summary",
    "scratch_root",
]

#: A ``# via`` entry that names a project (``alpha`` or ``alpha[fast]``), not an input file.
_PROJECT = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[[^\]]*\])?$")

Backend = Literal["wheelhouse", "pip", "uv"]


@dataclass(frozen=True, kw_only=True, slots=True)
class InstallRequest:
    """What ``wheelhouse install`` was asked for; no requirements means the whole lock."""

    wheelhouse: Path
    requirements: tuple[str, ...] = ()
    requirement_files: tuple[Path, ...] = ()
    python: Path | None = None
    #: None: the engine, else pip for an interpreter the engine cannot run in.
    backend: Backend | None = None
    dry_run: bool = False
    tmp_dir: Path | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InstallResult:
    """What was chosen and planned, and by what; ``ran`` is False for a dry run or nothing to do."""

    choice: Choice
    changes: tuple[Change, ...]
    backend: Backend
    ran: bool


def install(request: InstallRequest, *, probe: Probe | None = None) -> InstallResult:
    """Install the lock (or the requirements and their locked dependencies) offline.

    One probe of the interpreter serves the choice of lock, the plan and the engine:
    ``probe``, when the caller started it (of ``request.python``, with ``installed``).
    """
    choice = choose(request.wheelhouse, probe or request.python, installed=True)
    files, requested = _select(choice, _inputs(request))
    changes = plan(files, choice.interpreter.installed_versions)
    backend = _backend(request.backend, choice.interpreter)
    todo = [change for change in changes if change.action != "keep"]
    if not request.dry_run and todo:
        _run_backend(request, choice, backend, todo, requested)
    ran = not request.dry_run and bool(todo)
    return InstallResult(choice=choice, changes=changes, backend=backend, ran=ran)


def _inputs(request: InstallRequest) -> Inputs | None:
    """The requirements asked for, parsed; None for the whole lock, with nothing to parse."""
    if not (request.requirements or request.requirement_files):
        return None
    from wheelhouse.inputs.files import parse_inputs

    return parse_inputs(list(request.requirements), list(request.requirement_files), [])


def _backend(asked: Backend | None, info: InterpreterInfo) -> Backend:
    """The engine unless asked otherwise; pip where ``installer`` cannot run (old Pythons)."""
    if asked in ("pip", "uv"):
        return asked
    from wheelhouse.install import engine

    reason = engine.unsupported(info)
    if reason and asked == "wheelhouse":
        raise BackendUnavailable("wheelhouse", reason)
    return "pip" if reason else asked or "wheelhouse"


def lock_files(choice: Choice) -> list[LockedFile]:
    """Every file of the chosen target's lock that the interpreter takes: a whole install."""
    return _select(choice, None)[0]


def _read_lock(choice: Choice) -> tuple[Pylock, list[LockedRequirement]]:
    """The target's PEP 751 lock and its requirements lock; an error names the one at fault."""
    pylock_path = choice.wheelhouse.pylock_path(choice.target)
    try:
        pylock = Pylock.from_dict(load_toml(pylock_path))
    except UnreadableFile as exc:
        raise LockUnusable(exc.path, exc.reason) from None
    except (ValueError, PylockValidationError) as exc:
        raise LockUnusable(str(pylock_path), str(exc)) from None
    try:
        return pylock, read_lock(choice.wheelhouse.lock_path(choice.target))
    except UnreadableFile as exc:
        raise LockUnusable(exc.path, exc.reason) from None


def _select(choice: Choice, inputs: Inputs | None) -> tuple[list[LockedFile], set[str]]:
    """The files to install and the projects asked for (their ``REQUESTED`` marker).

    The whole lock (``inputs`` None or empty), whose roots are what its inputs
    asked for; or what ``inputs`` name, with their extras, and their
    dependencies, checked before anything runs.
    """
    pylock, entries = _read_lock(choice)
    if inputs is not None and not inputs.requirements:
        inputs = None
    roots = _roots(entries) if inputs is None else _asked(choice, entries, inputs)
    environment = cast("Environment", dict(choice.interpreter.environment))
    try:
        selected = list(pylock.select(environment=environment, tags=choice.interpreter.tags))
    except PylockSelectError as exc:
        raise LockUnusable(str(choice.wheelhouse.pylock_path(choice.target)), str(exc)) from None
    every = {canonicalize_name(package.name): (package.version, dist) for package, dist in selected}
    wanted = None
    if inputs is not None:
        wanted = _closure(roots | _extras(choice, entries, inputs, every), entries)
    lock = choice.wheelhouse.pylock_path(choice.target)
    files = [
        _locked_file(choice, name, version, dist, lock)
        for name, (version, dist) in every.items()
        if wanted is None or name in wanted
    ]
    if inputs is not None:
        _check_hashes(choice, inputs, files)
    return files, roots


def _extras(
    choice: Choice,
    entries: Sequence[LockedRequirement],
    inputs: Inputs,
    selected: Mapping[NormalizedName, tuple[Version | None, Any]],
) -> set[str]:
    """The projects the requirements' extras add, each pinned to a fitting version.

    Read from the locked wheel's metadata, in this interpreter's environment;
    an extra the project lacks, or whose dependencies the lock does not pin
    (the wheelhouse was built without it), raises :class:`ExtraNotInLock`.
    """
    pins = {entry.name: entry.version for entry in entries}
    environment = dict(choice.interpreter.environment)
    pending = [
        (canonicalize_name(item.requirement.name), extra)
        for item in inputs.requirements
        if not item.requirement.marker or item.requirement.marker.evaluate(environment)
        for extra in item.requirement.extras
    ]
    added: set[str] = set()
    seen: set[tuple[str, str]] = set()
    while pending:
        name, extra = pending.pop()
        if (name, canonicalize_name(extra)) in seen or name not in selected:
            continue
        seen.add((name, canonicalize_name(extra)))
        version, dist = selected[name]
        provided, requires = _extra_metadata(_locked_file(choice, name, version, dist))
        if canonicalize_name(extra) not in provided:
            raise ExtraNotInLock(name, extra, choice.target, [])
        missing: list[str] = []
        for requirement in requires:
            marker = requirement.marker
            if not marker or not marker.evaluate({**environment, "extra": extra}):
                continue
            if marker.evaluate({**environment, "extra": ""}):
                continue  # not the extra's: the project needs it anyway
            dependency = canonicalize_name(requirement.name)
            pinned = pins.get(dependency)
            if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
                missing.append(str(requirement).split(";")[0].strip())
                continue
            added.add(dependency)
            pending += [(dependency, more) for more in requirement.extras]
        if missing:
            raise ExtraNotInLock(name, extra, choice.target, missing)
    return added


def _extra_metadata(file: LockedFile) -> tuple[set[str], list[Requirement]]:
    """A locked wheel's extras (normalized) and ``Requires-Dist``, from its own METADATA."""
    from packaging.metadata import parse_email
    from packaging.requirements import InvalidRequirement, Requirement

    from wheelhouse.house.errors import MetadataError
    from wheelhouse.house.metadata import core_metadata

    try:
        raw, _ = parse_email(core_metadata(file.path, file.name))
    except MetadataError as exc:
        raise LockUnusable(str(file.path), exc.reason) from None
    requires = []
    for line in raw.get("requires_dist", []):
        try:
            requires.append(Requirement(line))
        except InvalidRequirement:
            continue  # pip skips it too; the build that locked it did
    return {canonicalize_name(extra) for extra in raw.get("provides_extra", [])}, requires


def _check_hashes(choice: Choice, inputs: Inputs, files: Sequence[LockedFile]) -> None:
    """Refuse a locked file that a requirement's ``--hash`` options do not name, as pip would."""
    by_name = {file.name: file for file in files}
    environment = dict(choice.interpreter.environment)
    for item in inputs.requirements:
        marker = item.requirement.marker
        file = by_name.get(canonicalize_name(item.requirement.name))
        if not item.hashes or file is None or (marker and not marker.evaluate(environment)):
            continue
        if f"sha256:{file.sha256}" not in item.hashes:
            version, hashes = str(file.version), sorted(item.hashes)
            raise HashNotListed(
                item.location, file.name, version, file.path.name, file.sha256, hashes
            )


def _roots(entries: Iterable[LockedRequirement]) -> set[str]:
    """The pins an input asked for (``# via -r requirements.txt``), not only a dependency.

    A constraint (``# via -c constraints.txt``) asks for nothing; a lock whose
    ``# via`` lines name no input at all has every pin asked for.
    """
    asked: set[str] = {entry.name for entry in entries if any(map(_is_request, entry.via))}
    return asked or {entry.name for entry in entries}


def _is_request(via: str) -> bool:
    return not _PROJECT.match(via) and not via.startswith("-c ")


def _locked_file(
    choice: Choice, name: str, version: Version | None, dist: Any, lock: Path | None = None
) -> LockedFile:
    """A selected file as an absolute path; one outside the wheelhouse is refused.

    ``lock`` is the target's pylock, when the caller has found it once for many files.
    """
    lock = lock or choice.wheelhouse.pylock_path(choice.target)
    if not dist.path:  # a URL alone: this lock was not written by a build
        raise LockUnusable(str(lock), f"{name} {version} has a file with no path")
    path = Path(os.path.normpath(lock.parent / str(dist.path)))
    digest = (dist.hashes or {}).get("sha256")
    inside = path.parent == choice.wheelhouse.root
    if not (inside and digest and path.is_file()):
        raise LockUnusable(str(lock), f"{dist.path}: no such file with a sha256 here")
    return LockedFile(
        name=canonicalize_name(name), version=version or Version("0"), path=path, sha256=digest
    )


def _asked(choice: Choice, entries: list[LockedRequirement], inputs: Inputs) -> set[str]:
    """The requirements' projects, all pinned to a fitting version; NotInLock or PinMismatch."""
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
    return roots


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


def render_summary(result: InstallResult, seconds: float) -> str:
    """The line an install ends with: how many of each change, how long, by what."""
    count = {action: 0 for action in ("install", "upgrade", "downgrade", "keep")}
    for change in result.changes:
        count[change.action] += 1
    return (
        f"installed {count['install']}, upgraded {count['upgrade']}, "
        f"downgraded {count['downgrade']}, kept {count['keep']} "
        f"in {seconds:.2f} s ({result.backend})"
    )


def _run_backend(
    request: InstallRequest,
    choice: Choice,
    backend: Backend,
    changes: Sequence[Change],
    requested: set[str],
) -> None:
    """The engine, pip or uv, with temporary files in a directory of their own, removed after."""
    root = scratch_root(request, choice.interpreter)
    with tempfile.TemporaryDirectory(prefix=".wheelhouse-tmp-", dir=root) as name:
        scratch = Path(name)
        if backend == "wheelhouse":
            from wheelhouse.install import engine

            engine.install_wheels(choice, changes, requested, scratch)
            return
        if backend == "uv":
            files = [change.file for change in changes]
            _run_uv(choice, _requirements_file(scratch / "requirements.txt", files), scratch)
            return
        paths = [
            _requirements_file(scratch / f"requirements-{number}.txt", group)
            for number, group in enumerate(pip_groups(changes, usable_cores()))
        ]
        from concurrent.futures import ThreadPoolExecutor

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


def pip_groups(changes: Sequence[Change], cores: int) -> list[list[LockedFile]]:
    """The files to install split into one share per pip to run at once.

    pip unpacks and byte-compiles on one core, so fresh installs go to up to
    ``cores`` pips, each with a disjoint share (no resolution links them). Any
    upgrade, downgrade or removal makes it one pip: pips that remove old
    versions at once race over shared namespace directories and scripts.
    """
    todo = [change for change in changes if change.action != "keep"]
    fresh = all(change.action == "install" for change in todo)
    return balanced([change.file for change in todo], cores if fresh else 1)


def _requirements_file(path: Path, files: Sequence[LockedFile]) -> Path:
    path.write_text("".join(f"{file.line}\n" for file in files), encoding="utf-8")
    return path


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
        *(str(uv), "pip", "install", "--quiet", "--python", str(choice.interpreter.path)),
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
