"""The install engine's worker: runs inside the target interpreter, installing wheels.

The tool runs this file's source with ``python -I -c`` and talks to it in JSON
lines. The first line on stdin is the job: where ``installer`` is, the scheme,
and a share of the wheels, which the worker checks against the lock's sha256;
it answers with what each file looked like when hashed (or which differ). Then,
once every worker has checked and old versions are gone, the tool sends tasks,
one per line, to whichever worker is free, and each gets one answer: unpack a
wheel with ``installer`` (the answer lists its ``.py`` files), byte-compile a
batch of files from any wheel, or add the ``.pyc`` lines to a RECORD. Compiling
here gives the ``.pyc`` files this interpreter's magic number and pip's
timestamp checks. The end of its input ends it: before any task, having
written nothing.

A wheel's bytecode may have been compiled ahead by ``wheelhouse compile``,
another task of this worker: an archive under ``bytecode/<cache tag>/`` holding
the marshalled code of each ``.py`` file the wheel installs. Unpacking then
writes each ``.pyc`` from it, with the header this interpreter would give the
file just written (its timestamp and size), and only the files the archive
lacks are byte-compiled. An archive is used only when it names the wheel's
sha256 and this interpreter's magic number.

It imports the standard library and ``installer`` only, and nothing else from
the tool's environment, so it cannot shadow a module of the target.
"""

from __future__ import annotations

import compileall
import csv
import hashlib
import importlib
import io
import json
import marshal
import os
import secrets
import sys
import sysconfig
import warnings
import zipfile
import zlib
from importlib.machinery import PathFinder
from importlib.util import MAGIC_NUMBER, cache_from_source, module_from_spec, source_hash
from pathlib import Path
from typing import IO, Any

#: What ``INSTALLER`` says: pip lists, shows and uninstalls whatever it holds.
INSTALLER = b"wheelhouse\n"
_CHUNK = 1 << 20
#: The member of a bytecode archive that says what it was compiled from, and by what.
ABOUT = "bytecode.json"
_SCHEMES = ("purelib", "platlib")  # where pip byte-compiles ``.py`` files
_TAG = sys.implementation.cache_tag  # bytecode/<tag>/: as in __pycache__ names
_MADE: set[str] = set()  # __pycache__ directories this worker has made or found
_MAX_CODE = 64 << 20  # a member declaring more is not read (zipfile stops at what it declares)
#: What reading a damaged or hostile archive can raise: its bytecode is then not used.
_UNUSABLE = (KeyError, OSError, ValueError, zipfile.BadZipFile, zlib.error)


def main() -> int:
    """Check the share, then install each wheel sent; one JSON reply line for each."""
    replies, sys.stdout = sys.stdout, sys.stderr  # stray prints must not break the protocol
    sys.dont_write_bytecode = True  # for installer's own modules; compile_file still writes
    job = json.loads(sys.stdin.readline())
    try:
        installer = _load_installer(job["installer"])
        destination = _destination_class(installer)
        checked = [_check(wheel) for wheel in job["wheels"]]
    except Exception as exc:
        return _reply(replies, {"error": f"{type(exc).__name__}: {exc}"}, 1)
    mismatched = [found for found in checked if "actual" in found]
    _reply(replies, {"mismatched": mismatched} if mismatched else {"checked": checked}, 0)
    for line in iter(sys.stdin.readline, ""):
        task = json.loads(line)
        try:
            answer = _do(installer, destination, job, task)
        except Exception as exc:
            failure = {"error": f"{type(exc).__name__}: {exc}", "path": _subject(task)}
            return _reply(replies, failure, 1)
        _reply(replies, answer, 0)
    return 0


def _do(installer: Any, destination: type, job: Any, task: Any) -> dict[str, Any]:
    """One task: unpack a wheel, byte-compile some files, add their ``.pyc`` to a RECORD,
    or compile a wheel's bytecode ahead into an archive."""
    for kind in ("unpack", "ahead"):
        if kind in task and job.get("bytecode") and _TAG:
            name = os.path.basename(task[kind]["path"]) + ".zip"
            task[kind]["bytecode"] = os.path.join(job["bytecode"], _TAG, name)
    if "unpack" in task:
        return _install(installer, destination, job["scheme"], task["unpack"])
    if "compile" in task:
        return {"compiled": _compile(task["compile"])}
    if "ahead" in task:
        return _compile_ahead(installer, task["ahead"])
    _add_rows(task["record"], task["rows"])
    return {"recorded": task["record"]}


