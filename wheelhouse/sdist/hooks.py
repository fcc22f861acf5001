"""PEP 517 hooks of a project's build backend, called here in an environment of our own.

pip installs the build requirements into a directory of the run's scratch space
(from the build's own indexes, its configuration neutralised); the backend then
runs in a fresh interpreter that sees only the standard library and that
directory, as a build front end isolates it. Every call goes through the
interpreters module's one subprocess helper.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wheelhouse.install.probe import InterpreterInfo
from wheelhouse.install.process import pip_command, run_bounded
from wheelhouse.sdist.errors import LocalBuildFailed
from wheelhouse.sdist.pep517 import DEFAULT_BUILD_REQUIRES, PipIndexes, build_timeout

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["BackendSpec", "backend_spec", "call_hook", "install_requirements"]

#: pip's backend for a project with no ``[build-system]`` (PEP 517).
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"

#: Runs in the builder's interpreter: imports the backend and calls one hook.
_SCRIPT = r"""
import importlib, json, os, site, sys
args = json.loads(sys.argv[1])
for path in args["paths"]:
    site.addsitedir(path)
os.chdir(args["source"])
sys.path[:0] = [os.path.join(args["source"], p) for p in args["backend_path"]]
module, _, attribute = args["backend"].partition(":")
try:
    backend = importlib.import_module(module)
    for part in filter(None, attribute.split(".")):
        backend = getattr(backend, part)
except (ImportError, AttributeError) as exc:
    sys.exit("cannot import the build backend %s: %s" % (args["backend"], exc))
out, hook, result = args["out"], args["hook"], {}
def requires(name):
    found = getattr(backend, name, None)
    return [str(r) for r in found({})] if found else []
if hook == "requires":
    result["wheel"] = requires("get_requires_for_build_wheel")
    editable = hasattr(backend, "build_editable")
    result["editable"] = requires("get_requires_for_build_editable") if editable else []
elif hook == "metadata" and hasattr(backend, "prepare_metadata_for_build_wheel"):
    found = backend.prepare_metadata_for_build_wheel(out, {})
    result["metadata"] = os.path.join(out, found, "METADATA")
else:
    result["wheel"] = os.path.join(out, backend.build_wheel(out, {}))
with open(args["result"], "w") as stream:
    json.dump(result, stream)
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class BackendSpec:
    """A project's ``[build-system]``: what to install, and the backend to call."""

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] = ()


def read_pyproject(source: Path) -> Mapping[str, Any]:
    """A project directory's ``pyproject.toml`` (empty without one).

    Raises ``ValueError`` when it is not valid TOML.
    """
    path = source / "pyproject.toml"
    return tomllib.loads(path.read_text("utf-8")) if path.is_file() else {}


def backend_spec(source: Path) -> BackendSpec:
    """The ``[build-system]`` of a project directory, with pip's defaults.

    Raises ``ValueError`` when ``pyproject.toml`` is not valid TOML.
    """
    system = read_pyproject(source).get("build-system")
    if not isinstance(system, dict):
        return BackendSpec(requires=(*DEFAULT_BUILD_REQUIRES, "wheel"), backend=DEFAULT_BACKEND)
    requires = tuple(str(item) for item in system.get("requires", []))
    backend = str(system.get("build-backend") or DEFAULT_BACKEND)
    paths = tuple(str(item) for item in system.get("backend-path", []))
    return BackendSpec(requires=requires, backend=backend, backend_path=paths)


def install_requirements(
    python: InterpreterInfo, requirements: Sequence[str], dest: Path, indexes: PipIndexes
) -> str | None:
    """Install ``requirements`` into the directory ``dest`` with pip, from the build's indexes.

    Returns None, or the last line of pip's output when it failed.
    """
    command = [
        *pip_command(python),
        *("install", "--quiet", "--no-cache-dir", "--ignore-installed", *indexes.options()),
        *("--target", str(dest), *requirements),
    ]
    timeout, expired = build_timeout()
    result = run_bounded(command, tmp_dir=dest.parent, timeout=timeout)
    if result is None:
        return f"pip did not finish within {expired}"
    if result.returncode != 0:
        return _last_line(result.stdout + result.stderr) or "pip failed"
    return None


def call_hook(
    python: InterpreterInfo,
    hook: str,
    source: Path,
    spec: BackendSpec,
    paths: Sequence[Path],
    scratch: Path,
    label: str,
) -> dict[str, Any]:
    """Call ``requires``, ``metadata`` (else a wheel) or ``wheel`` in a fresh interpreter.

    Returns what it reports: file paths under a new directory of ``scratch``, or
    the lists of requirements. Raises :class:`LocalBuildFailed` naming ``label``
    (the project) and the backend, with the last line of the output.
    """
    out = Path(tempfile.mkdtemp(prefix=f"{hook}-", dir=scratch))
    report = out.parent / f"{out.name}.json"
    arguments = {
        "paths": [str(path) for path in paths],
        "source": str(source),
        "backend": spec.backend,
        "backend_path": list(spec.backend_path),
        "hook": hook,
        "out": str(out),
        "result": str(report),
    }
    command = [str(python.path), "-I", "-S", "-c", _SCRIPT, json.dumps(arguments)]
    timeout, expired = build_timeout()
    result = run_bounded(command, tmp_dir=scratch, timeout=timeout)
    if result is None:
        detail = f"its {hook} hook did not finish within {expired}"
        raise LocalBuildFailed(label, spec.backend, detail)
    if result.returncode != 0 or not report.is_file():
        detail = _last_line(result.stdout + result.stderr) or f"exit status {result.returncode}"
        raise LocalBuildFailed(label, spec.backend, detail)
    found: dict[str, Any] = json.loads(report.read_text("utf-8"))
    return found


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
