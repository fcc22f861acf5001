"""Sdists: what they declare, the interpreters that can build them, and pip building them.

Every build runs through the interpreters module's one subprocess helper: the
target's own interpreter runs ``pip wheel`` (PEP 517, isolated, its build
requirements from the build's own indexes, pip's configuration neutralised)
into a scratch directory, never into the wheelhouse.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.metadata import parse_email
from packaging.tags import sys_tags
from packaging.version import InvalidVersion, Version

from wheelhouse.house.errors import MetadataError
from wheelhouse.house.metadata import PKG_INFO, sdist_members
from wheelhouse.install.discovery import find_python
from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.probe import InterpreterInfo, probe
from wheelhouse.install.process import pip_command, run_bounded
from wheelhouse.model.limits import Limits
from wheelhouse.model.targets import Target, parse_platform
from wheelhouse.sdist.errors import BadSdist, SdistBuildFailed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_BUILD_REQUIRES",
    "BuildInterpreters",
    "PipIndexes",
    "SdistInfo",
    "build_wheel",
    "builds_here",
    "can_build_for",
    "prepare_metadata",
    "read_sdist",
]

#: What pip assumes for an sdist without ``[build-system]`` (PEP 518).
DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)
#: Lines of pip's output kept in an error: the end, where the compiler's complaint is.
_TAIL = 15
_PYPROJECT = "pyproject.toml"


@dataclass(frozen=True, kw_only=True, slots=True)
class SdistInfo:
    """What an sdist declares: its core metadata (PKG-INFO) and its build requirements."""

    pkg_info: bytes | None  # None: an old sdist, which only a build tells the metadata of
    build_requires: tuple[str, ...]

    @property
    def static_requirements(self) -> bool:
        """Whether PKG-INFO's Requires-Dist is final (PEP 643: 2.2 or newer, not Dynamic)."""
        if self.pkg_info is None:
            return False
        raw, _ = parse_email(self.pkg_info)
        try:
            version = Version(raw.get("metadata_version", "0"))
        except InvalidVersion:
            return False
        dynamic = {field.lower() for field in raw.get("dynamic", [])}
        return version >= Version("2.2") and "requires-dist" not in dynamic


def read_sdist(path: Path) -> SdistInfo:
    """Read ``PKG-INFO`` and ``pyproject.toml`` from the top directory of an sdist.

    An old sdist may have no PKG-INFO: its metadata then comes from a build.
    """
    try:
        members = sdist_members(path, {PKG_INFO, _PYPROJECT})
        pyproject = members.get(_PYPROJECT)
        requires = _build_requires(tomllib.loads(pyproject.decode())) if pyproject else None
    except MetadataError as exc:
        raise BadSdist(path.name, exc.reason) from None
    except ValueError as exc:  # pyproject.toml is not UTF-8 or not TOML
        raise BadSdist(path.name, str(exc) or type(exc).__name__) from None
    build_requires = DEFAULT_BUILD_REQUIRES if requires is None else requires
    return SdistInfo(pkg_info=members.get(PKG_INFO), build_requires=build_requires)


