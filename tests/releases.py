"""The release artifacts of ``scripts/release``, built once per test session with no index.

A test module imports :func:`built_artifacts` to use the ``artifacts`` fixture.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import run

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "scripts" / "release"

__all__ = ["RELEASE", "ROOT", "Artifacts", "built_artifacts"]


@dataclass(frozen=True)
class Artifacts:
    wheel: Path
    pyz: Path


@pytest.fixture(scope="session", name="artifacts")
def built_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    """The wheel and the zipapp, from this environment's installed distributions."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, str(RELEASE), "--from-environment", "--out", str(out)])
    (wheel,) = out.glob("*.whl")
    return Artifacts(wheel=wheel, pyz=out / "wheelhouse.pyz")
