#!/usr/bin/env python3
"""Generate the hermetic fixture index under ``fixtures/``, byte-identical on every run.

Usage: ``python scripts/make_fixtures.py [--output DIR]``

Writes every distribution into ``DIR/files/``, describes them in ``DIR/index.json``
(which the test index server reads) and summarises them in ``DIR/README.md``.
Stale files under ``DIR/files/`` are deleted. Nothing depends on the clock, the
user, the platform or the zlib build: wheels are stored zips with fixed dates and
modes, sdists are pax tars with fixed owners and times inside a gzip stream made
of stored deflate blocks.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
TAR_MTIME = 1577836800  # 2020-01-01T00:00:00Z
GENERATOR = "wheelhouse-fixtures"
PURE = "py3-none-any"
BACKEND_MODULE = "fixture_backend"

Entry = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Release:
    """One version of one fixture project and the files it ships."""

    project: str
    version: str
    requires: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    requires_python: str | None = None
    wheels: tuple[str, ...] = (PURE,)
    sdist: bool = False
    yanked: str | None = None
    uploaded: str | None = None  # "YYYY-MM-DD", overrides the date derived from the version
    module: str = ""  # more source for the package's ``__init__.py``
    metadata_version: str = "2.2"
    native: bool = False  # the sdist compiles a C extension (with ``build_requires``)
    build_requires: tuple[str, ...] = ()
    pkg_info: bool = True  # False: an old sdist that only a build tells the metadata of


@dataclass(frozen=True, kw_only=True)
class Invalid:
    """A listing that names a file a client must refuse, served with another file's bytes."""

    project: str
    filename: str
    reason: str
    bytes_of: str


def _native_tags() -> tuple[str, ...]:
    many_x86 = "manylinux_2_17_x86_64.manylinux2014_x86_64"
    tags = [
        f"cp311-cp311-{many_x86}",
        f"cp312-cp312-{many_x86}",
        "cp312-cp312-manylinux_2_28_x86_64",
    ]
    for platform in ("musllinux_1_2_x86_64", "manylinux_2_28_aarch64", "macosx_11_0_arm64"):
        tags += [f"cp311-cp311-{platform}", f"cp312-cp312-{platform}"]
    tags += ["cp311-cp311-win_amd64", "cp312-cp312-win_amd64", f"cp313-cp313-{many_x86}"]
    return tuple(tags)


#: The build requirement of ``cext``: compiles one C file into an extension module.
CBUILD_SOURCE = """\
import os
import shlex
import subprocess
import sysconfig


def compile_extension(source, output):
    \"\"\"Compile ``source`` into the extension module ``output`` with the C compiler.\"\"\"
    compiler = shlex.split(os.environ.get("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    subprocess.check_call([*compiler, "-shared", "-fPIC", "-I", include, source, "-o", output])
    return output
"""

MARKERS = (
    'winonly; sys_platform == "win32"',
    'linuxonly; sys_platform == "linux"',
    'armonly; platform_machine == "aarch64"',
    'oldpython; python_version < "3.12"',
    'fullver; python_full_version < "3.11.3"',
)

#: A lower-bound-heavy set shaped like a real project's: many ``name>=x`` lines. The
#: newest releases of ``lb-framework`` need ``lb-core>=2``, which every ``lb-plugin``
#: caps below 2, so the answer is an old framework that a naive order of decisions
#: reaches one release at a time, re-deciding every other line on each step. Each
#: lb-lib has two releases, so a search that goes back through them all (2**20 ways)
#: never ends, as on a real set.
LB_FILLERS = tuple(f"lb-lib{n:02d}" for n in range(1, 21))
#: Versions of lb-framework, each with an upload day that follows the version.
LB_FRAMEWORK = tuple(
    (f"1.{minor}.{patch}", f"2024-{1 + minor:02d}-{1 + patch:02d}")
    for minor in range(4)
    for patch in range(10)
)

