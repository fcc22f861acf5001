"""Distribution files as an index lists them, and why a file is passed over."""

from __future__ import annotations

import contextlib
import enum
import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, NamedTuple

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
    "Keep",
    "Listed",
    "Others",
    "PageNames",
    "Policy",
    "Selection",
    "Skip",
    "SkipReason",
    "is_distribution_filename",
    "location",
    "parse_filename",
    "parse_upload_time",
    "select",
    "select_files",
    "skipped",
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
            return _parse_wheel(filename)
        except InvalidWheelFilename as exc:
            raise ValueError(str(exc)) from None
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
        return name, _shared_version(version), _NO_TAGS
    raise ValueError("not a wheel (.whl) or an sdist (.tar.gz, .zip)")


#: The name and tag parts of wheel names already read: a name part that parsed,
#: with its normalised name, and a tag part that parsed, with its tags. A
#: project's thousands of wheels share a few of each, and projects share tag
#: parts; every wheel with the same tags shares one set (cheap to compare with a
#: target's).
_NAME_PARTS: dict[str, NormalizedName] = {}
_TAG_PARTS: dict[str, frozenset[Tag]] = {}
_TAG_SETS: dict[frozenset[Tag], frozenset[Tag]] = {}
_VERSIONS: dict[str, Version] = {}
_MEMO_LIMIT = 1 << 16
_NO_TAGS: frozenset[Tag] = frozenset()


def _shared_version(version: Version) -> Version:
    """One object per version as written: a release's sdist and wheels share it.

    Keyed by the text, not by equality: ``1.2`` and ``1.2.0`` are equal but
    each is pinned, and printed, as its files spell it.
    """
    if len(_VERSIONS) >= _MEMO_LIMIT:
        _VERSIONS.clear()
    return _VERSIONS.setdefault(str(version), version)


@functools.lru_cache(maxsize=1 << 14)
def _version(text: str) -> Version | None:
    try:
        return _shared_version(Version(text))
    except InvalidVersion:
        return None


def _parse_wheel(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]]:
    """What ``parse_wheel_filename`` says, from what earlier names taught when it can.

    packaging reads a name's three parts each on its own, so a name whose name
    part and tag part each parsed before (in any wheel's name), and whose
    version parses, takes the short way; anything else (a build tag, an error)
    goes through packaging, which words the error.
    """
    stem = filename[:-4]
    plain = stem.count("-") == 4  # no build tag
    if plain:
        name_part, version_part, tag_part = stem.split("-", 2)
        name = _NAME_PARTS.get(name_part)
        known = _TAG_PARTS.get(tag_part) if name is not None else None
        version = _version(version_part) if known is not None else None
        if name is not None and known is not None and version is not None:
            return name, version, known
    name, version, _build, tags = parse_wheel_filename(filename)
    version = _shared_version(version)
    if plain:
        if len(_NAME_PARTS) >= _MEMO_LIMIT or len(_TAG_PARTS) >= _MEMO_LIMIT:
            _NAME_PARTS.clear()
            _TAG_PARTS.clear()
            _TAG_SETS.clear()
        tags = _TAG_SETS.setdefault(tags, tags)
        _NAME_PARTS[name_part] = name
        _TAG_PARTS[tag_part] = tags
    return name, version, tags


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
    raises ``ValueError`` for anything that is not such a moment. An index's
    usual spelling (``Z`` and six digits) is read by ``fromisoformat`` directly,
    on Python 3.10 too; only other spellings take the slower, rewriting way.
    """
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] == "Z" else text)
    except ValueError:
        moment = _parse_spelled_otherwise(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _parse_spelled_otherwise(text: str) -> datetime:
    """Rewrite what Python 3.10's ``fromisoformat`` refuses, then read it."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda match: "." + f"{match[1]:0<6}"[:6], text, count=1)
    if "T" in text or " " in text:
        text = _OFFSET.sub(r"\1:\2", text)
    return datetime.fromisoformat(text)


def read_name(filename: str, project: str) -> tuple[NormalizedName, Version, frozenset[Tag]]:
    """Name, version and tags of a file an index lists for ``project``.

    Raises :class:`InvalidFilename` for a name that is no distribution, that
    tries to leave its directory, or that belongs to another project.
    """
    if _escapes(filename):
        raise InvalidFilename(filename, project, "the name contains a path separator or '..'")
    try:
        if filename.endswith(".whl"):  # parse_filename's way for a wheel, its checks done
            name, version, tags = _parse_wheel(filename)
        else:
            name, version, tags = parse_filename(filename, project)
    except ValueError as exc:
        raise InvalidFilename(filename, project, str(exc), suspicious=False) from None
    wanted = _canonical(project)
    if name != wanted:
        if _own_legacy_name(filename, project):
            reason = f"its name is not {project}-<version> (a name from before the rules)"
            raise InvalidFilename(filename, project, reason, suspicious=False)
        raise InvalidFilename(filename, project, f"it is a file of {name}")
    return wanted, version, tags  # the project's one name string, not one per file