def _subject(task: Any) -> str:
    """The file a task's failure names: the wheel, the first source, or the RECORD."""
    for kind in ("unpack", "ahead"):
        if kind in task:
            return str(task[kind]["path"])
    return str(task["compile"][0] if "compile" in task else task["record"])


def _reply(stream: IO[str], message: dict[str, Any], status: int) -> int:
    stream.write(json.dumps(message) + "\n")
    stream.flush()
    return status


def _load_installer(location: str) -> Any:
    """``installer`` from the tool's own copy: that one directory, not the whole of it."""
    spec = PathFinder.find_spec("installer", [location])
    if spec is None or spec.loader is None:
        raise ImportError(f"no installer package in {location}")
    module = module_from_spec(spec)
    sys.modules["installer"] = module  # its submodules import it by name
    spec.loader.exec_module(module)
    importlib.import_module("installer.destinations")
    importlib.import_module("installer.records")
    importlib.import_module("installer.sources")
    importlib.import_module("installer.utils")
    return module


def _check(wheel: dict[str, Any]) -> dict[str, Any]:
    """The file's ``stat`` when hashed, and its ``actual`` sha256 if not the lock's."""
    digest = hashlib.sha256()
    with open(wheel["path"], "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
        stat = _identity(os.fstat(handle.fileno()))
    found: dict[str, Any] = {"path": wheel["path"], "stat": stat}
    if digest.hexdigest() != wheel["sha256"]:
        found["actual"] = digest.hexdigest()
    return found


def _identity(stat: os.stat_result) -> list[int]:
    """Enough of a file's status to see it replaced or rewritten after it was hashed."""
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns]


def _install(
    installer: Any, destination: type, scheme: dict[str, str], wheel: Any
) -> dict[str, Any]:
    """Unpack one wheel, if it is still the file whose hash was checked (by any worker).

    Its RECORD lists what was written; the answer names it, and the ``.py``
    files to byte-compile with the RECORD line of each one's ``.pyc``.
    """
    with open(wheel["path"], "rb") as handle:
        if _identity(os.fstat(handle.fileno())) != wheel["stat"]:
            raise OSError(f"{wheel['path']} changed after its hash was checked")
        with zipfile.ZipFile(handle) as archive:
            source = installer.sources.WheelFile(archive)
            paths = dict(scheme, headers=os.path.join(scheme["headers"], source.distribution))
            target = destination(
                scheme_dict=paths,
                interpreter=sys.executable,
                script_kind=_script_kind(),
                hash_algorithm="sha256",
                bytecode_optimization_levels=(),
                overwrite_existing=True,
            )
            installer.install(source, target, _metadata(wheel))
    sources, ahead = _from_archive(wheel, target.sources)
    return {
        "installed": wheel["path"],
        "record": target.record,
        "sources": sources,
        "precompiled": ahead,
    }


def _from_archive(wheel: dict[str, Any], sources: list[Any]) -> tuple[list[Any], list[str]]:
    """The sources still to compile, and the RECORD lines of those written from bytecode.

    Without a usable archive every source is left to compile; a member that
    does not read back (a damaged archive) leaves its source to compile too.
    """
    archive = _archive_of(wheel)
    if archive is None:
        return sources, []
    left, written = [], []
    with archive:
        for source in sources:
            path, line, _size, key = source
            try:
                _write_pyc(path, _member(archive, key))
            except _UNUSABLE:
                left.append(source)
                continue
            written.append(line)
    return left, written


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes; ``KeyError`` when absent or declaring more than any module's code."""
    if archive.getinfo(name).file_size > _MAX_CODE:
        raise KeyError(name)
    return archive.read(name)


def _archive_of(wheel: dict[str, Any]) -> zipfile.ZipFile | None:
    """The wheel's bytecode archive for this interpreter, if there is one compiled from it."""
    where = wheel.get("bytecode")
    if not where:
        return None
    try:
        archive = zipfile.ZipFile(where)
    except _UNUSABLE:
        return None
    try:
        about = json.loads(_member(archive, ABOUT))
    except _UNUSABLE:
        about = None
    if (
        isinstance(about, dict)
        and about.get("sha256") == wheel["sha256"]
        and about.get("magic") == MAGIC_NUMBER.hex()
    ):
        return archive
    archive.close()
    return None


