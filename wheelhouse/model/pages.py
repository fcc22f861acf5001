"""Parse an index's project page (PEP 691 JSON or PEP 503 HTML) into distribution files.

Parsing is pure: fetching is the client's job. A file whose name is not a
distribution of the project asked for, or that tries to leave its directory, is
refused and returned for the caller to report; a file that is neither a wheel
nor an sdist (``.exe``, ``.egg``, ``.tar.bz2``) is ignored without a word.

A page is read once into compact rows (:class:`~wheelhouse.model.distributions.Listed`):
large projects list tens of thousands of files, of which a resolution looks at
a few versions' worth, so file objects are made later, for those only.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Protocol, TypeVar
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from wheelhouse.model.distributions import (
    DistFile,
    Keep,
    Listed,
    Others,
    PageNames,
    location,
    parse_upload_time,
)
from wheelhouse.model.errors import InvalidFilename
from wheelhouse.model.limits import MAX_JSON_DEPTH
from wheelhouse.model.strategies import FIRST_INDEX, STRATEGIES, UNSAFE_BEST_MATCH

__all__ = [
    "ACCEPT",
    "FIRST_INDEX",
    "HTML_TYPES",
    "JSON_TYPES",
    "STRATEGIES",
    "UNSAFE_BEST_MATCH",
    "ProjectPage",
    "merge_pages",
    "parse_page",
]

JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json")
HTML_TYPES = (
    "text/html",
    "application/vnd.pypi.simple.v1+html",
    "application/vnd.pypi.simple.latest+html",
)

#: How a wheel's or an sdist's name ends (what :func:`is_distribution_filename` checks).
_DISTRIBUTIONS = (".whl", ".tar.gz", ".zip")

#: Every byte but brackets and quotes: what a depth check leaves out.
_NOT_MARKS = bytes(sorted(set(range(256)) - set(b'[]{}"')))

#: What a client asks for: JSON first, HTML as the fallback every index serves.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProjectPage:
    """The files an index lists for one project, and the entries it refused.

    ``listed`` keeps every file as a row, in the page's order; :attr:`files`
    makes them all into file objects, which only a caller that needs every one
    should read. ``found`` is False when the index does not know the project.
    A page parsed for a run's targets (:class:`Keep`) keeps the files no target
    can take by name only, in ``others``: neither ``listed`` nor :attr:`files`
    holds them.
    """

    listed: tuple[Listed, ...] = ()
    refused: tuple[InvalidFilename, ...] = ()
    found: bool = True
    others: Others | None = None

    @property
    def undated(self) -> bool:
        """Whether the page lists files and gives none of them an upload time."""
        others = self.others or Others(NormalizedName(""))
        if others.dated:
            return False
        return bool(self.listed or others.names) and not any(r.upload_time for r in self.listed)

    @classmethod
    def of(cls, files: Iterable[DistFile], refused: Iterable[InvalidFilename] = ()) -> ProjectPage:
        """A page listing ``files``."""
        return cls(listed=tuple(Listed.of(file) for file in files), refused=tuple(refused))

    @property
    def files(self) -> tuple[DistFile, ...]:
        """Every file, as a file object (made anew on each read)."""
        return tuple(row.file() for row in self.listed)

    def files_of(self, version: Version) -> list[DistFile]:
        """The files of one version, in the page's order."""
        return [row.file() for row in self.listed if row.version == version]


def parse_page(
    content: bytes, content_type: str, url: str, project: str, keep: Keep | None = None
) -> ProjectPage:
    """Parse a project page served as ``content_type`` from ``url`` (the final URL).

    With ``keep``, the files it does not keep whole are kept by name only
    (:attr:`ProjectPage.others`). Raises ``ValueError`` for a content type that
    is not an index page, a malformed document, or an API version whose major
    is not 1.
    """
    media_type, params = _split_content_type(content_type)
    if media_type in JSON_TYPES:
        return _collect(_json_entries(content), project, keep, _JsonDetails(url))
    if media_type in HTML_TYPES:
        text = content.decode(params.get("charset", "utf-8"), "replace")
        return _collect(_html_entries(text, url), project, keep, _html_details)
    raise ValueError(f"unexpected content type {content_type!r}, not an index page")


def merge_pages(pages: Iterable[ProjectPage]) -> ProjectPage:
    """Merge pages of several indexes, first index first.

    A file name listed by several indexes is kept once, from the first that
    lists it: the wheelhouse is flat, so one name can only be one file.
    """
    pages = list(pages)
    if len(pages) == 1:
        return pages[0]
    listed: dict[str, Listed] = {}
    names: dict[str, None] = {}  # the files kept by name only, in order
    refused: list[InvalidFilename] = []
    found, dated, project = False, False, None
    for page in pages:
        for row in page.listed:
            if row.filename not in names:
                listed.setdefault(row.filename, row)
        if page.others is not None and page.others.names:
            project = page.others.project
            for name in page.others.names.split("\n"):
                if name not in listed and name not in names:
                    names[name] = None
                    dated = dated or page.others.dated
        refused.extend(page.refused)
        found = found or page.found
    others = Others(project, "\n".join(names), dated) if project is not None else None
    return ProjectPage(
        listed=tuple(listed.values()), refused=tuple(refused), found=found, others=others
    )


