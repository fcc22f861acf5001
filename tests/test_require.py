"""`require`: a missing prerequisite skips the test, or fails it under CI; no other skips."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import require

TESTS = Path(__file__).resolve().parent


def test_a_missing_prerequisite_skips_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="missing prerequisite nginx: why"):
        require("nginx", False, "why")


def test_under_ci_a_missing_prerequisite_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="missing prerequisite uv: why"):
        require("uv", False, "why")


def test_a_present_prerequisite_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require("uv", True, "why")


def _skips(path: Path) -> list[str]:
    """``skip``/``skipif``/``importorskip`` calls and ``mark.skip`` marks, as ``name:line``."""
    return [
        f"{path.name}:{getattr(node, 'lineno', '?')}"
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if _is_skip(node)
    ]


def _is_skip(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("skip", "skipif", "importorskip")
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ("skip", "skipif")
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "mark"
    )


def test_every_skip_goes_through_require() -> None:
    """Any other skip would pass silently in CI."""
    others = sorted(set(TESTS.glob("*.py")) - {TESTS / "conftest.py"})
    assert [skip for path in others for skip in _skips(path)] == []
