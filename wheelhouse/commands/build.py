"""``wheelhouse build``: resolve every target, download once, then write locks, index, manifest.

Nothing final is written until every target resolved, every sdist was built
and every file arrived, so a failed or interrupted build leaves the previous
locks, index and manifest as they were.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from packaging.version import Version

from wheelhouse import __version__
from wheelhouse.commands.downloads import fetch_missing, unique_files
from wheelhouse.commands.fromlock import Pages, locked_resolution
from wheelhouse.commands.hashes import allowed_files, require_pins
from wheelhouse.commands.targets import make_targets
from wheelhouse.commands.workers import Stop, finish, workers
from wheelhouse.house.directory import FORMAT, Wheelhouse
from wheelhouse.house.indexer import index_directory
from wheelhouse.inputs.files import parse_inputs, read_lock_file
from wheelhouse.model.distributions import BuiltWheel, DistFile, Policy
from wheelhouse.model.errors import InvalidFilename, RequirementFileError
from wheelhouse.model.formats import Formats
from wheelhouse.model.limits import VARIABLES
from wheelhouse.model.localproj import moved_path
from wheelhouse.model.locks import Lock, Pin
from wheelhouse.model.manifest import BuildRequest, Built, manifest_dict
from wheelhouse.model.pyproject import is_pyproject
from wheelhouse.model.reqfile import Inputs
from wheelhouse.model.targets import Target
from wheelhouse.model.uvlock import UvLock
from wheelhouse.resolve.candidates import Resolution
from wheelhouse.resolve.errors import NoFileForTarget
from wheelhouse.resolve.explain import combine
from wheelhouse.resolve.finder import Finder
from wheelhouse.resolve.reporter import Round, Watch
from wheelhouse.resolve.resolver import resolve
from wheelhouse.sdist.errors import BuildFailed
from wheelhouse.sdist.local import LocalBuilder
from wheelhouse.sdist.pep517 import BuildInterpreters, builds_here
from wheelhouse.sdist.staging import Staging, StagingIndex
from wheelhouse.sdist.wheels import WheelMaker, gather

__all__ = [
    "BuildIndex",
    "BuildReporter",
    "BuildResult",
    "Preferences",
    "build",
    "local_builder",
    "open_run",
    "plan_all",
    "prepare_local",
    "read_inputs",
    "resolve_all",
]

#: Per target, the version each project should keep if it still fits.
Preferences = Mapping[str, Mapping[str, Version]]
#: The index client as the build uses it: pages, metadata and downloads.
BuildIndex = StagingIndex


class BuildReporter:
    """Progress hooks; the CLI overrides them to drive progress bars."""

    def resolving(self, target: Target) -> None:
        """A target's resolution starts."""

    def resolving_round(self, target: Target, where: Round) -> None:
        """A round of ``target``'s resolution starts; called often, from worker threads."""

    def resolved(self, resolution: Resolution) -> None:
        """A target is resolved."""

    def downloading(self, files: Sequence[DistFile]) -> None:
        """These files are about to be downloaded."""

    def progress(self, file: DistFile, nbytes: int) -> None:
        """``nbytes`` more bytes of ``file`` arrived."""

    def building(self, sdist: DistFile, python: str) -> None:
        """pip starts building a wheel from ``sdist`` with Python ``python``."""

    def built(self, wheel: BuiltWheel) -> None:
        """A wheel was built."""


@dataclass(kw_only=True)
class BuildResult:
    targets: list[Target]
    locks: list[Lock]
    downloaded: list[DistFile] = field(default_factory=list)
    reused: list[DistFile] = field(default_factory=list)
    refused: list[InvalidFilename] = field(default_factory=list)
    built: list[BuiltWheel] = field(default_factory=list)

    @property
    def yanked(self) -> list[DistFile]:
        """The yanked files the locks take (each pinned ``==``, or the lock's), once each."""
        found = {f.filename: f for lock in self.locks for pin in lock.pins for f in pin.files}
        return [found[name] for name in sorted(found) if found[name].yanked is not None]


