"""Errors of the values themselves: a requirement line, a file name, a target."""

from __future__ import annotations

from collections.abc import Sequence

from wheelhouse.errors import WheelhouseError

__all__ = [
    "InvalidFilename",
    "NoMatchingTarget",
    "RequirementFileError",
]


class RequirementFileError(WheelhouseError):
    """A requirement or constraint line that does not parse."""

    def __init__(self, path: str, lineno: int, line: str, reason: str) -> None:
        super().__init__(path, lineno, line, reason)
        self.path, self.lineno, self.line, self.reason = path, lineno, line, reason
        self.hint = "fix the line; the syntax is pip's requirements file format"

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: invalid line {self.line!r}: {self.reason}"


class InvalidFilename(WheelhouseError):
    """A file name from an index that is not a distribution of the project asked for."""

    def __init__(
        self, filename: str, project: str, reason: str, *, suspicious: bool = True
    ) -> None:
        super().__init__(filename, project, reason)
        self.filename, self.project, self.reason = filename, project, reason
        # A path or another project's file is worth a warning; an old file whose
        # name predates today's rules (the public index keeps many) is not.
        self.suspicious = suspicious
        self.hint = "the index serves a file it should not; the file was refused"

    def __str__(self) -> str:
        return f"refused file {self.filename!r} listed for {self.project}: {self.reason}"


class NoMatchingTarget(WheelhouseError):
    """An interpreter that no target of the wheelhouse serves."""

    def __init__(self, interpreter: str, interpreter_tag: str, targets: Sequence[str]) -> None:
        super().__init__(interpreter, interpreter_tag, targets)
        self.interpreter, self.interpreter_tag = interpreter, interpreter_tag
        self.targets = list(targets)
        self.hint = "build the wheelhouse for this interpreter (wheelhouse build --python ...)"

    def __str__(self) -> str:
        have = ", ".join(self.targets) if self.targets else "none"
        return (
            f"no target of the wheelhouse matches {self.interpreter} "
            f"({self.interpreter_tag}); the wheelhouse has: {have}"
        )
