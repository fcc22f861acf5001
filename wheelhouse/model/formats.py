"""Which kinds of file each project may take, as pip's ``--only-binary``, ``--no-binary`` say.

The same rules as pip's: each option takes a comma-separated list of names,
``:all:`` or ``:none:``; naming a project in one list takes it out of the other;
a project's own entry wins over ``:all:``. ``--prefer-binary`` puts versions
with a wheel first. The build's sdist policy (``--only-binary``/``--build`` on
the command line) still decides whether sdists are let in at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from packaging.utils import canonicalize_name

__all__ = ["ALL", "Formats"]

ALL = ":all:"
NONE = ":none:"


@dataclass(frozen=True, kw_only=True, slots=True)
class Formats:
    """Per-project file kinds, as a requirements file's options set them, in order.

    ``no_binary_at`` is where the last ``--no-binary`` naming a project was
    written (file, line number, line): a build that builds no sdists refuses it there.
    """

    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()
    prefer_binary: bool = False
    no_binary_at: tuple[str, int, str] | None = None

    def updated(self, option: str, value: str) -> Formats:
        """These formats after ``--only-binary VALUE`` or ``--no-binary VALUE``, as pip does.

        Raises ``ValueError`` for a value that is an option, as pip refuses it.
        """
        if value.startswith("-"):
            raise ValueError(f"{option} takes project names, :all: or :none:, not {value!r}")
        only = option == "--only-binary"
        target, other = _apply(
            set(self.only_binary if only else self.no_binary),
            set(self.no_binary if only else self.only_binary),
            value.split(","),
        )
        if only:
            return replace(self, only_binary=frozenset(target), no_binary=frozenset(other))
        return replace(self, only_binary=frozenset(other), no_binary=frozenset(target))

    def allows_wheel(self, project: str) -> bool:
        """Whether ``--no-binary`` leaves the project its wheels."""
        return "binary" in self._allowed(project)

    def allows_sdist(self, project: str) -> bool:
        """Whether ``--only-binary`` leaves the project its sdists."""
        return "source" in self._allowed(project)

    def _allowed(self, project: str) -> set[str]:
        name = canonicalize_name(project)
        if name in self.only_binary:
            return {"binary"}
        if name in self.no_binary:
            return {"source"}
        if ALL in self.only_binary:
            return {"binary"}
        if ALL in self.no_binary:
            return {"source"}
        return {"binary", "source"}

    @property
    def builds_sdists(self) -> bool:
        """Whether some project must be built from its sdist (``--no-binary``)."""
        return bool(self.no_binary)

    def key(self) -> list[object]:
        """What decides a resolution, for the manifest's resolution key; [] when unset."""
        if not (self.only_binary or self.no_binary or self.prefer_binary):
            return []
        return [sorted(self.only_binary), sorted(self.no_binary), self.prefer_binary]


def _apply(target: set[str], other: set[str], names: list[str]) -> tuple[set[str], set[str]]:
    """pip's rule: ``:all:`` empties both lists, ``:none:`` empties ``target``."""
    while ALL in names:
        other.clear()
        target.clear()
        target.add(ALL)
        del names[: names.index(ALL) + 1]
        if NONE not in names:
            return target, other
    for name in names:
        if name == NONE:
            target.clear()
        elif name.strip():
            other.discard(canonicalize_name(name))
            target.add(canonicalize_name(name))
    return target, other
