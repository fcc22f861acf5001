"""A full disk: a write command fails with one clear line and leaves the old set whole.

The wheelhouse lives on a small tmpfs (mounting one needs root). Each command
runs with no space free, then one page (4 KiB) more each time until it fits,
so that it fails at each write that needs another page. Each failure must exit
1 with one ``error:`` line naming the file and no traceback, and leave the set
wholly old or wholly new (:func:`consistency.check_consistent`); once space is
freed, the next run must end as a run that never failed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require
from consistency import check_consistent
from helpers import run
from indexserver import IndexServer
from killpoints import SCENARIOS, Scenario, reference, report, rerun_problems

PAGE = 4096
ROOMY = 64 << 20
#: A bound on the sizes tried; the commands here fit in fewer pages.
MOST_PAGES = 40


@functools.cache
def _can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    with tempfile.TemporaryDirectory() as probe:
        command = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe]
        mounted = subprocess.run(command, capture_output=True, check=False)
        if mounted.returncode != 0:
            return False
        subprocess.run(["umount", probe], check=True)
    return True


class Disk:
    """A tmpfs mounted at ``path``, whose free space can be set."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def used(self) -> int:
        stat = os.statvfs(self.path)
        return (stat.f_blocks - stat.f_bfree) * stat.f_frsize

    def leave_free(self, free: int) -> None:
        """Resize to what is used plus ``free`` bytes (whole pages)."""
        size = self.used() + free // PAGE * PAGE
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True)

    def empty(self) -> None:
        self.leave_free(ROOMY)
        for entry in self.path.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    require("a tmpfs mount", _can_mount_tmpfs(), "mounting a small tmpfs needs root and mount(8)")
    path = tmp_path / "disk"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={ROOMY}", "tmpfs", str(path)], check=True)
    try:
        yield Disk(path)
    finally:
        if subprocess.run(["umount", str(path)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True)


def _sizes() -> Iterator[int]:
    """Free space to try: none, then one page more each time, until the command fits."""
    return (PAGE * pages for pages in range(MOST_PAGES))


def _wheelhouse(scenario: Scenario, root: Path) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "wheelhouse", *scenario.command(root)], check=False)


def _failure_problems(result: subprocess.CompletedProcess[str], root: Path) -> list[str]:
    """What is wrong with how a command reported a full disk."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    problems = [] if result.returncode == 1 else [f"exited {result.returncode}, not 1"]
    if "Traceback" in result.stderr:
        problems.append("a traceback on stderr")
    if len(errors) != 1 or str(root) not in errors[0]:
        problems.append(f"not one error line naming the file: {errors or result.stderr[-300:]}")
    return problems


@pytest.mark.parametrize("name", ["build", "index"])
def test_a_full_disk_fails_cleanly_and_keeps_the_old_set(
    name: str, tmp_path: Path, index_server: IndexServer, disk: Disk
) -> None:
    scenario = SCENARIOS[name](tmp_path / "setup", index_server)
    ref = reference(scenario, tmp_path)
    failed, tried = [], []
    for free in _sizes():
        root = disk.path / "wh"
        scenario.start(root)
        disk.leave_free(free)
        result = _wheelhouse(scenario, root)
        if result.returncode == 0:
            break  # it fitted in this much space, and so it will in more
        tried.append(free)
        problems = _failure_problems(result, root)
        found = check_consistent(root, ref.before, ref.after, tolerate=ref.tolerated)
        problems += [f"after the failure: {p}" for p in found]
        disk.leave_free(ROOMY)
        problems += rerun_problems(scenario, root, ref)
        failed += [[f"{free} bytes free:", *problems]] if problems else []
        disk.empty()
    assert tried, f"{name} never ran out of space: the sizes tried are too large"
    assert len(tried) < MOST_PAGES, f"{name} never fitted in {MOST_PAGES} pages"
    head = f"{name} on a full disk: {len(failed)} of {len(tried)} sizes broke all-or-nothing"
    assert not failed, report(head, failed)
