"""Pages of the static simple index: PEP 503 HTML and PEP 691 JSON, byte for byte.

Pages are a pure function of the files they list, so identical inputs give
identical bytes. Projects are listed by normalized name; a project's files by
version (oldest first, as packaging orders them), then by file name. Links are
relative (``../../<file>`` from a project page) so the tree works from any
base: a ``file://`` URL, ``wheelhouse serve`` or any static web server.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import timezone
from typing import Any
from urllib.parse import quote

from packaging.utils import NormalizedName

from wheelhouse.model.distributions import DistFile, parse_upload_time

__all__ = [
    "API_VERSION",
    "HTML_PAGE",
    "HTML_TYPE",
    "JSON_PAGE",
    "JSON_TYPE",
    "TEXT_HTML_TYPE",
    "group_files",
    "negotiate",
    "render_pages",
    "render_project_html",
    "render_project_json",
    "render_root_html",
    "render_root_json",
]

#: PEP 700 fields (versions, size, upload-time) make this version 1.1 (PEP 629).
API_VERSION = "1.1"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
TEXT_HTML_TYPE = "text/html"
#: The file names of each directory's pages: the root's and every project's.
HTML_PAGE = "index.html"
JSON_PAGE = "index.json"
_OFFERED = (JSON_TYPE, HTML_TYPE, TEXT_HTML_TYPE)
_HTML_HEAD = (
    "<!DOCTYPE html>\n<html>\n  <head>\n"
    f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
    "    <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n"
)
_HTML_TAIL = "  </body>\n</html>\n"


def group_files(files: Iterable[DistFile]) -> dict[NormalizedName, list[DistFile]]:
    """Files by project, projects by name, each project's files in page order."""
    projects: dict[NormalizedName, list[DistFile]] = {}
    for file in files:
        projects.setdefault(file.project, []).append(file)
    return {
        name: sorted(projects[name], key=lambda file: (file.version, file.filename))
        for name in sorted(projects)
    }


def render_pages(files: Iterable[DistFile]) -> dict[str, bytes]:
    """Every page of the index, keyed by its POSIX path inside ``simple/``."""
    projects = group_files(files)
    pages = {
        HTML_PAGE: render_root_html(projects),
        JSON_PAGE: render_root_json(projects),
    }
    for name, project_files in projects.items():
        pages[f"{name}/{HTML_PAGE}"] = render_project_html(name, project_files)
        pages[f"{name}/{JSON_PAGE}"] = render_project_json(name, project_files)
    return pages


def render_root_html(names: Iterable[str]) -> bytes:
    """The PEP 503 root page listing every project."""
    links = "".join(
        f'    <a href="{quote(name)}/">{html.escape(name)}</a><br>\n' for name in sorted(names)
    )
    return (_HTML_HEAD.format(title="Simple index") + links + _HTML_TAIL).encode()


def render_root_json(names: Iterable[str]) -> bytes:
    """The PEP 691 root page listing every project."""
    projects = [{"name": name} for name in sorted(names)]
    return _dump({"meta": {"api-version": API_VERSION}, "projects": projects})


def render_project_html(name: str, files: Sequence[DistFile]) -> bytes:
    """The PEP 503 page of one project, with PEP 592, 658 and 714 attributes."""
    title = html.escape(f"Links for {name}")
    links = "".join(f"    {_html_link(file)}<br>\n" for file in files)
    return (_HTML_HEAD.format(title=title) + links + _HTML_TAIL).encode()


def render_project_json(name: str, files: Sequence[DistFile]) -> bytes:
    """The PEP 691 page of one project, with the PEP 700 fields."""
    versions = sorted({file.version for file in files})
    return _dump(
        {
            "meta": {"api-version": API_VERSION},
            "name": name,
            "files": [_json_file(file) for file in files],
            "versions": [str(version) for version in versions],
        }
    )


def _href(file: DistFile) -> str:
    return f"../../{quote(file.filename)}"


def _html_link(file: DistFile) -> str:
    href = _href(file) + (f"#sha256={file.sha256}" if file.sha256 else "")
    attributes = [f'href="{html.escape(href)}"']
    if file.requires_python:
        attributes.append(f'data-requires-python="{html.escape(file.requires_python)}"')
    if file.metadata_sha256 is not None:
        # PEP 714 renamed the attribute; older pips only read the PEP 658 name.
        value = f"sha256={file.metadata_sha256}" if file.metadata_sha256 else "true"
        attributes.append(f'data-dist-info-metadata="{value}"')
        attributes.append(f'data-core-metadata="{value}"')
    if file.yanked is not None:
        attributes.append(f'data-yanked="{html.escape(file.yanked)}"')
    return f"<a {' '.join(attributes)}>{html.escape(file.filename)}</a>"


def _json_file(file: DistFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": file.filename,
        "url": _href(file),
        "hashes": {"sha256": file.sha256} if file.sha256 else {},
    }
    if file.requires_python:
        entry["requires-python"] = file.requires_python
    if file.metadata_sha256 is not None:
        metadata = {"sha256": file.metadata_sha256} if file.metadata_sha256 else True
        entry["core-metadata"] = metadata
        entry["dist-info-metadata"] = metadata
    if file.size is not None:
        entry["size"] = file.size
    if file.upload_time:
        moment = parse_upload_time(file.upload_time).astimezone(timezone.utc)
        entry["upload-time"] = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # PEP 691: a reason string when given, else a plain boolean.
    entry["yanked"] = (file.yanked or True) if file.yanked is not None else False
    return entry


def _dump(document: Mapping[str, Any]) -> bytes:
    # Compact output keeps json on its C encoder: pages of 10,000 files stay cheap.
    return (json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def negotiate(accept: str | None) -> str | None:
    """The page format to answer an ``Accept`` header with, or None when none is acceptable.

    Follows PEP 691: the highest q-value wins, an exact media type beats a
    wildcard, the ``latest`` aliases mean v1; with no header, or among equal
    wildcards, plain ``text/html`` wins because every client reads it.
    """
    if not accept or not accept.strip():
        return TEXT_HTML_TYPE
    ranges = _parse_accept(accept)
    best: tuple[float, int, int] = (0.0, -1, -1)
    chosen: str | None = None
    for preference, offered in enumerate(reversed(_OFFERED)):
        specificity, quality = _quality(offered, ranges)
        # Among wildcards, the most widely understood format is the safest.
        rank = preference if specificity > 0 else len(_OFFERED) - preference
        if quality > 0 and (quality, specificity, rank) > best:
            best, chosen = (quality, specificity, rank), offered
    return chosen


def _quality(offered: str, ranges: Iterable[tuple[str, float]]) -> tuple[int, float]:
    """Specificity and q-value of the most specific range matching ``offered``."""
    matches = [(_match(media_range, offered), quality) for media_range, quality in ranges]
    return max((match for match in matches if match[0] >= 0), default=(-1, 0.0))


def _parse_accept(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type:
            ranges.append((media_type.lower().replace(".latest+", ".v1+"), quality))
    return ranges


def _match(media_range: str, offered: str) -> int:
    """2 for an exact match, 1 for ``type/*``, 0 for ``*/*``, -1 for no match."""
    if media_range == offered:
        return 2
    if media_range == "*/*":
        return 0
    major, _, minor = media_range.partition("/")
    return 1 if minor == "*" and offered.startswith(major + "/") else -1
