"""Interpreters: ask them what they are.

An interpreter is never trusted by its name: :func:`probe` asks it, with a
standard-library script run through :func:`~wheelhouse.install.process.start`, once per
run. A :class:`Probe` started early answers while the caller loads the rest of itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.errors import printable
from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.process import finish, start
from wheelhouse.model.targets import Target, parse_platform, portable_platform

__all__ = ["InstalledDistribution", "InterpreterInfo", "Probe", "probe"]

_TIMEOUT = 120
#: What the probe's answer holds, and the type of each value (None: optional).
_ANSWER: dict[str, tuple[type, ...]] = {
    "version": (list,),
    "full_version": (str,),
    "implementation": (str,),
    "environment": (dict,),
    "tags": (list,),
    "tags_source": (str,),
    "prefix": (str,),
    "base_prefix": (str,),
    "platform": (str,),
    "executable": (str, type(None)),
    "pip_version": (str, type(None)),
    "scheme": (dict, type(None)),
    "installed": (list, type(None)),
}

#: Runs inside the interpreter, which may be as old as 3.6 and have nothing but
#: the standard library. Its tags come from pip's vendored ``packaging`` when pip
#: is there (exactly what that pip will accept), else from ``packaging``, else
#: the host computes them from the facts the script reports.
_PROBE = r"""
import json, os, platform, sys, sysconfig
impl, info = sys.implementation, sys.implementation.version
impl_version = "%d.%d.%d" % (info.major, info.minor, info.micro)
if info.releaselevel != "final":
    impl_version += info.releaselevel[0] + str(info.serial)
environment = {
    "implementation_name": impl.name, "implementation_version": impl_version,
    "os_name": os.name, "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(), "platform_system": platform.system(),
    "platform_version": platform.version(), "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]), "sys_platform": sys.platform,
}
source, tags = "stdlib", []
for module in ("pip._vendor.packaging.tags", "packaging.tags"):
    try:
        tags = [str(tag) for tag in __import__(module, fromlist=["x"]).sys_tags()]
        source = module.split(".")[0]
        break
    except Exception:
        pass
try:
    import pip
    pip_version = pip.__version__
except Exception:
    pip_version = None
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION")
except (AttributeError, OSError, ValueError):
    glibc = None
paths = sysconfig.get_paths()
scheme = dict((key, paths[key]) for key in ("purelib", "platlib", "scripts", "data"))
# Headers go where pip puts them: under the venv, else beside Python's own.
in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
site_include = os.path.join(sys.prefix, "include", "site", "python%d.%d" % sys.version_info[:2])
scheme["headers"] = site_include if in_venv else paths["include"]
def headers(path):
    # What importlib.metadata reads (METADATA, PKG-INFO, an .egg-info file itself),
    # up to the blank line that ends the headers: Name and Version are up there.
    found = {}
    for name in ("METADATA", "PKG-INFO", ""):
        try:
            with open(os.path.join(path, name) if name else path, encoding="utf-8",
                      errors="replace") as lines:
                for line in lines:
                    if not line.strip():
                        break
                    key, colon, value = line.partition(":")
                    if colon and not line[0].isspace():
                        found.setdefault(key.strip().lower(), value.strip())
        except OSError:
            continue
        if found:
            return found
    return found
def distributions():
    # What importlib.metadata.distributions() finds, first on sys.path first, without
    # importing it: that import alone takes twice as long as the rest of this script.
    for entry in sys.path:
        try:
            children = os.listdir(entry or ".")
        except OSError:  # a zip file or a missing directory
            continue
        egg = os.path.basename(entry).lower().endswith(".egg")
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")) or (egg and low == "egg-info"):
                path = os.path.join(entry, child)
                found = headers(path)
                yield found.get("name"), found.get("version", ""), path
installed = None
if "--installed" in sys.argv:
    installed = list(distributions())
musl = None
loader = "/lib/ld-musl-%s.so.1" % platform.machine()
if not glibc and os.path.exists(loader):
    import re, subprocess
    out = subprocess.Popen([loader], stderr=subprocess.PIPE).communicate()[1]
    found = re.search(r"Version (\d+)\.(\d+)", out.decode("utf-8", "replace"))
    musl = found and "%s.%s" % found.groups()
