"""The provider's order of decisions: its sort key, narrowing after a conflict, promotion."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib.structs import RequirementInformation

from wheelhouse.inputs.files import parse_inputs
from wheelhouse.model.distributions import DistFile, Policy, Selection
from wheelhouse.model.pages import ProjectPage
from wheelhouse.model.targets import Target
from wheelhouse.resolve import provider as provider_module
from wheelhouse.resolve.candidates import Candidate, Req
from wheelhouse.resolve.finder import Finder
from wheelhouse.resolve.provider import PROMOTE_AFTER, Priorities, Provider

TARGET = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")


class NoIndex:
    """The sort key and the narrowing read no index."""

    def project_files(self, name: str) -> ProjectPage:
        return ProjectPage()

    def prefetch(self, names: Iterable[str]) -> None:
        pass

    def page_digests(self, names: Iterable[str]) -> dict[str, str]:
        return {}

    def metadata(self, file: object) -> bytes:
        raise AssertionError("no metadata is read")


def _provider(order: dict[str, int] | None = None, pinned: Iterable[str] = ()) -> Provider:
    priorities = Priorities(order=order or {}, pinned=frozenset(pinned))
    inputs = parse_inputs([], [], [])
    return Provider(Finder(NoIndex(), Policy()), TARGET, inputs, priorities=priorities)


def _req(text: str, parent: Candidate | None = None) -> Req:
    return Req.from_requirement(Requirement(text), parent, "the command line", None)


def _candidate(name: str, version: str) -> Candidate:
    return Candidate(name=_req(name).name, version=Version(version), extras=frozenset(), files=())


def _key(provider: Provider, identifier: str, *texts: str) -> object:
    information = {identifier: iter([RequirementInformation(_req(t), None) for t in texts])}
    return provider.get_preference(identifier, {}, {}, information, [])


def _order(provider: Provider, requirements: dict[str, tuple[str, ...]]) -> list[str]:
    keys = {name: _key(provider, name, *texts) for name, texts in requirements.items()}
    return sorted(keys, key=keys.__getitem__)  # type: ignore[arg-type]


def test_pinned_then_upper_bounded_then_input_order_then_bounded_then_free() -> None:
    provider = _provider(order={"first": 0, "second": 1}, pinned={"mine"})
    requirements = {
        "free": ("free",),
        "floor": ("floor>=1",),
        "second": ("second>=1",),
        "first": ("first>=1",),
        "wild": ("wild==1.*",),
        "capped": ("capped>=1", "capped<2"),
        "exact": ("exact==1.0",),
        "mine": ("mine>=1",),  # the user pinned it in a constraint
    }
    assert _order(provider, requirements) == [
        "mine",
        "exact",
        "capped",
        "wild",
        "first",
        "second",
        "floor",
        "free",
    ]


def test_an_extra_takes_the_input_order_of_its_project() -> None:
    provider = _provider(order={"late": 1, "early": 0})
    assert _order(provider, {"late": ("late>=1",), "early[cli]": ("early[cli]>=1",)}) == [
        "early[cli]",
        "late",
    ]


def test_the_last_conflict_is_decided_first_then_projects_that_keep_conflicting() -> None:
    provider = _provider()
    framework, plugin = _candidate("framework", "2.0"), _candidate("plugin", "1.0")
    causes = [
        RequirementInformation(_req("core>=2", framework), framework),
        RequirementInformation(_req("core<2", plugin), plugin),
    ]
    undecided = ["other", "framework", "core"]
    for _ in range(PROMOTE_AFTER - 1):
        assert list(provider.narrow_requirement_selection(undecided, {}, {}, {}, causes)) == [
            "framework",
            "core",
        ]
    assert list(provider.narrow_requirement_selection(undecided, {}, {}, {}, [])) == undecided
    provider.narrow_requirement_selection(undecided, {"framework": framework}, {}, {}, causes)
    assert provider.promoted == {"core", "plugin"}  # a decided project is not counted
    assert list(provider.narrow_requirement_selection(undecided, {}, {}, {}, [])) == ["core"]
    assert _order(provider, {"core": ("core>=1",), "exact": ("exact==1.0",)}) == ["core", "exact"]


def test_whether_a_pin_meets_a_requirement_is_worked_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """resolvelib asks again every round, for every requirement of every pin."""
    asked: list[tuple[str, str]] = []
    meets = Req.is_satisfied_by

    def counted(req: Req, candidate: Candidate) -> bool:
        asked.append((str(req), candidate.pin))
        return meets(req, candidate)

    monkeypatch.setattr(Req, "is_satisfied_by", counted)
    provider = _provider()
    wide, narrow, pin = _req("alpha>=1"), _req("alpha<2"), _candidate("alpha", "2.0")
    answers = [provider.is_satisfied_by(req, pin) for _ in range(3) for req in (wide, narrow)]
    assert answers == [True, False] * 3
    assert asked == [("alpha>=1", "alpha==2.0"), ("alpha<2", "alpha==2.0")]


class DemoIndex(NoIndex):
    """One project, three versions of one universal wheel each."""

    def project_files(self, name: str) -> ProjectPage:
        names = [f"demo-{v}-py3-none-any.whl" for v in ("1.0", "1.1", "2.0")]
        url = "https://files.example.invalid/"
        return ProjectPage.of(DistFile.create(filename=n, url=url + n, project=name) for n in names)


def test_the_candidates_for_a_set_of_specifiers_are_worked_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """resolvelib asks for matches each time a requirement is added, mostly the same again."""
    matched: list[list[str]] = []
    matching = provider_module.matching_versions

    def counted(selection: Selection, specifiers: list[SpecifierSet], **flags: bool) -> object:
        matched.append(sorted(map(str, specifiers)))
        return matching(selection, specifiers, **flags)

    monkeypatch.setattr(provider_module, "matching_versions", counted)
    inputs = parse_inputs([], [], [])
    provider = Provider(Finder(DemoIndex(), Policy()), TARGET, inputs)

    def matches(*texts: str, bad: tuple[Candidate, ...] = ()) -> list[Candidate]:
        requirements = {"demo": iter([_req(text) for text in texts])}
        return provider.find_matches("demo", requirements, {"demo": iter(bad)})

    first = matches("demo>=1")
    assert [str(c.version) for c in first] == ["2.0", "1.1", "1.0"]
    again = matches("demo>=1", "demo>=1")
    assert [id(c) for c in again] == [id(c) for c in first]
    assert [str(c.version) for c in matches("demo>=1", bad=(first[0],))] == ["1.1", "1.0"]
    assert [str(c.version) for c in matches("demo>=1", "demo<2")] == ["1.1", "1.0"]
    assert matched == [[">=1"], ["<2", ">=1"]]