LOWER_BOUND_HEAVY = (
    *(
        Release(
            project="lb-framework",
            version=v,
            requires=("lb-core>=1,<2" if v.startswith("1.0.") else "lb-core>=2,<3", "lb-util>=1"),
            uploaded=day,
        )
        for v, day in LB_FRAMEWORK
    ),
    *(Release(project="lb-core", version=v) for v in ("1.0", "1.1", "2.0", "2.1")),
    *(
        Release(project="lb-plugin", version=v, requires=("lb-core>=1,<2",))
        for v in ("1.0", "1.1", "1.2")
    ),
    *(
        Release(project=name, version=v, requires=("lb-util>=1",))
        for name in LB_FILLERS
        for v in ("1.0", "1.1")
    ),
    *(Release(project="lb-util", version=v) for v in ("1.0", "1.1")),
    # Unsatisfiable: every lb-widget needs a project that ships only an sdist.
    *(
        Release(project="lb-widget", version=v, requires=("lb-sourceonly>=1",))
        for v in ("1.0", "1.1")
    ),
    Release(project="lb-sourceonly", version="1.0", wheels=(), sdist=True),
)

# --- Local projects: a build backend on the index, as hatchling and editables are ---------
#
# ``wh-backend`` is a PEP 517 backend shipped as a wheel, which test projects name in
# their ``[build-system]``; for an editable build it asks for ``wh-editables`` (as
# hatchling asks for editables). ``oldsdist`` is an sdist with no PKG-INFO, built by
# ``wh-backend``: only a build tells its metadata.

LOCAL_BACKEND_SOURCE = """
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

_DATE = (2020, 1, 1, 0, 0, 0)


def _project():
    with open("pyproject.toml", "rb") as f:
        document = tomllib.load(f)
    tool = document.get("tool", {}).get("wh-backend", {})
    if tool.get("fail"):
        raise RuntimeError("wh-backend was told to fail")
    return document["project"], tool


def _requires(project, tool):
    dynamic = project.get("dynamic", [])
    source = tool if "dependencies" in dynamic else project
    lines = ["Requires-Dist: " + r for r in source.get("dependencies", [])]
    source = tool if "optional-dependencies" in dynamic else project
    for extra, requirements in sorted(source.get("optional-dependencies", {}).items()):
        lines.append("Provides-Extra: " + extra)
        for requirement in requirements:
            text, _, marker = requirement.partition(";")
            when = 'extra == "%s"' % extra
            when = "(%s) and %s" % (marker.strip(), when) if marker.strip() else when
            lines.append("Requires-Dist: %s; %s" % (text.strip(), when))
    return lines


def _identity():
    project, tool = _project()
    lines = ["Metadata-Version: 2.2", "Name: " + project["name"], "Version: " + project["version"]]
    if project.get("requires-python"):
        lines.append("Requires-Python: " + project["requires-python"])
    lines += _requires(project, tool)
    escaped = re.sub(r"[-_.]+", "_", project["name"]).lower()
    return "\\n".join(lines) + "\\n\\n", escaped, project["version"]


def _dist_info(metadata):
    wheel = "Wheel-Version: 1.0\\nGenerator: wh-backend\\nRoot-Is-Purelib: true\\n"
    return {"METADATA": metadata.encode(), "WHEEL": (wheel + "Tag: py3-none-any\\n").encode()}


def _sources(package):
    found = []
    for top, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [os.path.join(top, f).replace(os.sep, "/") for f in files if f.endswith(".py")]
    return sorted(found)


def _wheel(directory, escaped, version, members):
    dist_info = "%s-%s.dist-info" % (escaped, version)
    members = list(members)
    members += [(dist_info + "/" + n, d) for n, d in _dist_info(_identity()[0]).items()]
    lines = []
    for name, data in members:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append("%s,sha256=%s,%d\\n" % (name, digest, len(data)))
    record = "".join(lines) + dist_info + "/RECORD,,\\n"
    members.append((dist_info + "/RECORD", record.encode()))
    filename = "%s-%s-py3-none-any.whl" % (escaped, version)
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return ["wh-editables"]


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    metadata, escaped, version = _identity()
    dist_info = "%s-%s.dist-info" % (escaped, version)
    os.makedirs(os.path.join(metadata_directory, dist_info))
    for name, data in _dist_info(metadata).items():
        with open(os.path.join(metadata_directory, dist_info, name), "wb") as f:
            f.write(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _metadata, escaped, version = _identity()
    members = []
    for path in _sources(escaped):
        with open(path, "rb") as f:
            members.append((path, f.read()))
    return _wheel(wheel_directory, escaped, version, members)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    import wh_editables  # what get_requires_for_build_editable asked for

    _metadata, escaped, version = _identity()
    pth = (os.path.abspath(".") + "\\n").encode()
    return _wheel(wheel_directory, escaped, version, [(wh_editables.pth_name(escaped), pth)])


def build_sdist(sdist_directory, config_settings=None):
    metadata, escaped, version = _identity()
    stem = "%s-%s" % (escaped, version)
    members = {"PKG-INFO": metadata.encode()}
    for path in ["pyproject.toml"] + _sources(escaped):
        with open(path, "rb") as f:
            members[path] = f.read()
    with tarfile.open(os.path.join(sdist_directory, stem + ".tar.gz"), "w:gz") as tf:
        for path, data in sorted(members.items()):
            info = tarfile.TarInfo(stem + "/" + path)
            info.size, info.mode, info.mtime = len(data), 0o644, 1577836800
            tf.addfile(info, io.BytesIO(data))
    return stem + ".tar.gz"
"""

