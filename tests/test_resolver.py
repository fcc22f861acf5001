"""The resolver over an in-memory index: backtracking, extras, markers, yanked, errors.

Over the fixture index: how many rounds a lower-bound-heavy set takes, and how
fast an unsatisfiable one fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from resolvelib import BaseReporter

from wheelhouse.index.client import IndexClient
from wheelhouse.inputs.files import parse_inputs
from wheelhouse.model.distributions import DistFile, Policy
from wheelhouse.model.pages import ProjectPage
from wheelhouse.model.targets import Target
from wheelhouse.resolve import finder as finder_module
from wheelhouse.resolve import provider
from wheelhouse.resolve.candidates import Candidate, Req, Resolution, matching_versions
from wheelhouse.resolve.errors import (
    NoFileForTarget,
    NoVersionFound,
    ResolutionConflict,
    ResolutionFailures,
    ResolutionTooComplex,
)
from wheelhouse.resolve.explain import combine
from wheelhouse.resolve.finder import Finder
from wheelhouse.resolve.resolver import resolve

LINUX = Target(python_version=(3, 11), platform="manylinux_2_17_x86_64")
WINDOWS = Target(python_version=(3, 12), platform="win_amd64")
CP312 = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")
#: The fixture index's lower-bound-heavy set, in the order a user wrote it.
LOWER_BOUND_HEAVY = [
    "lb-framework>=1.0",
    *(f"lb-lib{n:02d}>=1.0" for n in range(1, 21)),
    "lb-plugin>=1.0",
]


class FakeIndex:
    """Projects as {name: {version: (requires_dist, filenames, yanked)}}."""

    def __init__(self, projects: dict[str, list[tuple[str, list[str], str, bool]]]) -> None:
        self.files: dict[str, list[DistFile]] = {}
        self.deps: dict[str, list[str]] = {}
        self.metadata_reads: list[str] = []
        for name, releases in projects.items():
            for version, requires, tag, yanked in releases:
                stem = name.replace("-", "_")
                filename = (
                    f"{stem}-{version}.tar.gz" if tag == "sdist" else f"{stem}-{version}-{tag}.whl"
                )
                file = DistFile.create(
                    filename=filename,
                    url=f"http://x.invalid/{filename}",
                    project=name,
                    sha256="0" * 64,
                    yanked="bad" if yanked else None,
                )
                self.files.setdefault(name, []).append(file)
                self.deps[file.url] = requires

    def project_files(self, name: str) -> ProjectPage:
        return ProjectPage.of(self.files.get(name, []))

    def prefetch(self, names: Iterable[str]) -> None:
        list(names)

    def metadata(self, file: DistFile) -> bytes:
        self.metadata_reads.append(file.filename)
        lines = [f"Metadata-Version: 2.1\nName: {file.project}\nVersion: {file.version}"]
        lines += [f"Requires-Dist: {dep}" for dep in self.deps[file.url]]
        return ("\n".join(lines) + "\n\n").encode()


ANY = "py3-none-any"


def _release(
    version: str, *requires: str, tag: str = ANY, yanked: bool = False
) -> tuple[str, list[str], str, bool]:
    return (version, list(requires), tag, yanked)


INDEX = {
    "alpha": [
        _release("1.0", "beta>=1.0"),
        _release("1.1", "beta>=1.0", 'speedy; extra == "fast"'),
    ],
    "beta": [_release("1.0", "gamma"), _release("2.0", "gamma")],
    "gamma": [_release("1.0", "delta<2")],
    "delta": [_release("1.0"), _release("1.1", yanked=True), _release("2.0")],
    "speedy": [_release("1.0")],
    "bt-top": [_release("1.0", "bt-left", "bt-right")],
    "bt-left": [_release("1.0", "bt-shared<2"), _release("2.0", "bt-shared>=2")],
    "bt-right": [_release("1.0", "bt-shared<2")],
    "bt-shared": [_release("1.0"), _release("2.0")],
    "clash-a": [_release("1.0", "clash-base==1.0")],
    "clash-b": [_release("1.0", "clash-base==2.0")],
    "clash-base": [_release("1.0"), _release("2.0")],
    "cycle-a": [_release("1.0", "cycle-b")],
    "cycle-b": [_release("1.0", "cycle-a")],
    "markerpkg": [
        _release(
            "1.0",
            'winonly; sys_platform == "win32"',
            'fullver; python_full_version < "3.11.3"',
            'oldpython; python_version < "3.12"',
        )
    ],
    "winonly": [_release("1.0")],
    "fullver": [_release("1.0")],
    "oldpython": [_release("1.0")],
    "sdistonly": [_release("1.0", tag="sdist")],
    "native": [
        _release("1.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
        _release("1.0", tag="cp312-cp312-win_amd64"),
        _release("2.0", tag="cp313-cp313-win_amd64"),
    ],
}


def _resolve(
    *requirements: str,
    target: Target = LINUX,
    index: FakeIndex | None = None,
    constraints: Sequence[str] = (),
) -> Resolution:
    inputs = parse_inputs(list(requirements), [], [])
    inputs.constraints = parse_inputs(list(constraints), [], []).constraints or [
        item for item in parse_inputs(list(constraints), [], []).requirements
    ]
    return resolve(Finder(index or FakeIndex(INDEX), Policy()), target, inputs)


def _pins(resolution: Resolution) -> dict[str, str]:
    return {name: str(pin.version) for name, pin in resolution.pins.items()}


def test_deep_tree_newest_versions_and_yanked_skipped() -> None:
    resolution = _resolve("alpha")
    assert _pins(resolution) == {"alpha": "1.1", "beta": "2.0", "gamma": "1.0", "delta": "1.0"}
    assert resolution.pins["beta"].via == ("alpha",)
    assert resolution.pins["alpha"].via == ("the command line",)


def test_yanked_taken_only_when_pinned_exactly() -> None:
    assert _pins(_resolve("delta==1.1"))["delta"] == "1.1"
    assert _pins(_resolve("delta<2"))["delta"] == "1.0"


def test_yanked_taken_when_a_constraint_pins_it_exactly() -> None:
    """As pip and uv do: the constraint's exact pin is the user's word for that version."""
    resolution = _resolve("gamma", constraints=["delta==1.1"])
    assert _pins(resolution)["delta"] == "1.1"
    assert resolution.pins["delta"].files[0].yanked == "bad"
    assert _pins(_resolve("gamma", constraints=["delta<=1.1"]))["delta"] == "1.0"


def test_extras_pull_their_dependencies() -> None:
    assert "speedy" in _pins(_resolve("alpha[fast]"))
    assert "speedy" not in _pins(_resolve("alpha"))


def test_backtracking_finds_the_older_left() -> None:
    assert _pins(_resolve("bt-top"))["bt-left"] == "1.0"


def test_constraints_limit_versions_and_show_in_via() -> None:
    resolution = _resolve("alpha", constraints=["beta<2"])
    assert _pins(resolution)["beta"] == "1.0"
    assert "-c" not in " ".join(resolution.pins["alpha"].via)


def test_cycle_resolves() -> None:
    assert _pins(_resolve("cycle-a")) == {"cycle-a": "1.0", "cycle-b": "1.0"}


def test_markers_per_target() -> None:
    linux = _resolve("markerpkg")
    assert set(_pins(linux)) == {"markerpkg", "fullver", "oldpython"}
    assert str(linux.pins["fullver"].marker) == 'python_full_version < "3.11.3"'
    assert linux.pins["oldpython"].marker is None
    windows = _resolve("markerpkg", target=WINDOWS)
    assert set(_pins(windows)) == {"markerpkg", "winonly"}


def test_platform_files_chosen_per_target() -> None:
    assert (
        _resolve("native", target=LINUX)
        .pins["native"]
        .files[0]
        .filename.endswith("cp311-cp311-manylinux_2_17_x86_64.whl")
    )
    assert (
        _resolve("native", target=WINDOWS)
        .pins["native"]
        .files[0]
        .filename.endswith("cp312-cp312-win_amd64.whl")
    )


def test_conflict_names_each_requirer() -> None:
    with pytest.raises(ResolutionConflict) as info:
        _resolve("clash-a", "clash-b")
    text = str(info.value)
    assert "clash-a==1.0 requires clash-base==1.0" in text
    assert "clash-b==1.0 requires clash-base==2.0" in text


def test_unknown_project_and_unsatisfiable_version() -> None:
    with pytest.raises(NoVersionFound, match="no version of nosuchthing"):
        _resolve("nosuchthing")
    with pytest.raises(NoVersionFound) as info:
        _resolve("delta>=3")
    assert str(info.value).endswith(
        ": none of the index's 3 versions of delta is in that range (the newest is 2.0)"
    )
    assert "check the name" not in info.value.hint


def test_sdist_only_names_project_version_target_and_option() -> None:
    with pytest.raises(NoFileForTarget) as info:
        _resolve("sdistonly")
    assert str(info.value).startswith("no file of sdistonly 1.0 for target cp311-manylinux")
    assert "--build" in info.value.hint


def test_metadata_read_once_per_file_across_targets() -> None:
    index = FakeIndex(INDEX)
    finder = Finder(index, Policy())
    inputs = parse_inputs(["alpha"], [], [])
    resolve(finder, LINUX, inputs)
    resolve(finder, WINDOWS, inputs)
    assert sorted(index.metadata_reads) == sorted(set(index.metadata_reads))


def test_missing_dependency_names_the_whole_chain() -> None:
    index = FakeIndex(
        {
            **INDEX,
            "top": [_release("1.0", "middle")],
            "middle": [_release("2.0", "nosuchdep>=1")],
        }
    )
    with pytest.raises(NoVersionFound) as info:
        _resolve("top", index=index)
    assert info.value.chain == ["the command line", "top==1.0", "middle==2.0"]
    assert "(required by the command line -> top==1.0 -> middle==2.0)" in str(info.value)


def test_a_root_requirement_names_the_input_it_came_from() -> None:
    with pytest.raises(NoVersionFound) as info:
        _resolve("nosuchthing")
    assert info.value.chain == ["the command line"]


def test_one_line_repeated_in_many_files_costs_no_more_than_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Matching looks at each distinct requirement, not at every line that repeats it."""
    files = []
    for number in range(2000):
        files.append(tmp_path / f"r{number}.txt")
        files[-1].write_text("alpha\n")
    looked_at: list[int] = []

    def counting(selection: Any, specifiers: list[SpecifierSet], **flags: bool) -> Any:
        looked_at.append(len(specifiers))
        return matching_versions(selection, specifiers, **flags)

    monkeypatch.setattr(provider, "matching_versions", counting)
    resolution = resolve(Finder(FakeIndex(INDEX), Policy()), LINUX, parse_inputs([], files, []))
    assert _pins(resolution)["alpha"] == "1.1"
    assert len(resolution.pins[canonicalize_name("alpha")].via) == 2000
    assert sum(looked_at) < 100, "each of 2000 asks would look at every line so far"


