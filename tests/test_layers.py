"""The layers of the package: each subpackage imports only the ones below it.

The rules are package to package (``model`` may import nothing but ``errors``
and itself), in every form an import can take: absolute, ``from wheelhouse
import x``, relative, ``importlib.import_module`` and ``__import__``. The pure
layer (``model``) also does no I/O: no file, process or network modules and no
file calls. ``test_the_checker_catches`` feeds the checker bad modules, so
a rule that stops working fails here rather than passing in silence.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "wheelhouse"

_EVERYTHING = {
    "errors",
    "model",
    "inputs",
    "house",
    "index",
    "resolve",
    "install",
    "sdist",
    "s3",
    "commands",
}

#: What each part of the package may import besides itself and the version in
#: ``wheelhouse/__init__.py``. Layer 1 (values) is ``model``; layer 2 (edges) is
#: ``inputs``, ``house``, ``index``, ``resolve``, ``install``, ``sdist`` and ``s3``; ``commands``
#: orchestrates them and ``cli`` sits on top.
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "errors": set(),
    "model": {"errors"},
    "inputs": {"errors", "model"},
    "house": {"errors", "model"},
    "index": {"errors", "model", "house"},
    "resolve": {"errors", "model"},
    "install": {"errors", "model", "inputs", "house"},
    "sdist": {"errors", "model", "house", "install", "resolve"},
    "s3": {"errors", "model"},
    "commands": _EVERYTHING - {"commands"},
    "cli": _EVERYTHING,
    "__main__": {"cli"},
}

#: Outside modules that only these parts of the package may import.
OWNERS: dict[str, set[str]] = {
    "httpx": {"index"},
    "httpcore": {"index"},
    "h2": {"index"},
    "resolvelib": {"resolve"},
    "click": {"cli"},
    "tqdm": {"cli"},
    "subprocess": {"install"},
    "socket": {"house"},
    "socketserver": {"house"},
    "http": {"house"},
    "ssl": {"index"},
    "boto3": {"s3"},
    "botocore": {"s3"},
    "s3transfer": {"s3"},
    "mypy_boto3_s3": {"s3"},
}

#: Modules the pure layer must not import: files, processes, network, archives.
IO_MODULES = {
    "os",
    "shutil",
    "tempfile",
    "subprocess",
    "socket",
    "ssl",
    "zipfile",
    "tarfile",
    "fcntl",
    "mmap",
    "threading",
    "concurrent",
    "multiprocessing",
    "urllib.request",
    "http",
    "httpx",
    "sqlite3",
    "glob",
    "io",
}

#: Methods that touch the file system, whatever object they are called on.
IO_CALLS = {
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "mkdir",
    "rmdir",
    "unlink",
    "touch",
    "exists",
    "is_file",
    "is_dir",
    "iterdir",
    "glob",
    "rglob",
    "stat",
    "lstat",
    "chmod",
    "rename",
    "resolve",
    "samefile",
    "symlink_to",
    "hardlink_to",
    "readlink",
    "expanduser",
    "home",
    "cwd",
}


def part_of(relative: Path) -> str:
    """The part of the package a module belongs to: its subpackage, or its own name."""
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _absolute(package: list[str], node: ast.ImportFrom) -> list[str]:
    """The modules an ``ImportFrom`` may load, made absolute (``from . import x``)."""
    if node.level:
        base = package[: len(package) - node.level + 1]
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    return [module, *(f"{module}.{alias.name}" for alias in node.names)]


def imported(relative: Path, source: str) -> list[tuple[str, int]]:
    """Every module name the source imports, with its line: all forms, dynamic ones too."""
    package = ["wheelhouse", *relative.parts[:-1]]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(name, node.lineno) for name in _absolute(package, node)]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            arg = node.args[0] if node.args else None
            name = arg.value if isinstance(arg, ast.Constant) else "<dynamic>"
            found.append((str(name), node.lineno))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _io_calls(source: str) -> list[tuple[str, int]]:
    """File-system calls: ``open(...)`` and methods such as ``path.read_text()``."""
    calls: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in IO_CALLS:
            calls.append((name, node.lineno))
    return calls


def violations(relative: Path, source: str) -> list[str]:
    """What a module does that its layer forbids; empty when it keeps the rules."""
    part = part_of(relative)
    found: list[str] = []
    for name, line in imported(relative, source):
        where = f"{relative}:{line}"
        top, _, rest = name.partition(".")
        if name == "<dynamic>":
            found.append(f"{where}: an import whose name is not a constant")
        elif top == "wheelhouse":
            target = rest.split(".")[0]
            if target and target not in {part, "__version__"} and target not in ALLOWED[part]:
                found.append(f"{where}: {part} imports {name}")
        elif top in OWNERS and part not in OWNERS[top]:
            found.append(f"{where}: {part} imports {name}, which only {OWNERS[top]} may")
        if part == "model" and (top in IO_MODULES or name in IO_MODULES):
            found.append(f"{where}: the pure layer imports {name}")
    if part == "model":
        calls = _io_calls(source)
        found += [f"{relative}:{line}: the pure layer calls {call}()" for call, line in calls]
    return found


MODULES = sorted(path.relative_to(PACKAGE) for path in PACKAGE.rglob("*.py"))


def test_every_part_has_rules() -> None:
    assert {part_of(module) for module in MODULES} <= set(ALLOWED)


def test_the_layers_form_no_cycle() -> None:
    def below(part: str, seen: frozenset[str] = frozenset()) -> None:
        assert part not in seen, f"cycle through {part}"
        for other in ALLOWED[part]:
            below(other, seen | {part})

    for part in ALLOWED:
        below(part)


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_module_respects_layers(module: Path) -> None:
    assert violations(module, (PACKAGE / module).read_text(encoding="utf-8")) == []


BAD = {
    "absolute upward": ("model/targets.py", "from wheelhouse.cli import main"),
    "package attribute": ("model/targets.py", "from wheelhouse import cli"),
    "plain import": ("model/targets.py", "import wheelhouse.commands.build"),
    "relative upward": ("model/targets.py", "from ..cli import main"),
    "relative package": ("model/targets.py", "from .. import commands"),
    "sideways": ("resolve/finder.py", "from wheelhouse.index import client"),
    "sideways relative": ("resolve/finder.py", "from ..index.client import IndexClient"),
    "import_module": ("house/indexer.py", "importlib.import_module('wheelhouse.cli')"),
    "__import__": ("house/indexer.py", "__import__('wheelhouse.index.client')"),
    "dynamic name": ("house/indexer.py", "import_module(name)"),
    "lazy in a function": ("model/locks.py", "def f():\n    from wheelhouse.house import x"),
    "owned module": ("resolve/finder.py", "import httpx"),
    "owned submodule": ("model/pages.py", "from http.client import HTTPConnection"),
    "subprocess outside install": ("commands/build.py", "import subprocess"),
    "boto3 outside s3": ("commands/publish.py", "import boto3"),
    "botocore outside s3": ("cli.py", "from botocore.config import Config"),
    "pure imports os": ("model/reqfile.py", "import os"),
    "pure imports zipfile": ("model/simple.py", "from zipfile import ZipFile"),
    "pure opens": ("model/locks.py", "def f(p):\n    return open(p).read()"),
    "pure reads a path": ("model/manifest.py", "def f(p):\n    return p.read_text()"),
    "pure lists a directory": ("model/diff.py", "def f(p):\n    return list(p.iterdir())"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_checker_catches(case: str) -> None:
    module, source = BAD[case]
    assert violations(Path(module), source), f"{case} went unnoticed"


def test_the_checker_lets_allowed_imports_pass() -> None:
    good = (
        "from wheelhouse import __version__\n"
        "from wheelhouse.errors import WheelhouseError\n"
        "from wheelhouse.model.targets import Target\n"
        "from . import directory\n"
        "from .errors import NotAWheelhouse\n"
        "import json\n"
    )
    assert violations(Path("house/indexer.py"), good) == []