#: A test runner of the smallest kind, for a project's ``dev`` group: calls every
#: ``test_*`` function of ``tests/test_*.py``; the number of failures is the exit status.
LOCAL_TESTRUN_SOURCE = """
import importlib.util
import pathlib


def main(directory="tests"):
    failed = 0
    for path in sorted(pathlib.Path(directory).glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in sorted(n for n in dir(module) if n.startswith("test_")):
            try:
                getattr(module, name)()
            except Exception as exc:  # a failed test is reported, not raised
                failed += 1
                print("FAILED %s::%s: %r" % (path.name, name, exc))
            else:
                print("passed %s::%s" % (path.name, name))
    return failed
"""

#: ``pyproject.toml`` of a project built by ``wh-backend`` (``oldsdist`` and the tests').
LOCAL_PYPROJECT = """\
[build-system]
requires = ["wh-backend"]
build-backend = "wh_backend"

[project]
name = "{name}"
version = "{version}"
dependencies = [{dependencies}]
"""

LOCAL_PROJECTS = (
    Release(project="wh-backend", version="1.0", module=LOCAL_BACKEND_SOURCE),
    Release(
        project="wh-editables",
        version="1.0",
        module='\n\ndef pth_name(package):\n    return "_%s_editable.pth" % package\n',
    ),
    Release(project="wh-testrun", version="1.0", module=LOCAL_TESTRUN_SOURCE),
    Release(
        project="oldsdist",
        version="1.0",
        requires=("delta",),
        wheels=(),
        sdist=True,
        pkg_info=False,
        build_requires=("wh-backend",),
    ),
)


def old_sdist_members(release: Release) -> dict[str, bytes]:
    """An sdist of old: no PKG-INFO at the top, a ``pyproject.toml`` ``wh-backend`` builds."""
    dependencies = ", ".join(f'"{requirement}"' for requirement in release.requires)
    text = LOCAL_PYPROJECT.format(
        name=release.project, version=release.version, dependencies=dependencies
    )
    return {
        "pyproject.toml": text.encode(),
        f"{escape(release.project)}/__init__.py": module_source(release, None),
    }


# --- End of the local projects' block ---------------------------------------------------