def test_too_many_rounds_is_its_own_error() -> None:
    inputs = parse_inputs(["bt-top"], [], [])
    with pytest.raises(ResolutionTooComplex) as info:
        resolve(Finder(FakeIndex(INDEX), Policy()), LINUX, inputs, max_rounds=2)
    assert "2 rounds" in str(info.value)
    assert "the conflict is caused by" not in str(info.value)
    assert "constraints" in info.value.hint


@dataclass(frozen=True)
class Want:
    """A requirement as speculation reads it."""

    name: NormalizedName
    extras: frozenset[str] = frozenset()
    specifier: SpecifierSet = field(default_factory=SpecifierSet)


class WatchedIndex(FakeIndex):
    """Says when a page was read, so a test can wait for a background read."""

    def __init__(self, projects: dict[str, list[tuple[str, list[str], str, bool]]]) -> None:
        super().__init__(projects)
        self.read = threading.Event()

    def project_files(self, name: str) -> ProjectPage:
        page = super().project_files(name)
        self.read.set()
        return page


def test_pages_read_only_by_speculation_are_not_consulted() -> None:
    """Which guesses finish depends on thread timing; the manifest must not."""
    index = WatchedIndex(INDEX)
    finder = Finder(index, Policy())
    finder.speculate([Want(name=canonicalize_name("bt-top"))], LINUX)  # and its dependencies
    assert index.read.wait(10)
    finder.close()  # waits for the running guess
    assert finder.consulted() == set()
    resolve(finder, LINUX, parse_inputs(["alpha"], [], []))
    assert finder.consulted() == {"alpha", "beta", "gamma", "delta"}


