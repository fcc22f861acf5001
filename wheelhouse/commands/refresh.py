"""``wheelhouse refresh``: re-resolve the recorded inputs and tell how the pins moved.

A refresh whose inputs, targets and index pages are those of the last
resolution, with every file still here, resolves nothing: equal page digests
make re-resolving pointless. ``check`` resolves but writes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelhouse.commands.build import (
    BuildIndex,
    BuildReporter,
    BuildResult,
    Preferences,
    build,
    local_builder,
    open_run,
    plan_all,
    prepare_local,
)
from wheelhouse.commands.errors import NothingRecorded
from wheelhouse.commands.targets import make_targets
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.model.diff import TargetDiff, diff_pins
from wheelhouse.model.manifest import BuildRequest, resolution_key, targets_from_manifest
from wheelhouse.model.reqfile import Inputs
from wheelhouse.model.targets import Target

__all__ = ["RefreshResult", "refresh"]


@dataclass(kw_only=True)
class RefreshResult:
    """The pin changes per target, and what the build did (None with ``check``)."""

    diffs: list[TargetDiff]
    build: BuildResult | None = None


def rebuild_targets(
    manifest: Mapping[str, Any], pythons: Sequence[str], platforms: Sequence[str]
) -> list[Target]:
    """The targets of a rebuild: each given (else recorded) Python with each platform likewise."""
    recorded = targets_from_manifest(manifest)
    if not pythons and not platforms:
        return recorded
    versions = list(pythons) or list(dict.fromkeys(t.interpreter_tag for t in recorded))
    return make_targets(
        versions, list(platforms) or list(dict.fromkeys(t.platform for t in recorded))
    )


def rebuild(
    wheelhouse: Wheelhouse,
    request: BuildRequest,
    inputs: Inputs,
    index: BuildIndex,
    reporter: BuildReporter | None,
    targets: Sequence[Target],
    kept: Mapping[str, Mapping[str, str]],
) -> BuildResult:
    """Build the recorded inputs for ``targets``, each target keeping its pins that still fit."""
    preferred = {t: {n: Version(v) for n, v in pins.items()} for t, pins in kept.items()}
    return build(wheelhouse, request, inputs, index, reporter, targets=targets, preferred=preferred)


def refresh(
    wheelhouse: Wheelhouse,
    request: BuildRequest,
    inputs: Inputs,
    index: BuildIndex,
    reporter: BuildReporter | None = None,
    *,
    check: bool = False,
    upgrade: Collection[str] | None = None,
) -> RefreshResult:
    """Re-resolve the recorded inputs; with ``upgrade``, only those projects may move."""
    manifest = wheelhouse.read_manifest()
    targets = targets_from_manifest(manifest)
    _check_recorded(wheelhouse, manifest, targets)
    old = wheelhouse.read_pins()
    preferred = _preferences(old, upgrade) if upgrade else None
    if not upgrade and _unchanged(wheelhouse, manifest, request, inputs, index, check=check):
        if not check:
            with wheelhouse.exclusive():  # which finishes what a killed command left
                pass
        return RefreshResult(diffs=diff_pins(old, old))
    if check:
        reporter = reporter or BuildReporter()
        run = open_run(wheelhouse, request, index, reporter, inputs.formats)
        with run as (finder, staging, _maker):
            if inputs.locked is None:
                finder.only_for(targets)
            local = local_builder(wheelhouse, request, staging, reporter)
            inputs = prepare_local(local, inputs, targets)
            resolutions = plan_all(finder, staging, targets, inputs, request, reporter, preferred)
        new = {r.target.name: {n: str(p.version) for n, p in r.pins.items()} for r in resolutions}
        return RefreshResult(diffs=diff_pins(old, new))
    result = build(
        wheelhouse, request, inputs, index, reporter, targets=targets, preferred=preferred
    )
    new = {
        lock.target.name: {pin.name: str(pin.version) for pin in lock.pins} for lock in result.locks
    }
    return RefreshResult(diffs=diff_pins(old, new), build=result)


def _unchanged(
    wheelhouse: Wheelhouse,
    manifest: Mapping[str, Any],
    request: BuildRequest,
    inputs: Inputs,
    index: BuildIndex,
    *,
    check: bool,
) -> bool:
    """Whether the last resolution still stands: same inputs, same pages, every file here.

    A resolution is a function of its inputs, the pages it read and metadata
    (immutable per file), so equal page digests make re-resolving pointless.
    """
    recorded = manifest.get("resolution", {})
    targets = targets_from_manifest(manifest)
    if not recorded.get("pages") or recorded.get("key") != resolution_key(request, inputs, targets):
        return False
    if index.page_digests(recorded["pages"]) != recorded["pages"]:
        return False
    files = manifest.get("files", {})
    return check or all(
        wheelhouse.path(name).is_file()
        and wheelhouse.path(name).stat().st_size == entry.get("size")
        for name, entry in files.items()
    )


def _preferences(old: Mapping[str, Mapping[str, str]], upgrade: Collection[str]) -> Preferences:
    """Hold every current pin but those being upgraded."""
    moving = {canonicalize_name(name) for name in upgrade}
    return {
        target: {name: Version(version) for name, version in pins.items() if name not in moving}
        for target, pins in old.items()
    }


def _check_recorded(
    wheelhouse: Wheelhouse, manifest: Mapping[str, Any], targets: Sequence[Target]
) -> None:
    """Refuse a manifest with nothing to re-resolve, before anything is touched."""
    inputs = manifest.get("inputs", {})
    if not (
        inputs.get("requirements") or inputs.get("requirement-files") or inputs.get("from-lock")
    ):
        raise NothingRecorded(str(wheelhouse.manifest_path), "no inputs")
    if not targets:
        raise NothingRecorded(str(wheelhouse.manifest_path), "no targets")
