"""Distribution files as an index lists them, and why a file is passed over."""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from packaging.tags import Tag, create_compatible_tags_selector
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from wheelhouse.model.errors import InvalidFilename
from wheelhouse.model.formats import Formats
from wheelhouse.model.targets import Target

__all__ = [
    "BuiltWheel",
    "DistFile",
    "Policy",
    "Selection",
    "Skip",
    "SkipReason",
    "is_distribution_filename",
    "parse_filename",
    "parse_upload_time",
    "select_files",
]

SDIST_SUFFIXES = (".tar.gz", ".zip")


def is_distribution_filename(filename: str) -> bool:
    """Whether the name ends like a wheel or an sdist."""
    return filename.endswith(".whl") or filename.endswith(SDIST_SUFFIXES)


def _escapes(filename: str) -> bool:
    return "/" in filename or "\\" in filename or ".." in filename or filename.startswith(".")


def parse_filename(
    filename: str, project: str | None = None
) -> tuple[NormalizedName, Version, frozenset[Tag]]:
    """Name, version and tags (empty for an sdist) of a distribution file name.

    An sdist's name may contain dashes (``celery-3.1.26-1.tar.gz``, from before
    the rules): knowing the ``project`` tells where its name ends. Raises
    ``ValueError`` for a name that is not a distribution, or that tries to
    escape its directory.
    """
    if _escapes(filename):
        raise ValueError("the name contains a path separator or '..'")
    if filename.endswith(".whl"):
        try:
            name, version, _build, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename as exc:
            raise ValueError(str(exc)) from None
        return name, version, tags
    if filename.endswith(SDIST_SUFFIXES):
        try:
            name, version = parse_sdist_filename(filename)
        except InvalidSdistFilename as exc:
            if project is None:
                raise ValueError(str(exc)) from None
            name, version = project_name_and_version(filename, project, str(exc))
        if project is not None and name != canonicalize_name(project):
            with contextlib.suppress(ValueError):
                name, version = project_name_and_version(filename, project, "")
        return name, version, frozenset()
    raise ValueError("not a wheel (.whl) or an sdist (.tar.gz, .zip)")


def project_name_and_version(
    filename: str, project: str, reason: str
) -> tuple[NormalizedName, Version]:
    """Split an sdist name at the dash that ends ``project``'s name, as pip does."""
    stem = next(filename[: -len(s)] for s in SDIST_SUFFIXES if filename.endswith(s))
    wanted = canonicalize_name(project)
    for index, char in enumerate(stem):
        if char == "-" and canonicalize_name(stem[:index]) == wanted:
            try:
                return wanted, Version(stem[index + 1 :])
            except InvalidVersion:
                break
    raise ValueError(reason or f"{filename!r} is not an sdist of {project}")


def _own_legacy_name(filename: str, project: str) -> bool:
    """Whether an sdist's name is the project's own name, a dash and a digit.

    ``regex-2013-11-29.tar.gz`` on regex's page is regex's, with a version from
    before the rules: passed over quietly, not reported as another project's file.
    """
    if not filename.endswith(SDIST_SUFFIXES):
        return False
    own = canonicalize_name(project)
    for index, char in enumerate(filename):
        if char == "-" and canonicalize_name(filename[:index]) == own:
            return filename[index + 1 : index + 2].isdigit()
    return False


# Python 3.10's fromisoformat reads only what isoformat writes: no "Z", a fraction
# of exactly 3 or 6 digits, and an offset with a colon.
_FRACTION = re.compile(r"\.(\d+)")
_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_upload_time(text: str) -> datetime:
    """Parse an ISO 8601 upload time (PEP 700), assuming UTC when no zone is given.

    Accepts ``Z``, any number of fraction digits and ``+HHMM`` on every Python;
    raises ``ValueError`` for anything that is not such a moment.
    """
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda match: "." + f"{match[1]:0<6}"[:6], text, count=1)
    if "T" in text or " " in text:
        text = _OFFSET.sub(r"\1:\2", text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True, kw_only=True, slots=True)