@functools.lru_cache(maxsize=1 << 12)
def _canonical(project: str) -> NormalizedName:
    return canonicalize_name(project)


class PageNames:
    """:func:`read_name` for the many names of one project's page, learning as it reads.

    A page lists thousands of files whose names share a few name and tag parts:
    a wheel whose name and tag parts, or an sdist whose name part, already read
    as the project's takes the short way (only its version is read, once per
    text); every other name goes through :func:`read_name`, which checks and
    words the error. The answers are :func:`read_name`'s.
    """

    __slots__ = ("_prefix", "_project", "_sdists", "_tags", "_wanted", "_wheels")

    def __init__(self, project: str) -> None:
        self._project, self._wanted = project, _canonical(project)
        # Per name part read as the project's, the tag parts read with it.
        self._wheels: dict[str, dict[str, frozenset[Tag]]] = {}
        self._prefix = "\0"  # the last wheel's name part and a dash (none yet)
        self._tags: dict[str, frozenset[Tag]] = {}  # the tag parts read with it
        self._sdists: set[str] = set()

    def read(self, filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]]:
        """Name, version and tags, as :func:`read_name` gives them; raises as it does."""
        if filename.startswith(self._prefix) and filename.endswith(".whl"):
            # The last wheel's name part: what follows is a version and a tag part. A
            # known tag part has two dashes and nothing that leaves a directory, and a
            # version that parses has neither, so this is a plain name of the project's.
            version_part, _, tag_part = filename[len(self._prefix) : -4].partition("-")
            tags = self._tags.get(tag_part)
            if tags is not None and (version := _version(version_part)) is not None:
                return self._wanted, version, tags
        if "/" in filename or "\\" in filename or ".." in filename or filename[:1] == ".":
            return read_name(filename, self._project)  # refused there, in its words
        if filename.endswith(".whl"):
            stem = filename[:-4]
            if stem.count("-") != 4:
                return read_name(filename, self._project)
            name_part, version_part, tag_part = stem.split("-", 2)
            known = self._wheels.get(name_part, {})
            tags = known.get(tag_part)
            if tags is not None and (version := _version(version_part)) is not None:
                self._prefix, self._tags = f"{name_part}-", known
                return self._wanted, version, tags
            found = read_name(filename, self._project)
            # The project's (the name is right), and plain: learnt for the next names.
            known = self._wheels.setdefault(name_part, known)
            known[tag_part] = found[2]
            self._prefix, self._tags = f"{name_part}-", known
            return found
        if filename.endswith(".tar.gz"):
            return self._sdist(filename, filename[:-7])
        if filename.endswith(".zip"):
            return self._sdist(filename, filename[:-4])
        return read_name(filename, self._project)

    def _sdist(self, filename: str, stem: str) -> tuple[NormalizedName, Version, frozenset[Tag]]:
        name_part, _, version_part = stem.rpartition("-")
        if name_part in self._sdists and (version := _version(version_part)) is not None:
            return self._wanted, version, _NO_TAGS
        found = read_name(filename, self._project)
        if name_part and canonicalize_name(name_part) == self._wanted:
            self._sdists.add(name_part)  # a plain name-version split gives the project
        return found


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
        name, version, tags = read_name(filename, project)
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


class Listed(NamedTuple):
    """One file as an index page lists it: a :class:`DistFile`'s fields in a plain row.

    A page keeps every file as a row (its version and tags shared with the other
    rows, its details as read); only the files of the versions a resolution
    visits become :class:`DistFile` objects (:meth:`file`). ``location`` is the
    URL as :func:`location` keeps it; :attr:`url` gives it back whole.
    """

    filename: str
    location: str
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
    def of(cls, file: DistFile) -> Listed:
        return cls(
            file.filename,
            location(file.url, file.filename),
            file.project,
            file.version,
            file.tags,
            file.sha256,
            file.requires_python,
            file.yanked,
            file.size,
            file.upload_time,
            file.metadata_sha256,
        )

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def url(self) -> str:
        if self.location.endswith("/"):
            return self.location + self.filename
        if self.location.endswith("#"):
            return self.location[:-1]
        return self.location

    def file(self) -> DistFile:
        return DistFile(
            filename=self.filename,
            url=self.url,
            project=self.project,
            version=self.version,
            tags=self.tags,
            sha256=self.sha256,
            requires_python=self.requires_python,
            yanked=self.yanked,
            size=self.size,
            upload_time=self.upload_time,
            metadata_sha256=self.metadata_sha256,
        )


