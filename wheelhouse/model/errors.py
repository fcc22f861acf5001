"""Errors of the values themselves: a requirement line, a file name, a target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wheelhouse.errors import WheelhouseError

__all__ = [
    "DynamicMetadata",
    "InputFileError",
    "InvalidFilename",
    "InvalidLimit",
    "NoMatchingTarget",
    "RequirementFileError",
]


@dataclass(eq=False)
class RequirementFileError(WheelhouseError):
    """A requirement or constraint line that does not parse."""

    path: str
    lineno: int
    line: str
    reason: str
    advice: str = field(default="", kw_only=True)

    def __str__(self) -> str:
        if not self.lineno:  # the file as a whole: unreadable, too large, a loop
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.lineno}: invalid line {self.line!r}: {self.reason}"

    @property
    def hint(self) -> str:
        return self.advice or "fix the line; the syntax is pip's requirements file format"


@dataclass(eq=False)
class InvalidFilename(WheelhouseError):
    """A file name from an index that is not a distribution of the project asked for."""

    filename: str
    project: str
    reason: str
    # A path or another project's file is worth a warning; an old file whose
    # name predates today's rules (the public index keeps many) is not.
    suspicious: bool = field(default=True, kw_only=True)

    def __str__(self) -> str:
        return f"refused file {self.filename!r} listed for {self.project}: {self.reason}"

    @property
    def hint(self) -> str:
        return "the index serves a file it should not; the file was refused"


@dataclass(eq=False)
class NoMatchingTarget(WheelhouseError):
    """An interpreter that no target of the wheelhouse serves."""

    interpreter: str
    interpreter_tag: str
    targets: Sequence[str]

    def __post_init__(self) -> None:
        self.targets = list(self.targets)
        super().__post_init__()

    def __str__(self) -> str:
        have = ", ".join(self.targets) if self.targets else "none"
        return (
            f"no target of the wheelhouse matches {self.interpreter} "
            f"({self.interpreter_tag}); the wheelhouse has: {have}"
        )

    @property
    def hint(self) -> str:
        return "build the wheelhouse for this interpreter (wheelhouse build --python ...)"


@dataclass(eq=False)
class InputFileError(WheelhouseError):
    """A ``pyproject.toml`` or a lock file that cannot be taken as input, and why."""

    path: str
    reason: str
    advice: str = field(default="", kw_only=True)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"

    @property
    def hint(self) -> str:
        return self.advice or "fix the file, or name another one"


@dataclass(eq=False)
class DynamicMetadata(InputFileError):
    """A project whose dependencies its build backend computes: no static reading tells them."""

    def __str__(self) -> str:
        return f"{self.path}: {self.reason} cannot be read statically ([project] dynamic)"

    @property
    def hint(self) -> str:
        return (
            "list them in [project] of the file, or export a lock of the project "
            "(uv export, pip-compile) and build --from-lock"
        )


@dataclass(eq=False)
class InvalidLimit(WheelhouseError):
    """An environment variable that sets a limit to something that is not one."""

    variable: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.variable}={self.value!r}: {self.reason}"

    @property
    def hint(self) -> str:
        return f"set {self.variable} to a positive number, or unset it for the default"
