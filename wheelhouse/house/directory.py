"""The wheelhouse directory: the only module that knows the on-disk layout.

Every file is written atomically (a temporary name in the same directory, then
``os.replace``), and only when its bytes change. A build holds an exclusive
lock on the directory so two builds never interleave. A manifest or lock that
does not parse is an :class:`UnreadableFile`, never a raw parser error.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import tomli_w
from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from wheelhouse.house.errors import NotAWheelhouse, UnreadableFile, WheelhouseBusy
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.locks import (
    Lock,
    LockedRequirement,
    parse_requirements_lock,
    pylock_dict,
    render_constraints,
    render_requirements,
)
from wheelhouse.model.targets import parse_target_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if sys.platform == "win32":  # no flock there: a lock on the lock file's first byte
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        handle.seek(0)  # both calls must name the same byte
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = [
    "MANIFEST",
    "Wheelhouse",
    "atomic_copy",
    "atomic_write",
    "load_toml",
    "local_file",
    "read_lock",
    "sha256_of",
]

MANIFEST = "wheelhouse.toml"
LOCK_FILE = ".wheelhouse.lock"
FORMAT = 1
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that; True if written."""
    with contextlib.suppress(OSError):
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return True


def atomic_copy(source: Path, dest: Path, *, sha256: str | None = None, link: bool = False) -> bool:
    """Put a copy of ``source`` at ``dest`` by way of a temporary name beside it, never in part.

    ``link`` tries a hard link before copying. With ``sha256``, a copy whose
    digest differs is discarded and False returned, ``dest`` left as it was.
    """
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    temp = Path(name)
    try:
        digest = _link_or_copy(source, temp, link=link)
        if sha256 is not None and (digest or sha256_of(temp)) != sha256:
            temp.unlink()
            return False
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return True


def _link_or_copy(source: Path, temp: Path, *, link: bool) -> str | None:
    """Fill ``temp`` from ``source``; the sha256 of the bytes copied, None when linked."""
    if link:
        with contextlib.suppress(OSError):
            temp.unlink()
            os.link(source, temp)
            return None
    digest = hashlib.sha256()
    with source.open("rb") as reader, temp.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
    os.chmod(temp, 0o644)
    return digest.hexdigest()


def local_file(
    path: Path, parsed: tuple[NormalizedName, Version, frozenset[Tag]], **details: Any
) -> DistFile:
    """A distribution file on disk (its name already parsed), with its digest and size."""
    project, version, tags = parsed
    return DistFile(
        filename=path.name,
        url=path.name,
        project=project,
        version=version,
        tags=tags,
        sha256=sha256_of(path),
        size=path.stat().st_size,
        **details,
    )


def load_toml(path: Path) -> dict[str, Any]:
    """A TOML document; :class:`UnreadableFile` when it cannot be read or parsed."""
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UnreadableFile(str(path), str(exc)) from None
    return document


def read_lock(path: Path) -> list[LockedRequirement]:
    """The pins of one ``locks/<target>.txt``; :class:`UnreadableFile` when it does not parse."""
    try:
        return parse_requirements_lock(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UnreadableFile(str(path), str(exc)) from None


def _check_manifest(path: str, manifest: Mapping[str, Any]) -> None:
    """Raise :class:`UnreadableFile` unless the tables readers rely on are shaped as written."""
    for key in ("files", "built", "build-requirements"):
        table = manifest.get(key, {})
        if not isinstance(table, dict) or not all(_well_formed(key, e) for e in table.values()):
            raise UnreadableFile(path, f"[{key}] is not a table of tables as a build writes it")
    targets = manifest.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(e, dict) for e in targets):
        raise UnreadableFile(path, "[[targets]] is not a list of tables")


def _well_formed(key: str, entry: object) -> bool:
    """A table, with the fields of a ``[built]`` or ``[build-requirements]`` entry."""
    if not isinstance(entry, dict):
        return False
    if key == "built":
        return isinstance(entry.get("sdist"), str)
    files = entry.get("files") if key == "build-requirements" else []
    return isinstance(files, list) and all(isinstance(name, str) for name in files)


def _is_target_name(name: str) -> bool:
    try:
        parse_target_name(name)
    except ValueError:
        return False
    return True


