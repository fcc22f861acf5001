"""``wheelhouse build``: resolve every target, download once, then write locks, index, manifest.

Nothing final is written until every target resolved and every file arrived,
so a failed or interrupted build leaves the previous locks, index and manifest
as they were.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from packaging.tags import sys_tags
from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelhouse import __version__
from wheelhouse.diff import TargetDiff, diff_pins
from wheelhouse.distributions import DistFile, Policy, parse_upload_time
from wheelhouse.errors import BuildFailed, InterpreterNotFound, InvalidFilename, WheelhouseError
from wheelhouse.indexer import index_directory
from wheelhouse.locks import Lock, Pin
from wheelhouse.pages import ProjectPage
from wheelhouse.reqfile import Inputs, parse_inputs
from wheelhouse.resolver import Finder, Index, Resolution, resolve
from wheelhouse.store import FORMAT, Wheelhouse
from wheelhouse.targets import Target, parse_platform

__all__ = [
    "BuildReporter",
    "BuildRequest",
    "BuildResult",
    "RefreshResult",
    "build",
    "make_targets",
    "read_inputs",
    "refresh",
    "request_from_manifest",
    "targets_from_manifest",
]

#: Per target, the version each project should keep if it still fits.
Preferences = Mapping[str, Mapping[str, Version]]

_VERSION = re.compile(r"^(?:cp|python)?(\d)\.?(\d+)$")


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildRequest:
    """Everything ``build`` was asked for, as given on the command line."""

    requirements: tuple[str, ...] = ()
    requirement_files: tuple[Path, ...] = ()
    constraint_files: tuple[Path, ...] = ()
    pythons: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    index_url: str = ""
    extra_index_urls: tuple[str, ...] = ()
    exclude_newer: datetime | None = None
    jobs: int = 8
    allow_sdist: bool = False


class Downloader(Protocol):
    def download(
        self, file: DistFile, dest: Path, progress: Callable[[int], None] | None = None
    ) -> str: ...


class BuildIndex(Index, Downloader, Protocol):
    """The index client as the build uses it."""


class BuildReporter:
    """Progress hooks; the CLI overrides them to drive progress bars."""

    def resolving(self, target: Target) -> None:
        """A target's resolution starts."""

    def resolved(self, resolution: Resolution) -> None:
        """A target is resolved."""

    def downloading(self, files: Sequence[DistFile]) -> None:
        """These files are about to be downloaded."""

    def progress(self, file: DistFile, nbytes: int) -> None:
        """``nbytes`` more bytes of ``file`` arrived."""


@dataclass(kw_only=True)
class BuildResult:
    targets: list[Target]
    locks: list[Lock]
    downloaded: list[DistFile] = field(default_factory=list)
    reused: list[DistFile] = field(default_factory=list)
    refused: list[InvalidFilename] = field(default_factory=list)


def make_targets(pythons: Sequence[str], platforms: Sequence[str]) -> list[Target]:
    """Every ``--python`` x ``--platform`` pair; defaults are the running interpreter's."""
    chosen: list[Target] = []
    for python in pythons or [f"{sys.version_info[0]}.{sys.version_info[1]}"]:
        version, full, own_platform = _python(python)
        for platform in platforms or [own_platform]:
            parse_platform(platform)  # reject an unknown tag before any work
            target = Target(python_version=version, platform=platform, python_full_version=full)
            if target.name not in {known.name for known in chosen}:
                chosen.append(target)
    return chosen


def _python(python: str) -> tuple[tuple[int, int], str | None, str]:
    """Version, exact version (for a real interpreter) and native platform of ``--python``."""
    if match := _VERSION.match(python):
        return (int(match[1]), int(match[2])), None, _running_platform()
    found = python if Path(python).exists() else shutil.which(python)
    if not found:
        raise InterpreterNotFound(python, "no such file or command")
    from wheelhouse.interpreters import probe  # only a path needs a subprocess

    info = probe(Path(found))
    return info.version, info.full_version, info.tags[0].platform


