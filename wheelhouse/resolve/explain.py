"""Why a requirement fits nothing for a target, said in the user's terms.

The resolver stops on a requirement that no version meets; :func:`explain`
finds the reason, from what the index offers and from everything asked of
that project, first reason first:

- the index has no such project, or no version in the range asked for
  (:class:`~wheelhouse.resolve.errors.NoVersionFound`);
- the range meets another requirement or a constraint on the same project and
  nothing is left: a conflict, each side with where it was written
  (:class:`~wheelhouse.resolve.errors.ResolutionConflict`);
- versions are left, and none has a file the target can install: why the
  newest has none (Requires-Python, no wheel for the platform, only an sdist,
  --exclude-newer...), which requirement narrowed the range, and the next few
  versions tried (:class:`~wheelhouse.resolve.errors.NoFileForTarget`).

:func:`combine` makes the failures of several targets one error: each failure
once, with every target it holds for. Why each file was passed over comes from
:meth:`~wheelhouse.resolve.finder.Finder.skipped`, asked only here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelhouse.errors import WheelhouseError
from wheelhouse.model.distributions import DistFile, Selection, Skip, SkipReason
from wheelhouse.model.reqfile import InputRequirement, Inputs
from wheelhouse.model.targets import Target, Truth
from wheelhouse.resolve.candidates import Req
from wheelhouse.resolve.errors import (
    FORMAT,
    MAX_SHOWN,
    NEWER,
    PLATFORM,
    PRERELEASE,
    PYTHON,
    SDIST,
    YANKED,
    ConflictCause,
    NoFileForTarget,
    NoVersionFound,
    ResolutionConflict,
    ResolutionFailures,
    shortened,
)
from wheelhouse.resolve.provider import Provider

__all__ = ["combine", "explain", "tried_versions", "where_written"]

COMMAND_LINE = "the command line"
#: Files passed over because of an option, and the kind of failure each makes.
_BY_OPTION = {
    SkipReason.EXCLUDE_NEWER: NEWER,
    SkipReason.NO_UPLOAD_TIME: NEWER,
    SkipReason.NO_BINARY: FORMAT,
    SkipReason.ONLY_BINARY: FORMAT,
}
#: The failures that name one target, which :func:`combine` groups.
_PER_TARGET = (NoVersionFound, NoFileForTarget, ResolutionConflict)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Ask:
    """A requirement or constraint of the user's on one project, and where it was written."""

    text: str
    specifier: SpecifierSet
    where: str


@dataclass(frozen=True, kw_only=True, slots=True)
class _Why:
    """Why one version has no file for a target: its kind, the words, and whether an sdist waits."""

    kind: str
    reasons: list[str]
    sdist: bool
    brief: str  # the same in a few words, for a version in a list


def explain(requirement: Req, provider: Provider, inputs: Inputs) -> WheelhouseError | None:
    """The error that says why nothing meets ``requirement``; None when files are not why."""
    finder, target, name = provider.finder, provider.target, requirement.name
    selection = finder.selection(name, target)
    skips = finder.skipped(name, target)
    offered = sorted({*selection.by_version, *(skip.file.version for skip in skips)}, reverse=True)
    chain = provider.chain(requirement)
    if not offered:
        refused = [f"{entry.filename} ({entry.reason})" for entry in finder.refusals(name)]
        return NoVersionFound(str(requirement), target.name, chain, refused=refused)
    own = [v for v in offered if requirement.specifier.contains(v, prereleases=True)]
    if not own:
        return NoVersionFound(str(requirement), target.name, chain, len(offered), str(offered[0]))
    asks = _asks(requirement, provider, inputs)
    allowed = [v for v in own if all(ask.specifier.contains(v, prereleases=True) for ask in asks)]
    narrowing = [ask for ask in asks if any(not ask.specifier.contains(v, True) for v in own)]
    if not allowed:
        return _conflict(requirement, narrowing, own, inputs, target.name)
    return _no_file(requirement, provider, allowed, narrowing, chain)


