"""``--hash`` options in the inputs: the only files a hashed requirement may be locked with.

As pip does under ``--require-hashes``: a hashed requirement must pin one version
(``==``), and of that version's files for a target only those whose sha256 is among
its hashes are kept (pip's ``filter_unallowed_hashes``); a pin left with none is
refused. A file whose digest the index did not give is judged after its download.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from packaging.utils import canonicalize_name

from wheelhouse.commands.errors import FileNotHashed, UnpinnedHashedRequirement
from wheelhouse.model.distributions import DistFile
from wheelhouse.model.reqfile import InputRequirement, Inputs
from wheelhouse.model.targets import Truth
from wheelhouse.resolve.candidates import Resolution, ResolvedPin

__all__ = ["allowed_files", "require_pins"]

#: A file's sha256, or None when it is not known yet.
Digest = Callable[[DistFile], str | None]


def _hashed(inputs: Inputs) -> list[InputRequirement]:
    return [item for item in (*inputs.requirements, *inputs.constraints) if item.hashes]


def require_pins(inputs: Inputs) -> None:
    """Refuse a hashed requirement that does not pin one exact version, before any look-up."""
    for item in _hashed(inputs):
        specifiers = list(item.requirement.specifier)
        exact = len(specifiers) == 1 and specifiers[0].operator in ("==", "===")
        if not exact or "*" in specifiers[0].version:
            raise UnpinnedHashedRequirement(item.location, str(item.requirement))


def allowed_files(
    resolutions: Iterable[Resolution], inputs: Inputs, digest: Digest, *, final: bool = False
) -> list[Resolution]:
    """``resolutions`` without the files the inputs' hashes refuse.

    A file whose ``digest`` is None stays, to be judged once downloaded. With
    ``final`` (every digest known, after the downloads), any refused file is an error,
    since it is already in the wheelhouse; before, only a pin left with no file is.
    """
    hashed = _hashed(inputs)
    return [_allowed(resolution, hashed, digest, final) for resolution in resolutions]


def _allowed(
    resolution: Resolution, hashed: Sequence[InputRequirement], digest: Digest, final: bool
) -> Resolution:
    pins = dict(resolution.pins)
    for item in hashed:
        pin = pins.get(canonicalize_name(item.requirement.name))
        if pin is None or resolution.target.evaluate(item.requirement.marker) is Truth.NEVER:
            continue  # a constraint on a project nothing needs, or a line for other targets
        kept = [file for file in pin.files if _fits(item, digest(file), final)]
        if not kept or (final and len(kept) < len(pin.files)):
            raise _refusal(item, resolution, pin, digest)
        pins[pin.name] = dataclasses.replace(pin, files=tuple(kept))
    return dataclasses.replace(resolution, pins=pins)


def _fits(item: InputRequirement, sha256: str | None, final: bool) -> bool:
    """Whether a file may stay: its digest is a hash of the line, or is not known yet."""
    return f"sha256:{sha256}" in item.hashes if sha256 or final else True


def _refusal(
    item: InputRequirement, resolution: Resolution, pin: ResolvedPin, digest: Digest
) -> FileNotHashed:
    files = [(file.filename, digest(file) or "unknown") for file in pin.files]
    return FileNotHashed(
        item.location,
        pin.name,
        str(pin.version),
        resolution.target.name,
        files,
        sorted(item.hashes),
    )