def _running_platform() -> str:
    return next(iter(sys_tags())).platform


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
    """Resolve, download and freeze; write locks, index and manifest last."""
    reporter = reporter or BuildReporter()
    targets = list(targets or make_targets(request.pythons, request.platforms))
    with wheelhouse.exclusive():
        recorded = wheelhouse.read_manifest().get("files", {})
        finder = _finder(wheelhouse, request, index, recorded)
        resolutions = _resolve_all(finder, targets, inputs, request.jobs, reporter, preferred)
        files = _unique_files(resolutions)
        missing = [file for file in files if not wheelhouse.has_file(file, recorded)]
        _download_all(wheelhouse, index, missing, request.jobs, reporter)
        locks = [_lock(resolution) for resolution in resolutions]
        index_directory(wheelhouse.root, {file.filename: file for file in files})
        wheelhouse.write_locks(locks, created_by=f"wheelhouse {__version__}")
        wheelhouse.write_manifest(_manifest(request, inputs, targets, files))
    reused = [file for file in files if file not in missing]
    refused = sorted(finder.refused.values(), key=str)
    return BuildResult(
        targets=targets, locks=locks, downloaded=missing, reused=reused, refused=refused
    )


def _finder(
    wheelhouse: Wheelhouse, request: BuildRequest, index: Index, recorded: Mapping[str, Any]
) -> Finder:
    policy = Policy(allow_sdist=request.allow_sdist, exclude_newer=request.exclude_newer)
    return Finder(LocalMetadataFirst(index, wheelhouse, recorded), policy)


@dataclass(kw_only=True)
class RefreshResult:
    """The pin changes per target, and what the build did (None with ``check``)."""

    diffs: list[TargetDiff]
    build: BuildResult | None = None


def refresh(
    wheelhouse: Wheelhouse,
    request: BuildRequest,
    inputs: Inputs,
    index: BuildIndex,
    reporter: BuildReporter | None = None,
    *,
    check: bool = False,
    upgrade: Collection[str] | None = None,
) -> RefreshResult:
    """Re-resolve the recorded inputs; with ``upgrade``, only those projects may move."""
    manifest = wheelhouse.read_manifest()
    targets = targets_from_manifest(manifest)
    old = wheelhouse.read_pins()
    preferred = _preferences(old, upgrade) if upgrade else None
    if check:
        finder = _finder(wheelhouse, request, index, manifest.get("files", {}))
        reporter = reporter or BuildReporter()
        resolutions = _resolve_all(finder, targets, inputs, request.jobs, reporter, preferred)
        new = {r.target.name: {n: str(p.version) for n, p in r.pins.items()} for r in resolutions}
        return RefreshResult(diffs=diff_pins(old, new))
    result = build(
        wheelhouse, request, inputs, index, reporter, targets=targets, preferred=preferred
    )
    new = {
        lock.target.name: {pin.name: str(pin.version) for pin in lock.pins} for lock in result.locks
    }
    return RefreshResult(diffs=diff_pins(old, new), build=result)


def _preferences(old: Mapping[str, Mapping[str, str]], upgrade: Collection[str]) -> Preferences:
    """Hold every current pin but those being upgraded."""
    moving = {canonicalize_name(name) for name in upgrade}
    return {
        target: {name: Version(version) for name, version in pins.items() if name not in moving}
        for target, pins in old.items()
    }


def targets_from_manifest(manifest: Mapping[str, Any]) -> list[Target]:
    """The targets a wheelhouse was built for."""
    targets = []
    for entry in manifest.get("targets", []):
        major, minor = (int(part) for part in str(entry["python"]).split("."))
        targets.append(
            Target(
                python_version=(major, minor),
                platform=entry["platform"],
                python_full_version=entry.get("python-full-version"),
            )
        )
    return targets


def request_from_manifest(manifest: Mapping[str, Any], **overrides: Any) -> BuildRequest:
    """The build request recorded in a manifest; overrides that are not None win."""
    inputs, index, options = (manifest.get(key, {}) for key in ("inputs", "index", "options"))
    exclude_newer = options.get("exclude-newer")
    recorded = BuildRequest(
        requirements=tuple(inputs.get("requirements", ())),
        requirement_files=tuple(Path(path) for path in inputs.get("requirement-files", ())),
        constraint_files=tuple(Path(path) for path in inputs.get("constraint-files", ())),
        index_url=index.get("url", ""),
        extra_index_urls=tuple(index.get("extra-urls", ())),
        exclude_newer=parse_upload_time(exclude_newer) if exclude_newer else None,
        allow_sdist=not options.get("only-binary", True),
    )
    given = {key: value for key, value in overrides.items() if value is not None}
    return dataclasses.replace(recorded, **given)


