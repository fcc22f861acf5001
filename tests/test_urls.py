"""URLs as they are shown and written: never with the user name and password given."""

from __future__ import annotations

import pytest

from wheelhouse.model.urls import redact


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("https://user:token@index.example/simple", "https://index.example/simple"),
        ("https://user:p%40ss@index.example:8080/simple/", "https://index.example:8080/simple/"),
        # A password typed with a space still works (it is sent percent-encoded).
        ("https://user:pass word@index.example/simple", "https://index.example/simple"),
        (
            "cannot fetch https://u:a b@h.example/simple/x/: 503",
            "cannot fetch https://h.example/simple/x/: 503",
        ),
        (
            "https://index.example/files/a.whl and a mail to me@host",
            "https://index.example/files/a.whl and a mail to me@host",
        ),
    ],
)
def test_userinfo_is_dropped(given: str, shown: str) -> None:
    assert redact(given) == shown
