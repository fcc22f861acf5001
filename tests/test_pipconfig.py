"""``env --check``'s reading of pip's configuration, and its guard against a pip that hangs."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest
from helpers import shell_script

from wheelhouse.install import pipconfig
from wheelhouse.install.errors import InterpreterNotFound
from wheelhouse.install.probe import probe


def test_a_pip_that_hangs_is_cut_off_with_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrapper or a pip waiting on something must not hold `env --check` forever."""
    hanging = shell_script(tmp_path / "python", "exec sleep 20")
    info = dataclasses.replace(probe(Path(sys.executable)), path=hanging)
    monkeypatch.setattr(pipconfig, "PIP_TIMEOUT", 0.5)
    started = time.monotonic()
    with pytest.raises(InterpreterNotFound) as caught:
        pipconfig.check_pip(info, tmp_path, [])
    assert time.monotonic() - started < 10
    assert str(caught.value).startswith(f"cannot use {hanging} as an interpreter: ")
    assert "pip config debug" in str(caught.value)
