"""The limits on what an index may send: defaults, the variables that change them, words."""

from __future__ import annotations

import pytest

from wheelhouse.model.errors import InvalidLimit
from wheelhouse.model.limits import VARIABLES, Limits, describe_size


def test_defaults_are_generous_and_documented_by_their_variable() -> None:
    limits = Limits.from_environ({})
    assert limits == Limits()
    assert limits.describe("page_size") == "64 MiB (WHEELHOUSE_MAX_PAGE_SIZE)"
    assert limits.describe("metadata_size") == "16 MiB (WHEELHOUSE_MAX_METADATA_SIZE)"
    assert limits.describe("deadline") == "300 s (WHEELHOUSE_HTTP_DEADLINE)"
    assert limits.describe("min_rate") == "10 KiB/s (WHEELHOUSE_MIN_DOWNLOAD_RATE)"
    assert limits.describe("projects") == "10000 projects (WHEELHOUSE_MAX_PROJECTS)"
    assert set(VARIABLES) == set(Limits.__slots__)


def test_each_variable_sets_its_limit() -> None:
    limits = Limits.from_environ(
        {
            "WHEELHOUSE_MAX_PAGE_SIZE": "2M",
            "WHEELHOUSE_MAX_METADATA_SIZE": "512KiB",
            "WHEELHOUSE_MAX_FILE_SIZE": "1g",
            "WHEELHOUSE_HTTP_DEADLINE": "2.5",
            "WHEELHOUSE_MIN_DOWNLOAD_RATE": "1000",
            "WHEELHOUSE_MAX_PROJECTS": "40",
        }
    )
    assert limits == Limits(
        page_size=2 << 20,
        metadata_size=512 << 10,
        file_size=1 << 30,
        deadline=2.5,
        min_rate=1000,
        projects=40,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WHEELHOUSE_MAX_PAGE_SIZE", "0"),
        ("WHEELHOUSE_MAX_PAGE_SIZE", "lots"),
        ("WHEELHOUSE_HTTP_DEADLINE", "nan"),
        ("WHEELHOUSE_HTTP_DEADLINE", "-1"),
        ("WHEELHOUSE_MAX_PROJECTS", "4K"),
    ],
)
def test_a_value_that_is_no_limit_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(InvalidLimit, match=f"{variable}={value!r}") as caught:
        Limits.from_environ({variable: value})
    assert variable in caught.value.hint


def test_sizes_are_shown_in_the_largest_unit_that_divides_them() -> None:
    assert [describe_size(size) for size in (1 << 30, 3 << 20, 1536, 1000)] == [
        "1 GiB",
        "3 MiB",
        "1536 bytes",
        "1000 bytes",
    ]