def _split_content_type(content_type: str) -> tuple[str, dict[str, str]]:
    media_type, *rest = content_type.split(";")
    params: dict[str, str] = {}
    for param in rest:
        key, _, value = param.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), params


def _check_api_version(version: str) -> None:
    """Both formats carry a version; a new major may change meanings, so refuse it."""
    if version.split(".")[0].strip() != "1":
        raise ValueError(f"unsupported index API version {version!r} (this tool reads 1.x)")


#: A file's details as a page gives them, in :class:`Listed`'s order after its tags:
#: sha256, Requires-Python, yanked, size, upload time, metadata sha256.
Details = tuple[str | None, str | None, str | None, int | None, str | None, str | None]

#: An entry of a page as its format reads it, before its details are.
_E = TypeVar("_E", contravariant=True)


class _Reader(Protocol[_E]):
    """How one format reads an entry's URL and details, once its file is known to be kept."""

    def details(self, entry: _E) -> tuple[str, Details]:
        """The file's URL and details."""

    def dated(self, entry: _E) -> bool:
        """Whether the entry gives an upload time that parses."""


def _collect(
    entries: Iterable[tuple[str, _E]], project: str, keep: Keep | None, reader: _Reader[_E]
) -> ProjectPage:
    """Turn (file name, entry) pairs into rows, names only, refusals and silence.

    A file kept by name only needs no more than its name (and whether it is
    dated): its URL and details, most of a large page's entries, are never read.
    """
    listed: list[Listed] = []
    others: list[str] = []
    dated = False
    refused: list[InvalidFilename] = []
    shared: dict[str | None, str | None] = {}  # Requires-Python and yanked texts repeat
    read = PageNames(project).read
    whole: dict[frozenset[Tag], bool] = {}  # a page's files share a few tag sets
    for filename, entry in entries:
        if not filename.endswith(_DISTRIBUTIONS) and not _escapes(filename):
            continue
        try:
            name, version, tags = read(filename)
        except InvalidFilename as exc:
            refused.append(exc)
            continue
        if keep is not None and "\n" not in filename:
            kept = whole.get(tags)
            if kept is None:
                kept = whole[tags] = keep.whole(tags)
            if not kept:
                others.append(filename)
                dated = dated or reader.dated(entry)
                continue
        file_url, details = reader.details(entry)
        sha256, requires_python, yanked, size, upload_time, metadata_sha256 = details
        requires_python = shared.setdefault(requires_python, requires_python)
        yanked = shared.setdefault(yanked, yanked)
        row = (sha256, requires_python, yanked, size, upload_time, metadata_sha256)
        listed.append(Listed(filename, location(file_url, filename), name, version, tags, *row))
    if keep is None:
        return ProjectPage(listed=tuple(listed), refused=tuple(refused))
    by_name = Others(canonicalize_name(project), "\n".join(others), dated)
    return ProjectPage(listed=tuple(listed), refused=tuple(refused), others=by_name)


def _escapes(filename: str) -> bool:
    """A name that could leave the wheelhouse is refused (and so reported) whatever it ends with."""
    return "/" in filename or "\\" in filename or ".." in filename


# PEP 691 JSON


def _json_entries(content: bytes) -> Iterator[tuple[str, Mapping[str, object]]]:
    _check_depth(content)
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed JSON index page: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise ValueError("malformed JSON index page: no list of files")
    meta = document.get("meta")
    _check_api_version(str(meta.get("api-version", "1.0")) if isinstance(meta, dict) else "1.0")
    return _drained(document.pop("files"))


def _drained(entries: list[object]) -> Iterator[tuple[str, Mapping[str, object]]]:
    """Each entry (a JSON object) with its file name, the list letting go of it as it goes.

    A large page's decoded entries weigh several times the rows made of them:
    each is freed as soon as its row exists, not when the whole page is done.
    """
    for index, entry in enumerate(entries):
        entries[index] = None
        if isinstance(entry, dict):
            yield str(entry.get("filename", "")), entry


