"""The sdists of one build run: metadata for the resolver, wheels built once and kept.

A pin whose best file for a target is an sdist gets a wheel: one the manifest
records as built from the same sdist (same sha256) by the same Python, one built
earlier in the run, or one the target's interpreter builds now. A universal
wheel serves every target, a platform one only the targets of its own Python.
Fetched sdists and built wheels wait in a scratch directory until the build
puts its files into the wheelhouse.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from packaging.requirements import InvalidRequirement, Requirement

from wheelhouse.errors import WheelhouseError
from wheelhouse.house.files import local_file
from wheelhouse.install.probe import InterpreterInfo
from wheelhouse.model.distributions import BuiltWheel, DistFile, parse_filename
from wheelhouse.model.manifest import BuildRequest
from wheelhouse.model.reqfile import InputRequirement, Inputs
from wheelhouse.model.targets import Target
from wheelhouse.resolve.candidates import Resolution, ResolvedPin
from wheelhouse.resolve.finder import Finder
from wheelhouse.resolve.resolver import resolve
from wheelhouse.sdist.errors import BadSdist, BuildFailed, CannotBuildHere, SdistBuildFailed
from wheelhouse.sdist.pep517 import BuildInterpreters, PipIndexes, build_wheel, builds_here
from wheelhouse.sdist.staging import KeyedLocks, Staging

__all__ = ["BuildHooks", "WheelMaker", "gather"]

_T = TypeVar("_T")
_PinKey = tuple[str, str]  # (target name, project name)


class BuildHooks(Protocol):
    """Progress of builds; the build's reporter has these hooks."""

    def building(self, sdist: DistFile, python: str) -> None: ...

    def built(self, wheel: BuiltWheel) -> None: ...


def gather(futures: Sequence[Future[_T]]) -> list[_T]:
    """Every result; one failure raised as itself, several as one ``BuildFailed``."""
    for future in futures:
        if (error := future.exception()) is not None and not isinstance(error, WheelhouseError):
            raise error
    errors = [error for f in futures if isinstance(error := f.exception(), WheelhouseError)]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BuildFailed(errors=errors)
    return [future.result() for future in futures]


def _sdists(resolution: Resolution) -> list[DistFile]:
    """The sdists a resolution pins (a pin's first file is the one its lock takes)."""
    return [
        pin.files[0] for pin in resolution.pins.values() if pin.files and not pin.files[0].is_wheel
    ]