RELEASES = (
    # A tree several levels deep, with an extra and a yanked release.
    *(
        Release(
            project="alpha",
            version=v,
            requires=("beta>=1.0", 'speedy; extra == "fast"'),
            extras=("fast",),
        )
        for v in ("1.0", "1.1")
    ),
    Release(project="beta", version="1.0", requires=("gamma",)),
    Release(project="beta", version="2.0", requires=("gamma",)),
    Release(project="gamma", version="1.0", requires=("delta<2",)),
    Release(project="delta", version="1.0"),
    Release(project="delta", version="1.1", yanked="broken build"),
    Release(project="delta", version="2.0"),
    Release(project="speedy", version="1.0"),
    # Environment markers.
    Release(project="markerpkg", version="1.0", requires=MARKERS),
    *(Release(project=m.split(";")[0], version="1.0") for m in MARKERS),
    # Requires-Python.
    Release(project="modern", version="1.0", requires_python=">=3.8"),
    Release(project="modern", version="2.0", requires_python=">=3.12"),
    Release(project="futureonly", version="1.0", requires_python=">=3.99"),
    # Platform and interpreter specific wheels.
    Release(project="native", version="1.0", wheels=_native_tags(), sdist=True),
    Release(
        project="native",
        version="2.0",
        wheels=("cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64",),
        sdist=True,
    ),
    Release(
        project="stable",
        version="1.0",
        wheels=(
            "cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64",
            "cp311-abi3-win_amd64",
            "cp311-abi3-macosx_11_0_arm64",
        ),
    ),
    Release(project="sdistonly", version="1.0", requires=("delta",), wheels=(), sdist=True),
    # Backtracking: bt-left 2.0 conflicts with bt-right, so bt-left 1.0 is the answer.
    Release(project="bt-top", version="1.0", requires=("bt-left", "bt-right")),
    Release(project="bt-left", version="1.0", requires=("bt-shared<2",)),
    Release(project="bt-left", version="2.0", requires=("bt-shared>=2",)),
    Release(project="bt-right", version="1.0", requires=("bt-shared<2",)),
    Release(project="bt-shared", version="1.0"),
    Release(project="bt-shared", version="2.0"),
    # A conflict nothing can solve.
    Release(project="clash-a", version="1.0", requires=("clash-base==1.0",)),
    Release(project="clash-b", version="1.0", requires=("clash-base==2.0",)),
    Release(project="clash-base", version="1.0"),
    Release(project="clash-base", version="2.0"),
    # A cycle.
    Release(project="cycle-a", version="1.0", requires=("cycle-b",)),
    Release(project="cycle-b", version="1.0", requires=("cycle-a",)),
    # Names that differ only by case, "_" and ".".
    Release(project="Zope.Name_Mixed", version="1.0"),
    Release(project="requires-odd", version="1.0", requires=("ZOPE_name.mixed>=1.0",)),
    # A newer release, for refresh and upgrade tests.
    Release(project="evolving", version="1.0"),
    Release(project="evolving", version="1.1", uploaded="2025-03-01"),
    # A project whose page also lists files a client must refuse.
    Release(project="badfiles", version="1.0"),
    # An sdist with a C extension that really compiles, with a build requirement from
    # this index; its PKG-INFO (Metadata-Version 2.1) cannot be trusted without a build.
    Release(project="cbuild", version="1.0", module=CBUILD_SOURCE),
    Release(
        project="cext",
        version="1.0",
        requires=("gamma",),
        module="from cext._speed import add\n",
        wheels=(),
        sdist=True,
        metadata_version="2.1",
        native=True,
        build_requires=("cbuild",),
    ),
    # An sdist whose newest build requirement (bt-left 2.0) needs what its own pins exclude.
    Release(
        project="bt-sdist",
        version="1.0",
        requires=("bt-shared<2",),
        wheels=(),
        sdist=True,
        build_requires=("bt-left",),
    ),
    *LOWER_BOUND_HEAVY,
    *LOCAL_PROJECTS,
)

