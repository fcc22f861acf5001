"""``wheelhouse diff``: the pins of two wheelhouses or two lock files, compared."""

from __future__ import annotations

from pathlib import Path

from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.errors import NotALockSource, NotAWheelhouse, UnreadableFile
from wheelhouse.house.layout import MANIFEST
from wheelhouse.house.reading import lock_pins
from wheelhouse.model.diff import TargetDiff, diff_pins

__all__ = ["diff_sources", "read_pins"]


def read_pins(path: Path) -> dict[str, dict[str, str]]:
    """Target -> project -> version from a wheelhouse directory or one ``<target>.txt`` lock."""
    if path.is_dir():
        try:
            return Wheelhouse.open(path).read_pins()
        except NotAWheelhouse:
            raise NotALockSource(str(path), f"a directory without {MANIFEST}") from None
    if not path.exists():
        raise NotALockSource(str(path), "no such file or directory")
    if path.suffix != ".txt":
        raise NotALockSource(str(path), "a lock file is named <target>.txt")
    try:
        return {path.stem: lock_pins(path)}
    except UnreadableFile as exc:
        raise NotALockSource(str(path), f"it does not read as a lock ({exc.reason})") from None


def diff_sources(old: Path, new: Path) -> list[TargetDiff]:
    """The pin diff of two wheelhouses or lock files; two lock files count as one target."""
    before, after = read_pins(old), read_pins(new)
    if old.is_file() and new.is_file():
        # Comparing two files by hand means one target, whatever their names say.
        before = {target: pins for target in after for pins in before.values()}
    return diff_pins(before, after)