def build(
    wheelhouse: Wheelhouse,
    request: BuildRequest,
    inputs: Inputs,
    index: BuildIndex,
    reporter: BuildReporter | None = None,
    *,
    targets: Sequence[Target] | None = None,
    preferred: Preferences | None = None,
) -> BuildResult:
    """Resolve, build sdists, download and freeze; write locks, index and manifest last."""
    reporter = reporter or BuildReporter()
    targets = list(targets or make_targets(request.pythons, request.platforms))
    require_pins(inputs)
    run = open_run(wheelhouse, request, index, reporter, inputs.formats)
    with wheelhouse.exclusive(), run as parts:
        finder, staging, maker = parts
        if inputs.locked is None:  # a lock's files are looked up by name or digest
            finder.only_for(targets)
        local = local_builder(wheelhouse, request, staging, reporter)
        inputs = prepare_local(local, inputs, targets)
        planned = plan_all(finder, staging, targets, inputs, request, reporter, preferred)
        resolutions = checked = allowed_files(planned, inputs, lambda file: file.sha256)
        extra: list[Resolution] = []
        if maker is not None:
            resolutions = maker.realize(resolutions)
            extra = maker.resolve_build_requirements(finder, resolutions)
        extra += local.resolve_build_requirements(finder, resolutions, maker)
        hashed, fetched = fetch_missing(
            wheelhouse, staging, unique_files([*resolutions, *extra], maker), request, reporter
        )
        # Files the index gave no digest for are judged now, before any lock is written.
        allowed_files(
            checked, inputs, lambda file: hashed.get(file.filename, file).sha256, final=True
        )
        files = list(hashed.values())
        locks = [_lock(resolution, hashed) for resolution in resolutions]
        wheels = {**(maker.used if maker else {}), **local.used}
        built = Built(wheels=wheels, requirements=_requirements(extra))
        # A local project's source is no index page: such a build is always redone.
        pages = {} if local.active else index.page_digests(finder.consulted())
        with wheelhouse.committing("build"):
            index_directory(wheelhouse, hashed)
            wheelhouse.write_locks(locks, created_by=f"wheelhouse {__version__}")
            manifest = _manifest(wheelhouse.root, request, inputs, targets, files, built, pages)
            wheelhouse.write_manifest(manifest)
    return BuildResult(
        targets=targets,
        locks=locks,
        downloaded=[
            hashed[n]
            for n in fetched
            if not (maker and maker.is_built(hashed[n])) and n not in local.used
        ],
        reused=[file for file in files if file.filename not in fetched],
        refused=sorted(finder.refused.values(), key=str),
        built=[
            r for r in [*(maker.built if maker else []), *local.built] if r.wheel.filename in hashed
        ],
    )


def local_builder(
    wheelhouse: Wheelhouse, request: BuildRequest, staging: Staging, reporter: BuildReporter
) -> LocalBuilder:
    """The builder of a run's local projects, with the wheels the manifest records."""
    return LocalBuilder(
        request=request,
        files=staging,
        interpreters=BuildInterpreters(request.pythons),
        built=wheelhouse.read_manifest().get("built", {}),
        hooks=reporter,
    )


def prepare_local(local: LocalBuilder, inputs: Inputs, targets: Sequence[Target]) -> Inputs:
    """The inputs with local projects built (a uv.lock's members too) and dynamic ones learned."""
    members = inputs.locked.local_projects() if isinstance(inputs.locked, UvLock) else ()
    projects = any(map(is_pyproject, inputs.files))  # their uv sources are checked
    if not (inputs.local_projects or inputs.dynamic_projects or members or projects):
        return inputs
    return local.prepare(inputs, targets, members)


@contextlib.contextmanager
def open_run(
    wheelhouse: Wheelhouse,
    request: BuildRequest,
    index: BuildIndex,
    reporter: BuildReporter,
    formats: Formats | None = None,
) -> Iterator[tuple[Finder, Staging, WheelMaker | None]]:
    """One run's finder and staging area, and its sdist maker when sdists are let in.

    ``formats`` are the requirements files' per-project rules (``--no-binary``...).
    """
    manifest = wheelhouse.read_manifest()
    policy = Policy(
        allow_sdist=request.allow_sdist,
        exclude_newer=request.exclude_newer,
        formats=formats or Formats(),
    )
    # Scratch space outside the wheelhouse; $WHEELHOUSE_TMPDIR as for installs.
    tmp_root = os.environ.get("WHEELHOUSE_TMPDIR") or None
    with tempfile.TemporaryDirectory(prefix="wheelhouse-build-", dir=tmp_root) as scratch:
        staging = Staging(wheelhouse, index, Path(scratch), manifest.get("files", {}))
        maker = (
            WheelMaker(
                request=request,
                files=staging,
                interpreters=BuildInterpreters(request.pythons),
                hooks=reporter,
                built=manifest.get("built", {}),
            )
            if request.allow_sdist
            else None
        )
        finder = Finder(
            staging,
            policy,
            maker.metadata if maker else None,
            jobs=request.jobs,
            max_projects=request.limits.projects,
            limit_name=VARIABLES["projects"],
        )
        try:
            yield finder, staging, maker
        except BaseException:
            finder.close(wait=False)  # a failure or Ctrl-C: no one will read those guesses
            raise
        finder.close()


def read_inputs(request: BuildRequest) -> Inputs:
    """Parse the requirement and constraint inputs, and the lock (raises on a bad line)."""
    inputs = parse_inputs(
        list(request.requirements),
        list(request.requirement_files),
        list(request.constraint_files),
        request.choice,
    )
    if inputs.formats.builds_sdists and not request.allow_sdist:
        path, lineno, line = inputs.formats.no_binary_at or ("", 0, "")
        reason = "--no-binary means building sdists, and this build takes wheels only"
        advice = "pass --build to build them into wheels, or remove the line to take wheels"
        raise RequirementFileError(path, lineno, line, reason, advice=advice)
    if request.from_lock is not None:
        inputs.locked = read_lock_file(request.from_lock)
        inputs.files.append(str(request.from_lock))
        urls = inputs.locked.index_urls
        inputs.index_url, inputs.extra_index_urls = (
            (urls[0], list(urls[1:])) if urls else (None, [])
        )
    return inputs