class Rounds(BaseReporter[Req, Candidate, str]):
    """Counts the resolver's rounds."""

    def __init__(self) -> None:
        self.count = 0

    def starting_round(self, index: int) -> None:
        self.count = index + 1


def _resolve_served(
    client: IndexClient,
    requirements: Sequence[str],
    constraints: Sequence[str] = (),
    *,
    rounds: Rounds | None = None,
    max_rounds: int = 20000,
) -> Resolution:
    inputs = parse_inputs(list(requirements), [], [])
    inputs.constraints = parse_inputs(list(constraints), [], []).requirements
    finder = Finder(client, Policy())
    try:
        return resolve(finder, CP312, inputs, rounds, max_rounds=max_rounds)
    finally:
        finder.close()


def test_a_lower_bound_heavy_set_resolves_in_few_rounds(served: IndexClient) -> None:
    """The newest frameworks need lb-core>=2, which every lb-plugin caps below 2.

    Deciding in the user's order alone re-decides all twenty lb-lib lines for
    each framework release it goes back on: 714 rounds. Deciding the last
    conflict's projects first, and upper bounds early, takes 53.
    """
    rounds = Rounds()
    pins = _pins(_resolve_served(served, LOWER_BOUND_HEAVY, rounds=rounds))
    assert (pins["lb-framework"], pins["lb-core"], pins["lb-plugin"]) == ("1.0.9", "1.1", "1.2")
    assert pins["lb-lib20"] == "1.1"
    assert rounds.count <= 100


