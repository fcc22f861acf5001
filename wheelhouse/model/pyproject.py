"""A project's own requirements: PEP 621 dependencies, extras and PEP 735 dependency groups.

Pure: :func:`project_requirements` takes the parsed ``pyproject.toml`` and the
path it came from (reading the file happens in :mod:`wheelhouse.inputs`).
Each requirement keeps where it was written, which a lock's ``# via`` shows:
``-r pyproject.toml``, ``pyproject.toml [extra test]``, ``pyproject.toml (group dev)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from wheelhouse.model.errors import DynamicMetadata, InputFileError
from wheelhouse.model.localproj import DynamicProject
from wheelhouse.model.reqfile import InputRequirement

__all__ = ["Choice", "dependency_groups", "is_pyproject", "project_requirements"]

PYPROJECT = "pyproject.toml"


def is_pyproject(path: str) -> bool:
    """Whether ``-r`` names a project's ``pyproject.toml`` rather than a requirements file."""
    return path.replace("\\", "/").rsplit("/", 1)[-1] == PYPROJECT


@dataclass(frozen=True, kw_only=True, slots=True)
class Choice:
    """The extras and dependency groups chosen: ``--extra``, ``--all-extras``, ``--group``."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.extras or self.all_extras or self.groups)


def project_requirements(
    document: Mapping[str, Any],
    path: str,
    choice: Choice,
    dynamic: list[DynamicProject] | None = None,
) -> list[InputRequirement]:
    """The requirements of ``[project]`` and of the chosen extras and groups, in file order.

    When what is asked for is computed by the build backend, the project goes into
    ``dynamic`` (the build learns those requirements by building it), or without
    that list :class:`DynamicMetadata` is raised. Raises :class:`InputFileError` for
    anything else that cannot be used.
    """
    project = document.get("project")
    if project is None and not choice.groups:
        raise InputFileError(
            path, "it has no [project] table", advice="use --group NAME for [dependency-groups]"
        )
    found: list[InputRequirement] = []
    if project is not None:
        found += _project(_table(project, path, "[project]"), path, choice, dynamic)
    groups = dependency_groups(document.get("dependency-groups", {}), path)
    for name in choice.groups:
        if canonicalize_name(name) not in groups:
            raise _unknown(path, "dependency group", name, groups)
        origin = f"{path} (group {name})"
        found += _requirements(groups[canonicalize_name(name)], path, origin)
    return found


def _project(
    project: Mapping[str, Any], path: str, choice: Choice, sink: list[DynamicProject] | None
) -> list[InputRequirement]:
    dynamic = {str(key) for key in project.get("dynamic", [])}
    wants_extras = bool(choice.extras or choice.all_extras)
    computed = "dependencies" in dynamic or (wants_extras and "optional-dependencies" in dynamic)
    if computed and sink is not None:
        chosen = None if choice.all_extras else frozenset(map(canonicalize_name, choice.extras))
        sink.append(DynamicProject(path=path, extras=chosen))
        return []
    if "dependencies" in dynamic:
        raise DynamicMetadata(path, "[project] dependencies")
    found = _requirements(
        _strings(project.get("dependencies", []), path, "[project] dependencies"),
        path,
        f"-r {path}",
    )
    if not choice.extras and not choice.all_extras:
        return found
    if "optional-dependencies" in dynamic:
        raise DynamicMetadata(path, "[project.optional-dependencies]")
    table = _table(project.get("optional-dependencies", {}), path, "optional-dependencies")
    extras = {canonicalize_name(str(name)): (str(name), value) for name, value in table.items()}
    for name in extras if choice.all_extras else choice.extras:
        if canonicalize_name(name) not in extras:
            raise _unknown(path, "extra", name, extras)
        spelled, value = extras[canonicalize_name(name)]
        where = f"[project.optional-dependencies] {spelled}"
        found += _requirements(_strings(value, path, where), path, f"{path} [extra {name}]")
    return found


def dependency_groups(table: object, path: str) -> dict[NormalizedName, list[str]]:
    """Every PEP 735 group with its includes expanded, by normalized name.

    Raises :class:`InputFileError` for a malformed group, an include of a group
    that does not exist, two groups whose names normalize alike, or a cycle.
    """
    groups: dict[NormalizedName, Sequence[object]] = {}
    for name, items in _table(table, path, "[dependency-groups]").items():
        key = canonicalize_name(str(name))
        if key in groups:
            raise InputFileError(path, f"[dependency-groups] names {key} twice")
        if not isinstance(items, list):
            raise InputFileError(path, f"[dependency-groups] {name} is not a list")
        groups[key] = items
    expanded: dict[NormalizedName, list[str]] = {}
    for name in groups:
        expanded[name] = _expand(name, groups, path, ())
    return expanded


def _expand(
    name: NormalizedName,
    groups: Mapping[NormalizedName, Sequence[object]],
    path: str,
    trail: tuple[NormalizedName, ...],
) -> list[str]:
    """A group's requirements, its includes replaced by theirs; a cycle is refused."""
    if name in trail:
        cycle = " -> ".join([*trail[trail.index(name) :], name])
        raise InputFileError(path, f"[dependency-groups] include a cycle: {cycle}")
    found: list[str] = []
    for item in groups[name]:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict) and set(item) == {"include-group"}:
            included = canonicalize_name(str(item["include-group"]))
            if included not in groups:
                reason = f"[dependency-groups] {name} includes {included}, which does not exist"
                raise InputFileError(path, reason)
            found += _expand(included, groups, path, (*trail, name))
        else:
            raise InputFileError(path, f"[dependency-groups] {name} holds {item!r}")
    return found


def _requirements(lines: Iterable[str], path: str, origin: str) -> list[InputRequirement]:
    found = []
    for number, text in enumerate(lines, 1):
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            reason = f"{origin}: invalid requirement {text!r}: {str(exc).splitlines()[0]}"
            raise InputFileError(path, reason) from None
        if requirement.url:
            reason = f"{origin}: {text!r} is a direct URL reference, which is not supported"
            raise InputFileError(path, reason)
        found.append(
            InputRequirement(requirement=requirement, origin=origin, location=f"{origin} #{number}")
        )
    return found


def _strings(value: object, path: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputFileError(path, f"{where} is not a list of strings")
    return value


def _table(value: object, path: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InputFileError(path, f"{where} is not a table")
    return value


def _unknown(path: str, kind: str, name: str, known: Iterable[str]) -> InputFileError:
    have = ", ".join(sorted(known)) or "none"
    return InputFileError(path, f"no {kind} {name} (it has: {have})")
