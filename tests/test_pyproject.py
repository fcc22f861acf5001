"""`-r pyproject.toml`: PEP 621 dependencies, extras and PEP 735 groups, with uv as the oracle."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import require
from helpers import run_uv
from indexserver import IndexServer
from packaging.requirements import Requirement

from wheelhouse.cli import cli
from wheelhouse.inputs.files import parse_inputs
from wheelhouse.model.errors import DynamicMetadata, InputFileError
from wheelhouse.model.locks import parse_requirements_lock
from wheelhouse.model.pyproject import Choice, dependency_groups, project_requirements

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LINUX = "manylinux_2_28_x86_64"
PYPROJECT = """\
[project]
name = "proj"
version = "0.1.0"
dependencies = ["alpha[fast]", "markerpkg", "modern"]

[project.optional-dependencies]
test = ["stable"]
Docs = ["gamma"]

[dependency-groups]
dev = ["evolving", {include-group = "lint"}]
lint = ["requires-odd"]
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def origins(document: dict[str, Any], choice: Choice) -> list[tuple[str, str]]:
    found = project_requirements(document, "pyproject.toml", choice)
    return [(str(item.requirement), item.origin) for item in found]


def toml(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def test_dependencies_extras_and_groups_keep_where_they_were_written() -> None:
    document = toml(PYPROJECT)
    assert origins(document, Choice()) == [
        ("alpha[fast]", "-r pyproject.toml"),
        ("markerpkg", "-r pyproject.toml"),
        ("modern", "-r pyproject.toml"),
    ]
    chosen = origins(document, Choice(extras=("test",), groups=("dev",)))
    assert chosen[3:] == [
        ("stable", "pyproject.toml [extra test]"),
        ("evolving", "pyproject.toml (group dev)"),
        ("requires-odd", "pyproject.toml (group dev)"),
    ]
    every = origins(document, Choice(all_extras=True))
    assert ("gamma", "pyproject.toml [extra docs]") in every


def test_groups_alone_need_no_project_table() -> None:
    document = {"dependency-groups": {"dev": ["alpha"]}}
    assert origins(document, Choice(groups=("dev",))) == [("alpha", "pyproject.toml (group dev)")]
    with pytest.raises(InputFileError, match="no \\[project\\] table"):
        origins(document, Choice())


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"a": [{"include-group": "b"}], "b": [{"include-group": "a"}]}, "a cycle: a -> b -> a"),
        ({"a": [{"include-group": "a"}]}, "a cycle: a -> a"),
        ({"a": [{"include-group": "missing"}]}, "a includes missing, which does not exist"),
        ({"a": ["x"], "A": ["y"]}, "names a twice"),
        ({"a": [{"include": "b"}]}, "holds"),
        ({"a": "alpha"}, "is not a list"),
    ],
)
def test_bad_dependency_groups_are_refused(groups: dict[str, Any], message: str) -> None:
    with pytest.raises(InputFileError, match=message) as info:
        dependency_groups(groups, "pyproject.toml")
    assert str(info.value).startswith("pyproject.toml: ")


def test_group_expansion_agrees_with_the_reference_implementation() -> None:
    available = importlib.util.find_spec("dependency_groups") is not None
    require("dependency-groups", available, "the PyPA reference implementation of PEP 735")
    from dependency_groups import resolve

    table = {
        "test": ["pytest", {"include-group": "runtime"}],
        "runtime": ["alpha>=1", "beta; python_version < '3.12'"],
        "all": [{"include-group": "test"}, {"include-group": "Runtime"}, "gamma"],
    }
    ours = dependency_groups(table, "pyproject.toml")
    for name in table:
        expected = [str(Requirement(text)) for text in resolve(table, name)]
        assert [str(Requirement(text)) for text in ours[name.lower()]] == expected


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (Choice(extras=("nope",)), "no extra nope \\(it has: docs, test\\)"),
        (Choice(groups=("nope",)), "no dependency group nope \\(it has: dev, lint\\)"),
    ],
)
def test_unknown_extras_and_groups_name_what_there_is(choice: Choice, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        origins(toml(PYPROJECT), choice)


def test_dynamic_dependencies_are_refused_naming_the_file() -> None:
    document = {"project": {"name": "p", "dynamic": ["version", "dependencies"]}}
    with pytest.raises(DynamicMetadata) as info:
        origins(document, Choice())
    assert str(info.value) == (
        "pyproject.toml: [project] dependencies cannot be read statically ([project] dynamic)"
    )
    extras = {"project": {"name": "p", "dependencies": [], "dynamic": ["optional-dependencies"]}}
    assert origins(extras, Choice()) == []
    with pytest.raises(DynamicMetadata, match="optional-dependencies"):
        origins(extras, Choice(extras=("x",)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[project]\ndependencies = ["alpha >>> 1"]', "invalid requirement 'alpha >>> 1'"),
        ('[project]\ndependencies = ["a @ https://x.test/a.whl"]', "direct URL reference"),
        ("[project]\ndependencies = 'alpha'", "not a list of strings"),
        ("[project\n", "not valid TOML"),
    ],
)
def test_a_bad_pyproject_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    with pytest.raises(InputFileError, match=message) as info:
        parse_inputs([], [path], [])
    assert str(info.value).startswith(f"{path}: ")


def test_build_from_pyproject_agrees_with_uv_and_refresh_rereads_it(
    tmp_path: Path, index_server: IndexServer
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    root = tmp_path / "wh"
    args = ("-r", str(pyproject), "--extra", "test", "--group", "dev")
    result = invoke(
        "build",
        "-q",
        "-w",
        str(root),
        "-i",
        index_server.url,
        *args,
        "--python",
        "3.12",
        "--platform",
        LINUX,
    )
    assert result.exit_code == 0, result.output
    text = (root / "locks" / f"cp312-{LINUX}.txt").read_text()
    ours = {e.name: e.version for e in parse_requirements_lock(text)}
    compiled = run_uv(
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "test",
        "--group",
        "dev",
        "-q",
        "--python-version",
        "3.12",
        "--python-platform",
        "x86_64-manylinux_2_28",
        "--index-url",
        index_server.url,
        "--no-annotate",
        "--no-header",
        cwd=project,
    ).stdout
    assert ours == dict(line.split("==") for line in compiled.split())
    assert f"# via {pyproject} [extra test]" in text
    assert f"# via {pyproject} (group dev)" in text
    pyproject.write_text(PYPROJECT.replace('lint = ["requires-odd"]', 'lint = ["oldpython"]'))
    result = invoke("refresh", "-w", str(root))
    assert result.exit_code == 0, result.output
    assert "oldpython" in result.output and "requires-odd" in result.output
    text = (root / "locks" / f"cp312-{LINUX}.txt").read_text()
    assert "requires-odd" not in text and "oldpython==1.0" in text and "stable==1.0" in text


def test_extras_need_a_project_or_a_lock(tmp_path: Path) -> None:
    result = invoke("build", "-w", str(tmp_path / "wh"), "alpha", "--extra", "test")
    assert result.exit_code == 2
    assert "choose from -r pyproject.toml or --from-lock" in result.output