INVALID = (
    Invalid(
        project="badfiles",
        filename="other-1.0-py3-none-any.whl",
        reason="names another project",
        bytes_of="badfiles-1.0-py3-none-any.whl",
    ),
    Invalid(
        project="badfiles",
        filename="../escape-1.0.tar.gz",
        reason="path traversal",
        bytes_of="badfiles-1.0-py3-none-any.whl",
    ),
    Invalid(
        project="badfiles",
        filename="sub\\escape-1.0-py3-none-any.whl",
        reason="path separator",
        bytes_of="badfiles-1.0-py3-none-any.whl",
    ),
)

#: The PEP 517 backend shipped inside every sdist (standard library only).
BACKEND_SOURCE = '''\
"""A tiny PEP 517 backend for wheelhouse's test fixtures (standard library only)."""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

_DATE = (2020, 1, 1, 0, 0, 0)


def _identity():
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    fields = {}
    for line in text.splitlines():
        if not line:
            break
        key, _, value = line.partition(": ")
        fields.setdefault(key, value)
    escaped = re.sub(r"[-_.]+", "_", fields["Name"]).lower()
    return text, escaped, fields["Version"]


def _sources():
    found = []
    for top, dirs, files in os.walk("."):
        dirs[:] = sorted(d for d in dirs if d != "_backend" and not d.startswith("."))
        found += [os.path.relpath(os.path.join(top, f)).replace(os.sep, "/") for f in files]
    return sorted(found)


def _dist_info(metadata):
    wheel = "Wheel-Version: 1.0\\nGenerator: fixture_backend\\nRoot-Is-Purelib: true\\n"
    return {"METADATA": metadata.encode(), "WHEEL": (wheel + "Tag: py3-none-any\\n").encode()}


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\\n" % (name, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    metadata, escaped, version = _identity()
    dist_info = "%s-%s.dist-info" % (escaped, version)
    os.makedirs(os.path.join(metadata_directory, dist_info))
    for name, data in _dist_info(metadata).items():
        with open(os.path.join(metadata_directory, dist_info, name), "wb") as f:
            f.write(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    metadata, escaped, version = _identity()
    dist_info = "%s-%s.dist-info" % (escaped, version)
    members = []
    for path in _sources():
        if path.endswith(".py") and "/" in path:
            with open(path, "rb") as f:
                members.append((path, f.read()))
    members += [(dist_info + "/" + n, d) for n, d in _dist_info(metadata).items()]
    record = "".join(_record_line(n, d) for n, d in members) + dist_info + "/RECORD,,\\n"
    members.append((dist_info + "/RECORD", record.encode()))
    filename = "%s-%s-py3-none-any.whl" % (escaped, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    _metadata, escaped, version = _identity()
    stem = "%s-%s" % (escaped, version)
    paths = _sources() + ["_backend/" + p for p in os.listdir("_backend") if p.endswith(".py")]
    with tarfile.open(os.path.join(sdist_directory, stem + ".tar.gz"), "w:gz") as tf:
        for path in sorted(paths):
            with open(path, "rb") as f:
                data = f.read()
            info = tarfile.TarInfo(stem + "/" + path)
            info.size, info.mode, info.mtime = len(data), 0o644, 1577836800
            tf.addfile(info, io.BytesIO(data))
    return stem + ".tar.gz"
'''

