"""Errors of building wheels from sdists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wheelhouse.errors import WheelhouseError

__all__ = [
    "BadSdist",
    "BuildFailed",
    "CannotBuildHere",
    "LocalBuildFailed",
    "NotAProject",
    "SdistBuildFailed",
]


@dataclass(eq=False, kw_only=True)
class BuildFailed(WheelhouseError):
    """Several independent failures collected while building, one line each."""

    errors: list[WheelhouseError] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    @property
    def hint(self) -> str:
        return self.errors[0].hint if self.errors else ""


_KEEP = "or pass --keep-sdist to lock the sdists, which pip then builds when installing"


@dataclass(eq=False)
class CannotBuildHere(WheelhouseError):
    """Sdists a target needs built, and no interpreter here that can build for it.

    ``foreign`` is the target's platform when this machine cannot build for it at
    all; None when only an interpreter of the target's Python is missing.
    """

    target: str
    python: str
    packages: Sequence[str]
    foreign: str | None = None

    def __post_init__(self) -> None:
        self.packages = list(self.packages)
        super().__post_init__()

    def __str__(self) -> str:
        why = (
            f"this machine cannot build wheels for {self.foreign}"
            if self.foreign
            else f"no Python {self.python} interpreter was found to build them"
        )
        packages = ", ".join(self.packages)
        return f"target {self.target} needs wheels built from sdists ({packages}), and {why}"

    @property
    def hint(self) -> str:
        if self.foreign:
            return (
                f"build this target on a {self.foreign} machine with Python {self.python} and "
                f"`wheelhouse merge` the wheelhouses; {_KEEP}"
            )
        python = self.python
        return f"pass --python PATH of a Python {python}, or install Python {python}; {_KEEP}"


@dataclass(eq=False)
class SdistBuildFailed(WheelhouseError):
    """pip could not build a wheel from an sdist, or built one the target cannot use."""

    sdist: str
    python: str
    detail: str

    def __str__(self) -> str:
        return f"cannot build a wheel from {self.sdist} with {self.python}: {self.detail}"

    @property
    def hint(self) -> str:
        return (
            "read pip's output above; the sdist may need system libraries or a compiler, or "
            "a wheel of another version (pin one that has wheels)"
        )


@dataclass(eq=False)
class BadSdist(WheelhouseError):
    """An sdist whose archive or declarations cannot be read."""

    filename: str
    reason: str

    def __str__(self) -> str:
        return f"cannot read the sdist {self.filename}: {self.reason}"

    @property
    def hint(self) -> str:
        return "pin another version of the project, or one that ships wheels"


@dataclass(eq=False)
class NotAProject(WheelhouseError):
    """A local requirement that names no project this tool can build."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} is not a project to build: {self.reason}"

    @property
    def hint(self) -> str:
        return (
            "name a directory with a pyproject.toml (or setup.py), an sdist or a wheel; "
            "a project on the index is named without a path"
        )


@dataclass(eq=False)
class LocalBuildFailed(WheelhouseError):
    """A local project's build backend could not be installed, or failed."""

    project: str
    backend: str
    detail: str

    def __str__(self) -> str:
        backend = f" with its build backend {self.backend}" if self.backend else ""
        return f"cannot build {self.project}{backend}: {self.detail}"

    @property
    def hint(self) -> str:
        return (
            "check the project's [build-system] (its requires must be on the index, "
            "its build-backend importable from them), then build it by hand: pip wheel PATH"
        )


@dataclass(eq=False)
class SourceNotGiven(WheelhouseError):
    """A local project takes a dependency from disk (``[tool.uv.sources]``), and the build
    is not given it: the index's project of that name would stand in for it.

    ``where`` is the path of that dependency, when the project says.
    """

    project: str
    name: str
    where: str = ""

    def __str__(self) -> str:
        source = f"from {self.where}" if self.where else "from its uv workspace"
        return (
            f"{self.project} takes {self.name} {source} ([tool.uv.sources]), and the build "
            f"is not given it: the index's {self.name} would be locked in its place"
        )

    @property
    def hint(self) -> str:
        path = self.where or f"the path of the member {self.name}"
        return f"give {path} too, as uv does, or build from the lock: --from-lock uv.lock"