print(json.dumps({
    "version": list(sys.version_info[:2]), "full_version": platform.python_version(),
    "implementation": impl.name, "environment": environment, "tags": tags,
    "tags_source": source, "pip_version": pip_version, "prefix": sys.prefix,
    "executable": sys.executable,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "platform": sysconfig.get_platform(), "is_32bit": sys.maxsize <= 2**32,
    "glibc": glibc, "musl": musl, "mac_version": platform.mac_ver()[0],
    "debug": bool(sysconfig.get_config_var("Py_DEBUG") or hasattr(sys, "gettotalrefcount")),
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "scheme": scheme, "installed": installed,
}))
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class InstalledDistribution:
    """A distribution an interpreter sees; ``path`` is its metadata directory, when on disk."""

    name: NormalizedName
    version: str
    path: Path | None


@dataclass(frozen=True, kw_only=True, slots=True)
class InterpreterInfo:
    """What an interpreter said about itself.

    ``path`` is as given (a venv's ``bin/python``), ``executable`` as it reports
    itself; ``tags`` are the wheel tags it installs, most preferred first;
    ``environment`` is its PEP 508 marker environment; ``pip_version`` is None without pip.
    """

    path: Path
    executable: Path
    version: tuple[int, int]
    full_version: str
    implementation: str
    tags: tuple[Tag, ...]
    environment: Mapping[str, str]
    prefix: Path
    base_prefix: Path
    pip_version: str | None = None
    tags_source: str = "pip"
    #: Where installed files go, as its ``sysconfig`` says: purelib, platlib, scripts,
    #: data, and the directory under which each project's headers go.
    scheme: Mapping[str, str] = field(default_factory=dict)
    #: What it saw installed when probed, first on ``sys.path`` first (asked for only).
    installed: tuple[InstalledDistribution, ...] = ()

    @property
    def is_venv(self) -> bool:
        return self.prefix != self.base_prefix

    @property
    def installed_versions(self) -> dict[str, str]:
        """Normalized name to version; the first on ``sys.path`` wins, as for imports."""
        versions: dict[str, str] = {}
        for dist in self.installed:
            versions.setdefault(dist.name, dist.version)
        return versions

    @property
    def platform(self) -> str:
        """Its most specific portable platform tag (``manylinux_2_36_x86_64``, not ``linux_``)."""
        return portable_platform(tag.platform for tag in self.tags)

    @property
    def tag(self) -> str:
        """Its own target-style tag, such as ``cp313-manylinux_2_36_x86_64``."""
        interpreter = self.tags[0].interpreter if self.tags else self.implementation
        return f"{interpreter}-{self.platform}"

    @property
    def target(self) -> Target:
        """The target this very interpreter is (its exact version, its platform)."""
        return Target(
            python_version=self.version,
            platform=self.platform,
            python_full_version=self.full_version,
        )


class Probe:
    """An interpreter being asked what it is; it answers while this process goes on.

    The script starts at once; :meth:`info` waits for its answer. A program that
    cannot start is reported by :meth:`info` too, as every other failure is. As a
    context manager, it stops the script if an error comes before the answer is read.
    """

    def __init__(self, python: Path, *, installed: bool = False) -> None:
        self.python = python
        self._process: subprocess.Popen[str] | None = None
        self._failure = ""
        try:
            self._process = start(
                [python, "-I", "-c", _PROBE, *(["--installed"] if installed else [])]
            )
        except OSError as exc:
            self._failure = exc.strerror or str(exc)

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            with self._process as process:  # closes its pipes and reaps it
                if process.poll() is None:
                    process.kill()

    def info(self) -> InterpreterInfo:
        """What it said; :class:`InterpreterNotFound` when it did not run or answer as Python."""
        return _interpreter_info(self.python, self._answer())

    def _answer(self) -> Any:
        """The JSON the script printed, decoded."""
        if self._process is None:
            raise InterpreterNotFound(str(self.python), self._failure)
        try:
            result = finish(self._process, timeout=_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise InterpreterNotFound(str(self.python), str(exc)) from None
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
            raise InterpreterNotFound(str(self.python), printable(last))
        try:
            return json.loads(result.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError, RecursionError):
            raise InterpreterNotFound(str(self.python), "it did not answer like Python 3") from None


def _interpreter_info(python: Path, facts: Any) -> InterpreterInfo:
    """The probe's answer, checked: :class:`InterpreterNotFound` when it is not the probe's."""
    if problem := _malformed(facts):
        raise InterpreterNotFound(str(python), f"its answer to the probe is malformed: {problem}")
    version = (int(facts["version"][0]), int(facts["version"][1]))
    try:
        tags = tuple(tag for text in facts["tags"] for tag in parse_tag(text))
    except ValueError as exc:
        raise InterpreterNotFound(str(python), f"it reported a bad tag: {exc}") from None
    return InterpreterInfo(
        path=Path(os.path.abspath(python)),
        executable=Path(facts["executable"] or os.path.abspath(python)),
        version=version,
        full_version=facts["full_version"],
        implementation=facts["implementation"],
        tags=tags or _computed_tags(facts),
        environment=dict(facts["environment"]),
        prefix=Path(facts["prefix"]),
        base_prefix=Path(facts["base_prefix"]),
        pip_version=facts["pip_version"],
        tags_source=facts["tags_source"],
        scheme=dict(facts.get("scheme") or {}),
        installed=tuple(_installed(facts.get("installed") or [])),
    )


def _malformed(facts: Any) -> str | None:
    """What is wrong with the shape of a probe's answer, or None when it is as the probe prints.

    An interpreter is any program at a path: a wrapper or a shim may print JSON of
    its own, which must be one clear error rather than a crash later.
    """
    if not isinstance(facts, dict):
        return f"it printed a JSON {type(facts).__name__}, not the probe's object"
    for key, kinds in _ANSWER.items():
        if not isinstance(facts.get(key), kinds):
            return f"{key!r} is missing or not a {kinds[0].__name__}"
    checks = {
        "version": len(facts["version"]) >= 2 and _all(facts["version"][:2], int),
        "environment": _all(facts["environment"].values(), str),
        "tags": _all(facts["tags"], str),
        "scheme": _all((facts["scheme"] or {}).values(), str),
        "installed": all(_is_installed(entry) for entry in facts["installed"] or []),
    }
    wrong = [key for key, fine in checks.items() if not fine]
    return f"{wrong[0]!r} does not hold what the probe prints" if wrong else None


def _all(values: Any, kind: type) -> bool:
    return all(isinstance(value, kind) and not isinstance(value, bool) for value in values)


def _is_installed(entry: Any) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 3
        and _all(entry[1:], str)
        and (entry[0] is None or isinstance(entry[0], str))
    )