def _write_pyc(path: str, code: bytes) -> None:
    """``path``'s ``.pyc`` from its marshalled ``code``, with the header py_compile would write.

    As py_compile, a checked hash of the source when ``SOURCE_DATE_EPOCH`` is
    set, else the source's timestamp and size as they are now.
    """
    if os.environ.get("SOURCE_DATE_EPOCH"):
        with open(path, "rb") as handle:
            header = (3).to_bytes(4, "little") + source_hash(handle.read())
    else:
        stat = os.stat(path)
        header = (0).to_bytes(4, "little") + (
            (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
            + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
        )
    target = cache_from_source(path)
    folder = os.path.dirname(target)
    if folder not in _MADE:
        os.makedirs(folder, exist_ok=True)
        _MADE.add(folder)
    partial = f"{target}.{os.getpid()}.tmp"
    with open(partial, "wb") as handle:
        handle.write(MAGIC_NUMBER + header + code)
    os.replace(partial, target)


def _compile_ahead(installer: Any, wheel: dict[str, Any]) -> dict[str, Any]:
    """Write the archive of a checked wheel's bytecode, unless one from it is already there.

    ``installer`` reads the wheel, so each ``.py`` file gets the scheme and path
    it would be installed under; one that does not compile is listed as such
    (pip leaves it without a ``.pyc`` as well). Written beside its place and
    renamed into it, so an archive is whole or absent.
    """
    out = wheel["bytecode"]
    existing = _archive_of(wheel)
    if existing is not None:
        existing.close()
        return {"ahead": out, "compiled": None}
    with open(wheel["path"], "rb") as handle:
        if _identity(os.fstat(handle.fileno())) != wheel["stat"]:
            raise OSError(f"{wheel['path']} changed after its hash was checked")
        with zipfile.ZipFile(handle) as archive:
            found = _Compiled.of(installer, archive)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    folder, name = os.path.split(out)
    partial = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    about = {"sha256": wheel["sha256"], "magic": MAGIC_NUMBER.hex(), "failed": found.failed}
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as written:
            written.writestr(zipfile.ZipInfo(ABOUT), json.dumps(about, sort_keys=True))
            for key in sorted(found.code):
                info = zipfile.ZipInfo(key)
                info.compress_type = zipfile.ZIP_DEFLATED
                written.writestr(info, found.code[key])
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return {"ahead": out, "compiled": len(found.code)}


class _Compiled:
    """The marshalled code of a wheel's ``.py`` files, keyed ``<scheme>/<path>``."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}
        self.failed: list[str] = []

    @classmethod
    def of(cls, installer: Any, archive: zipfile.ZipFile) -> _Compiled:
        found = cls()
        source = installer.sources.WheelFile(archive)
        collector = _collecting_class(installer)(found)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            installer.install(source, collector, {})
        return found

    def add(self, scheme: str, path: str, data: bytes) -> None:
        key = f"{scheme}/{path}"
        try:
            code = compile(data, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            self.failed.append(key)
            return
        self.code[key] = marshal.dumps(code)


def _collecting_class(installer: Any) -> type:
    """A destination that writes nothing: it compiles the ``.py`` files pip would compile."""
    entries_of = installer.records.RecordEntry

    class Collecting(installer.destinations.SchemeDictionaryDestination):  # type: ignore[misc]
        def __init__(self, found: _Compiled) -> None:
            names = ("purelib", "platlib", "headers", "scripts", "data")
            super().__init__(
                scheme_dict={name: os.sep + name for name in names},
                interpreter=sys.executable,
                script_kind=_script_kind(),
            )
            self.found = found

        def write_to_fs(
            self, scheme: str, path: str, stream: IO[bytes], is_executable: bool
        ) -> Any:
            data = stream.read()
            if scheme in _SCHEMES and path.endswith(".py"):
                self.found.add(scheme, path, data)
            return entries_of(path, None, len(data))

        def write_script(self, name: str, module: str, attr: str, section: str) -> Any:
            return entries_of(name, None, None)  # a launcher: nothing to compile

        def finalize_installation(self, scheme: str, record_file_path: str, records: Any) -> None:
            list(records)

    return Collecting


def _compile(sources: list[str]) -> list[str]:
    """Byte-compile each file as pip does; those that compiled (one that does not stays as is)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [path for path in sources if compileall.compile_file(path, force=True, quiet=2)]


def _add_rows(record: str, rows: list[str]) -> None:
    """Add the ``.pyc`` lines (no hash, no size: the interpreter may rewrite them) to a RECORD.

    Written beside it and renamed over it, so that the RECORD is always whole.
    """
    with open(record, encoding="utf-8", newline="") as handle:
        lines = [tuple(line) for line in csv.reader(handle)]
    lines = sorted(lines + [(row, "", "") for row in rows])
    partial = f"{record}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(lines)  # pip's dialect, CRLF included
    os.replace(partial, record)


def _metadata(wheel: dict[str, Any]) -> dict[str, bytes]:
    """``INSTALLER``, ``REQUESTED`` when asked for, and PEP 610 provenance as pip writes it."""
    digest = wheel["sha256"]
    origin = {
        "archive_info": {"hash": "sha256=" + digest, "hashes": {"sha256": digest}},
        "url": wheel["url"],
    }
    files = {"INSTALLER": INSTALLER, "direct_url.json": json.dumps(origin, sort_keys=True).encode()}
    if wheel["requested"]:
        files["REQUESTED"] = b""
    return files


def _script_kind() -> str:
    """The launcher ``installer`` writes for entry points on this platform."""
    if os.name != "nt":
        return "posix"
    platform = sysconfig.get_platform()  # win32, win-amd64, win-arm64, win-arm32
    return {"win32": "win-ia32", "win-arm32": "win-arm"}.get(platform, platform)


def _destination_class(installer: Any) -> type:
    """``installer``'s destination, safe beside other workers, writing RECORDs as pip does."""
    entries_of, hash_of = installer.records.RecordEntry, installer.records.Hash
    copy_hashing = installer.utils.copyfileobj_with_hashing
    make_executable = installer.utils.make_file_executable
    made: set[str] = set()  # directories this worker has made or found

    class Destination(installer.destinations.SchemeDictionaryDestination):  # type: ignore[misc]
        def write_to_fs(
            self, scheme: str, path: str, stream: IO[bytes], is_executable: bool
        ) -> Any:
            target = _inside(self.scheme_dict[scheme], path)
            parent = os.path.dirname(target)
            if parent not in made:  # one mkdir call a directory, not one a file
                # Another worker may create the same namespace directory at the same moment.
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            if os.path.lexists(target):  # never write through a hard link into some cache
                os.unlink(target)
            with open(target, "wb") as handle:
                digest, size = copy_hashing(stream, handle, "sha256")
            if is_executable:
                make_executable(Path(target))
            return entries_of(path, hash_of("sha256", digest), size)

        # The argument names are installer's: it passes them by keyword.
        def finalize_installation(self, scheme: str, record_file_path: str, records: Any) -> None:
            entries = list(records)
            prefixes = {where: _prefix(self, scheme, where) for where in self.scheme_dict}
            rows = sorted(entry.to_row(prefixes[where]) for where, entry in entries)
            with io.StringIO(newline="") as text:
                csv.writer(text).writerows(rows)  # pip's dialect, CRLF included
                data = text.getvalue().encode("utf-8")
            self.write_to_fs(scheme, record_file_path, io.BytesIO(data), is_executable=False)
            self.record = _inside(self.scheme_dict[scheme], record_file_path)
            self.sources = [_source(self, prefixes, *item) for item in entries]
            self.sources = [found for found in self.sources if found]

    return Destination


def _source(
    destination: Any, prefixes: dict[str, str | None], scheme: str, entry: Any
) -> list[Any]:
    """``[path, pyc's RECORD line, size, key]`` for a ``.py`` file pip would compile, else ``[]``.

    The RECORD lists the ``.pyc`` (under ``prefixes[scheme]``) so that uninstalling
    removes it; ``key`` names its code in a bytecode archive.
    """
    if scheme not in _SCHEMES or not entry.path.endswith(".py"):
        return []
    path = _inside(destination.scheme_dict[scheme], entry.path)
    folder = entry.path.rpartition("/")[0]  # RECORD paths use "/"; -I leaves no pycache prefix
    compiled = os.path.basename(cache_from_source(path))
    line = (prefixes[scheme] or "") + "/".join(filter(None, (folder, "__pycache__", compiled)))
    return [path, line, entry.size or 0, f"{scheme}/{entry.path}"]


def _inside(root: str, path: str) -> str:
    """``path`` of a wheel under ``root``; ``ValueError`` if it would land outside.

    Plain string work: ``installer``'s own check builds several ``Path`` objects
    per file, which is a good part of unpacking a wheel of thousands of files.
    """
    base = os.path.abspath(root)
    target = os.path.abspath(os.path.join(base, path))
    if not target.startswith(base.rstrip(os.sep) + os.sep):
        raise ValueError(f"{path} would be written outside of the target directory {root}")
    return target


def _prefix(destination: Any, root: str, scheme: str) -> str | None:
    """How a path of ``scheme`` is written in a RECORD of ``root``: relative, as pip does."""
    paths: dict[str, str] = destination.scheme_dict
    relative = os.path.relpath(paths[scheme], paths[root])
    return None if relative == os.curdir else relative.replace(os.sep, "/") + "/"


if __name__ == "__main__":
    sys.exit(main())
