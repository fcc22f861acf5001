"""Local projects: built here into wheels, once, and kept while their source is unchanged.

A project on disk (a directory, an sdist or a wheel file) becomes a wheel for
every target: one a target's own interpreter builds, else one this tool's
interpreter builds when it serves every target (``py3-none-any``). A wheel is
recorded in the manifest with the digest of the source it came from (the
tree's files, or the sdist's bytes) and reused while that digest and the
Python are the same. What the backend needs to build it, a wheel or an
editable install, is recorded with it, so the build resolves those
requirements into the wheelhouse: ``pip install -e`` and ``uv sync`` find
them there offline.

A ``-r pyproject.toml`` whose dependencies are ``dynamic`` is asked for its
metadata instead (``prepare_metadata_for_build_wheel``, else ``build_wheel``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.house.errors import MetadataError
from wheelhouse.house.files import local_file, sha256_of
from wheelhouse.house.metadata import wheel_metadata
from wheelhouse.install.probe import InterpreterInfo, probe
from wheelhouse.model.distributions import BuiltWheel, DistFile, parse_filename
from wheelhouse.model.errors import InputFileError
from wheelhouse.model.localproj import DynamicProject, LocalProject, uv_disk_sources
from wheelhouse.model.manifest import BuildRequest
from wheelhouse.model.pyproject import is_pyproject
from wheelhouse.model.reqfile import InputRequirement, Inputs
from wheelhouse.model.targets import Target
from wheelhouse.resolve.candidates import Resolution
from wheelhouse.resolve.finder import Finder
from wheelhouse.sdist.errors import (
    CannotBuildHere,
    LocalBuildFailed,
    NotAProject,
    SourceNotGiven,
)
from wheelhouse.sdist.hooks import (
    BackendSpec,
    backend_spec,
    call_hook,
    install_requirements,
    read_pyproject,
)
from wheelhouse.sdist.pep517 import BuildInterpreters, PipIndexes, builds_here
from wheelhouse.sdist.staging import KeyedLocks, Staging
from wheelhouse.sdist.wheels import BuildHooks, WheelMaker, resolve_within_pins

__all__ = ["LocalBuilder", "source_digest"]

#: Directories a source digest leaves out at the top of the tree: what builds and tools
#: write there. A package of one of these names deeper in the tree is source.
_SKIPPED_AT_TOP = {"build", "dist", "node_modules"}
_SDIST_SUFFIXES = (".tar.gz", ".zip")
#: Who owns what an sdist unpacks to: this process, whatever the archive says.
_OWNER = (getattr(os, "geteuid", int)(), getattr(os, "getegid", int)(), "", "")
_EXTRA = re.compile(r'extra\s*==\s*"([^"]*)"|"([^"]*)"\s*==\s*extra')


def source_digest(root: Path) -> str:
    """A digest of a project's source tree: every file's path and content, in order.

    Left out: hidden entries (``.git``, ``.venv``...), ``__pycache__``, ``*.egg-info``,
    virtual environments and wheelhouses inside the tree, and ``build``, ``dist``
    and ``node_modules`` at its top.
    """
    digest = hashlib.sha256()
    for top, dirs, names in os.walk(root):
        here = Path(top)
        dirs[:] = sorted(name for name in dirs if not _skipped(here / name, top=here == root))
        for name in sorted(names):
            path = here / name
            if name.startswith("."):
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            if path.is_symlink():
                digest.update(b"->" + os.readlink(path).encode())
            elif path.is_file():
                digest.update(sha256_of(path).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def _skipped(path: Path, *, top: bool) -> bool:
    name = path.name
    return (
        name.startswith(".")
        or name == "__pycache__"
        or (top and name in _SKIPPED_AT_TOP)
        or name.endswith(".egg-info")
        or (path / "pyvenv.cfg").is_file()
        or (path / "wheelhouse.toml").is_file()
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Source:
    label: str  # the path as given
    directory: Path  # the project's tree (an sdist unpacked into scratch)
    key: str  # digest of the tree, or sha256 of the sdist
    spec: BackendSpec


class LocalBuilder:
    """The local projects of one run, their wheels, and what building them needs."""

    def __init__(
        self,
        *,
        request: BuildRequest,
        files: Staging,
        interpreters: BuildInterpreters,
        built: Mapping[str, Any],
        hooks: BuildHooks | None = None,
    ) -> None:
        self.files, self.interpreters, self.hooks = files, interpreters, hooks
        self.indexes = PipIndexes(
            index_url=request.index_url, extra_index_urls=request.extra_index_urls
        )
        self.wheels = files.kept_wheels(built)
        self.built: list[BuiltWheel] = []  # by this run
        self.used: dict[str, BuiltWheel] = {}  # the wheels the run takes, by file name
        self.requires: dict[NormalizedName, tuple[str, ...]] = {}  # build requirements by name
        self._envs: dict[tuple[str, tuple[str, ...]], Path] = {}
        self._lock = KeyedLocks()

    @property
    def active(self) -> bool:
        return bool(self.used)

    def prepare(
        self, inputs: Inputs, targets: Sequence[Target], projects: Iterable[LocalProject] = ()
    ) -> Inputs:
        """The inputs with each local project as ``name==version`` of its wheel built here.

        ``projects`` are more local projects (a lock's own members). The dependencies
        of a dynamic ``-r pyproject.toml`` join the requirements.
        """
        given = [*inputs.local_projects, *projects]
        local = [self.project(item, targets) for item in given]
        names = {canonicalize_name(item.requirement.name) for item in local}
        for item in given:
            _check_sources(item.label(), item.path, names)
        for path in filter(is_pyproject, inputs.files):
            _check_sources(path, str(Path(path).parent), names)
        learned = [item for found in inputs.dynamic_projects for item in self.learn(found)]
        requirements = [*local, *inputs.requirements, *learned]
        return dataclasses.replace(inputs, requirements=requirements)

    def project(self, project: LocalProject, targets: Sequence[Target]) -> InputRequirement:
        """Build (or reuse) the project's wheels for ``targets``; the requirement on them."""
        records = self._records(project, targets)
        first = records[0].wheel
        if project.name is not None and project.name != first.project:
            detail = f"it builds {first.project}, not {project.name}"
            raise NotAProject(project.label(), detail)
        for record in records:
            path = self.files.waiting.get(record.wheel.filename)
            self.files.add_local(
                record.wheel, path or self.files.wheelhouse.path(record.wheel.filename)
            )
            self.used[record.wheel.filename] = record
        self.requires[first.project] = records[0].build_requires
        extras = f"[{','.join(sorted(project.extras))}]" if project.extras else ""
        marker = f"; {project.marker}" if project.marker else ""
        text = f"{first.project}{extras}=={first.version}{marker}"
        return InputRequirement(
            requirement=Requirement(text), origin=project.origin, location=project.location
        )

    def _records(self, project: LocalProject, targets: Sequence[Target]) -> list[BuiltWheel]:
        path = Path(project.path).expanduser()
        if path.is_file() and path.name.endswith(".whl"):
            return [self._given_wheel(project.label(), path)]
        source = self._source(project.label(), path)
        with self._lock(source.key):
            found = {target.name: self._for_target(source, target) for target in targets}
            missing = [target for target in targets if found[target.name] is None]
            if missing:
                self._build(source, probe(Path(sys.executable)))  # a universal wheel serves all
                found.update({target.name: self._serving(source.key, target) for target in missing})
        stuck = [target for target in targets if found[target.name] is None]
        if stuck:
            target = stuck[0]
            python = ".".join(map(str, target.python_version))
            foreign = None if builds_here(target) else target.platform
            raise CannotBuildHere(target.name, python, [project.label()], foreign)
        return list({r.wheel.filename: r for r in found.values() if r is not None}.values())

    def _for_target(self, source: _Source, target: Target) -> BuiltWheel | None:
        if (found := self._serving(source.key, target)) is not None:
            return found
        if (python := self.interpreters.for_target(target)) is None:
            return None
        self._build(source, python)
        return self._serving(source.key, target)

    def _serving(self, key: str, target: Target) -> BuiltWheel | None:
        return next((r for r in reversed(self.wheels) if r.serves(key, target)), None)

    def _source(self, label: str, path: Path) -> _Source:
        if path.is_file() and path.name.endswith(_SDIST_SUFFIXES):
            key = sha256_of(path)
            directory = self._unpack(label, path)
        elif path.is_dir():
            if not (path / "pyproject.toml").is_file() and not (path / "setup.py").is_file():
                raise NotAProject(label, "it has no pyproject.toml or setup.py")
            key, directory = source_digest(path), path.resolve()
        elif path.exists():
            raise NotAProject(label, "a file that is not a wheel or an sdist (.tar.gz, .zip)")
        else:
            raise NotAProject(label, "no such file or directory")
        try:
            spec = backend_spec(directory)
        except (ValueError, OSError) as exc:
            raise NotAProject(label, f"its pyproject.toml cannot be read: {exc}") from None
        return _Source(label=label, directory=directory, key=key, spec=spec)

    def _unpack(self, label: str, sdist: Path) -> Path:
        """The sdist unpacked into scratch; its one top directory."""
        out = Path(tempfile.mkdtemp(prefix="local-", dir=self.files.scratch))
        try:
            if sdist.name.endswith(".zip"):
                with zipfile.ZipFile(sdist) as archive:
                    archive.extractall(out)
            else:
                _untar(label, sdist, out)
        except (OSError, EOFError, zlib.error, tarfile.TarError, zipfile.BadZipFile) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise NotAProject(label, f"the sdist cannot be unpacked: {reason}") from None
        tops = [entry for entry in out.iterdir() if entry.is_dir()]
        if len(tops) != 1:
            raise NotAProject(label, "the sdist has no single top directory")
        return tops[0]

    def _given_wheel(self, label: str, path: Path) -> BuiltWheel:
        try:
            parsed = parse_filename(path.name)
        except ValueError as exc:
            raise NotAProject(label, f"not a wheel: {exc}") from None
        wheel = local_file(path, parsed)
        self.files.waiting[wheel.filename] = path
        key = wheel.sha256 or ""
        return BuiltWheel(wheel=wheel, sdist=label, sdist_sha256=key, python="", local=True)

    def _build(self, source: _Source, python: InterpreterInfo) -> BuiltWheel:
        version = f"{python.version[0]}.{python.version[1]}"
        done = [r for r in self.built if r.sdist_sha256 == source.key and r.python == version]
        if done:
            return done[0]
        requires = self._hook(source, python, "requires", [self._env(source, python)])
        wheel_extra = [str(item) for item in requires.get("wheel", [])]
        paths = [self._env(source, python), *self._extra_env(source, python, wheel_extra)]
        path = Path(self._hook(source, python, "wheel", paths)["wheel"])
        editable = [str(item) for item in requires.get("editable", [])]
        record = BuiltWheel(
            wheel=self._wheel_file(source, path),
            sdist=source.label,
            sdist_sha256=source.key,
            python=version,
            python_full_version=python.full_version,
            interpreter=str(python.path),
            build_requires=tuple(dict.fromkeys([*source.spec.requires, *wheel_extra, *editable])),
            local=True,
        )
        self.files.waiting[record.wheel.filename] = path
        self.wheels.append(record)
        self.built.append(record)
        if self.hooks is not None:
            self.hooks.built(record)
        return record

    def _wheel_file(self, source: _Source, path: Path) -> DistFile:
        try:
            parsed = parse_filename(path.name)
            metadata = wheel_metadata(path, parsed[0])
        except (ValueError, MetadataError) as exc:
            detail = f"it built {path.name}, which is not a readable wheel ({exc})"
            raise LocalBuildFailed(source.label, source.spec.backend, detail) from None
        raw, _ = parse_email(metadata)
        return local_file(path, parsed, requires_python=raw.get("requires_python"))

    def _env(self, source: _Source, python: InterpreterInfo) -> Path:
        """A directory with the project's ``[build-system] requires`` installed, once per run."""
        return self._installed(source, python, source.spec.requires, "its build requirements")

    def _extra_env(
        self, source: _Source, python: InterpreterInfo, extra: Sequence[str]
    ) -> list[Path]:
        if not extra:
            return []
        return [self._installed(source, python, tuple(extra), "what its backend asks for")]

    def _installed(
        self, source: _Source, python: InterpreterInfo, requires: Sequence[str], what: str
    ) -> Path:
        key = (str(python.path), tuple(requires))
        with self._lock(f"env:{key}"):
            if key not in self._envs:
                dest = Path(tempfile.mkdtemp(prefix="buildenv-", dir=self.files.scratch))
                failed = requires and install_requirements(python, requires, dest, self.indexes)
                if failed:
                    detail = f"{what} ({', '.join(requires)}) cannot be installed: {failed}"
                    raise LocalBuildFailed(source.label, source.spec.backend, detail)
                self._envs[key] = dest
            return self._envs[key]

    def _hook(
        self, source: _Source, python: InterpreterInfo, hook: str, paths: Sequence[Path]
    ) -> dict[str, Any]:
        scratch = self.files.scratch
        return call_hook(python, hook, source.directory, source.spec, paths, scratch, source.label)

    def resolve_build_requirements(
        self, finder: Finder, resolutions: Sequence[Resolution], maker: WheelMaker | None
    ) -> list[Resolution]:
        """For each target, what building its local projects needs, resolved there.

        Their files go into the wheelhouse and its index, not into the lock: pip
        and uv take build requirements from ``--find-links`` when they build.
        The target's pins constrain them when they can (:func:`resolve_within_pins`).
        """
        extra = []
        for resolution in resolutions:
            wanted = {text for name in resolution.pins for text in self.requires.get(name, ())}
            if not wanted:
                continue
            requirements = [self._build_input(text) for text in sorted(wanted)]
            pending = resolve_within_pins(finder, resolution, requirements)
            if maker is not None:
                (pending,) = maker.realize([pending])
            extra.append(pending)
        return extra

    def _build_input(self, text: str) -> InputRequirement:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            owners = [r.sdist for r in self.used.values() if text in r.build_requires]
            detail = f"invalid build requirement {text!r}: {exc}"
            raise LocalBuildFailed(", ".join(owners), "", detail) from None
        return InputRequirement(
            requirement=requirement, origin="build-system.requires", location=""
        )

    def learn(self, project: DynamicProject) -> list[InputRequirement]:
        """The requirements a dynamic ``pyproject.toml`` declares, from its prepared metadata."""
        source = self._source(project.path, Path(project.path).parent)
        python = probe(Path(sys.executable))
        requires = self._hook(source, python, "requires", [self._env(source, python)])
        extra = [str(item) for item in requires.get("wheel", [])]
        paths = [self._env(source, python), *self._extra_env(source, python, extra)]
        found = self._hook(source, python, "metadata", paths)
        try:
            if "metadata" in found:
                metadata = Path(found["metadata"]).read_bytes()
            else:
                wheel = Path(found["wheel"])
                metadata = wheel_metadata(wheel, parse_filename(wheel.name)[0])
        except (OSError, ValueError, MetadataError) as exc:
            detail = f"its metadata cannot be read: {exc}"
            raise LocalBuildFailed(source.label, source.spec.backend, detail) from None
        return _declared(metadata, project)


def _check_sources(label: str, directory: str, given: set[NormalizedName]) -> None:
    """Refuse a project whose uv sources take from disk a dependency the build is not given.

    ``directory`` is the project's (a local project, or a ``-r pyproject.toml``'s).
    """
    root = Path(directory).expanduser()
    if not root.is_dir():
        return
    document = read_pyproject(root)  # read once already, so valid
    for name, where in sorted(uv_disk_sources(document).items()):
        if name not in given:
            path = str(Path(directory) / where) if where else _member(root, document, name)
            raise SourceNotGiven(label, name, path)


def _member(root: Path, document: Mapping[str, Any], name: str) -> str:
    """The path of the workspace member ``name``, from the root's ``[tool.uv.workspace]``."""
    members = document.get("tool", {}).get("uv", {}).get("workspace", {}).get("members", [])
    for pattern in members if isinstance(members, list) else []:
        for path in sorted(root.glob(str(pattern))):
            try:
                found = read_pyproject(path).get("project", {}).get("name", "")
            except (OSError, ValueError):
                continue
            if canonicalize_name(str(found)) == name:
                return str(path)
    return ""


def _untar(label: str, sdist: Path, out: Path) -> None:
    """Unpack the ``.tar.gz`` sdist's plain members into ``out``.

    Through tarfile's ``data`` filter too where this Python has it (3.10.12,
    3.11.4, 3.12 and later), which refuses what escapes ``out`` by any route.
    """
    with tarfile.open(sdist, "r:gz") as archive:  # one reason it is unreadable, not one a method
        members = _plain_members(label, archive)
        if hasattr(tarfile, "data_filter"):
            archive.extractall(out, members=members, filter="data")
        else:  # pragma: no cover - older patch releases only
            archive.extractall(out, members=members)


def _plain_members(label: str, archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's files and directories, each inside it (no links, devices or escapes)."""
    members = []
    for member in archive.getmembers():
        parts = PurePosixPath(member.name).parts
        if member.name.startswith("/") or ".." in parts:
            raise NotAProject(label, f"the sdist holds {member.name!r}, outside its directory")
        if member.isfile() or member.isdir():
            member.mode = 0o755 if member.isdir() else 0o644
            member.uid, member.gid, member.uname, member.gname = _OWNER  # root would chown
            members.append(member)
    return members


def _declared(metadata: bytes, project: DynamicProject) -> list[InputRequirement]:
    """Requires-Dist of the metadata, for the project's base and its chosen extras."""
    raw, _ = parse_email(metadata)
    provided = {canonicalize_name(extra) for extra in raw.get("provides_extra", [])}
    chosen: set[str] = set(provided if project.extras is None else project.extras)
    if unknown := sorted(chosen - provided):
        have = ", ".join(sorted(provided)) or "none"
        raise InputFileError(project.path, f"no extra {', '.join(unknown)} (it has: {have})")
    found = []
    for number, text in enumerate(raw.get("requires_dist", []), 1):
        decided, extra = _without_extra(text, chosen)
        if decided is None:
            continue
        try:
            requirement = Requirement(decided)
        except InvalidRequirement as exc:
            raise InputFileError(project.path, f"its backend declares {text!r}: {exc}") from None
        origin = f"{project.path} [extra {extra}]" if extra else f"-r {project.path}"
        found.append(
            InputRequirement(
                requirement=requirement, origin=origin, location=f"{project.path} #{number}"
            )
        )
    return found


def _without_extra(text: str, chosen: set[str]) -> tuple[str | None, str]:
    """The requirement with each ``extra == "x"`` decided (chosen: true), and its extra.

    The marker is read by packaging first, so ``extra == 'x'`` (single quotes,
    as older backends write it) is found as well.

    A marker that is one extra alone, as backends write them, is dropped when
    the extra is chosen and drops the requirement (None) when it is not, so the
    lock and the manifest read as for a static pyproject.toml.
    """
    head, sep, written = text.partition(";")
    try:  # packaging writes a marker back in one form: double quotes, single spaces
        marker = str(Marker(written)) if sep else ""
    except InvalidMarker:
        return text, ""  # the requirement itself is refused, naming it
    names = [canonicalize_name(a if a is not None else b) for a, b in _EXTRA.findall(marker)]
    if not sep or not names:
        return text, ""
    if _EXTRA.fullmatch(marker):
        return (head.strip() if names[0] in chosen else None), names[0]

    def decide(match: re.Match[str]) -> str:
        name = canonicalize_name(match[1] if match[1] is not None else match[2])
        return 'python_version >= "0"' if name in chosen else 'python_version < "0"'

    return f"{head.strip()}; {_EXTRA.sub(decide, marker)}", names[0]
