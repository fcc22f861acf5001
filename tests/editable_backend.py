"""A PEP 517 and PEP 660 build backend in the standard library only, for recipe tests.

A test project names it with ``backend-path``, so pip builds the project, editable
or not, with nothing from any index. The project's metadata is ``PKG-INFO`` beside
its ``pyproject.toml``; its code is ``<name>.py``.
"""

from __future__ import annotations

import base64
import email.parser
import hashlib
import os
import zipfile
from pathlib import Path

WHEEL = (
    "Wheel-Version: 1.0\nGenerator: editable_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)


def _identity() -> tuple[str, str, str]:
    metadata = Path("PKG-INFO").read_text(encoding="utf-8")
    fields = email.parser.Parser().parsestr(metadata)
    return metadata, fields["Name"].replace("-", "_"), fields["Version"]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def _wheel(directory: str, files: dict[str, bytes]) -> str:
    metadata, name, version = _identity()
    dist_info = f"{name}-{version}.dist-info"
    files = {
        **files,
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": WHEEL.encode(),
    }
    record = "".join(_record_line(path, data) for path, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return filename


def build_wheel(
    wheel_directory: str,
    config_settings: object = None,
    metadata_directory: object = None,
) -> str:
    module = f"{_identity()[1]}.py"
    return _wheel(wheel_directory, {module: Path(module).read_bytes()})


def build_editable(
    wheel_directory: str,
    config_settings: object = None,
    metadata_directory: object = None,
) -> str:
    pth = f"{_identity()[1]}.pth"
    return _wheel(wheel_directory, {pth: (os.getcwd() + "\n").encode()})