#: The backend of a ``native`` release: compiles its C files with ``cbuild``, its build
#: requirement, into a platform wheel for the interpreter that runs it.
NATIVE_BACKEND_SOURCE = '''\
"""A PEP 517 backend that compiles C extensions, for wheelhouse's test fixtures."""

import base64
import hashlib
import io
import os
import re
import sys
import sysconfig
import tarfile
import tempfile
import zipfile

_DATE = (2020, 1, 1, 0, 0, 0)


def _identity():
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    fields = dict(line.split(": ", 1) for line in text.split("\\n\\n")[0].splitlines())
    escaped = re.sub(r"[-_.]+", "_", fields["Name"]).lower()
    return text, escaped, fields["Version"]


def _tag():
    python = "cp%d%d" % sys.version_info[:2]
    platform = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return "%s-%s-%s" % (python, python, platform)


def _dist_info(metadata):
    wheel = "Wheel-Version: 1.0\\nGenerator: fixture_backend\\nRoot-Is-Purelib: false\\n"
    return {"METADATA": metadata.encode(), "WHEEL": (wheel + "Tag: %s\\n" % _tag()).encode()}


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\\n" % (name, digest, len(data))


def _compiled(package, scratch):
    import cbuild

    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for name in sorted(os.listdir(package)):
        if name.endswith(".c"):
            output = os.path.join(scratch, name[:-2] + suffix)
            cbuild.compile_extension(os.path.join(package, name), output)
            with open(output, "rb") as f:
                yield package + "/" + os.path.basename(output), f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    metadata, escaped, version = _identity()
    dist_info = "%s-%s.dist-info" % (escaped, version)
    os.makedirs(os.path.join(metadata_directory, dist_info))
    for name, data in _dist_info(metadata).items():
        with open(os.path.join(metadata_directory, dist_info, name), "wb") as f:
            f.write(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    metadata, escaped, version = _identity()
    dist_info = "%s-%s.dist-info" % (escaped, version)
    members = []
    for name in sorted(os.listdir(escaped)):
        if name.endswith(".py"):
            with open(os.path.join(escaped, name), "rb") as f:
                members.append((escaped + "/" + name, f.read()))
    members += list(_compiled(escaped, tempfile.mkdtemp()))
    members += [(dist_info + "/" + n, d) for n, d in _dist_info(metadata).items()]
    record = "".join(_record_line(n, d) for n, d in members) + dist_info + "/RECORD,,\\n"
    members.append((dist_info + "/RECORD", record.encode()))
    filename = "%s-%s-%s.whl" % (escaped, version, _tag())
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.external_attr = (0o100755 if name.endswith(".so") else 0o100644) << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    _metadata, escaped, version = _identity()
    stem = "%s-%s" % (escaped, version)
    paths = ["PKG-INFO", "pyproject.toml", "_backend/fixture_backend.py"]
    paths += [escaped + "/" + name for name in os.listdir(escaped)]
    with tarfile.open(os.path.join(sdist_directory, stem + ".tar.gz"), "w:gz") as tf:
        for path in sorted(paths):
            with open(path, "rb") as f:
                data = f.read()
            info = tarfile.TarInfo(stem + "/" + path)
            info.size, info.mode, info.mtime = len(data), 0o644, 1577836800
            tf.addfile(info, io.BytesIO(data))
    return stem + ".tar.gz"
'''

#: The C extension of a ``native`` release: ``add(a, b)`` in C.
C_SOURCE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "Add two integers, in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speed(void)
{
    return PyModule_Create(&module);
}
"""

PYPROJECT = f"""\
[build-system]
requires = []
build-backend = "{BACKEND_MODULE}"
backend-path = ["_backend"]
"""


def pyproject(release: Release) -> str:
    """The sdist's ``pyproject.toml``: the in-tree backend and the build requirements."""
    if not release.build_requires:
        return PYPROJECT
    requires = ", ".join(f'"{requirement}"' for requirement in release.build_requires)
    return PYPROJECT.replace("requires = []", f"requires = [{requires}]")


def escape(project: str) -> str:
    """The name as it appears in file names and import names: normalized, with ``_``."""
    return canonicalize_name(project).replace("-", "_")


