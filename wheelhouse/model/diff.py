"""Pin diffs between two sets of locks, and their text, Markdown and JSON renderings.

Pins are given as target name -> {normalized project name -> version}. A diff
is pure and sorted: by target, then by project name, so every rendering of the
same pins is the same bytes.

The JSON rendering (``render_json``) is a stable interface for bots. Schema 1::

    {
      "schema": 1,
      "changed": true,                  # any target added, removed or changed
      "targets": [                      # every target of either side, by name
        {
          "target": "cp312-manylinux_2_28_x86_64",
          "status": "changed",          # "changed", "added", "removed", "unchanged"
          "changes": [                  # by name; every pin of an added or removed target
            {"name": "evolving", "old": "1.0", "new": "1.1", "kind": "upgraded"}
          ]
        }
      ]
    }

``old`` is null for an added pin and ``new`` for a removed one; ``kind`` is
one of "added", "removed", "upgraded", "downgraded". Keys are sorted and new
keys may appear within schema 1; a change of meaning raises the schema number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from packaging.version import InvalidVersion, Version

__all__ = [
    "Change",
    "ChangeKind",
    "TargetDiff",
    "TargetStatus",
    "diff_pins",
    "has_changes",
    "render_json",
    "render_markdown",
    "render_text",
]

SCHEMA = 1
ChangeKind = Literal["added", "removed", "upgraded", "downgraded"]
TargetStatus = Literal["changed", "added", "removed", "unchanged"]
_Name = TypeVar("_Name", bound=str)
_Old = TypeVar("_Old", bound=str)
_New = TypeVar("_New", bound=str)


def _key(version: str) -> tuple[int, Version | str]:
    """Order versions as PEP 440 does; a version it cannot parse sorts as text, below."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """One project whose pin differs: ``old`` is None when added, ``new`` when removed."""

    name: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> ChangeKind:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "upgraded" if _key(self.new) > _key(self.old) else "downgraded"


@dataclass(frozen=True, kw_only=True, slots=True)
class TargetDiff:
    """The pin changes of one target; an added or removed target lists every pin."""

    target: str
    status: TargetStatus
    changes: tuple[Change, ...] = ()


def diff_pins(
    old: Mapping[str, Mapping[_Old, str]], new: Mapping[str, Mapping[_New, str]]
) -> list[TargetDiff]:
    """Compare two sets of pins target by target; every target of either side, sorted.

    Project names may be plain ``str`` or ``NormalizedName`` on either side.
    """
    before, after = _plain(old), _plain(new)
    return [
        _diff_target(target, before.get(target), after.get(target))
        for target in sorted({*before, *after})
    ]


def _plain(pins: Mapping[str, Mapping[_Name, str]]) -> dict[str, dict[str, str]]:
    return {target: {str(name): v for name, v in names.items()} for target, names in pins.items()}


def _diff_target(
    target: str, old: Mapping[str, str] | None, new: Mapping[str, str] | None
) -> TargetDiff:
    changes = _changes(old or {}, new or {})
    if old is None:
        return TargetDiff(target=target, status="added", changes=changes)
    if new is None:
        return TargetDiff(target=target, status="removed", changes=changes)
    return TargetDiff(target=target, status="changed" if changes else "unchanged", changes=changes)


def _changes(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[Change, ...]:
    # "1.0" and "1.0.0" are one version: only a PEP 440 difference is a change.
    return tuple(
        Change(name=name, old=old.get(name), new=new.get(name))
        for name in sorted({*old, *new})
        if name not in old or name not in new or _key(old[name]) != _key(new[name])
    )


def has_changes(diffs: Iterable[TargetDiff]) -> bool:
    """Whether any target was added, removed or had a pin change."""
    return any(diff.status != "unchanged" for diff in diffs)


def render_text(diffs: Iterable[TargetDiff]) -> Iterator[str]:
    """One line per change (one per target added or removed); "no pin changes" if none."""
    changed = False
    for diff in diffs:
        if diff.status in ("added", "removed"):
            changed = True
            yield f"{diff.target}: target {diff.status} ({_count(len(diff.changes), 'pin')})"
        elif diff.status == "changed":
            changed = True
            yield from (f"{diff.target}: {_text_change(change)}" for change in diff.changes)
    if not changed:
        yield "no pin changes"


def _text_change(change: Change) -> str:
    if change.old is None or change.new is None:
        return f"{change.name} {change.old or change.new} ({change.kind})"
    return f"{change.name} {change.old} -> {change.new} ({change.kind})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


_HEADINGS = {"added": " (new target)", "removed": " (target removed)", "changed": ""}


def render_markdown(diffs: Iterable[TargetDiff]) -> Iterator[str]:
    """A heading, a summary and a table per changed target: a merge request's body."""
    shown = [diff for diff in diffs if diff.status != "unchanged"]
    yield "## Pin changes"
    yield ""
    if not shown:
        yield "No pin changes."
        return
    total = sum(len(diff.changes) for diff in shown)
    yield f"{_count(total, 'pin change')} in {_count(len(shown), 'target')}."
    for diff in shown:
        yield ""
        yield f"### `{diff.target}`{_HEADINGS[diff.status]}"
        yield ""
        yield "| package | old | new | change |"
        yield "| --- | --- | --- | --- |"
        for change in diff.changes:
            yield f"| {change.name} | {change.old or '-'} | {change.new or '-'} | {change.kind} |"


def render_json(diffs: Iterable[TargetDiff]) -> str:
    """The diff as JSON, schema 1 (see the module docstring); ends with a newline."""
    targets = [
        {
            "target": diff.target,
            "status": diff.status,
            "changes": [
                {"name": c.name, "old": c.old, "new": c.new, "kind": c.kind} for c in diff.changes
            ],
        }
        for diff in sorted(diffs, key=lambda diff: diff.target)
    ]
    changed = any(target["status"] != "unchanged" for target in targets)
    document = {"schema": SCHEMA, "changed": changed, "targets": targets}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
