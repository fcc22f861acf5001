"""Shared fixtures: a clean environment for every test."""

from __future__ import annotations

import os

import pytest

_LEAKY_PREFIXES = ("PIP_", "UV_", "WHEELHOUSE_")
_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the machine's pip, uv and proxy settings out of every test."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name.lower() in _PROXIES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