def _no_file(
    requirement: Req,
    provider: Provider,
    allowed: Sequence[Version],
    narrowing: Sequence[_Ask],
    chain: Sequence[str],
) -> NoFileForTarget | None:
    """Why the versions in range offer the target no file, newest first; None when one does."""
    selection = provider.finder.selection(requirement.name, provider.target)
    passed: dict[Version, list[Skip]] = {}
    for skip in provider.finder.skipped(requirement.name, provider.target):
        passed.setdefault(skip.file.version, []).append(skip)
    # As matching does (and pip): with no final release to take, prereleases are taken.
    pre = provider.pre or all(version.is_prerelease for version in selection.versions())
    whys = [
        _why(v, selection, passed.get(v, []), requirement, pre, provider.target) for v in allowed
    ]
    if any(why is None for why in whys):
        return None  # a version has a usable file: something other than files is at fault
    first, *rest = [why for why in whys if why is not None]
    tried = tried_versions(
        first.brief, [(str(v), why.brief) for v, why in zip(allowed[1:], rest, strict=False)]
    )
    return NoFileForTarget(
        requirement.name,
        str(allowed[0]),
        provider.target.name,
        first.reasons,
        kind=first.kind,
        chain=chain,
        narrowed=[f"{ask.where} ({ask.text})" for ask in narrowing],
        tried=tried,
        more=max(0, len(allowed) - 1 - len(tried)),
        sdist=first.sdist,
    )


def tried_versions(first: str, others: Sequence[tuple[str, str]]) -> list[str]:
    """The next versions shown after the first, each with its brief reason unless all
    shown share the first's (a bare version among annotated ones would read as unknown).
    """
    shown = others[:MAX_SHOWN]
    same = all(brief == first for _, brief in shown)
    return [version if same else f"{version} ({brief})" for version, brief in shown]


def where_written(requirement: Req, inputs: Inputs) -> str:
    """Where the user wrote an input's requirement: ``req.txt:3``, ``the command line (...)``."""
    for item in inputs.requirements:
        if (
            item.origin == requirement.origin
            and canonicalize_name(item.requirement.name) == requirement.name
            and item.requirement.specifier == requirement.specifier
        ):
            return _place(item, constraint=False)
    return requirement.origin


def _place(item: InputRequirement, *, constraint: bool) -> str:
    place = f"{COMMAND_LINE} ({item.location})" if item.origin == COMMAND_LINE else item.location
    return f"constraint {place}" if constraint else place


def _asks(requirement: Req, provider: Provider, inputs: Inputs) -> list[_Ask]:
    """The user's requirements and constraints on the project (the requirement's own too)."""
    found = [
        _ask(item, constraint=False)
        for item in inputs.requirements
        if canonicalize_name(item.requirement.name) == requirement.name
        and provider.target.evaluate(item.requirement.marker) is not Truth.NEVER
    ]
    constraints = provider.constraints.get(requirement.name, [])
    found += [_ask(item, constraint=True) for item in constraints]
    return list(dict.fromkeys(found))


def _ask(item: InputRequirement, *, constraint: bool) -> _Ask:
    where = _place(item, constraint=constraint)
    return _Ask(text=str(item), specifier=item.requirement.specifier, where=where)


def _conflict(
    requirement: Req, narrowing: Sequence[_Ask], own: Sequence[Version], inputs: Inputs, target: str
) -> ResolutionConflict:
    """The requirement and what leaves none of its versions: those that exclude all, else all."""
    excluding = [ask for ask in narrowing if not any(ask.specifier.contains(v, True) for v in own)]
    parent = requirement.parent.pin if requirement.parent else None
    causes = [
        ConflictCause(
            requirement=str(requirement),
            parent=parent,
            where="" if parent else where_written(requirement, inputs),
        )
    ]
    causes += [
        ConflictCause(requirement=ask.text, parent=None, where=ask.where)
        for ask in excluding or narrowing
    ]
    return ResolutionConflict(target, causes, project=requirement.name)