def metadata(release: Release) -> bytes:
    """Core metadata (``METADATA`` / ``PKG-INFO``) of a release."""
    lines = [
        f"Metadata-Version: {release.metadata_version}",
        f"Name: {release.project}",
        f"Version: {release.version}",
        f"Summary: Test fixture {release.project} {release.version}",
    ]
    if release.requires_python:
        lines.append(f"Requires-Python: {release.requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in release.extras]
    lines += [f"Requires-Dist: {requirement}" for requirement in release.requires]
    return ("\n".join(lines) + "\n\n").encode()


def module_source(release: Release, platform: str | None) -> bytes:
    """The package's ``__init__.py``; ``platform`` tells tests which file was installed."""
    text = f'__version__ = "{release.version}"\n'
    if platform is not None:
        text += f'PLATFORM = "{platform}"\n'
    return (text + release.module).encode()


def record_hash(data: bytes) -> str:
    """A RECORD digest: urlsafe base64 of the sha256, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_file(tag: str) -> bytes:
    """The ``WHEEL`` file, with one ``Tag`` line per expanded tag."""
    purelib = "true" if tag == PURE else "false"
    lines = [
        "Wheel-Version: 1.0",
        f"Generator: {GENERATOR}",
        f"Root-Is-Purelib: {purelib}",
    ]
    lines += [f"Tag: {t}" for t in sorted(str(t) for t in parse_tag(tag))]
    return ("\n".join(lines) + "\n").encode()


def stored_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A zip with fixed dates and modes; stored, so the bytes do not depend on zlib."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    return buffer.getvalue()


def build_wheel(release: Release, tag: str) -> tuple[str, bytes, bytes]:
    """File name, bytes and METADATA bytes of one wheel of a release."""
    stem = f"{escape(release.project)}-{release.version}"
    dist_info = f"{stem}.dist-info"
    core = metadata(release)
    members = [
        (f"{escape(release.project)}/__init__.py", module_source(release, _platform(tag))),
        (f"{dist_info}/METADATA", core),
        (f"{dist_info}/WHEEL", wheel_file(tag)),
    ]
    record = "".join(f"{name},sha256={record_hash(data)},{len(data)}\n" for name, data in members)
    members.append((f"{dist_info}/RECORD", f"{record}{dist_info}/RECORD,,\n".encode()))
    return f"{stem}-{tag}.whl", stored_zip(members), core


def _platform(tag: str) -> str | None:
    return None if tag == PURE else tag


def gzip_stored(data: bytes) -> bytes:
    """A gzip member made of stored deflate blocks, with mtime 0 and no file name.

    zlib builds differ in how they compress, so compressing would tie the bytes
    to the machine; stored blocks are the same everywhere.
    """
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    chunks = [data[i : i + 0xFFFF] for i in range(0, len(data), 0xFFFF)] or [b""]
    blocks = [
        struct.pack("<BHH", i == len(chunks) - 1, len(c), len(c) ^ 0xFFFF) + c
        for i, c in enumerate(chunks)
    ]
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + b"".join(blocks) + trailer


def build_sdist(release: Release) -> tuple[str, bytes]:
    """File name and bytes of the sdist of a release."""
    stem = f"{escape(release.project)}-{release.version}"
    platform = "sdist" if any(tag != PURE for tag in release.wheels) else None
    backend = NATIVE_BACKEND_SOURCE if release.native else BACKEND_SOURCE
    members = {
        "PKG-INFO": metadata(release),
        "pyproject.toml": pyproject(release).encode(),
        f"_backend/{BACKEND_MODULE}.py": backend.encode(),
        f"{escape(release.project)}/__init__.py": module_source(release, platform),
    }
    if release.native:
        members[f"{escape(release.project)}/_speed.c"] = C_SOURCE.encode()
    if not release.pkg_info:
        members = old_sdist_members(release)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(f"{stem}/{name}")
            info.size, info.mtime, info.mode = len(data), TAR_MTIME, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    return f"{stem}.tar.gz", gzip_stored(buffer.getvalue())


def upload_time(release: Release, ordinal: int, position: int) -> str:
    """A fixed upload time: 1.x in 2024, 2.x in 2025, the minor as the month.

    ``ordinal`` (the project's place in the list) spreads projects over the days,
    ``position`` (the file's place in the release) over the minutes.
    """
    if release.uploaded:
        day = release.uploaded
    else:
        major, minor = Version(release.version).release[:2]
        day = f"{2023 + major}-{1 + minor:02d}-{1 + ordinal % 28:02d}"
    return f"{day}T12:{position:02d}:00Z"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry(release: Release, filename: str, data: bytes, core: bytes | None, when: str) -> Entry:
    return {
        "project": release.project,
        "version": release.version,
        "filename": filename,
        "file": filename,
        "sha256": _sha256(data),
        "size": len(data),
        "requires_python": release.requires_python,
        "yanked": release.yanked or False,
        "upload_time": when,
        "metadata_sha256": _sha256(core) if core is not None else None,
        "invalid": False,
    }


def generate() -> tuple[dict[str, bytes], list[Entry]]:
    """Every distribution file by name, and the index entries describing them."""
    files: dict[str, bytes] = {}
    entries: list[Entry] = []
    ordinals: dict[str, int] = {}
    for release in RELEASES:
        ordinal = ordinals.setdefault(canonicalize_name(release.project), len(ordinals))
        built: list[tuple[str, bytes, bytes | None]]
        built = [build_wheel(release, tag) for tag in release.wheels]
        if release.sdist:
            built.append((*build_sdist(release), None))
        for position, (filename, data, core) in enumerate(built):
            files[filename] = data
            when = upload_time(release, ordinal, position)
            entries.append(_entry(release, filename, data, core, when))
    by_name = {entry["filename"]: entry for entry in entries}
    for invalid in INVALID:
        entries.append(_invalid_entry(invalid, by_name[invalid.bytes_of]))
    entries.sort(key=_entry_order)
    return files, entries


def _invalid_entry(invalid: Invalid, source: Entry) -> Entry:
    return {
        **source,
        "project": invalid.project,
        "version": None,
        "filename": invalid.filename,
        "metadata_sha256": None,
        "invalid": invalid.reason,
    }


def _entry_order(entry: Entry) -> tuple[str, bool, Version, str]:
    version = Version(entry["version"] or "0")
    return canonicalize_name(entry["project"]), bool(entry["invalid"]), version, entry["filename"]


def readme(entries: list[Entry]) -> str:
    """A generated summary of the fixture projects, for people writing tests."""
    lines = [
        "# Fixture index",
        "",
        "Generated by `scripts/make_fixtures.py`; do not edit. Regenerate with",
        "`python scripts/make_fixtures.py`. `files/` holds every distribution,",
        "`index.json` describes them for the test index server (`tests/indexserver.py`).",
        "",
        "| project | version | requires | requires-python | files |",
        "| --- | --- | --- | --- | --- |",
    ]
    for release in RELEASES:
        count = len(release.wheels) + release.sdist
        kinds = f"{count} ({'sdist' if release.sdist else 'wheels only'})"
        requires = "<br>".join(f"`{r}`" for r in release.requires) or "-"
        note = f" (yanked: {release.yanked})" if release.yanked else ""
        row = [release.project, release.version + note, requires]
        lines.append("| " + " | ".join([*row, release.requires_python or "-", kinds]) + " |")
    lines += ["", "Listings a client must refuse (on the `badfiles` page):", ""]
    lines += [f"- `{e['filename']}`: {e['invalid']}" for e in entries if e["invalid"]]
    return "\n".join(lines) + "\n"


def write(output: Path) -> None:
    """Write files, index.json and README.md into ``output``; delete stale files."""
    files, entries = generate()
    target = output / "files"
    target.mkdir(parents=True, exist_ok=True)
    for stale in sorted(target.iterdir()):
        if stale.name not in files:
            stale.unlink()
    for name, data in sorted(files.items()):
        _write_if_changed(target / name, data)
    document = json.dumps({"files": entries}, indent=2, sort_keys=True) + "\n"
    _write_if_changed(output / "index.json", document.encode())
    _write_if_changed(output / "README.md", readme(entries).encode())


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)


def main(argv: list[str] | None = None) -> None:
    """Parse ``--output`` and write the fixtures."""
    parser = argparse.ArgumentParser(description="Generate the fixture index.")
    parser.add_argument("--output", type=Path, default=ROOT / "fixtures", help="default: fixtures/")
    write(parser.parse_args(argv).output)


if __name__ == "__main__":
    main()
