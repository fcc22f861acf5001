"""The garbage collector's settings for a long command, and their restoring."""

from __future__ import annotations

import gc

import pytest

from wheelhouse.commands.collector import FIRST_THRESHOLD, collecting_rarely


def test_a_run_freezes_what_exists_and_collects_rarely_then_restores() -> None:
    before = gc.get_threshold()
    with collecting_rarely():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (FIRST_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_failure_restores_the_settings_too() -> None:
    before = gc.get_threshold()
    with pytest.raises(KeyboardInterrupt), collecting_rarely():
        raise KeyboardInterrupt
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
