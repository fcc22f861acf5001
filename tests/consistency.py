"""What a reader of a wheelhouse may rely on at any moment, checked on the tree as it is.

A write command commits all or nothing. :func:`check_consistent` judges a
directory left by a command that failed, ran out of space or was killed, given
a :class:`Snapshot` of the directory before the command and one of the result
of a run that was never interrupted:

- the *set* (manifest, ``locks/``, ``constraints/``, ``simple/``) is byte for
  byte the old one or the new one, never a mix (the manifest's ``created``
  time aside, which no two runs share);
- every other file with no hidden part in its path (distribution files,
  ``.metadata`` files) has the bytes of its old or new version: never a
  partial file under a final name, never a leftover under a visible name;
- a reader finds every file a lock names, with that hash; every link of every
  page leads to a file or page that is there, with the hash the link gives; and
  every file the manifest records, with its size and hash.

Hidden entries (a name starting with a dot anywhere in the path: temporary
files, a staging directory, the write lock) are for the next command to finish
or remove; :func:`leftovers` and :func:`differences` judge the tree after it.

The set is judged as the next command sees it: a commit decided before the kill
(its record written) counts as done, each piece read where the record says it
is, live or still staged. That is the on-disk protocol a reader of ours follows,
spelled out here independently of the code that writes it. Readers that know
nothing of it (pip with a lock, a web server over ``simple/``) are judged on the
live tree by :func:`reader_problems`.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = [
    "MANIFEST",
    "Snapshot",
    "check_consistent",
    "differences",
    "leftovers",
    "reader_problems",
    "snapshot",
]

MANIFEST = "wheelhouse.toml"
COMMIT_DIR = ".wheelhouse-commit"
#: Directories whose files belong to the set that must switch as a whole.
SET_DIRECTORIES = ("locks", "constraints", "simple")
_CREATED = re.compile(rb"(?m)^created = .*\n")
_LOCK_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
_SHOWN = 4


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """A directory as readers see it, and its hidden entries.

    ``visible`` is the set (manifest without its ``created`` line, locks,
    constraints, pages) by relative POSIX path; ``files`` every other file with
    no hidden part, by sha256; ``dirs`` the directories with no hidden part;
    ``hidden`` the topmost hidden entries (not looked into).
    """

    visible: Mapping[str, bytes] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    dirs: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()


def snapshot(root: Path) -> Snapshot:
    """The directory as it is now; an empty snapshot when it does not exist."""
    visible: dict[str, bytes] = {}
    files: dict[str, str] = {}
    dirs: set[str] = set()
    hidden: set[str] = set()
    for relative, path in _walk(root, hidden):
        if path.is_dir():
            dirs.add(relative)
        elif relative.split("/")[0] not in (MANIFEST, *SET_DIRECTORIES):
            files[relative] = _sha256(path.read_bytes())
    for piece in (MANIFEST, *SET_DIRECTORIES):
        visible.update(_piece(root, piece))
    return Snapshot(visible=visible, files=files, dirs=frozenset(dirs), hidden=frozenset(hidden))


def _piece(root: Path, piece: str) -> dict[str, bytes]:
    """One piece of the set, by relative path, where a decided commit says it is."""
    where = _committed(root, piece)
    if where.is_file():
        return {piece: _CREATED.sub(b"", where.read_bytes()) if piece == MANIFEST else b""}
    found: dict[str, bytes] = {}
    if where.is_dir():
        for relative, path in _walk(where, set()):
            if path.is_file():
                found[f"{piece}/{relative}"] = path.read_bytes()
    return found


def _committed(root: Path, piece: str) -> Path:
    """The live piece, or its staged copy when a decided commit has not swapped it in yet."""
    try:
        record = json.loads((root / COMMIT_DIR / "COMMIT").read_bytes())
        inode = record["pieces"][piece]
    except (OSError, ValueError, KeyError, TypeError):
        return root / piece
    staged = root / COMMIT_DIR / "new" / piece
    if _inode(root / piece) != inode and _inode(staged) == inode:
        return staged
    return root / piece


def _inode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


def _walk(root: Path, hidden: set[str]) -> Iterator[tuple[str, Path]]:
    """Entries with no hidden part, through symlinks as a reader follows them; notes hidden ones."""
    if not root.is_dir():
        return
    for top, subdirs, names in os.walk(root, followlinks=True):
        base = Path(top).relative_to(root).as_posix()
        for name in sorted([*subdirs, *names]):
            relative = name if base == "." else f"{base}/{name}"
            if name.startswith("."):
                hidden.add(relative)
            else:
                yield relative, Path(top) / name
        subdirs[:] = [name for name in subdirs if not name.startswith(".")]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_consistent(
    root: Path, before: Snapshot, after: Snapshot, *, tolerate: Collection[str] = ()
) -> list[str]:
    """Every way the tree at ``root`` breaks the promise, one line each; [] when it holds.

    ``tolerate`` lists reader problems the starting state already had (files
    removed by hand from a directory that ``index`` then rewrites): a command
    must not add any, but it cannot be blamed for those.
    """
    now = snapshot(root)
    readers = [problem for problem in reader_problems(root) if problem not in tolerate]
    return _set_problems(now, before, after) + _file_problems(now, before, after) + readers


def _set_problems(now: Snapshot, before: Snapshot, after: Snapshot) -> list[str]:
    if now.visible in (before.visible, after.visible):
        return []
    groups: dict[str, list[str]] = {"old": [], "new": [], "neither": []}
    for path in sorted({*now.visible, *before.visible, *after.visible}):
        old, new, current = before.visible.get(path), after.visible.get(path), now.visible.get(path)
        if old == new == current:
            continue
        kind = "old" if current == old else "new" if current == new else "neither"
        groups[kind].append(path + (" (absent)" if current is None else ""))
    described = [f"{kind}: {_some(paths)}" for kind, paths in groups.items() if paths]
    return ["mixed set, neither wholly old nor wholly new; " + "; ".join(described)]


def _some(paths: list[str]) -> str:
    more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    return ", ".join(paths[:_SHOWN]) + more


def _file_problems(now: Snapshot, before: Snapshot, after: Snapshot) -> list[str]:
    problems = []
    for path, digest in sorted(now.files.items()):
        known = {before.files.get(path), after.files.get(path)} - {None}
        if not known:
            problems.append(f"{path}: a file under a visible name that no run leaves there")
        elif digest not in known:
            problems.append(f"{path}: under a final name with bytes neither old nor new (partial)")
    return problems


def reader_problems(root: Path) -> list[str]:
    """What a reader would trip on: dangling links and lock entries, records that lie."""
    if not root.is_dir():
        return []
    reader = _Reader(root)
    return [
        *reader.manifest(),
        *reader.requirement_locks(),
        *reader.pylocks(),
        *reader.html_pages(),
        *reader.json_pages(),
    ]


class _Reader:
    """Reads a wheelhouse as pip, uv, a web server and the next command would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._resolved = root.resolve()
        self._digests: dict[Path, str | None] = {}

    def digest(self, path: Path) -> str | None:
        """The sha256 of a regular file, None when there is none."""
        if path not in self._digests:
            self._digests[path] = _sha256(path.read_bytes()) if path.is_file() else None
        return self._digests[path]

    def local_digests(self) -> set[str]:
        return {
            digest
            for path in self.root.iterdir()
            if not path.name.startswith(".") and (digest := self.digest(path))
        }

    def manifest(self) -> list[str]:
        path = self.root / MANIFEST
        if not path.is_file():
            return []
        try:
            files = tomllib.loads(path.read_text("utf-8")).get("files", {})
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return [f"{MANIFEST}: does not parse ({exc})"]
        problems = []
        for name, entry in sorted(files.items()):
            target = self.root / name
            if self.digest(target) is None:
                problems.append(f"{MANIFEST} records {name}, which is missing")
            elif entry.get("sha256") != self.digest(target):
                problems.append(f"{MANIFEST} records {name} with another sha256 than it has")
            elif entry.get("size") not in (None, target.stat().st_size):
                problems.append(f"{MANIFEST} records {name} with another size than it has")
        return problems

    def requirement_locks(self) -> list[str]:
        present = self.local_digests()
        problems = []
        for lock in sorted(self.root.glob("locks/*.txt")):
            hashes = _LOCK_HASH.findall(lock.read_text("utf-8", "replace"))
            problems += [
                f"locks/{lock.name} names sha256:{digest[:12]}…, which no file here has"
                for digest in hashes
                if digest not in present
            ]
        return problems

    def pylocks(self) -> list[str]:
        problems = []
        for lock in sorted(self.root.glob("locks/pylock.*.toml")):
            try:
                document = tomllib.loads(lock.read_text("utf-8"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"locks/{lock.name}: does not parse ({exc})")
                continue
            for entry in _pylock_files(document):
                where = f"locks/{lock.name} names {entry.get('path')}"
                problems += self._target(lock.parent, str(entry.get("path", "")), where, entry)
        return problems

    def _target(self, base: Path, link: str, where: str, entry: Mapping[str, Any]) -> list[str]:
        """Problems of one file a lock or page points at, relative to ``base``."""
        target = Path(posixpath.normpath((base / link).as_posix()))
        if self._resolved not in [target.resolve(), *target.resolve().parents]:
            return [f"{where}: outside the wheelhouse"]
        digest = self.digest(target)
        if digest is None:
            return [f"{where}: missing"]
        wanted = entry.get("hashes", {}).get("sha256")
        return [f"{where}: another sha256 than it has"] if wanted not in (None, digest) else []

    def html_pages(self) -> list[str]:
        problems = []
        for page in sorted(self.root.glob("simple/**/index.html")):
            where = page.relative_to(self.root).as_posix()
            for href, attributes in _anchors(page.read_text("utf-8", "replace")):
                problems += self._html_link(page.parent, where, href, attributes)
        return problems

    def _html_link(
        self, base: Path, where: str, href: str, attributes: Mapping[str, str | None]
    ) -> list[str]:
        url, fragment = urldefrag(unquote(href))
        if url.endswith("/"):  # a project page: a web server answers with its index.html
            return self._target(base, url + "index.html", f"{where} links to {url}", {})
        hashes = dict([fragment.split("=", 1)]) if "=" in fragment else {}
        problems = self._target(base, url, f"{where} links to {url}", {"hashes": hashes})
        metadata = attributes.get("data-core-metadata") or attributes.get("data-dist-info-metadata")
        if metadata and metadata != "false":
            meta_hashes = dict([metadata.split("=", 1)]) if "=" in metadata else {}
            link = f"{where} links to {url}.metadata"
            problems += self._target(base, url + ".metadata", link, {"hashes": meta_hashes})
        return problems

    def json_pages(self) -> list[str]:
        problems = []
        for page in sorted(self.root.glob("simple/**/index.json")):
            where = page.relative_to(self.root).as_posix()
            try:
                document = json.loads(page.read_bytes())
            except ValueError as exc:
                problems.append(f"{where}: does not parse ({exc})")
                continue
            for project in document.get("projects", []):
                url = f"{canonicalize_name(project['name'])}/index.json"
                problems += self._target(page.parent, url, f"{where} lists {project['name']}", {})
            for file in document.get("files", []):
                problems += self._json_file(page.parent, where, file)
        return problems

    def _json_file(self, base: Path, where: str, file: Mapping[str, Any]) -> list[str]:
        url = urldefrag(unquote(file["url"]))[0]
        problems = self._target(base, url, f"{where} links to {url}", file)
        metadata = file.get("core-metadata") or file.get("dist-info-metadata")
        if metadata:
            hashes = metadata if isinstance(metadata, dict) else {}
            link = f"{where} links to {url}.metadata"
            problems += self._target(base, url + ".metadata", link, {"hashes": hashes})
        return problems


def _pylock_files(document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every wheel and sdist entry of a PEP 751 lock."""
    for package in document.get("packages", []):
        yield from package.get("wheels", [])
        if "sdist" in package:
            yield package["sdist"]


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.anchors.append((str(attributes["href"]), attributes))


def _anchors(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _AnchorParser()
    parser.feed(text)
    return parser.anchors


def leftovers(now: Snapshot, clean: Snapshot) -> list[str]:
    """Hidden entries a run that was never interrupted does not leave."""
    return sorted(now.hidden - clean.hidden)


def differences(now: Snapshot, clean: Snapshot) -> list[str]:
    """How ``now`` differs from a clean run's result, one line per kind; [] when equal."""
    problems = []
    if now.visible != clean.visible:
        changed = _changed(now.visible, clean.visible)
        problems.append(f"set differs from a run never interrupted: {_some(changed)}")
    if now.files != clean.files:
        problems.append(f"files differ from a clean run: {_some(_changed(now.files, clean.files))}")
    if now.dirs != clean.dirs:
        problems.append(f"directories differ: {_some(sorted(now.dirs ^ clean.dirs))}")
    if found := leftovers(now, clean):
        problems.append(f"leftovers: {_some(found)}")
    return problems


def _changed(now: Mapping[str, object], clean: Mapping[str, object]) -> list[str]:
    return [
        path + ("" if path in now else " (missing)") + ("" if path in clean else " (extra)")
        for path in sorted({*now, *clean})
        if now.get(path) != clean.get(path)
    ]
