"""Targets: a CPython version on a platform, its wheel tags and its markers.

Tags for a foreign target come from explicit inputs, never from the running
interpreter: ``packaging.tags.cpython_tags`` and ``compatible_tags`` with the
platform list PEP 600 (and PEP 656, and macOS's rules) implies for the tag.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms

from wheelhouse.model.errors import NoMatchingTarget

__all__ = [
    "PATCH_SPREAD",
    "Target",
    "Truth",
    "canonical_platform",
    "match_target",
    "parse_platform",
    "parse_target_name",
    "portable_platform",
]

#: A target given by version stands for every patch release; markers and
#: Requires-Python are evaluated over this many of them.
PATCH_SPREAD = 40

_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_MUSLLINUX = re.compile(r"^musllinux_(\d+)_(\d+)_(\w+)$")
_MACOS = re.compile(r"^macosx_(\d+)_(\d+)_(\w+)$")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_WINDOWS = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}
_TARGET_NAME = re.compile(r"^cp(\d)(\d+)-(.+)$")


class Truth(enum.Enum):
    """A marker's value over every interpreter a target stands for."""

    NEVER = 0
    SOMETIMES = 1
    ALWAYS = 2


def canonical_platform(platform: str) -> str:
    """One spelling per platform: lower case, ``_`` separators, legacy manylinux as PEP 600.

    ``Manylinux2014-X86_64`` becomes ``manylinux_2_17_x86_64``, so that target names
    (and the locks named after them) do not depend on how a tag was typed.
    """
    platform = platform.strip().lower().replace("-", "_").replace(".", "_")
    for alias, (major, minor) in _LEGACY_MANYLINUX.items():
        if platform.startswith(alias + "_"):
            return f"manylinux_{major}_{minor}_{platform[len(alias) + 1 :]}"
    return platform


def parse_platform(platform: str) -> tuple[list[str], dict[str, str]]:
    """Compatible platform tags (best first) and marker values for a platform tag.

    Raises ``ValueError`` for a tag this tool cannot reason about.
    """
    platform = canonical_platform(platform)
    if match := _MANYLINUX.match(platform):
        return _manylinux_platforms(int(match[1]), int(match[2]), match[3]), _linux(match[3])
    if match := _MUSLLINUX.match(platform):
        major, minor, arch = int(match[1]), int(match[2]), match[3]
        tags = [f"musllinux_{major}_{m}_{arch}" for m in range(minor, -1, -1)]
        return [*tags, f"linux_{arch}"], _linux(arch)
    if match := _MACOS.match(platform):
        version, arch = (int(match[1]), int(match[2])), match[3]
        machine = "arm64" if arch in ("arm64", "universal2") else arch
        tags = list(mac_platforms(version, machine))
        env = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
        return tags, {**env, "platform_machine": machine}
    if platform in _WINDOWS:
        env = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}
        return [platform], {**env, "platform_machine": _WINDOWS[platform]}
    if platform.startswith("linux_"):
        return [platform], _linux(platform[len("linux_") :])
    raise ValueError(
        f"unknown platform tag {platform!r} (expected e.g. manylinux_2_28_x86_64, "
        "musllinux_1_2_aarch64, macosx_11_0_arm64, win_amd64)"
    )


def _manylinux_platforms(major: int, minor: int, arch: str) -> list[str]:
    """PEP 600: a glibc 2.Y platform takes every older 2.y, legacy aliases included."""
    oldest = 17 if arch not in ("x86_64", "i686") else 5
    tags: list[str] = []
    for glibc_minor in range(minor, oldest - 1, -1) if major == 2 else ():
        tags.append(f"manylinux_{major}_{glibc_minor}_{arch}")
        tags.extend(
            f"{alias}_{arch}"
            for alias, version in _LEGACY_MANYLINUX.items()
            if version == (major, glibc_minor)
        )
    return [*tags, f"linux_{arch}"]


def _linux(arch: str) -> dict[str, str]:
    return {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": arch,
    }


def portable_platform(platforms: Iterable[str]) -> str:
    """The most specific platform of an interpreter's tags that another machine can share.

    ``linux_<arch>`` (which newer tag lists put first) names no libc, so a
    ``manylinux``/``musllinux`` tag is preferred.
    """
    found = [platform for platform in platforms if platform != "any"]
    portable = [platform for platform in found if not platform.startswith("linux_")]
    return (portable or found or ["any"])[0]