def probe(python: Path, *, installed: bool = False) -> InterpreterInfo:
    """Run ``python`` and ask it for its version, tags, marker environment, prefix and scheme.

    With ``installed``, also what it has installed (what an install plans against).
    ``python`` is kept as given (a venv's ``bin/python`` must not be resolved to
    the base interpreter). Raises :class:`InterpreterNotFound` when it does not run.
    """
    with Probe(python, installed=installed) as started:
        return started.info()


def _installed(found: Sequence[Sequence[str]]) -> Iterator[InstalledDistribution]:
    for name, version, path in found:
        if name:  # a metadata directory without a name is not a distribution
            location = Path(path) if path else None
            yield InstalledDistribution(
                name=canonicalize_name(name), version=version, path=location
            )


def _computed_tags(facts: Mapping[str, Any]) -> tuple[Tag, ...]:
    """Tags from an interpreter's reported facts, for one that has neither pip nor packaging."""
    version = (int(facts["version"][0]), int(facts["version"][1]))
    platforms = _platforms(facts)
    if facts["implementation"] != "cpython":
        return tuple(compatible_tags(version, platforms=platforms))
    base = f"cp{version[0]}{version[1]}" + ("t" if facts.get("free_threaded") else "")
    abis = [f"{base}d", base] if facts.get("debug") else [base]
    interpreter = f"cp{version[0]}{version[1]}"
    return (
        *cpython_tags(version, abis=abis, platforms=platforms),
        *compatible_tags(version, interpreter=interpreter, platforms=platforms),
    )


def _platforms(facts: Mapping[str, Any]) -> list[str]:
    """Platform tags, most specific first, in the order current ``packaging`` gives them."""
    platform = re.sub(r"[-. ]", "_", str(facts["platform"])).lower()
    if platform.startswith("linux_"):
        arch = platform[len("linux_") :]
        if facts.get("is_32bit"):
            arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
        tags = [f"linux_{arch}"]
        if match := re.search(r"(\d+)\.(\d+)", str(facts.get("glibc") or "")):
            tags += parse_platform(f"manylinux_{match[1]}_{match[2]}_{arch}")[0][:-1]
        if match := re.search(r"(\d+)\.(\d+)", str(facts.get("musl") or "")):
            tags += parse_platform(f"musllinux_{match[1]}_{match[2]}_{arch}")[0][:-1]
        return tags
    if platform.startswith("macosx_") and facts.get("mac_version"):
        major, minor = ([*str(facts["mac_version"]).split("."), "0"])[:2]
        minor = minor if major == "10" else "0"
        machine = facts["environment"]["platform_machine"]
        return parse_platform(f"macosx_{major}_{minor}_{machine}")[0]
    return [platform]
