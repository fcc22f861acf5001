"""Reading the user's input files from disk, for the pure parsers of :mod:`wheelhouse.model`."""

from __future__ import annotations

import os
from pathlib import Path, PurePath

from wheelhouse.model import reqfile
from wheelhouse.model.reqfile import Inputs

__all__ = ["parse_inputs", "read_requirements_file"]


def read_requirements_file(path: PurePath) -> tuple[str, str]:
    """A requirements file's real path (to find loops) and its text."""
    real = Path(path).resolve()
    return str(real), real.read_text(encoding="utf-8")


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
