"""The build request, and the manifest that records it with every file's origin.

Pure: the manifest is a dictionary built from values; reading and writing the
TOML file happen in the wheelhouse directory module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wheelhouse import __version__
from wheelhouse.model.distributions import BuiltWheel, DistFile, parse_upload_time
from wheelhouse.model.limits import Limits
from wheelhouse.model.localproj import moved_path
from wheelhouse.model.pages import FIRST_INDEX
from wheelhouse.model.pyproject import Choice
from wheelhouse.model.reqfile import Inputs
from wheelhouse.model.targets import Target
from wheelhouse.model.urls import redact

__all__ = [
    "BuildRequest",
    "Built",
    "manifest_dict",
    "record_path",
    "request_from_manifest",
    "resolution_key",
    "targets_from_manifest",
]


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
    index_strategy: str = FIRST_INDEX
    exclude_newer: datetime | None = None
    jobs: int = 8
    allow_sdist: bool = False
    keep_sdist: bool = False  # lock an sdist that no interpreter here can build
    from_lock: Path | None = None  # take a lock's pins instead of resolving
    choice: Choice = dataclasses.field(default_factory=Choice)  # of a pyproject.toml or a lock
    limits: Limits = dataclasses.field(
        default_factory=Limits
    )  # set by the environment, not recorded


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


#: ``[inputs] paths``: the relative paths of input files, and of local projects given as
#: requirements (``./pkgs/liba``), are the wheelhouse's. A manifest without it (older
#: versions) holds paths relative to where build ran.
_FROM_WHEELHOUSE = "wheelhouse"


def request_from_manifest(
    manifest: Mapping[str, Any],
    *,
    house: Path | None = None,
    cwd: Path | None = None,
    **overrides: Any,
) -> BuildRequest:
    """The build request recorded in a manifest; overrides that are not None win.

    ``house`` is the wheelhouse's absolute path, which input files recorded
    relative to it are found from; ``cwd`` the directory to show them from.
    """
    inputs, index, options = (manifest.get(key, {}) for key in ("inputs", "index", "options"))
    exclude_newer = options.get("exclude-newer")
    base = house if inputs.get("paths") == _FROM_WHEELHOUSE else None

    def found(text: str) -> Path:
        return _found(Path(text), base, cwd)

    def project(text: str) -> str:
        return moved_path(text, lambda path: str(found(path)))

    recorded = BuildRequest(
        requirements=tuple(map(project, inputs.get("requirements", ()))),
        requirement_files=tuple(found(path) for path in inputs.get("requirement-files", ())),
        constraint_files=tuple(found(path) for path in inputs.get("constraint-files", ())),
        index_url=index.get("url", ""),
        extra_index_urls=tuple(index.get("extra-urls", ())),
        index_strategy=str(index.get("strategy", FIRST_INDEX)),
        exclude_newer=parse_upload_time(exclude_newer) if exclude_newer else None,
        allow_sdist=not options.get("only-binary", True),
        keep_sdist=bool(options.get("keep-sdist", False)),
        from_lock=found(inputs["from-lock"]) if inputs.get("from-lock") else None,
        choice=Choice(
            extras=tuple(inputs.get("extras", ())),
            all_extras=bool(inputs.get("all-extras", False)),
            groups=tuple(inputs.get("groups", ())),
        ),
    )
    given = {key: value for key, value in overrides.items() if value is not None}
    return dataclasses.replace(recorded, **given)


def record_path(path: Path, house: Path, trees: Sequence[Path]) -> Path:
    """An input file as the manifest records it: relative to the wheelhouse when both lie in
    one of ``trees`` (so the tree can move, and refresh run from anywhere), else as it is.

    Every path is absolute and normalised.
    """
    if any(path.is_relative_to(tree) and house.is_relative_to(tree) for tree in trees):
        common = 0
        for mine, theirs in zip(path.parts, house.parts, strict=False):
            if mine != theirs:
                break
            common += 1
        return Path(*[".."] * (len(house.parts) - common), *path.parts[common:])
    return path


def _found(path: Path, house: Path | None, cwd: Path | None) -> Path:
    """A recorded input file's path: joined to the wheelhouse, shown from ``cwd`` when inside."""
    if house is None or path.is_absolute():
        return path
    parts: list[str] = []
    for part in (house / path).parts:
        if part == "..":
            if len(parts) > 1:
                parts.pop()
        elif part != ".":
            parts.append(part)
    joined = Path(*parts)
    return joined.relative_to(cwd) if cwd is not None and joined.is_relative_to(cwd) else joined


@dataclass(frozen=True, kw_only=True, slots=True)
class Built:
    """What the sdist policy added to a build: wheels built here and build requirements.

    ``wheels`` maps a built wheel's file name to its record; ``requirements`` maps a
    target that keeps sdists to the files pip needs to build them.
    """

    wheels: Mapping[str, BuiltWheel] = dataclasses.field(default_factory=dict)
    requirements: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)