def plan_all(
    finder: Finder,
    pages: Pages,
    targets: Sequence[Target],
    inputs: Inputs,
    request: BuildRequest,
    reporter: BuildReporter,
    preferred: Preferences | None = None,
) -> list[Resolution]:
    """Each target's pins: a lock's when the inputs hold one (nothing resolved), else resolved."""
    if inputs.locked is None:
        builders = BuildInterpreters(request.pythons)
        return resolve_all(finder, targets, inputs, request.jobs, reporter, preferred, builders)
    policy = Policy(allow_sdist=request.allow_sdist)
    resolutions = []
    for target in targets:
        reporter.resolving(target)
        resolution = locked_resolution(inputs.locked, target, request.choice, pages, policy)
        reporter.resolved(resolution)
        resolutions.append(resolution)
    return resolutions


def resolve_all(
    finder: Finder,
    targets: Sequence[Target],
    inputs: Inputs,
    jobs: int,
    reporter: BuildReporter,
    preferred: Preferences | None = None,
    builders: BuildInterpreters | None = None,
) -> list[Resolution]:
    """Resolve every target, concurrently; a failure or Ctrl-C stops the others' rounds.

    Failures are said once each, with every target they hold for; ``builders``
    tell whether ``--build`` is advice this machine can follow for a target.
    """
    stop = Stop()

    def one(target: Target) -> Resolution:
        def seen(where: Round) -> None:
            stop.check()  # raising here ends this resolution before its next round
            reporter.resolving_round(target, where)

        reporter.resolving(target)
        prefer = (preferred or {}).get(target.name, {})
        try:
            resolution = resolve(finder, target, inputs, Watch(seen), preferred=prefer)
        except NoFileForTarget as error:
            raise _advised(error, target, builders or BuildInterpreters()) from None
        reporter.resolved(resolution)
        return resolution

    with workers(min(jobs, len(targets)), stop) as pool:
        futures = [pool.submit(one, target) for target in targets]
        finish(futures)
    try:
        return gather(futures)
    except BuildFailed as failed:
        raise combine(failed.errors) from None


def _advised(error: NoFileForTarget, target: Target, builders: BuildInterpreters) -> Exception:
    """The error, saying whether this machine can build the sdist that --build would take.

    Yes with an interpreter that builds for the target; no on another platform
    (a musllinux, macOS or Windows target on a glibc Linux); unsaid when only
    the target's Python is missing here.
    """
    if not error.sdist:
        return error
    if builders.for_target(target) is not None:
        return dataclasses.replace(error, buildable=True)
    return dataclasses.replace(error, buildable=None if builds_here(target) else False)


def _manifest(
    root: Path,
    request: BuildRequest,
    inputs: Inputs,
    targets: Sequence[Target],
    files: Sequence[DistFile],
    built: Built,
    pages: Mapping[str, str],
) -> dict[str, object]:
    now = datetime.now(timezone.utc)
    house, cwd = Path(os.path.abspath(root)), Path.cwd()
    return manifest_dict(
        dataclasses.replace(
            request,
            requirements=tuple(moved_path(text, os.path.abspath) for text in request.requirements),
            requirement_files=tuple(map(_absolute, request.requirement_files)),
            constraint_files=tuple(map(_absolute, request.constraint_files)),
            from_lock=_absolute(request.from_lock) if request.from_lock else None,
        ),
        inputs,
        targets,
        files,
        built=built,
        created=now,
        format_version=FORMAT,
        pages=pages,
        house=house,
        trees=[tree for tree in (house.parent, cwd) if _is_tree(tree, house)],
    )


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _is_tree(tree: Path, house: Path) -> bool:
    """Whether input files under ``tree`` move with the wheelhouse: a project, not ``/``."""
    return house.is_relative_to(tree) and tree != Path(tree.anchor)


def _requirements(extra: Iterable[Resolution]) -> dict[str, list[str]]:
    """Per target, the files of the build requirements of the sdists it keeps."""
    found: dict[str, set[str]] = {}
    for resolution in extra:
        names = {file.filename for pin in resolution.pins.values() for file in pin.files}
        found.setdefault(resolution.target.name, set()).update(names)
    return {target: sorted(names) for target, names in found.items()}


def _lock(resolution: Resolution, hashed: Mapping[str, DistFile]) -> Lock:
    """The lock of a resolution, its files as ``hashed`` completed them."""
    pins = tuple(
        Pin(
            name=pin.name,
            version=pin.version,
            files=tuple(hashed.get(file.filename, file) for file in pin.files),
            via=pin.via,
            dependencies=pin.dependencies,
            marker=pin.marker,
            requires_python=pin.files[0].requires_python if pin.files else None,
        )
        for pin in resolution.pins.values()
    )
    return Lock(target=resolution.target, pins=pins)