@pytest.mark.parametrize(
    ("constraints", "most_rounds"),
    [(["lb-widget==1.0"], 1), ([], 60)],
    ids=["pinned", "unpinned"],
)
def test_a_dependency_that_is_only_an_sdist_fails_fast_and_is_named(
    served: IndexClient, constraints: list[str], most_rounds: int
) -> None:
    """Every lb-widget needs lb-sourceonly, which ships only an sdist.

    Decided last, the widget sent the resolver through every other line's
    versions until it gave up after 20000 rounds, naming no project, pinned or
    not. Pinned, it is now decided first and fails in the first round; not
    pinned, it fails as soon as it is decided, after the other lines (53 rounds).
    """
    rounds = Rounds()
    requirements = [*LOWER_BOUND_HEAVY, "lb-widget>=1"]
    with pytest.raises(NoFileForTarget) as info:
        _resolve_served(served, requirements, constraints, rounds=rounds, max_rounds=1000)
    assert (info.value.project, info.value.version) == ("lb-sourceonly", "1.0")
    assert "only an sdist" in str(info.value)
    assert "--build" in info.value.hint
    assert rounds.count <= most_rounds


def test_an_input_whose_every_version_leads_to_a_dead_end_fails_without_trying_the_rest() -> None:
    """widget needs middle, whose every version needs a project with only an sdist.

    resolvelib takes that for a conflict with the libs decided before, and
    tried their 2**12 combinations until the rounds ran out.
    """
    libs = {f"lib{n:02d}": [_release("1.0"), _release("1.1")] for n in range(12)}
    index = FakeIndex(
        {
            **INDEX,
            **libs,
            "widget": [_release("1.0", "middle>=1")],
            "middle": [_release("1.0", "sdistonly"), _release("1.1", "sdistonly>=1")],
        }
    )
    rounds = Rounds()
    inputs = parse_inputs([*libs, "widget"], [], [])
    with pytest.raises(NoFileForTarget) as info:
        resolve(Finder(index, Policy()), LINUX, inputs, rounds, max_rounds=1000)
    assert (info.value.project, info.value.version) == ("sdistonly", "1.0")
    assert rounds.count <= len(libs) + 5


def test_giving_up_names_the_projects_it_kept_going_back_on(served: IndexClient) -> None:
    """Not the lb-lib lines decided once each: the projects of the conflicts."""
    with pytest.raises(ResolutionTooComplex) as info:
        _resolve_served(served, LOWER_BOUND_HEAVY, max_rounds=40)
    assert {"lb-framework", "lb-plugin", "lb-core"} <= set(info.value.backtracked)
    assert "lb-lib01" not in info.value.backtracked
    assert "40 rounds" in str(info.value)
    assert "it kept going back on lb-plugin (3 versions tried), lb-framework" in str(info.value)
    assert "pin or bound lb-plugin, lb-framework" in info.value.hint


