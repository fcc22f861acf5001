"""What `wheelhouse build` says when a requirement fits nothing: the reason first, in few lines.

Each case runs the command against the fixture index and reads its stderr as a
user would: who asked for each side of a conflict, the reason a version has no
file, short lists of tried versions, one message for a matrix of targets.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from helpers import find_python
from indexserver import FIXTURES, IndexServer

from wheelhouse.cli.app import cli
from wheelhouse.resolve.explain import tried_versions

LINUX = "manylinux_2_28_x86_64"
TARGET = ("--python", "3.11", "--platform", LINUX)


def build(tmp_path: Path, server: IndexServer, *args: str) -> list[str]:
    """Run a build that must fail; its stderr lines."""
    wh = str(tmp_path / "wh")
    result: Result = CliRunner().invoke(cli, ["build", "-w", wh, "--index-url", server.url, *args])
    assert result.exit_code == 1, result.output + repr(result.exception)
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "Tried:" not in result.stderr
    return result.stderr.splitlines()


def test_two_requirements_that_exclude_each_other_name_both_and_where(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """Each alone fits versions of lb-framework; together none."""
    req = tmp_path / "req.txt"
    req.write_text("alpha\nlb-framework>1.2\n")
    lines = build(tmp_path, index_server, "lb-framework<1.1", "-r", str(req), *TARGET)
    assert lines == [
        f"error: cannot resolve lb-framework for target cp311-{LINUX}; the conflict is caused by:",
        "    the command line (argument 1) requires lb-framework<1.1",
        f"    {req}:2 requires lb-framework>1.2",
        "hint: loosen one of the conflicting requirements or constraints",
    ]


def test_a_side_without_files_for_the_target_is_still_told_as_the_conflict(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """native 2.0 has no wheel for cp312, so >=2 fitted nothing: "no version of native>=2"
    then listed every other version as tried, and never named <2.
    """
    lines = build(
        tmp_path, index_server, "native<2", "native>=2", "--python", "3.12", "--platform", LINUX
    )
    assert lines[1:3] == [
        "    the command line (argument 2) requires native>=2",
        "    the command line (argument 1) requires native<2",
    ]
    assert not any("no version of" in line for line in lines)


def test_a_constraint_that_excludes_the_requirement_is_a_conflict(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """alpha>=1.1 fits 1.1 alone; the constraint leaves 1.0 only: not "no version of alpha>=1.1"."""
    constraints = tmp_path / "c.txt"
    constraints.write_text("# pins\nalpha==1.0\n")
    lines = build(tmp_path, index_server, "alpha>=1.1", "-c", str(constraints), *TARGET)
    assert lines[1:3] == [
        "    the command line (argument 1) requires alpha>=1.1",
        f"    constraint {constraints}:2 requires alpha==1.0",
    ]
    assert "no version of" not in lines[0]


def test_a_constraint_pin_without_a_wheel_for_the_target_says_so_and_when_build_helps(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """native 1.0 has a wheel for the target, but the constraint takes 2.0, which has none.

    --build helps where this machine builds for the target (a glibc x86_64 Linux
    with Python 3.11); never for a musllinux or macOS target; with a word of
    caution for a Python this machine lacks.
    """
    find_python("3.11")  # the interpreter --build would use for the target
    constraints = tmp_path / "c.txt"
    constraints.write_text("native==2.0\n")
    lines = build(tmp_path, index_server, "native", "-c", str(constraints), *TARGET)
    assert lines == [
        f"error: no file of native 2.0 for target cp311-{LINUX} (required by the command line), "
        f"the newest version that constraint {constraints}:1 (native==2.0) allows: no wheel for "
        "the target (its wheels: cp313-manylinux_2_17_x86_64); its sdist is built only with "
        "--build",
        "hint: pass --build to build native 2.0 from its sdist",
    ]
    musl = ("--python", "3.11", "--platform", "musllinux_1_1_x86_64")
    lines = build(tmp_path, index_server, "native", "-c", str(constraints), *musl)
    assert "pass --build" not in lines[-1]
    assert "cannot build native for the target" in lines[-1]
    unknown = ("--python", "3.99", "--platform", LINUX)  # this platform; no such Python here
    lines = build(tmp_path, index_server, "native", "-c", str(constraints), *unknown)
    assert lines[-1] == (
        "hint: pass --build to build native 2.0 from its sdist, on a machine of the target's "
        "platform with the target's Python"
    )


def test_no_version_in_range_says_what_the_index_has_not_to_check_the_name(
    tmp_path: Path, index_server: IndexServer
) -> None:
    lines = build(tmp_path, index_server, "lb-framework>=5", *TARGET)
    assert lines == [
        f"error: no version of lb-framework>=5 for target cp311-{LINUX} (required by the command "
        "line): none of the index's 40 versions of lb-framework is in that range (the newest is "
        "1.3.9)",
        "hint: ask for a version the index has (lb-framework 1.3.9 is the newest)",
    ]


def test_the_versions_tried_are_few_and_all_in_range(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """30 versions fit >=1.1 and every one is newer than --exclude-newer; 1.0.x are out of range."""
    args = ("lb-framework>=1.1", "--exclude-newer", "2000-01-01T00:00:00Z", *TARGET)
    error, hint = build(tmp_path, index_server, *args)
    assert error.endswith(
        ": uploaded after --exclude-newer; also tried 1.3.8, 1.3.7, 1.3.6 and 26 more"
    )
    assert error.startswith(f"error: no file of lb-framework 1.3.9 for target cp311-{LINUX} ")
    assert "1.0." not in error and len(error) < 200
    assert "--exclude-newer" in hint


def test_a_matrix_failing_alike_gets_one_message_and_no_build_advice_for_foreign_targets(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """native 2.0 ships a cp313 manylinux wheel and an sdist: six targets fail the same way."""
    pythons = ("--python", "3.11", "--python", "3.12", "--python", "3.13")
    platforms = ("--platform", "musllinux_1_1_x86_64", "--platform", "macosx_11_0_arm64")
    error, hint = build(tmp_path, index_server, "native>=2", *pythons, *platforms)
    assert error.startswith(
        "error: no file of native 2.0 for 6 targets (cp311-musllinux_1_1_x86_64, "
        "cp311-macosx_11_0_arm64, cp312-musllinux_1_1_x86_64 and 3 more) (required by the "
        "command line): no wheel for the target"
    ), error
    assert "pass --build" not in hint and "machine of the target's platform" in hint


def test_a_projects_own_legacy_file_names_are_passed_over_without_a_warning(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """``alpha-2013-11-29.tar.gz`` on alpha's page is alpha's, from before the version rules."""
    sdist = FIXTURES / "files" / "sdistonly-1.0.tar.gz"
    index_server.add_file(sdist, filename="alpha-2013-11-29.tar.gz", project="alpha")
    index_server.add_file(sdist, filename="alpha-2013-11-30.tar.gz", project="alpha")
    wh = str(tmp_path / "wh")
    result = CliRunner().invoke(
        cli, ["build", "-q", "-w", wh, "--index-url", index_server.url, "alpha", *TARGET]
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr and "refused" not in result.stderr
    assert result.stderr == (
        "note: skipped 2 index entries whose names do not parse (--verbose lists them)\n"
    )


def test_refresh_check_exits_3_when_the_resolution_fails_and_says_why(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """1 would mean "pins would change": a failure under --check is 3, and nothing is written."""
    constraints = tmp_path / "c.txt"
    constraints.write_text("alpha>=1.0\n")
    wh = tmp_path / "wh"
    args = ["build", "-q", "-w", str(wh), "--index-url", index_server.url, "alpha"]
    built = CliRunner().invoke(cli, [*args, "-c", str(constraints), *TARGET])
    assert built.exit_code == 0, built.output
    before = {path: path.read_bytes() for path in wh.rglob("*") if path.is_file()}
    constraints.write_text("alpha==9\n")  # refresh reads the files again
    result = CliRunner().invoke(cli, ["refresh", "--check", "-w", str(wh)])
    assert result.exit_code == 3, result.output
    assert f"    constraint {constraints}:1 requires alpha==9" in result.stderr.splitlines()
    assert {path: path.read_bytes() for path in wh.rglob("*") if path.is_file()} == before


def test_the_wheels_a_target_misses_show_its_platform_and_the_newest_python_first(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """native 1.0 has 12 wheels for 3.11 to 3.13 on five platforms: 3.10 sees the nearest."""
    lines = build(tmp_path, index_server, "native==1.0", "--python", "3.10", "--platform", LINUX)
    assert (
        "(its wheels: cp313-manylinux_2_17_x86_64, cp312-manylinux_2_17_x86_64, "
        "cp312-manylinux_2_28_x86_64 and 9 more)"
    ) in lines[0]


def test_tried_versions_are_bare_only_when_all_shown_share_the_first_reason() -> None:
    same = [("2.2", "sdist only"), ("2.1", "sdist only")]
    assert tried_versions("sdist only", same) == ["2.2", "2.1"]
    mixed = [("2.2", "no wheel for the target"), ("2.1", "sdist only")]
    assert tried_versions("sdist only", mixed) == [
        "2.2 (no wheel for the target)",
        "2.1 (sdist only)",
    ]