@dataclass(frozen=True, slots=True)
class Keep:
    """Which files a run's pages keep whole: those some target of the run may take.

    A wheel with none of ``tags`` (the run's targets' tags together), or an sdist
    when ``sdists`` is False, is no candidate for any target: its page keeps its
    name only (:class:`Others`), which is all that saying why it was passed over takes.
    """

    tags: frozenset[Tag]
    sdists: bool

    @classmethod
    def of(cls, targets: Iterable[Target], policy: Policy) -> Keep:
        return cls(frozenset().union(*(target.tag_set for target in targets)), policy.allow_sdist)

    def whole(self, tags: frozenset[Tag]) -> bool:
        """Whether a file with ``tags`` (none for an sdist) is kept whole."""
        return not tags.isdisjoint(self.tags) if tags else self.sdists


class Others(NamedTuple):
    """The files of a page that no target of the run can take, by name only.

    ``names`` holds one file name a line, in the page's order; ``dated`` says
    whether the page gave any of them an upload time. :meth:`rows` reads the
    names again, for an error that says why each file was passed over.
    """

    project: NormalizedName
    names: str = ""
    dated: bool = False

    def rows(self) -> Iterator[Listed]:
        """Each file as a row with its name, version and tags, and nothing else."""
        for filename in self.names.split("\n") if self.names else ():
            name, version, tags = read_name(filename, self.project)
            yield Listed(filename, "", name, version, tags)