def test_a_range_of_yanked_versions_says_yanked_and_how_to_take_one() -> None:
    with pytest.raises(NoFileForTarget) as info:
        _resolve("delta>1.0,<2")
    assert str(info.value).endswith(": yanked (bad)")
    assert "exactly (==)" in info.value.hint


def _sdist_only(target: str, *, buildable: bool) -> NoFileForTarget:
    reasons = ["only an sdist"]
    return NoFileForTarget("tool", "1.0", target, reasons, sdist=True, buildable=buildable)


def test_failures_alike_on_several_targets_are_said_once_and_different_advice_apart() -> None:
    errors = [
        _sdist_only("cp311-manylinux_2_28_x86_64", buildable=True),
        _sdist_only("cp312-manylinux_2_28_x86_64", buildable=True),
        _sdist_only("cp312-musllinux_1_2_x86_64", buildable=False),
        *(
            NoVersionFound(f"p{n}>=9", "cp312-win_amd64", ["the command line"], 1, "1.0")
            for n in range(6)
        ),
    ]
    combined = combine(errors)
    assert isinstance(combined, ResolutionFailures)
    lines = str(combined).splitlines()
    assert lines[0] == (
        "no file of tool 1.0 for 2 targets (cp311-manylinux_2_28_x86_64, "
        "cp312-manylinux_2_28_x86_64): only an sdist"
    )
    assert lines[1] == "no file of tool 1.0 for target cp312-musllinux_1_2_x86_64: only an sdist"
    # --verbose shows a traceback of this same message: it cannot be where the rest are.
    assert len(lines) == 6 and lines[-1] == "and 3 more failures; build fewer targets to see them"
    assert combined.hint.startswith("pass --build to build tool 1.0 from its sdist; ")
    assert combine(errors[:2]).also == ["cp312-manylinux_2_28_x86_64"]  # type: ignore[attr-defined]


def test_file_objects_are_made_only_for_the_versions_whose_metadata_is_read(
    served: IndexClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are kept as rows; a version's files become DistFiles when it is visited.

    Alone, lb-framework takes its newest release: one of its 40 versions is made.
    The lower-bound-heavy set backtracks over many of them: every file made
    still belongs to a version whose metadata the resolver (or its guessing
    ahead) read.
    """
    made: list[tuple[str, str]] = []
    read: set[tuple[str, str]] = set()
    make, requires = DistFile.__init__, Finder.requires

    def counting_init(self: DistFile, **fields: Any) -> None:
        make(self, **fields)
        made.append((self.project, str(self.version)))

    def noting_requires(self: Finder, file: DistFile, target: Target) -> Any:
        read.add((file.project, str(file.version)))
        return requires(self, file, target)

    monkeypatch.setattr(DistFile, "__init__", counting_init)
    monkeypatch.setattr(Finder, "requires", noting_requires)
    assert len(served.project_files("lb-framework").listed) == 40
    made.clear()
    pins = _pins(_resolve_served(served, ["lb-framework"]))
    assert [v for name, v in made if name == "lb-framework"] == [pins["lb-framework"]]
    made.clear()
    pins = _pins(_resolve_served(served, LOWER_BOUND_HEAVY))
    assert pins["lb-framework"] == "1.0.9"
    assert ("lb-framework", "1.0.9") in read
    assert set(made) <= read


def test_a_requires_dist_line_is_parsed_once_for_every_file_that_lists_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Projects and versions repeat lines; one parsed requirement serves them all."""
    parsed: list[str] = []
    requirement = finder_module.Requirement

    def counted(line: str) -> object:
        parsed.append(line)
        return requirement(line)

    monkeypatch.setattr(finder_module, "Requirement", counted)
    monkeypatch.setattr(finder_module, "_PARSED", {})
    lines = ['once-probe; extra == "test"', "not a requirement!", "other-probe>=1"]
    first = finder_module._requirements(lines)
    again = finder_module._requirements(lines[::-1])
    assert [str(req) for req in first] == ['once-probe; extra == "test"', "other-probe>=1"]
    assert again == first[::-1] and again[1] is first[0]
    assert parsed == lines
