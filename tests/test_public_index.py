"""Opt-in: a real build against the public index (run with `-m network`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import find_python, installed, make_venv, run, unshare_prefix

pytestmark = pytest.mark.network

LINUX = "manylinux_2_28_x86_64"


def test_requests_for_two_pythons_installs_offline(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    run(
        [
            sys.executable,
            "-m",
            "wheelhouse",
            "build",
            "-q",
            "-w",
            str(wh),
            "requests",
            "--python",
            "3.11",
            "--python",
            "3.12",
            "--platform",
            LINUX,
        ]
    )
    for version in ("3.11", "3.12"):
        venv = make_venv(tmp_path, find_python(version), name=f"v{version}", with_pip=True)
        lock = wh / "locks" / f"cp{version.replace('.', '')}-{LINUX}.txt"
        run(
            [
                *unshare_prefix(),
                str(venv),
                "-m",
                "pip",
                "install",
                "--no-index",
                "--find-links",
                str(wh),
                "--require-hashes",
                "-r",
                str(lock),
            ]
        )
        assert "requests" in installed(venv)
        assert "urllib3" in installed(venv)
