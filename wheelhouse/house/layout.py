"""The names of a wheelhouse's files and directories: the one place that spells them.

Paths are relative to the wheelhouse and POSIX-style (``locks/<target>.txt``),
as messages show them; :class:`~wheelhouse.house.directory.Wheelhouse` turns
them into paths. Temporary files are hidden (a leading dot) and recognisable,
so that prune and verify can tell an interrupted write from a user's file.
"""

from __future__ import annotations

import secrets

from wheelhouse.model import simple

__all__ = [
    "BYTECODE",
    "COMMIT_DIR",
    "CONSTRAINTS",
    "LOCKS",
    "LOCK_FILE",
    "MANIFEST",
    "MATRIX_CONSTRAINTS",
    "METADATA_SUFFIX",
    "PAGE_NAMES",
    "PIECES",
    "SCRATCH_DIR",
    "SIMPLE",
    "WORK_DIRS",
    "constraints_name",
    "is_temporary",
    "lock_name",
    "metadata_name",
    "metadata_owner",
    "page_name",
    "part_name",
    "pylock_name",
    "target_files",
    "temporary_affixes",
]

MANIFEST = "wheelhouse.toml"
#: The file whose lock a writing command holds.
LOCK_FILE = ".wheelhouse.lock"
LOCKS = "locks"
CONSTRAINTS = "constraints"
#: The constraints of every target in one file, each line with its targets' marker.
MATRIX_CONSTRAINTS = f"{CONSTRAINTS}/all.txt"
SIMPLE = "simple"
#: Bytecode compiled ahead: ``bytecode/<cache tag>/<wheel>.zip``, written by ``compile``.
BYTECODE = "bytecode"
#: The directories a command writes besides the distribution files themselves.
WORK_DIRS = (LOCKS, CONSTRAINTS, SIMPLE, BYTECODE)
#: What a command commits all at once, in the order a commit swaps them in: the
#: manifest last, so a manifest naming the new set means every piece is in place.
PIECES = (CONSTRAINTS, LOCKS, SIMPLE, MANIFEST)
#: Where a commit stages the new pieces and keeps its record until it is done.
COMMIT_DIR = ".wheelhouse-commit"
#: Where a write command keeps its scratch files (downloads waiting, sdist builds).
SCRATCH_DIR = ".wheelhouse-scratch"
#: A wheel's PEP 658 core metadata lies beside it, under its name plus this.
METADATA_SUFFIX = ".metadata"
#: The pages of each directory of the simple index.
PAGE_NAMES = (simple.HTML_PAGE, simple.JSON_PAGE)
_PART = ".part-"
_TEMPORARY = ".tmp"


def metadata_name(filename: str) -> str:
    """The PEP 658 metadata file of the wheel ``filename``."""
    return filename + METADATA_SUFFIX


def metadata_owner(name: str) -> str | None:
    """The wheel whose PEP 658 metadata file ``name`` is; None for any other name."""
    wheel = name.removesuffix(METADATA_SUFFIX)
    return wheel if wheel != name and wheel.endswith(".whl") else None


def lock_name(target: str) -> str:
    """The target's pip requirements lock."""
    return f"{LOCKS}/{target}.txt"


def pylock_name(target: str) -> str:
    """The target's PEP 751 lock."""
    return f"{LOCKS}/pylock.{target}.toml"


def constraints_name(target: str) -> str:
    """The target's constraints file."""
    return f"{CONSTRAINTS}/{target}.txt"


def target_files(target: str) -> tuple[str, str, str]:
    """The target's lock, PEP 751 lock and constraints, in that order."""
    return lock_name(target), pylock_name(target), constraints_name(target)


def page_name(relative: str) -> str:
    """A page of the simple index, from its path inside ``simple/``."""
    return f"{SIMPLE}/{relative}"


def temporary_affixes(name: str) -> tuple[str, str]:
    """Prefix and suffix of an atomic write's ``.<name>.<random>.tmp`` (for ``mkstemp``)."""
    return f".{name}.", _TEMPORARY


def part_name(name: str) -> str:
    """A fresh name for a download of ``name`` in progress: ``.<name>.part-<hex>``."""
    return f".{name}{_PART}{secrets.token_hex(6)}"


def is_temporary(name: str) -> bool:
    """A download's ``.<name>.part-<hex>`` or an atomic write's ``.<name>.<random>.tmp``."""
    return name.startswith(".") and (_PART in name or name.endswith(_TEMPORARY))
