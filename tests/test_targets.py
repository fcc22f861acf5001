"""Targets: tags per PEP 600 and friends, marker environments, patch-release spread."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.tags import Tag

from wheelhouse.model.errors import NoMatchingTarget
from wheelhouse.model.targets import (
    Target,
    Truth,
    match_target,
    parse_platform,
    parse_target_name,
    portable_platform,
)


def _target(version: tuple[int, int], platform: str) -> Target:
    return Target(python_version=version, platform=platform)


def test_manylinux_target_takes_older_glibc_and_legacy_aliases() -> None:
    tags = _target((3, 12), "manylinux_2_28_x86_64").tag_set
    for platform in (
        "manylinux_2_28_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
    ):
        assert Tag("cp312", "cp312", platform) in tags
    assert Tag("cp312", "cp312", "manylinux_2_29_x86_64") not in tags
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") not in tags
    assert Tag("cp311", "abi3", "manylinux_2_17_x86_64") in tags
    assert Tag("py3", "none", "any") in tags


def test_newest_compatible_platform_first() -> None:
    tags = _target((3, 12), "manylinux_2_28_x86_64").tags
    assert tags[0] == Tag("cp312", "cp312", "manylinux_2_28_x86_64")
    assert tags.index(Tag("cp312", "cp312", "manylinux_2_28_x86_64")) < tags.index(
        Tag("cp312", "cp312", "manylinux2014_x86_64")
    )


def test_legacy_alias_is_accepted_as_a_platform() -> None:
    platforms, _ = parse_platform("manylinux2014_aarch64")
    assert platforms[0] == "manylinux_2_17_aarch64"
    assert "manylinux_2_5_aarch64" not in platforms  # aarch64 starts at glibc 2.17


def test_musllinux_is_not_manylinux() -> None:
    tags = _target((3, 11), "musllinux_1_2_x86_64").tag_set
    assert Tag("cp311", "cp311", "musllinux_1_1_x86_64") in tags
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") not in tags


def test_macos_and_windows() -> None:
    mac = _target((3, 11), "macosx_11_0_arm64")
    assert Tag("cp311", "cp311", "macosx_11_0_universal2") in mac.tag_set
    assert Tag("cp311", "cp311", "macosx_12_0_arm64") not in mac.tag_set
    assert mac.environment()["sys_platform"] == "darwin"
    win = _target((3, 12), "win_amd64")
    assert win.environment()["platform_machine"] == "AMD64"
    assert Tag("cp312", "cp312", "win32") not in win.tag_set


@pytest.mark.parametrize("bad", ["linux", "manylinux_x86_64", "freebsd_13_amd64", ""])
def test_unknown_platform_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown platform tag"):
        parse_platform(bad)


def test_markers_are_evaluated_for_the_target_not_the_build_machine() -> None:
    win = _target((3, 12), "win_amd64")
    assert win.evaluate(Marker('sys_platform == "win32"')) is Truth.ALWAYS
    assert win.evaluate(Marker('sys_platform == "linux"')) is Truth.NEVER
    assert win.evaluate(Marker('python_version < "3.12"')) is Truth.NEVER


def test_full_version_marker_is_sometimes_for_a_version_target() -> None:
    target = _target((3, 11), "manylinux_2_17_x86_64")
    assert target.evaluate(Marker('python_full_version < "3.11.3"')) is Truth.SOMETIMES
    exact = Target(
        python_version=(3, 11), platform="manylinux_2_17_x86_64", python_full_version="3.11.7"
    )
    assert exact.evaluate(Marker('python_full_version < "3.11.3"')) is Truth.NEVER


def test_extras_in_markers() -> None:
    target = _target((3, 11), "win_amd64")
    marker = Marker('extra == "fast"')
    assert target.evaluate(marker) is Truth.NEVER
    assert target.evaluate(marker, ["fast"]) is Truth.ALWAYS


def test_requires_python() -> None:
    target = _target((3, 11), "win_amd64")
    assert target.allows_python(">=3.8")
    assert not target.allows_python(">=3.12")
    assert target.allows_python(">=3.11.3")  # some 3.11 satisfies it
    assert target.allows_python("garbage")  # an unparsable value is ignored, as pip does


def test_target_names_round_trip() -> None:
    assert parse_target_name("cp312-manylinux_2_28_x86_64") == ((3, 12), "manylinux_2_28_x86_64")
    assert Target.from_name("cp310-win_amd64").name == "cp310-win_amd64"
    with pytest.raises(ValueError):
        parse_target_name("py3-none")


def test_portable_platform_skips_linux_and_any() -> None:
    from wheelhouse.model.targets import portable_platform

    assert portable_platform(["linux_x86_64", "manylinux_2_36_x86_64", "any"]) == (
        "manylinux_2_36_x86_64"
    )
    assert portable_platform(["any", "linux_armv7l"]) == "linux_armv7l"
    assert portable_platform(["win_amd64"]) == "win_amd64"


def test_match_target_prefers_the_interpreters_most_specific_tag() -> None:
    tags = [
        Tag(*tag.split("-"))
        for tag in (
            "cp313-cp313-linux_x86_64",
            "cp313-cp313-manylinux_2_36_x86_64",
            "cp313-cp313-manylinux_2_28_x86_64",
            "cp313-cp313-manylinux_2_17_x86_64",
            "py3-none-any",
        )
    ]
    tag, python = f"cp313-{portable_platform(t.platform for t in tags)}", "/venv/bin/python"
    targets = ["cp313-manylinux_2_17_x86_64", "cp313-manylinux_2_28_x86_64", "cp312-win_amd64"]
    chosen = match_target(targets, tags=tags, tag=tag, interpreter=python)
    assert chosen == "cp313-manylinux_2_28_x86_64"
    with pytest.raises(NoMatchingTarget) as error:
        others = ["cp313-manylinux_2_39_x86_64", "cp312-win_amd64"]
        match_target(others, tags=tags, tag=tag, interpreter=python)
    assert error.value.interpreter_tag == "cp313-manylinux_2_36_x86_64"
    assert error.value.targets == ["cp312-win_amd64", "cp313-manylinux_2_39_x86_64"]