class LocalMetadataFirst:
    """An index whose metadata comes from the wheelhouse when it holds the same file."""

    def __init__(self, index: Index, wheelhouse: Wheelhouse, recorded: Mapping[str, Any]) -> None:
        self.index, self.wheelhouse, self.recorded = index, wheelhouse, recorded

    def project_files(self, name: str) -> ProjectPage:
        return self.index.project_files(name)

    def prefetch(self, names: Iterable[str]) -> None:
        self.index.prefetch(names)

    def metadata(self, file: DistFile) -> bytes:
        known = self.recorded.get(file.filename, {}).get("sha256")
        local = self.wheelhouse.path(f"{file.filename}.metadata")
        if file.sha256 and known == file.sha256 and local.is_file():
            return local.read_bytes()
        return self.index.metadata(file)


def read_inputs(request: BuildRequest) -> Inputs:
    """Parse the requirement and constraint inputs (raises on a bad line)."""
    return parse_inputs(
        list(request.requirements), list(request.requirement_files), list(request.constraint_files)
    )


def _resolve_all(
    finder: Finder,
    targets: Sequence[Target],
    inputs: Inputs,
    jobs: int,
    reporter: BuildReporter,
    preferred: Preferences | None = None,
) -> list[Resolution]:
    def one(target: Target) -> Resolution:
        reporter.resolving(target)
        prefer = (preferred or {}).get(target.name, {})
        resolution = resolve(finder, target, inputs, preferred=prefer)
        reporter.resolved(resolution)
        return resolution

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(targets)))) as pool:
        futures = [pool.submit(one, target) for target in targets]
    errors = [
        error for future in futures if isinstance(error := future.exception(), WheelhouseError)
    ]
    for future in futures:
        if (error := future.exception()) is not None and not isinstance(error, WheelhouseError):
            raise error
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BuildFailed(errors=errors)
    return [future.result() for future in futures]


def _unique_files(resolutions: Iterable[Resolution]) -> list[DistFile]:
    files: dict[str, DistFile] = {}
    for resolution in resolutions:
        for pin in resolution.pins.values():
            for file in pin.files:
                files.setdefault(file.filename, file)
    return [files[name] for name in sorted(files)]


def _download_all(
    wheelhouse: Wheelhouse,
    index: Downloader,
    files: Sequence[DistFile],
    jobs: int,
    reporter: BuildReporter,
) -> None:
    if not files:
        return
    reporter.downloading(files)

    def one(file: DistFile) -> None:
        index.download(
            file, wheelhouse.path(file.filename), lambda nbytes: reporter.progress(file, nbytes)
        )

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in [pool.submit(one, file) for file in files]:
            future.result()


def _lock(resolution: Resolution) -> Lock:
    pins = tuple(
        Pin(
            name=pin.name,
            version=pin.version,
            files=pin.files,
            via=pin.via,
            dependencies=pin.dependencies,
            marker=pin.marker,
            requires_python=pin.files[0].requires_python if pin.files else None,
        )
        for pin in resolution.pins.values()
    )
    return Lock(target=resolution.target, pins=pins)


def _manifest(
    request: BuildRequest, inputs: Inputs, targets: Sequence[Target], files: Sequence[DistFile]
) -> dict[str, Any]:
    """What a later refresh needs to re-run the build, and where each file came from."""
    options: dict[str, Any] = {"only-binary": not request.allow_sdist}
    if request.exclude_newer:
        options["exclude-newer"] = request.exclude_newer.isoformat()
    return {
        "wheelhouse": {
            "format": FORMAT,
            "tool-version": __version__,
            "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        },
        "inputs": {
            "requirements": list(request.requirements),
            "requirement-files": [str(path) for path in request.requirement_files],
            "constraint-files": [str(path) for path in request.constraint_files],
            "resolved-requirements": [str(item) for item in inputs.requirements],
            "resolved-constraints": [str(item) for item in inputs.constraints],
        },
        "index": {"url": request.index_url, "extra-urls": list(request.extra_index_urls)},
        "options": options,
        "targets": [_target_entry(target) for target in targets],
        "files": {file.filename: _file_entry(file) for file in files},
    }


def _target_entry(target: Target) -> dict[str, str]:
    major, minor = target.python_version
    entry = {"name": target.name, "python": f"{major}.{minor}", "platform": target.platform}
    if target.python_full_version:
        entry["python-full-version"] = target.python_full_version
    return entry


def _file_entry(file: DistFile) -> Mapping[str, Any]:
    entry: dict[str, Any] = {"project": file.project, "version": str(file.version), "url": file.url}
    optional = {
        "sha256": file.sha256,
        "size": file.size,
        "upload-time": file.upload_time,
        "requires-python": file.requires_python,
        "yanked": file.yanked,
    }
    entry.update({key: value for key, value in optional.items() if value is not None})
    return entry
