"""Errors of building wheels from sdists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wheelhouse.errors import WheelhouseError

__all__ = [
    "BadSdist",
    "BuildFailed",
    "CannotBuildHere",
    "SdistBuildFailed",
]


@dataclass(kw_only=True)
class BuildFailed(WheelhouseError):
    """Several independent failures collected while building."""

    errors: list[WheelhouseError] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    def __post_init__(self) -> None:
        self.hint = self.errors[0].hint if self.errors else ""


class CannotBuildHere(WheelhouseError):
    """Sdists a target needs built, and no interpreter here that can build for it.

    ``foreign`` is the target's platform when this machine cannot build for it at
    all; None when only an interpreter of the target's Python is missing.
    """

    def __init__(
        self, target: str, python: str, packages: Sequence[str], foreign: str | None = None
    ) -> None:
        super().__init__(target, python, packages, foreign)
        self.target, self.python, self.foreign = target, python, foreign
        self.packages = list(packages)
        keep = "or pass --keep-sdist to lock the sdists, which pip then builds when installing"
        self.hint = (
            f"build this target on a {foreign} machine with Python {python} and "
            f"`wheelhouse merge` the wheelhouses; {keep}"
            if foreign
            else f"pass --python PATH of a Python {python}, or install Python {python}; {keep}"
        )

    def __str__(self) -> str:
        why = (
            f"this machine cannot build wheels for {self.foreign}"
            if self.foreign
            else f"no Python {self.python} interpreter was found to build them"
        )
        packages = ", ".join(self.packages)
        return f"target {self.target} needs wheels built from sdists ({packages}), and {why}"


class SdistBuildFailed(WheelhouseError):
    """pip could not build a wheel from an sdist, or built one the target cannot use."""

    def __init__(self, sdist: str, python: str, detail: str) -> None:
        super().__init__(sdist, python, detail)
        self.sdist, self.python, self.detail = sdist, python, detail
        self.hint = (
            "read pip's output above; the sdist may need system libraries or a compiler, or "
            "a wheel of another version (pin one that has wheels)"
        )

    def __str__(self) -> str:
        return f"cannot build a wheel from {self.sdist} with {self.python}: {self.detail}"


class BadSdist(WheelhouseError):
    """An sdist whose archive or declarations cannot be read."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(filename, reason)
        self.filename, self.reason = filename, reason
        self.hint = "pin another version of the project, or one that ships wheels"

    def __str__(self) -> str:
        return f"cannot read the sdist {self.filename}: {self.reason}"