def _why(
    version: Version,
    selection: Selection,
    passed: Sequence[Skip],
    requirement: Req,
    pre: bool,
    target: Target,
) -> _Why | None:
    """Why ``version`` offers the target no file (``passed``: its files passed over); None
    when it does offer one.
    """
    usable = selection.by_version.get(version, [])
    if usable:
        return _why_usable(version, usable, requirement, pre)
    found = {skip.reason: skip for skip in passed}
    sdist = SkipReason.SDIST in found
    if python := found.get(SkipReason.REQUIRES_PYTHON):
        needs = f"Requires-Python {python.detail}"
        words = f"its {needs} excludes the target's Python"
        return _Why(kind=PYTHON, reasons=[words], sdist=False, brief=needs)
    for reason, kind in _BY_OPTION.items():
        if reason in found:
            return _Why(kind=kind, reasons=[reason.value], sdist=sdist, brief=reason.value)
    wheels = [skip.file for skip in passed if skip.reason is SkipReason.PLATFORM]
    if not wheels:
        only = "only an sdist, and sdists are built only with --build"
        return _Why(kind=SDIST, reasons=[only], sdist=sdist, brief="sdist only")
    reasons = [f"no wheel for the target (its wheels: {shortened(_wheel_tags(wheels, target))})"]
    if sdist:
        reasons.append("its sdist is built only with --build")
    return _Why(kind=PLATFORM, reasons=reasons, sdist=sdist, brief="no wheel for the target")


def _why_usable(
    version: Version, usable: Sequence[DistFile], requirement: Req, pre: bool
) -> _Why | None:
    """A version with files for the target, passed over all the same: yanked, or a prerelease."""
    if all(file.yanked is not None for file in usable) and not requirement.is_pinned():
        said = usable[0].yanked
        words = f"yanked ({said})" if said else "yanked"
        return _Why(kind=YANKED, reasons=[words], sdist=False, brief="yanked")
    if version.is_prerelease and not pre:
        return _Why(kind=PRERELEASE, reasons=["a prerelease"], sdist=False, brief="prerelease")
    return None


def _wheel_tags(wheels: Iterable[DistFile], target: Target) -> list[str]:
    """Each wheel's Python and first platform, as a target is named (``cp313-win_amd64``).

    The target's platforms first, newest Python first: what a reader shortened to the
    first few needs to see is the nearest miss (``cp312-manylinux_2_17_x86_64``
    for a Python 3.13 target).
    """
    found = set()
    for wheel in wheels:
        python, _abi, platforms = wheel.filename[: -len(".whl")].split("-")[-3:]
        found.add((python, platforms.split(".")[0]))
    ours = {tag.platform for tag in target.tags}

    def nearest(item: tuple[str, str]) -> tuple[bool, int, str]:
        python, platform = item
        newest = max(int("".join(re.findall(r"\d", tag)) or 0) for tag in python.split("."))
        return (platform not in ours, -newest, f"{python}-{platform}")

    return [f"{python}-{platform}" for python, platform in sorted(found, key=nearest)]


def combine(errors: Sequence[WheelhouseError]) -> WheelhouseError:
    """One error for the failures of several targets: each said once, with all its targets."""
    groups: dict[tuple[type[WheelhouseError], str], list[WheelhouseError]] = {}
    for error in errors:
        groups.setdefault(_sameness(error), []).append(error)
    merged = [_merged(group) for group in groups.values()]
    return merged[0] if len(merged) == 1 else ResolutionFailures(merged)


def _sameness(error: WheelhouseError) -> tuple[type[WheelhouseError], str]:
    """What the same failure on two targets shares: its words and advice, but the target."""
    if isinstance(error, _PER_TARGET):
        alike = dataclasses.replace(error, target="", also=[])
        return type(error), f"{alike}\n{error.hint}"
    return type(error), f"{error}\n{error.hint}"


def _merged(group: Sequence[WheelhouseError]) -> WheelhouseError:
    first = group[0]
    if len(group) == 1 or not isinstance(first, _PER_TARGET):
        return first
    others = [error.target for error in group[1:] if isinstance(error, type(first))]
    return dataclasses.replace(first, also=others)
