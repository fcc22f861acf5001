"""The AWS SDK, loaded only when a publish needs it, and what to do without it.

boto3 is an optional dependency (the ``s3`` extra): every other command works
without it, so it is imported here, on demand, and its absence is an error that
says how to install the extra for the copy of the tool that is running.
"""

from __future__ import annotations

import importlib.metadata
import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from wheelhouse.model.publish import Multipart, S3Location
from wheelhouse.s3.errors import MissingS3Extra

if TYPE_CHECKING:
    from wheelhouse.s3.store import S3Store

__all__ = ["connect", "install_command"]

_SDK = {"boto3", "botocore", "s3transfer"}
#: Never the bare name: on the public index, ``wheelhouse`` is another project.
_PLACEHOLDER = "<checkout or wheel of wheelhouse-mirror-builder>"


def connect(
    location: S3Location, *, endpoint_url: str | None, jobs: int, multipart: Multipart | None = None
) -> S3Store:
    """A store over ``location``; :class:`MissingS3Extra` when boto3 is not installed."""
    try:
        from wheelhouse.s3.store import S3Store
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in _SDK:
            raise
        raise MissingS3Extra(str(exc.name), install_command()) from None
    return S3Store(location, endpoint_url=endpoint_url, jobs=jobs, multipart=multipart)


def install_command() -> str:
    """``pip install '<where this copy came from>[s3]'``, from its PEP 610 record if any."""
    found = _install_source()
    if found is None:
        return f"pip install '{_PLACEHOLDER}[s3]'"
    source, editable = found
    return f"pip install {'-e ' if editable else ''}{shlex.quote(source + '[s3]')}"


def _install_source() -> tuple[str, bool] | None:
    """The local directory or wheel this package was installed from, and if editable.

    The distribution is the one whose files include this package, or (installed
    in development mode, its files elsewhere) the one installed from this checkout.
    """
    owners = set(importlib.metadata.packages_distributions().get("wheelhouse", []))
    checkout = Path(__file__).resolve().parents[2]
    for distribution in importlib.metadata.distributions():
        try:
            info = json.loads(distribution.read_text("direct_url.json") or "{}")
        except ValueError:  # a damaged record says nothing useful
            continue
        url = urlsplit(str(info.get("url", "")))
        if url.scheme != "file":
            continue
        source = url2pathname(url.path)
        if distribution.metadata["Name"] in owners or Path(source).resolve() == checkout:
            return source, bool(info.get("dir_info", {}).get("editable"))
    return None
