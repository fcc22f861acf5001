"""Reading the user's input files from disk, for the pure parsers of :mod:`wheelhouse.model`."""

from __future__ import annotations

import os
from pathlib import Path, PurePath

from wheelhouse.model import reqfile
from wheelhouse.model.reqfile import Inputs

__all__ = ["MAX_INPUT_FILE", "parse_inputs", "read_requirements_file"]

#: The largest input file read: thousands of pins fit in a small part of it.
MAX_INPUT_FILE = 16 * 1024 * 1024


def read_requirements_file(path: PurePath) -> tuple[str, str]:
    """A requirements file's real path (to find loops) and its text, read with a cap.

    Raises ``OSError`` for a file larger than :data:`MAX_INPUT_FILE` (or endless,
    such as ``/dev/zero``) and ``UnicodeDecodeError`` for one that is not UTF-8.
    """
    real = Path(path).resolve()
    with real.open("rb") as stream:
        data = stream.read(MAX_INPUT_FILE + 1)
    if len(data) > MAX_INPUT_FILE:
        raise OSError(f"it is larger than {MAX_INPUT_FILE // (1024 * 1024)} MiB")
    return str(real), data.decode("utf-8")


def parse_inputs(
    requirements: list[str], requirement_files: list[Path], constraint_files: list[Path]
) -> Inputs:
    """Command-line requirements and requirement/constraint files, read from disk."""
    return reqfile.parse_inputs(
        requirements,
        list(requirement_files),
        list(constraint_files),
        read=read_requirements_file,
        environ=os.environ,
    )
