"""The names of a wheelhouse's files: temporary files and metadata files are told apart."""

from __future__ import annotations

from wheelhouse.house.layout import (
    is_temporary,
    metadata_name,
    metadata_owner,
    part_name,
    target_files,
    temporary_affixes,
)


def test_is_temporary() -> None:
    assert is_temporary(".a.whl.part-0123") and is_temporary(".index.html.x1y2.tmp")
    assert not is_temporary(".wheelhouse.lock") and not is_temporary("a.tmp")


def test_the_names_written_are_the_names_recognised() -> None:
    prefix, suffix = temporary_affixes("index.html")
    assert is_temporary(f"{prefix}x1y2{suffix}")
    assert is_temporary(part_name("a-1.0-py3-none-any.whl"))
    assert part_name("a.whl") != part_name("a.whl")


def test_metadata_files_name_their_wheel() -> None:
    wheel = "a-1.0-py3-none-any.whl"
    assert metadata_owner(metadata_name(wheel)) == wheel
    assert metadata_owner("a-1.0.tar.gz.metadata") is None
    assert metadata_owner(wheel) is None


def test_target_files() -> None:
    assert target_files("cp312-x") == (
        "locks/cp312-x.txt",
        "locks/pylock.cp312-x.toml",
        "constraints/cp312-x.txt",
    )