class WheelMaker:
    """Sdists and the wheels built from them, for every target of one run."""

    def __init__(
        self,
        *,
        request: BuildRequest,
        files: Staging,
        interpreters: BuildInterpreters,
        hooks: BuildHooks,
        built: Mapping[str, Any],
    ) -> None:
        self.files, self.interpreters, self.hooks = files, interpreters, hooks
        self.indexes = PipIndexes(
            index_url=request.index_url, extra_index_urls=request.extra_index_urls
        )
        self.keep_sdist, self.jobs = request.keep_sdist, request.jobs
        self.wheels = files.kept_wheels(built)
        self.built: list[BuiltWheel] = []  # by this run
        self.used: dict[str, BuiltWheel] = {}  # the wheels the final pins take, by file name
        self.sources: dict[str, DistFile] = {}  # their sdists, kept beside them
        self._lock = KeyedLocks()
        self._guard = threading.Lock()

    def metadata(self, sdist: DistFile, target: Target) -> bytes:
        """Core metadata of an sdist for ``target``: PKG-INFO when final, else from a build.

        When no wheel can be built for the target, pip prepares the metadata
        (PEP 517) with this tool's own interpreter.
        """
        info = self.files.info(sdist)
        if info.static_requirements and info.pkg_info is not None:
            return info.pkg_info
        if (wheel := self.wheel_for(sdist, target)) is not None:
            return self.files.wheel_metadata(wheel.wheel)
        try:
            # Resolution goes on, so that the error for a target names every sdist it needs.
            return self.files.prepared_metadata(sdist, self.indexes)
        except SdistBuildFailed:
            if self.keep_sdist:
                raise
            raise self._cannot_build([(target, sdist)]) from None

    def wheel_for(self, sdist: DistFile, target: Target) -> BuiltWheel | None:
        """A wheel standing for ``sdist`` on ``target``: recorded, built before, or built now.

        None when none serves and no interpreter here builds for the target.
        """
        sha = self.files.sha256(sdist)
        with self._lock(f"build:{sha}"):
            if (found := self._serving(sha, target)) is not None:
                return found
            if (python := self.interpreters.for_target(target)) is None:
                return None
            record = self._build(sdist, sha, python)
        if not record.serves(sha, target):
            detail = f"it gave {record.wheel.filename}, which {target.name} cannot install"
            raise SdistBuildFailed(sdist.filename, f"Python {record.python_full_version}", detail)
        return record

    def _serving(self, sha: str, target: Target) -> BuiltWheel | None:
        """The best wheel for ``target`` among those from that sdist."""
        with self._guard:
            fitting = [record for record in self.wheels if record.serves(sha, target)]
        rank = {tag: number for number, tag in enumerate(target.tags)}
        return min(
            fitting,
            key=lambda record: min(rank.get(tag, len(rank)) for tag in record.wheel.tags),
            default=None,
        )

    def _build(self, sdist: DistFile, sha: str, python: InterpreterInfo) -> BuiltWheel:
        self.hooks.building(sdist, python.full_version)
        out = Path(tempfile.mkdtemp(prefix="wheel-", dir=self.files.scratch))
        path = build_wheel(python, self.files.local(sdist), out, self.indexes)
        record = BuiltWheel(
            wheel=_built_file(sdist, path, python),
            sdist=sdist.filename,
            sdist_sha256=sha,
            python=f"{python.version[0]}.{python.version[1]}",
            python_full_version=python.full_version,
            interpreter=str(python.path),
        )
        with self._guard:
            self.files.waiting[record.wheel.filename] = path
            self.wheels.append(record)
            self.built.append(record)
        self.hooks.built(record)
        return record

    def realize(self, resolutions: Sequence[Resolution]) -> list[Resolution]:
        """Each resolution with its sdists replaced by wheels; raises for what cannot be built.

        With ``keep_sdist``, a pin that no wheel serves keeps its sdist.
        """
        self._check(resolutions)
        groups: dict[str, list[tuple[Target, DistFile]]] = {}
        for resolution in resolutions:
            for sdist in _sdists(resolution):
                groups.setdefault(sdist.filename, []).append((resolution.target, sdist))
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            futures = [pool.submit(self._realize_group, group) for group in groups.values()]
        chosen = {key: record for found in gather(futures) for key, record in found.items()}
        stuck = [pair for group in groups.values() for pair in group if _key(*pair) not in chosen]
        if stuck and not self.keep_sdist:
            raise self._cannot_build(stuck)
        return [self._replace(resolution, chosen) for resolution in resolutions]

    def _realize_group(self, group: list[tuple[Target, DistFile]]) -> dict[_PinKey, BuiltWheel]:
        """One sdist, target after target in order, so an early universal wheel serves the rest."""
        found = {}
        for target, sdist in group:
            if (record := self.wheel_for(sdist, target)) is not None:
                found[_key(target, sdist)] = record
        return found

    def _check(self, resolutions: Sequence[Resolution]) -> None:
        """Fail before any build when nothing here can give some target a wheel it needs."""
        if self.keep_sdist:
            return
        pending = [(r.target, sdist) for r in resolutions for sdist in _sdists(r)]
        hopeful = {s.filename for t, s in pending if self.interpreters.for_target(t) is not None}
        stuck = [
            (target, sdist)
            for target, sdist in pending
            if sdist.filename not in hopeful
            and self._serving(self.files.sha256(sdist), target) is None
        ]
        if stuck:
            raise self._cannot_build(stuck)

    def _replace(self, resolution: Resolution, chosen: Mapping[_PinKey, BuiltWheel]) -> Resolution:
        pins = dict(resolution.pins)
        for name, pin in resolution.pins.items():
            if (record := chosen.get((resolution.target.name, name))) is not None:
                pins[name] = dataclasses.replace(pin, files=(record.wheel,))
                with self._guard:
                    self.used[record.wheel.filename] = record
                    self.sources[pin.files[0].filename] = pin.files[0]
        return Resolution(target=resolution.target, pins=pins)

    def _cannot_build(self, stuck: Iterable[tuple[Target, DistFile]]) -> WheelhouseError:
        """One error per target, naming every sdist it needs built."""
        by_target: dict[str, tuple[Target, set[str]]] = {}
        for target, sdist in stuck:
            by_target.setdefault(target.name, (target, set()))[1].add(
                f"{sdist.project} {sdist.version}"
            )
        errors: list[WheelhouseError] = [
            CannotBuildHere(
                target.name,
                ".".join(map(str, target.python_version)),
                sorted(packages),
                None if builds_here(target) else target.platform,
            )
            for target, packages in by_target.values()
        ]
        return errors[0] if len(errors) == 1 else BuildFailed(errors=errors)

    def resolve_build_requirements(
        self, finder: Finder, resolutions: Sequence[Resolution]
    ) -> list[Resolution]:
        """For each target that keeps sdists, their build requirements, resolved and realized.

        Their files go into the wheelhouse (pip builds the sdists from it when
        installing), not into the target's lock. A kept build requirement brings
        its own build requirements in turn. They take the target's pins where
        they can (:func:`resolve_within_pins`).
        """
        extra: list[Resolution] = []
        for resolution in resolutions:
            seen: set[str] = set()
            pending = resolution
            while wanted := [r for r in self._build_requires(pending) if r not in seen]:
                seen.update(wanted)
                requirements = [_build_input(text, pending) for text in wanted]
                found = resolve_within_pins(finder, resolution, requirements)
                (pending,) = self.realize([found])
                extra.append(pending)
        return extra

    def _build_requires(self, resolution: Resolution) -> list[str]:
        return sorted(
            {
                text
                for sdist in _sdists(resolution)
                for text in self.files.info(sdist).build_requires
            }
        )

    def is_built(self, file: DistFile) -> bool:
        """Whether ``file`` is a wheel built in this run (not a download)."""
        return any(record.wheel.filename == file.filename for record in self.built)