def location(url: str, filename: str) -> str:
    """A file's URL as a row keeps it: without the file's name when the URL ends with it.

    Most indexes link each file by its own name, so a row would hold the name
    twice. What is kept ends with ``/`` only then; any other URL ending with
    ``/`` or ``#`` gets a ``#`` more, which :attr:`Listed.url` takes off again.
    """
    head = url[: -len(filename)]
    if url.endswith(filename) and head.endswith("/"):
        return head
    return url + "#" if url.endswith(("/", "#")) else url


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
    """A project's files sorted for one target: per version, best file first.

    ``usable`` holds, per version, the rows the target can take, in page order.
    They become :class:`DistFile` objects, ranked, when a version is first read
    through :attr:`by_version`; why the other files were passed over is worked
    out only when :attr:`skips` is read (for an error), ``others`` (the page's
    files kept by name only) included.
    """

    target: Target
    policy: Policy
    listed: Sequence[Listed]
    usable: Mapping[Version, Sequence[Listed]]
    order: tuple[Version, ...] = ()
    others: Others | None = None
    _ranked: dict[Version, list[DistFile]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def prefer_binary(self) -> bool:
        return self.policy.formats.prefer_binary

    @property
    def by_version(self) -> Mapping[Version, list[DistFile]]:
        """Per usable version, its files, best first; each version's built when first read."""
        return _ByVersion(self)

    @property
    def skips(self) -> list[Skip]:
        """Every file the target cannot take, with the reason (see :func:`skipped`)."""
        return skipped(self.listed, self.target, self.policy, self.others)

    def files(self, version: Version) -> list[DistFile]:
        """The usable files of ``version``, best first (wheels by the target's tag order)."""
        ranked = self._ranked.get(version)
        if ranked is None:
            rows = self.usable[version]
            wheels = _selector(self.target)((row, row.tags) for row in rows if row.is_wheel)
            sdists = sorted((row for row in rows if not row.is_wheel), key=lambda row: row.filename)
            built = [row.file() for row in [*wheels, *sdists]]
            ranked = self._ranked.setdefault(version, built)
        return ranked

    def has_file(self, version: Version, *, allow_yanked: bool) -> bool:
        """Whether ``version`` has a usable file (not yanked, unless ``allow_yanked``)."""
        return any(allow_yanked or row.yanked is None for row in self.usable.get(version, ()))

    def versions(self) -> list[Version]:
        """Versions with a usable file, newest first; with a wheel first if ``prefer_binary``."""
        return list(self.order)


class _ByVersion(Mapping[Version, list[DistFile]]):
    """A selection's files by version, built only for the versions read."""

    def __init__(self, selection: Selection) -> None:
        self._selection = selection

    def __getitem__(self, version: Version) -> list[DistFile]:
        return self._selection.files(version)

    def __iter__(self) -> Iterator[Version]:
        return iter(self._selection.usable)

    def __len__(self) -> int:
        return len(self._selection.usable)


@functools.lru_cache(maxsize=64)
def _selector(target: Target) -> Any:
    """packaging's tag ranking for a target's tags, made once per target."""
    return create_compatible_tags_selector(target.tags)


def select(
    listed: Sequence[Listed], target: Target, policy: Policy, others: Others | None = None
) -> Selection:
    """Keep the rows ``target`` can use, by version; files are built when a version is read.

    ``others`` are the page's files that no target can take (see :class:`Keep`):
    never candidates, they are read only to say why they were passed over.
    """
    usable: dict[Version, list[Listed]] = {}
    rules = _Rules(target, policy)
    if policy.exclude_newer is None:
        # Then a row's fate follows from what rows share: project, wheel or sdist, tags
        # and Requires-Python; a large page has thousands of rows and a few of those.
        takes: dict[tuple[str, bool, frozenset[Tag], str | None], bool] = {}
        for row in listed:
            kind = (row.project, row.filename.endswith(".whl"), row.tags, row.requires_python)
            taken = takes.get(kind)
            if taken is None:
                taken = takes[kind] = rules.reason(row) is None
            if taken:
                usable.setdefault(row.version, []).append(row)
    else:
        for row in listed:
            if rules.reason(row) is None:
                usable.setdefault(row.version, []).append(row)
    order = sorted(usable, reverse=True)
    if policy.formats.prefer_binary:
        order.sort(key=lambda version: not any(row.is_wheel for row in usable[version]))
    return Selection(
        target=target,
        policy=policy,
        listed=listed,
        usable=usable,
        order=tuple(order),
        others=others,
    )


def select_files(files: Iterable[DistFile], target: Target, policy: Policy) -> Selection:
    """Keep the files ``target`` can use, best first per version (see :func:`select`)."""
    return select([Listed.of(file) for file in files], target, policy)


def skipped(
    listed: Iterable[Listed], target: Target, policy: Policy, others: Others | None = None
) -> list[Skip]:
    """Why each file ``target`` cannot take was passed over, in page order.

    The answer to "why was no file of this project usable": worked out when an
    error needs it, never during a resolution that succeeds. The files kept by
    name only (``others``) come after the rows, each with its name, version and
    tags (no URL or digest: no target can take it).
    """
    rules = _Rules(target, policy)
    skips = []
    for row in itertools.chain(listed, others.rows() if others else ()):
        if (why := rules.reason(row)) is not None:
            skips.append(Skip(file=row.file(), reason=why[0], detail=why[1]))
    return skips


class _Rules:
    """Whether a target takes a file, remembering what files share: tag sets, Requires-Python."""

    def __init__(self, target: Target, policy: Policy) -> None:
        self.target, self.policy = target, policy
        self._tags: dict[frozenset[Tag], bool] = {}
        self._python: dict[str, bool] = {}
        self._formats: dict[tuple[str, bool], bool] = {}

    def reason(self, row: Listed) -> tuple[SkipReason, str] | None:
        """Why ``target`` passes the file over, with the detail; None when it takes it."""
        wheel = row.is_wheel
        if wheel and not self._fits(row.tags):
            return SkipReason.PLATFORM, f"for {self.target.name}"
        if not wheel and not self.policy.allow_sdist:
            return SkipReason.SDIST, ""
        if not self._format_allowed(row.project, wheel):
            return (SkipReason.NO_BINARY, "") if wheel else (SkipReason.ONLY_BINARY, "")
        if row.requires_python and not self._python_allowed(row.requires_python):
            return SkipReason.REQUIRES_PYTHON, row.requires_python
        if self.policy.exclude_newer is not None:
            if not row.upload_time:
                return SkipReason.NO_UPLOAD_TIME, ""
            if parse_upload_time(row.upload_time) > self.policy.exclude_newer:
                return SkipReason.EXCLUDE_NEWER, row.upload_time
        return None

    def _fits(self, tags: frozenset[Tag]) -> bool:
        fits = self._tags.get(tags)
        if fits is None:
            fits = self._tags[tags] = not tags.isdisjoint(self.target.tag_set)
        return fits

    def _python_allowed(self, requires_python: str) -> bool:
        allowed = self._python.get(requires_python)
        if allowed is None:
            allowed = self._python[requires_python] = self.target.allows_python(requires_python)
        return allowed

    def _format_allowed(self, project: str, wheel: bool) -> bool:
        key = (project, wheel)
        allowed = self._formats.get(key)
        if allowed is None:
            formats = self.policy.formats
            allowed = formats.allows_wheel(project) if wheel else formats.allows_sdist(project)
            self._formats[key] = allowed
        return allowed


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