def _check_depth(content: bytes) -> None:
    """Refuse a document nested deeper than :data:`MAX_JSON_DEPTH` before parsing it.

    ``json`` parses by recursion, so a page of a million ``[`` would exhaust the
    stack. Escaped backslashes and quotes go first (a page without a backslash
    has none, and is not copied twice for nothing), then every byte but brackets
    and quotes, then what lies between quotes (strings may hold brackets; an
    empty ``""`` is dropped at once, which keeps the pairing). Each pass then
    removes the innermost pairs, so a real page (4 deep) takes a few passes and a
    hostile one at most the limit; every step runs at C speed.
    """
    if b"\\" in content:
        content = content.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = content.translate(None, _NOT_MARKS)
    brackets = b"".join(marks.replace(b'""', b"").split(b'"')[::2])
    for _ in range(MAX_JSON_DEPTH):
        if not brackets:
            return
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    if brackets:
        raise ValueError(f"malformed JSON index page: nested more than {MAX_JSON_DEPTH} deep")


class _JsonDetails:
    """A JSON entry's URL (resolved against the page's) and details."""

    def __init__(self, url: str) -> None:
        self.url = url

    def details(self, entry: Mapping[str, object]) -> tuple[str, Details]:
        get = entry.get  # tens of thousands of entries on a large page: every look-up counts
        hashes = get("hashes")
        metadata = get("core-metadata", _ABSENT)
        details = (
            _sha256_of(hashes) if isinstance(hashes, dict) else None,
            _str_or_none(get("requires-python")),
            _json_yanked(get("yanked")),
            _int_or_none(get("size")),
            _upload_time(get("upload-time")),
            _json_metadata(get("dist-info-metadata") if metadata is _ABSENT else metadata),
        )
        return _absolute(self.url, str(get("url", ""))), details

    def dated(self, entry: Mapping[str, object]) -> bool:
        return _upload_time(entry.get("upload-time")) is not None


#: What a JSON entry holds under a key it lacks (None is JSON's null).
_ABSENT = object()


def _absolute(page_url: str, link: str) -> str:
    """The link without its fragment, resolved against the page (most links need no work).

    A relative link keeps the page's credentials, which its download needs: only
    what is written or printed drops them (:func:`wheelhouse.urls.redact`).
    """
    link = link.partition("#")[0]
    if link.startswith(("https://", "http://")):
        return link  # already absolute: urljoin would only spend time proving it
    return urljoin(page_url, link)


def _json_yanked(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return "" if value is True else None


def _json_metadata(value: object) -> str | None:
    """PEP 658/714: ``true``, or a dict of digests, means the metadata file exists."""
    if isinstance(value, dict):
        return _sha256_of(value) or ""
    return "" if value is True else None


def _sha256_of(hashes: Mapping[object, object]) -> str | None:
    digest = hashes.get("sha256")
    return digest.lower() if isinstance(digest, str) and digest else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _upload_time(value: object) -> str | None:
    """A PEP 700 upload time that parses, else None: one bad entry must not fail a run later."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parse_upload_time(value)
    except ValueError:
        return None
    return value


# PEP 503 HTML


class _AnchorParser(HTMLParser):
    """Collect every ``<a>``'s attributes, the first ``<base href>`` and the API version."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None
        self.version = "1.0"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # HTMLParser has already unescaped attribute values (&gt;= becomes >=).
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.anchors.append(values)
        elif tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "meta" and values.get("name") == "pypi:repository-version":
            self.version = values.get("content") or "1.0"


def _html_entries(text: str, url: str) -> list[tuple[str, tuple[str, Details]]]:
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    _check_api_version(parser.version)
    base = urljoin(url, parser.base) if parser.base else url
    return [_html_entry(anchor, base) for anchor in parser.anchors]


def _html_entry(anchor: Mapping[str, str | None], base: str) -> tuple[str, tuple[str, Details]]:
    file_url, fragment = urldefrag(urljoin(base, anchor["href"] or ""))
    filename = unquote(posixpath.basename(urlsplit(file_url).path))
    key = "data-core-metadata" if "data-core-metadata" in anchor else "data-dist-info-metadata"
    details = (
        _html_sha256(fragment),
        anchor.get("data-requires-python") or None,
        (anchor["data-yanked"] or "") if "data-yanked" in anchor else None,
        None,
        None,
        _html_metadata(anchor[key] or "") if key in anchor else None,
    )
    return filename, (file_url, details)


class _HtmlDetails:
    """An HTML anchor's URL and details, read with its name (an HTML page gives no upload time)."""

    def details(self, entry: tuple[str, Details]) -> tuple[str, Details]:
        return entry

    def dated(self, entry: tuple[str, Details]) -> bool:
        return entry[1][4] is not None


_html_details = _HtmlDetails()


def _html_sha256(fragment: str) -> str | None:
    name, _, digest = fragment.partition("=")
    return digest.lower() if name == "sha256" and digest else None


def _html_metadata(value: str) -> str | None:
    """PEP 714: ``true`` or ``<hash name>=<digest>`` offer the file; ``false`` does not."""
    if value.strip().lower() == "false":
        return None
    return _html_sha256(value.strip()) or ""