class DistFile:
    """One file of one project, as an index (or the wheelhouse) lists it.

    ``yanked`` is ``None`` when the file is not yanked, else the reason ("" for
    none given). ``metadata_sha256`` is the digest of the PEP 658 metadata file
    when the index offers one ("" when offered without a digest), else ``None``.
    """

    filename: str
    url: str
    project: NormalizedName
    version: Version
    tags: frozenset[Tag]
    sha256: str | None = None
    requires_python: str | None = None
    yanked: str | None = None
    size: int | None = None
    upload_time: str | None = None
    metadata_sha256: str | None = None

    @classmethod
    def create(cls, *, filename: str, url: str, project: str, **details: object) -> DistFile:
        """Build from an index entry, refusing names that are not ``project``'s."""
        if _escapes(filename):
            raise InvalidFilename(filename, project, "the name contains a path separator or '..'")
        try:
            name, version, tags = parse_filename(filename, project)
        except ValueError as exc:
            raise InvalidFilename(filename, project, str(exc), suspicious=False) from None
        if name != canonicalize_name(project):
            if _own_legacy_name(filename, project):
                reason = f"its name is not {project}-<version> (a name from before the rules)"
                raise InvalidFilename(filename, project, reason, suspicious=False)
            raise InvalidFilename(filename, project, f"it is a file of {name}")
        return cls(filename=filename, url=url, project=name, version=version, tags=tags, **details)  # type: ignore[arg-type]

    @classmethod
    def from_record(cls, filename: str, entry: Mapping[str, Any]) -> DistFile:
        """A file of a wheelhouse as its manifest records it; its name is its URL.

        Raises ``ValueError`` for a name that is not a plain distribution file name.
        """
        project, version, tags = parse_filename(filename)
        return cls(
            filename=filename,
            url=filename,
            project=project,
            version=version,
            tags=tags,
            sha256=entry.get("sha256"),
            size=entry.get("size"),
            requires_python=entry.get("requires-python"),
            yanked=entry.get("yanked"),
            upload_time=entry.get("upload-time"),
        )

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def is_universal(self) -> bool:
        """A wheel that installs on every interpreter and platform (``py3-none-any``)."""
        return self.is_wheel and all(t.abi == "none" and t.platform == "any" for t in self.tags)

    @property
    def has_metadata_file(self) -> bool:
        return self.metadata_sha256 is not None

    def uploaded_at(self) -> datetime | None:
        return parse_upload_time(self.upload_time) if self.upload_time else None


class SkipReason(enum.Enum):
    """Why a file was not a candidate for a target."""

    YANKED = "yanked"
    PLATFORM = "no compatible tag"
    REQUIRES_PYTHON = "Requires-Python"
    EXCLUDE_NEWER = "uploaded after --exclude-newer"
    SDIST = "sdist only (binary files only)"
    NO_BINARY = "wheel refused by --no-binary"
    ONLY_BINARY = "source distribution refused by --only-binary"
    NO_UPLOAD_TIME = "no upload time"


@dataclass(frozen=True, kw_only=True, slots=True)
class Skip:
    """A file passed over, with the reason and its detail."""

    file: DistFile
    reason: SkipReason
    detail: str = field(default="")

    def __str__(self) -> str:
        detail = f" {self.detail}" if self.detail else ""
        return f"{self.file.filename}: {self.reason.value}{detail}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    """What a target may take: sdists or not, and files uploaded up to when."""

    allow_sdist: bool = False
    exclude_newer: datetime | None = None
    formats: Formats = field(default_factory=Formats)  # a requirements file's per-project rules


@dataclass(frozen=True, kw_only=True, slots=True)
class Selection:
    """A project's files sorted for one target: per version, best file first."""

    by_version: dict[Version, list[DistFile]]
    skips: list[Skip]
    prefer_binary: bool = False

    def versions(self) -> list[Version]:
        """Versions with a usable file, newest first; with a wheel first if ``prefer_binary``."""
        newest = sorted(self.by_version, reverse=True)
        if not self.prefer_binary:
            return newest
        return sorted(newest, key=lambda v: not any(f.is_wheel for f in self.by_version[v]))


