"""The garbage collector's settings for a long command, and their restoring."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys

import pytest
from conftest import require

from wheelhouse.commands import collector
from wheelhouse.commands.collector import (
    FIRST_THRESHOLD,
    collecting_rarely,
)


def test_a_run_freezes_what_exists_and_collects_rarely_then_restores() -> None:
    before = gc.get_threshold()
    with collecting_rarely():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (FIRST_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_run_holds_the_allocator_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    held: list[bool] = []
    monkeypatch.setattr(collector, "hold_mmap_threshold", lambda: held.append(True) or True)
    with collecting_rarely():
        assert held == [True]


def test_a_failure_restores_the_settings_too() -> None:
    before = gc.get_threshold()
    with pytest.raises(KeyboardInterrupt), collecting_rarely():
        raise KeyboardInterrupt
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)


#: In a fresh interpreter: free a block glibc mapped on its own (which raises its
#: threshold, unless held), then say whether a smaller, still large, one is mapped too.
_PROBE = """
import ctypes, sys
from wheelhouse.commands.collector import hold_mmap_threshold
if sys.argv[1] == "held":
    assert hold_mmap_threshold()
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "a b c hblks e f g h i j".split()]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
large = bytearray(30 << 20)
del large
before = mallinfo2().hblks
block = bytearray(20 << 20)
print(mallinfo2().hblks - before)
"""


@pytest.mark.parametrize(("setting", "mapped"), [("held", "1"), ("as glibc starts", "0")])
def test_on_glibc_a_page_sized_block_is_mapped_on_its_own_while_the_threshold_is_held(
    setting: str, mapped: str
) -> None:
    """Else, once a large block was freed, the next ones come from a heap that keeps them."""
    glibc = hasattr(os, "confstr") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    require("glibc 2.33", glibc and hasattr(ctypes.CDLL(None), "mallinfo2"), "mallinfo2 tells")
    probe = [sys.executable, "-c", _PROBE, setting]
    found = subprocess.run(probe, capture_output=True, text=True, check=True, timeout=60)
    assert found.stdout.strip() == mapped
