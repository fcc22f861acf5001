"""Bytecode compiled ahead: ``bytecode/<cache tag>/<wheel>.zip``, as prune and verify see it.

Each archive holds ``bytecode.json`` (the sha256 of the wheel it was compiled
from, the interpreter's magic number, the files that did not compile) and the
marshalled code of each ``.py`` file, named ``<scheme>/<path>``. The install
worker writes and reads them with the standard library alone; this module only
finds them and tells which wheel each was compiled from.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from wheelhouse.house.layout import BYTECODE, is_temporary

__all__ = ["ABOUT", "MAX_ABOUT", "Archive", "archives"]

#: The member that says what an archive was compiled from (the worker spells it too).
ABOUT = "bytecode.json"
#: Its largest size worth reading (the worker's bound on any member it reads).
MAX_ABOUT = 64 << 20
_SUFFIX = ".zip"


@dataclass(frozen=True, kw_only=True, slots=True)
class Archive:
    """One archive: its path relative to the wheelhouse, and the wheel it belongs to."""

    relative: str
    wheel: str
    path: Path

    def compiled_from(self) -> str | None:
        """The sha256 of the wheel it was compiled from; None if it does not read."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                if archive.getinfo(ABOUT).file_size > MAX_ABOUT:
                    return None
                about = json.loads(archive.read(ABOUT))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, zlib.error):
            return None
        digest = about.get("sha256") if isinstance(about, dict) else None
        return digest if isinstance(digest, str) else None

    def damaged(self) -> str | None:
        """The first member whose checksum fails, or why the archive does not read; else None."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                bad = archive.testzip()
        except (OSError, zipfile.BadZipFile, zlib.error) as exc:
            return str(exc) or type(exc).__name__
        return f"{bad} does not match its checksum" if bad else None


def archives(root: Path) -> list[Archive]:
    """Every archive under ``bytecode/``, sorted; temporary files are not archives."""
    found = []
    for path in sorted((root / BYTECODE).glob(f"*/*{_SUFFIX}")):
        if path.is_file() and not is_temporary(path.name):
            relative = path.relative_to(root).as_posix()
            found.append(Archive(relative=relative, wheel=path.name[: -len(_SUFFIX)], path=path))
    return found
