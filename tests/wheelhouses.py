"""Test wheelhouses made from the fixture index, for the installer's tests.

:func:`make_wheelhouse` resolves with a small greedy resolver over
``fixtures/index.json`` (highest version that fits, yanked files skipped, no
backtracking) and writes the wheelhouse with the package's own lock writers, so
installer tests do not depend on ``wheelhouse build``. Set ``BUILD_WITH_CLI``
to build every test wheelhouse with the real command instead. :func:`make_wheel`
writes a wheel of a test's own (entry points, ``.data`` files) to add with ``extra``.
"""

from __future__ import annotations

import base64
import email.parser
import hashlib
import json
import platform
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from indexserver import FIXTURES
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.house.directory import FORMAT, Wheelhouse
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.locks import Lock, Pin
from wheelhouse.model.targets import Target, Truth

__all__ = [
    "BUILD_WITH_CLI",
    "PLATFORM",
    "make_wheel",
    "make_wheelhouse",
    "target_for",
    "tree_digest",
]

#: The one switch: True builds test wheelhouses with ``wheelhouse build`` (needs ``index_url``).
BUILD_WITH_CLI = False
#: A platform every x86_64 or aarch64 glibc machine installs, with fixture wheels for it.
PLATFORM = f"manylinux_2_17_{platform.machine()}"
ROOT_ORIGIN = "-r requirements.txt"


def target_for(version: str) -> str:
    """The fixture target for CPython ``X.Y`` on this machine."""
    major, minor = version.split(".")
    return f"cp{major}{minor}-{PLATFORM}"


def make_wheelhouse(
    dest: Path,
    requirements: Sequence[str],
    targets: Sequence[str],
    index_url: str = "",
    extra: Sequence[Path] = (),
) -> Path:
    """A wheelhouse at ``dest`` for ``requirements`` on every target.

    ``extra`` wheels join the fixture index's files (the greedy resolver only).
    """
    if BUILD_WITH_CLI and not extra:
        return _build(dest, requirements, targets, index_url)
    return _assemble(dest, requirements, targets, extra)


def _build(dest: Path, requirements: Sequence[str], targets: Sequence[str], url: str) -> Path:
    names = [Target.from_name(name) for name in targets]
    command = [sys.executable, "-m", "wheelhouse", "build", "-w", str(dest), "--index-url", url]
    for python in sorted({f"{t.python_version[0]}.{t.python_version[1]}" for t in names}):
        command += ["--python", python]
    for platform_tag in sorted({t.platform for t in names}):
        command += ["--platform", platform_tag]
    subprocess.run([*command, "--quiet", *requirements], check=True)
    return dest


def _assemble(
    dest: Path, requirements: Sequence[str], targets: Sequence[str], extra: Sequence[Path]
) -> Path:
    sources = {path.name: path for path in extra}
    files = _fixture_files() + [_extra_file(path) for path in extra]
    locks = [_resolve(Target.from_name(name), requirements, files, sources) for name in targets]
    wheelhouse = Wheelhouse.for_writing(dest)
    used = {file.filename: file for lock in locks for pin in lock.pins for file in pin.files}
    for filename in used:
        shutil.copyfile(sources.get(filename, FIXTURES / "files" / filename), dest / filename)
    wheelhouse.write_locks(locks, created_by="wheelhouse tests")
    wheelhouse.write_manifest(
        {
            "wheelhouse": {"format": FORMAT},
            "targets": [_target_entry(lock.target) for lock in locks],
            "files": {name: {"sha256": f.sha256, "size": f.size} for name, f in used.items()},
        }
    )
    return dest


def _target_entry(target: Target) -> dict[str, str]:
    major, minor = target.python_version
    return {"name": target.name, "python": f"{major}.{minor}", "platform": target.platform}


def _fixture_files() -> list[DistFile]:
    entries = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))["files"]
    return [
        DistFile.create(
            filename=entry["filename"],
            url=f"http://fixtures.invalid/{entry['filename']}",
            project=entry["project"],
            sha256=entry["sha256"],
            size=entry["size"],
            upload_time=entry["upload_time"],
            requires_python=entry["requires_python"],
            yanked=entry["yanked"] or None,
        )
        for entry in entries
        if not entry["invalid"]
    ]