def manifest_dict(
    request: BuildRequest,
    inputs: Inputs,
    targets: Sequence[Target],
    files: Sequence[DistFile],
    *,
    built: Built,
    created: datetime,
    format_version: int,
    pages: Mapping[str, str] | None = None,
    house: Path | None = None,
    trees: Sequence[Path] = (),
) -> dict[str, Any]:
    """What a later refresh needs to re-run the build, and where each file came from.

    ``pages`` maps every project page the resolution read to its digest. URLs are
    written without credentials: CI recipes commit the manifest. With ``house``
    (the wheelhouse's absolute path), the input files' absolute paths are
    recorded as :func:`record_path` says, for ``trees``.
    """
    manifest: dict[str, Any] = {
        "wheelhouse": {
            "format": format_version,
            "tool-version": __version__,
            "created": created.replace(microsecond=0).isoformat(),
        },
        "inputs": _inputs(request, inputs, house, trees),
        "index": {
            "url": redact(request.index_url),
            "extra-urls": [redact(url) for url in request.extra_index_urls],
            "strategy": request.index_strategy,
        },
        "options": _options(request),
        "targets": [_target_entry(target) for target in targets],
        "files": {
            file.filename: _file_entry(file, built.wheels.get(file.filename)) for file in files
        },
    }
    if pages:
        manifest["resolution"] = {
            "key": resolution_key(request, inputs, targets),
            "pages": dict(sorted(pages.items())),
        }
    if built.wheels:
        manifest["built"] = {name: built.wheels[name].to_dict() for name in sorted(built.wheels)}
    if built.requirements:
        manifest["build-requirements"] = {
            target: {"files": sorted(names)} for target, names in sorted(built.requirements.items())
        }
    return manifest


def _inputs(
    request: BuildRequest, inputs: Inputs, house: Path | None, trees: Sequence[Path]
) -> dict[str, Any]:
    """What the user gave; a lock, extras and groups only when given."""

    def recorded(path: Path) -> str:
        return str(path if house is None else record_path(path, house, trees))

    def project(text: str) -> str:
        return moved_path(text, lambda path: recorded(Path(path)))

    table: dict[str, Any] = {
        "requirements": [project(text) for text in request.requirements],
        "requirement-files": [recorded(path) for path in request.requirement_files],
        "constraint-files": [recorded(path) for path in request.constraint_files],
    }
    if house is not None:
        table["paths"] = _FROM_WHEELHOUSE
    if request.from_lock is not None:
        table["from-lock"] = recorded(request.from_lock)
    table.update({key: value for key, value in _choice(request.choice).items() if value})
    table["resolved-requirements"] = [str(item) for item in inputs.requirements]
    table["resolved-constraints"] = [str(item) for item in inputs.constraints]
    return table


def _choice(choice: Choice) -> dict[str, Any]:
    return {
        "extras": list(choice.extras),
        "all-extras": choice.all_extras,
        "groups": list(choice.groups),
    }


def resolution_key(request: BuildRequest, inputs: Inputs, targets: Sequence[Target]) -> str:
    """A digest of everything but the index's pages that decides a resolution's outcome."""
    document = {
        "tool": __version__,
        "requirements": [str(item) for item in inputs.requirements],
        "constraints": [str(item) for item in inputs.constraints],
        "pre": inputs.pre,
        "targets": [[target.name, target.python_full_version] for target in targets],
        # Without credentials: a new token changes no outcome, and the key is written.
        "indexes": [redact(url) for url in (request.index_url, *request.extra_index_urls)],
        "index-strategy": request.index_strategy,
        "options": _options(request),
    }
    if formats := inputs.formats.key():  # only when set, so older keys still stand
        document["formats"] = formats
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _options(request: BuildRequest) -> dict[str, Any]:
    options: dict[str, Any] = {"only-binary": not request.allow_sdist}
    if request.keep_sdist:
        options["keep-sdist"] = True
    if request.exclude_newer:
        options["exclude-newer"] = request.exclude_newer.isoformat()
    return options


def _target_entry(target: Target) -> dict[str, str]:
    major, minor = target.python_version
    entry = {"name": target.name, "python": f"{major}.{minor}", "platform": target.platform}
    if target.python_full_version:
        entry["python-full-version"] = target.python_full_version
    return entry


def _file_entry(file: DistFile, built: BuiltWheel | None) -> Mapping[str, Any]:
    """A file's origin: its URL, or for a wheel built here the sdist it came from."""
    origin = {"built-from": built.sdist} if built else {"url": redact(file.url)}
    entry: dict[str, Any] = {"project": file.project, "version": str(file.version), **origin}
    optional = {
        "sha256": file.sha256,
        "size": file.size,
        "upload-time": file.upload_time,
        "requires-python": file.requires_python,
        "yanked": file.yanked,
    }
    entry.update({key: value for key, value in optional.items() if value is not None})
    return entry