def _build_requires(pyproject: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``[build-system] requires``, or None when the table is missing (pip's default then)."""
    system = pyproject.get("build-system")
    if not isinstance(system, dict) or not isinstance(system.get("requires"), list):
        return None
    return tuple(str(requirement) for requirement in system["requires"])


@dataclass(frozen=True, kw_only=True, slots=True)
class PipIndexes:
    """The indexes pip resolves build requirements from: the build's own."""

    index_url: str
    extra_index_urls: tuple[str, ...] = ()

    def options(self) -> list[str]:
        """pip's options for these indexes, with the certificates the build itself trusts.

        pip runs without any ``PIP_*`` variable, so the bundle ``PIP_CERT`` names
        (which the build's own client takes) is given as ``--cert``.
        """
        extras = [part for url in self.extra_index_urls for part in ("--extra-index-url", url)]
        cert = os.environ.get("PIP_CERT")
        return ["--index-url", self.index_url, *extras, *(("--cert", cert) if cert else ())]


def build_timeout() -> tuple[float, str]:
    """How long one program a build runs may take: seconds, and as a message names it."""
    limits = Limits.from_environ(os.environ)
    return limits.build_timeout, limits.describe("build_timeout")


def build_wheel(python: InterpreterInfo, sdist: Path, out: Path, indexes: PipIndexes) -> Path:
    """Build ``sdist`` into one wheel in the empty directory ``out`` with ``python``'s pip.

    Always through PEP 517 in an isolated environment: pip before 23.1 runs a
    ``setup.py``-only sdist's ``bdist_wheel`` in the interpreter itself, which
    fails where ``wheel`` is not installed (an old sdist, for Python 3.8).
    """
    command = [
        *pip_command(python),
        *("wheel", "--no-deps", "--no-cache-dir", "--use-pep517", *indexes.options()),
        *("--wheel-dir", str(out), str(sdist)),
    ]
    timeout, expired = build_timeout()
    result = run_bounded(command, tmp_dir=out.parent, timeout=timeout)
    if result is None:
        raise SdistBuildFailed(sdist.name, _who(python), f"pip did not finish within {expired}")
    wheels = sorted(out.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise SdistBuildFailed(sdist.name, _who(python), _tail(result.stdout + result.stderr))
    return wheels[0]


def prepare_metadata(
    python: InterpreterInfo, sdist: Path, scratch: Path, indexes: PipIndexes
) -> bytes:
    """The core metadata pip prepares for ``sdist`` (PEP 517), as email-format bytes."""
    report = Path(tempfile.mkdtemp(prefix="report-", dir=scratch)) / "report.json"
    command = [
        *pip_command(python),
        *("install", "--dry-run", "--no-deps", "--ignore-installed", "--no-cache-dir"),
        *("--quiet", "--report", str(report), *indexes.options(), str(sdist)),
    ]
    timeout, expired = build_timeout()
    result = run_bounded(command, tmp_dir=scratch, timeout=timeout)
    if result is None:
        raise SdistBuildFailed(sdist.name, _who(python), f"pip did not finish within {expired}")
    try:
        (item,) = json.loads(report.read_text(encoding="utf-8"))["install"]
        return _email(item["metadata"])
    except (OSError, ValueError, KeyError, TypeError):
        raise SdistBuildFailed(
            sdist.name, _who(python), _tail(result.stdout + result.stderr)
        ) from None


def _email(metadata: Mapping[str, Any]) -> bytes:
    """JSON core metadata (PEP 566) back in the email format the resolver reads."""
    lines = [f"Metadata-Version: {metadata.get('metadata_version', '2.1')}"]
    lines += [f"Name: {metadata['name']}", f"Version: {metadata['version']}"]
    if metadata.get("requires_python"):
        lines.append(f"Requires-Python: {metadata['requires_python']}")
    lines += [f"Provides-Extra: {extra}" for extra in metadata.get("provides_extra", [])]
    lines += [f"Requires-Dist: {dist}" for dist in metadata.get("requires_dist", [])]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def _who(python: InterpreterInfo) -> str:
    return f"Python {python.full_version} ({python.path})"


def _tail(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()][-_TAIL:]
    return "pip failed" + "".join(f"\n    {line}" for line in lines)


def can_build_for(python: InterpreterInfo, target: Target) -> bool:
    """Whether a wheel ``python`` builds here installs on ``target``.

    The same CPython, and a platform this machine really is: a glibc machine
    builds for a ``manylinux`` target (its ``linux_<arch>`` wheel is among the
    target's tags), never for a ``musllinux``, macOS or Windows one.
    """
    abi = target.interpreter_tag
    own = {tag.platform for tag in python.tags if tag.interpreter == abi and tag.abi == abi}
    return bool(own & _specific_platforms(target))


def builds_here(target: Target) -> bool:
    """Whether this machine's platform is one that builds wheels for ``target``."""
    return bool({tag.platform for tag in sys_tags()} & _specific_platforms(target))


def _specific_platforms(target: Target) -> set[str]:
    """The target's platforms, without ``linux_<arch>``, which any libc would claim."""
    platforms = parse_platform(target.platform)[0]
    return {name for name in platforms if not name.startswith("linux_")} or set(platforms)


class BuildInterpreters:
    """The interpreter that builds for each Python version: one given, else one found."""

    def __init__(self, pythons: Sequence[str] = ()) -> None:
        self.pythons = list(pythons)  # ``--python`` values; those naming a program are tried first
        self._found: dict[tuple[int, int], InterpreterInfo | None] = {}
        self._lock = threading.Lock()

    def for_target(self, target: Target) -> InterpreterInfo | None:
        """An interpreter of the target's Python that builds for its platform, else None."""
        python = self.of_version(target.python_version)
        return python if python is not None and can_build_for(python, target) else None

    def of_version(self, version: tuple[int, int]) -> InterpreterInfo | None:
        """A ``--python PATH`` of that version, else one found on this machine, else None."""
        with self._lock:
            if version not in self._found:
                self._found[version] = self._given(version) or self._discovered(version)
            return self._found[version]

    def _given(self, version: tuple[int, int]) -> InterpreterInfo | None:
        for python in self.pythons:
            program = python if Path(python).exists() else shutil.which(python)
            with contextlib.suppress(InterpreterNotFound):
                if program and (info := probe(Path(program))).version == version:
                    return info if info.implementation == "cpython" else None
        return None

    def _discovered(self, version: tuple[int, int]) -> InterpreterInfo | None:
        found = find_python(f"{version[0]}.{version[1]}")
        return probe(found) if found is not None else None