def _extra_file(path: Path) -> DistFile:
    data = path.read_bytes()
    return DistFile.create(
        filename=path.name,
        url=f"http://fixtures.invalid/{path.name}",
        project=path.name.split("-")[0],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        upload_time="2020-01-01T00:00:00Z",
        requires_python=None,
        yanked=None,
    )


def _resolve(
    target: Target,
    requirements: Sequence[str],
    files: list[DistFile],
    sources: Mapping[str, Path],
) -> Lock:
    """Greedy resolution: enough for the fixture projects the installer tests use."""
    queue = [(Requirement(text), ROOT_ORIGIN, frozenset[str]()) for text in requirements]
    chosen: dict[NormalizedName, list[DistFile]] = {}
    via: dict[NormalizedName, set[str]] = {}
    markers: dict[NormalizedName, Marker | None] = {}
    while queue:
        requirement, parent, extras = queue.pop(0)
        truth = target.evaluate(requirement.marker, extras)
        if truth is Truth.NEVER:
            continue
        name = canonicalize_name(requirement.name)
        via.setdefault(name, set()).add(parent)
        # A pin some of the target's interpreters need carries the marker that says which.
        sometimes = requirement.marker if truth is Truth.SOMETIMES else None
        markers[name] = sometimes if markers.get(name, sometimes) is not None else None
        if name in chosen:
            assert chosen[name][0].version in requirement.specifier, "needs backtracking"
            continue
        chosen[name] = _best(target, requirement, name, files)
        for dependency in _requires_dist(chosen[name][0], sources):
            queue.append((Requirement(dependency), name, frozenset(requirement.extras)))
    pins = [
        Pin(
            name=name,
            version=found[0].version,
            files=tuple(found),
            via=tuple(sorted(via[name])),
            marker=markers[name],
        )
        for name, found in chosen.items()
    ]
    return Lock(target=target, pins=tuple(pins))


def _best(
    target: Target, requirement: Requirement, name: NormalizedName, files: list[DistFile]
) -> list[DistFile]:
    fitting = [
        file
        for file in files
        if file.project == name
        and file.yanked is None
        and file.version in requirement.specifier
        and target.allows_python(file.requires_python)
        and file.is_wheel
        and file.tags & target.tag_set
    ]
    assert fitting, f"no fixture file for {requirement} on {target.name}"
    best = max(file.version for file in fitting)
    return [file for file in fitting if file.version == best]


def _requires_dist(file: DistFile, sources: Mapping[str, Path]) -> list[str]:
    with zipfile.ZipFile(sources.get(file.filename, FIXTURES / "files" / file.filename)) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode("utf-8")
    return email.parser.Parser().parsestr(text).get_all("Requires-Dist") or []


def tree_digest(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under ``root``: mode, size and modification time, to see any change."""
    digest: dict[str, tuple[int, int, str]] = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        digest[str(path.relative_to(root))] = (stat.st_mode, stat.st_size, str(stat.st_mtime_ns))
    stat = root.lstat()
    digest["."] = (stat.st_mode, stat.st_size, str(stat.st_mtime_ns))
    return digest


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, str],
    *,
    entry_points: str = "",
    requires: Sequence[str] = (),
) -> Path:
    """A ``py3-none-any`` wheel of ``files`` (archive path to text) with a right RECORD.

    Files under ``<name>-<version>.data/scripts/`` are executable, as build backends make them.
    """
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    members = {path: text.encode() for path, text in files.items()}
    members[f"{info}/METADATA"] = metadata.encode()
    members[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points:
        members[f"{info}/entry_points.txt"] = entry_points.encode()
    record = "".join(
        f"{path},sha256={_digest(data)},{len(data)}\n" for path, data in members.items()
    )
    members[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in members.items():
            member = zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0))
            executable = path.split("/")[1:2] == ["scripts"] and ".data/" in path
            member.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            archive.writestr(member, data)
    return wheel


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