def select_files(files: list[DistFile], target: Target, policy: Policy) -> Selection:
    """Keep the files ``target`` can use, best first per version, and say why others went."""
    ranked = create_compatible_tags_selector(target.tags)
    by_version: dict[Version, list[DistFile]] = {}
    skips: list[Skip] = []
    for file in files:
        if skip := _skip(file, target, policy):
            skips.append(skip)
        else:
            by_version.setdefault(file.version, []).append(file)
    for version, group in by_version.items():
        wheels = list(ranked((file, file.tags) for file in group if file.is_wheel))
        by_version[version] = wheels + sorted(
            (file for file in group if not file.is_wheel), key=lambda f: f.filename
        )
    return Selection(by_version=by_version, skips=skips, prefer_binary=policy.formats.prefer_binary)


def _skip(file: DistFile, target: Target, policy: Policy) -> Skip | None:
    if file.is_wheel and not file.tags & target.tag_set:
        return Skip(file=file, reason=SkipReason.PLATFORM, detail=f"for {target.name}")
    if not file.is_wheel and not policy.allow_sdist:
        return Skip(file=file, reason=SkipReason.SDIST)
    if file.is_wheel and not policy.formats.allows_wheel(file.project):
        return Skip(file=file, reason=SkipReason.NO_BINARY)
    if not file.is_wheel and not policy.formats.allows_sdist(file.project):
        return Skip(file=file, reason=SkipReason.ONLY_BINARY)
    if not target.allows_python(file.requires_python):
        return Skip(file=file, reason=SkipReason.REQUIRES_PYTHON, detail=file.requires_python or "")
    if policy.exclude_newer is not None:
        uploaded = file.uploaded_at()
        if uploaded is None:
            return Skip(file=file, reason=SkipReason.NO_UPLOAD_TIME)
        if uploaded > policy.exclude_newer:
            return Skip(file=file, reason=SkipReason.EXCLUDE_NEWER, detail=file.upload_time or "")
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class BuiltWheel:
    """A wheel built here, as the manifest's ``[built]`` table records it.

    Built from an sdist kept beside it (``sdist``, ``sdist-sha256``), or, when
    ``local``, from a local project (``source``: its path as given;
    ``source-sha256``: the digest of its tree, or of its sdist or wheel file).
    """

    wheel: DistFile
    sdist: str
    sdist_sha256: str
    python: str  # "X.Y" of the interpreter that built it
    python_full_version: str = ""
    interpreter: str = ""
    #: For a local project: what its backend needs for a wheel and an editable build.
    build_requires: tuple[str, ...] = ()
    local: bool = False

    def serves(self, sdist_sha256: str, target: Target) -> bool:
        """Whether it stands for that sdist on ``target``.

        Same sdist, installable there, and built by the target's Python unless it is
        universal: a ``cp312`` build never serves a 3.11 target, a ``py3-none-any`` one does.
        """
        major, minor = target.python_version
        same_python = self.python == f"{major}.{minor}" or self.wheel.is_universal
        fits = bool(self.wheel.tags & target.tag_set)
        return self.sdist_sha256 == sdist_sha256 and same_python and fits

    def to_dict(self) -> dict[str, Any]:
        kind = "source" if self.local else "sdist"
        entry = {
            kind: self.sdist,
            f"{kind}-sha256": self.sdist_sha256,
            "python": self.python,
            "python-full-version": self.python_full_version,
            "interpreter": self.interpreter,
            "sha256": self.wheel.sha256,
            "size": self.wheel.size,
            "requires-python": self.wheel.requires_python,
            "build-requires": list(self.build_requires) or None,
        }
        return {key: value for key, value in entry.items() if value is not None}

    @classmethod
    def from_dict(cls, filename: str, entry: Mapping[str, Any]) -> BuiltWheel:
        """Read a ``[built]`` entry; ``ValueError`` or ``KeyError`` when it is not one."""
        wheel = DistFile.from_record(filename, entry)
        if not wheel.tags:
            raise ValueError(f"{filename} is not a wheel")
        kind = "source" if "source" in entry else "sdist"
        return cls(
            wheel=replace(wheel, sha256=str(entry["sha256"])),
            sdist=str(entry[kind]),
            sdist_sha256=str(entry[f"{kind}-sha256"]),
            python=str(entry["python"]),
            python_full_version=str(entry.get("python-full-version", "")),
            interpreter=str(entry.get("interpreter", "")),
            build_requires=tuple(str(item) for item in entry.get("build-requires", ())),
            local=kind == "source",
        )