def parse_target_name(name: str) -> tuple[tuple[int, int], str]:
    """Python version and platform tag of a target name like ``cp312-win_amd64``."""
    match = _TARGET_NAME.match(name)
    if not match:
        raise ValueError(f"not a target name: {name!r}")
    return (int(match[1]), int(match[2])), match[3]


def match_target(targets: Sequence[str], *, tags: Sequence[Tag], tag: str, interpreter: str) -> str:
    """The target whose ``cpXY-cpXY-<platform>`` tag comes first among an interpreter's tags.

    ``tags`` are the interpreter's, most preferred first; ``tag`` (its own
    target-style tag) and ``interpreter`` (its path) name it in
    :class:`NoMatchingTarget` when no target serves it.
    """
    rank = {str(found): number for number, found in enumerate(tags)}
    ranked: list[tuple[int, str]] = []
    for name in targets:
        (major, minor), platform = parse_target_name(name)
        if (number := rank.get(f"cp{major}{minor}-cp{major}{minor}-{platform}")) is not None:
            ranked.append((number, name))
    if not ranked:
        raise NoMatchingTarget(interpreter, tag, sorted(targets))
    return min(ranked)[1]


@dataclass(frozen=True, kw_only=True)
class Target:
    """A CPython version (or one exact interpreter) on one platform.

    ``python_full_version`` is known only when the target was taken from a real
    interpreter; otherwise the target stands for every patch release.
    """

    python_version: tuple[int, int]
    platform: str
    python_full_version: str | None = None

    @classmethod
    def from_name(cls, name: str) -> Target:
        version, platform = parse_target_name(name)
        return cls(python_version=version, platform=platform)

    @property
    def interpreter_tag(self) -> str:
        major, minor = self.python_version
        return f"cp{major}{minor}"

    @cached_property
    def name(self) -> str:
        return f"{self.interpreter_tag}-{self.platform}"

    def __str__(self) -> str:
        return self.name

    @cached_property
    def _platform(self) -> tuple[list[str], dict[str, str]]:
        return parse_platform(self.platform)

    @cached_property
    def tags(self) -> list[Tag]:
        """Every wheel tag the target installs, most preferred first."""
        platforms = self._platform[0]
        abi = self.interpreter_tag
        return [
            *cpython_tags(self.python_version, abis=[abi], platforms=platforms),
            *compatible_tags(self.python_version, interpreter=abi, platforms=platforms),
        ]

    @cached_property
    def tag_set(self) -> frozenset[Tag]:
        return frozenset(self.tags)

    @cached_property
    def full_versions(self) -> tuple[str, ...]:
        """The interpreter versions this target stands for."""
        if self.python_full_version:
            return (self.python_full_version,)
        major, minor = self.python_version
        return tuple(f"{major}.{minor}.{patch}" for patch in range(PATCH_SPREAD))

    def environment(self, full_version: str | None = None) -> dict[str, str]:
        """The PEP 508 marker environment for one interpreter version of the target."""
        full = full_version or self.full_versions[-1]
        major, minor = self.python_version
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_version": "",
            "python_version": f"{major}.{minor}",
            "python_full_version": full,
            **self._platform[1],
        }

    def evaluate(self, marker: Marker | None, extras: Iterable[str] = ()) -> Truth:
        """Whether ``marker`` holds for every, some or none of the target's interpreters."""
        if marker is None:
            return Truth.ALWAYS
        extra_values = list(extras) or [""]
        results = {
            marker.evaluate(_with_extra(self.environment(full), extra))
            for full in self._marker_versions(marker)
            for extra in extra_values
        }
        if results == {True}:
            return Truth.ALWAYS
        return Truth.SOMETIMES if True in results else Truth.NEVER

    def _marker_versions(self, marker: Marker) -> tuple[str, ...]:
        """Only a marker that reads the full version needs the whole spread."""
        text = str(marker)
        if "python_full_version" in text or "implementation_version" in text:
            return self.full_versions
        return self.full_versions[-1:]

    def allows_python(self, requires_python: str | None) -> bool:
        """Whether some interpreter of the target satisfies ``Requires-Python``."""
        if not requires_python:
            return True
        return _allows(requires_python, self.full_versions)


@functools.lru_cache(maxsize=4096)
def _allows(requires_python: str, full_versions: tuple[str, ...]) -> bool:
    """Cached: a project's files mostly share one Requires-Python."""
    try:
        spec = SpecifierSet(requires_python)
    except ValueError:
        return True  # pip ignores a Requires-Python it cannot parse
    return any(spec.contains(full, prereleases=True) for full in full_versions)


def _with_extra(environment: Mapping[str, str], extra: str) -> dict[str, str]:
    return {**environment, "extra": extra}