def _lines(lines: Iterable[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


class Wheelhouse:
    """A wheelhouse directory: distribution files, locks, index and manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.locks_dir = root / "locks"
        self.constraints_dir = root / "constraints"
        self.manifest_path = root / MANIFEST

    @classmethod
    def open(cls, root: Path) -> Wheelhouse:
        """An existing wheelhouse, for reading."""
        if not (root / MANIFEST).is_file():
            reason = "it does not exist" if not root.exists() else f"it has no {MANIFEST}"
            raise NotAWheelhouse(str(root), reason)
        return cls(root)

    @classmethod
    def for_writing(cls, root: Path) -> Wheelhouse:
        """A wheelhouse to (re)build: new, empty, or one that already is a wheelhouse."""
        if root.exists() and not root.is_dir():
            raise NotAWheelhouse(str(root), "it is not a directory")
        if root.is_dir() and not (root / MANIFEST).is_file() and any(root.iterdir()):
            raise NotAWheelhouse(str(root))
        root.mkdir(parents=True, exist_ok=True)
        wheelhouse = cls(root)
        if not wheelhouse.manifest_path.is_file():
            # Claim the directory at once, so that a build that fails half-way
            # leaves a wheelhouse the next build may reuse, not a stranger's folder.
            wheelhouse.write_manifest({"wheelhouse": {"format": FORMAT}})
        return wheelhouse

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the directory's write lock; fail at once if another process holds it."""
        with (self.root / LOCK_FILE).open("a") as handle:
            if not _try_lock(handle):
                raise WheelhouseBusy(str(self.root))
            try:
                yield
            finally:
                _unlock(handle)

    def path(self, filename: str) -> Path:
        return self.root / filename

    def read_manifest(self) -> dict[str, Any]:
        """The manifest ({} when there is none); :class:`UnreadableFile` when malformed."""
        if not self.manifest_path.is_file():
            return {}
        manifest = load_toml(self.manifest_path)
        _check_manifest(str(self.manifest_path), manifest)
        return manifest

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        atomic_write(self.manifest_path, tomli_w.dumps(manifest).encode("utf-8"))

    def has_file(self, file: DistFile, recorded: Mapping[str, Any]) -> bool:
        """Whether ``file`` is already here, trusting the manifest's size and hash."""
        path = self.path(file.filename)
        try:
            size = path.stat().st_size
        except OSError:
            return False
        entry = recorded.get(file.filename, {})
        if file.sha256 and entry.get("sha256") == file.sha256 and entry.get("size") == size:
            return True
        return file.sha256 is not None and sha256_of(path) == file.sha256

    def write_locks(self, locks: Iterable[Lock], *, created_by: str) -> list[Path]:
        """Write every target's locks; remove locks of targets no longer built."""
        written: list[Path] = []
        names: set[str] = set()
        for lock in locks:
            name = lock.target.name
            names.add(name)
            pylock = tomli_w.dumps(pylock_dict(lock, created_by=created_by)).encode("utf-8")
            outputs = {
                self.locks_dir / f"{name}.txt": _lines(render_requirements(lock)),
                self.locks_dir / f"pylock.{name}.toml": pylock,
                self.constraints_dir / f"{name}.txt": _lines(render_constraints(lock)),
            }
            written += [path for path, data in outputs.items() if atomic_write(path, data)]
        self._remove_stale_locks(names)
        return written

    def _remove_stale_locks(self, keep: set[str]) -> None:
        for name in self.lock_targets():
            if name not in keep:
                for path in (
                    self.locks_dir / f"{name}.txt",
                    self.locks_dir / f"pylock.{name}.toml",
                    self.constraints_dir / f"{name}.txt",
                ):
                    path.unlink(missing_ok=True)

    def lock_targets(self) -> list[str]:
        """Names of the targets that have a lock; other files there (a README) are not locks."""
        if not self.locks_dir.is_dir():
            return []
        return sorted(
            path.stem
            for path in self.locks_dir.glob("*.txt")
            if not path.name.startswith(".") and _is_target_name(path.stem)
        )

    def read_pins(self) -> dict[str, dict[str, str]]:
        """Every target's pins: target name to project name to version."""
        return {
            target: {entry.name: entry.version for entry in read_lock(self.lock_path(target))}
            for target in self.lock_targets()
        }

    def lock_path(self, target: str) -> Path:
        return self.locks_dir / f"{target}.txt"

    def pylock_path(self, target: str) -> Path:
        return self.locks_dir / f"pylock.{target}.toml"

    def constraints_path(self, target: str) -> Path:
        return self.constraints_dir / f"{target}.txt"
