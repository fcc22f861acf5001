"""The layers of the package: each module imports only what its layer may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "wheelhouse"

#: Layer of every module: 1 values and pure logic, 2 edges (I/O), 3 orchestration,
#: 4 the CLI. A module imports only from its own layer or the ones below.
LAYERS = {
    "__init__": 0,
    "errors": 0,
    "urls": 0,
    "distributions": 1,
    "targets": 1,
    "reqfile": 1,
    "pages": 1,
    "simple": 1,
    "locks": 1,
    "diff": 1,
    "manifest": 1,
    "cache": 2,
    "client": 2,
    "remotezip": 2,
    "finder": 2,
    "resolver": 2,
    "store": 2,
    "indexer": 2,
    "server": 2,
    "interpreters": 2,
    "installer": 2,
    "sdists": 2,
    "staging": 2,
    "build": 3,
    "builder": 3,
    "upkeep": 3,
    "merge": 3,
    "verify": 3,
    "cli": 4,
    "__main__": 5,
}

#: Third-party or standard modules only one module (or none in layer 1) may use.
OWNERS = {
    "httpx": {"client"},
    "resolvelib": {"resolver"},
    "click": {"cli"},
    "tqdm": {"cli"},
    "subprocess": {"interpreters", "installer"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert set(MODULES) <= set(LAYERS), set(MODULES) - set(LAYERS)


@pytest.mark.parametrize("module", MODULES)
def test_module_respects_layers(module: str) -> None:
    for name in _imports(PACKAGE / f"{module}.py"):
        top = name.split(".")[0]
        if top in OWNERS:
            assert module in OWNERS[top], f"{module} imports {name}"
        if top == "wheelhouse" and "." in name:
            imported = name.split(".")[1]
            assert LAYERS[imported] <= LAYERS[module], (
                f"{module} (layer {LAYERS[module]}) imports {imported} (layer {LAYERS[imported]})"
            )