def resolve_within_pins(
    finder: Finder, resolution: Resolution, requirements: Sequence[InputRequirement]
) -> Resolution:
    """Build requirements for ``resolution``'s target, with its pins as constraints when they fit.

    pip before 26 applies ``PIP_CONSTRAINT`` (``wheelhouse env``) to its isolated
    build environment too, so a backend that needs another version of a pinned
    project could not be installed there. When no backend fits the pins (the
    newest need other versions), they are resolved on their own.
    """
    inputs = Inputs(
        requirements=list(requirements),
        constraints=[_pinned(pin) for pin in resolution.pins.values()],
    )
    try:
        return resolve(finder, resolution.target, inputs)
    except WheelhouseError:
        return resolve(finder, resolution.target, dataclasses.replace(inputs, constraints=[]))


def _pinned(pin: ResolvedPin) -> InputRequirement:
    requirement = Requirement(f"{pin.name}=={pin.version}")
    return InputRequirement(requirement=requirement, origin="the target's lock", location="")


def _key(target: Target, sdist: DistFile) -> _PinKey:
    return (target.name, sdist.project)


def _build_input(text: str, resolution: Resolution) -> InputRequirement:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        kept = ", ".join(sdist.filename for sdist in _sdists(resolution))
        raise BadSdist(kept, f"invalid build requirement {text!r}: {exc}") from None
    return InputRequirement(requirement=requirement, origin="build-system.requires", location="")


def _built_file(sdist: DistFile, path: Path, python: InterpreterInfo) -> DistFile:
    """The built wheel as a file of the wheelhouse; refused when it is not the sdist's."""
    try:
        project, version, tags = parse_filename(path.name)
    except ValueError:
        project, version, tags = sdist.project, sdist.version, frozenset()
    if (project, version) != (sdist.project, sdist.version) or not tags:
        detail = f"it gave {path.name}, not a wheel of {sdist.project} {sdist.version}"
        raise SdistBuildFailed(sdist.filename, f"Python {python.full_version}", detail)
    return local_file(path, (project, version, tags), requires_python=sdist.requires_python)
