"""Build progress on a terminal, through tqdm."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from wheelhouse.commands.build import BuildReporter
from wheelhouse.model.distributions import BuiltWheel, DistFile
from wheelhouse.resolve.candidates import Resolution

__all__ = ["ByteBar", "ProgressReporter"]


class ByteBar:
    """One bar of bytes on a terminal's stderr; nothing in pipes or with --quiet."""

    def __init__(self, *, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar: Any = None

    def start(self, total: int, description: str) -> None:
        if self.enabled:
            from tqdm import tqdm  # only a terminal pays for importing it

            self.bar = tqdm(
                total=total, unit="B", unit_scale=True, file=sys.stderr, desc=description
            )

    def advance(self, nbytes: int) -> None:
        if self.bar is not None:
            self.bar.update(nbytes)

    def close(self) -> None:
        """End the bar, if any, so that later messages do not land inside it."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class ProgressReporter(BuildReporter, ByteBar):
    """Build progress on a terminal through tqdm; silent in pipes and with --quiet."""

    def _say(self, text: str) -> None:
        if self.enabled:
            from tqdm import tqdm  # only a terminal pays for importing it

            tqdm.write(text, file=sys.stderr)

    def resolved(self, resolution: Resolution) -> None:
        self._say(f"resolved {resolution.target.name}: {len(resolution.pins)} pins")

    def building(self, sdist: DistFile, python: str) -> None:
        self._say(f"building {sdist.filename} with Python {python}")

    def built(self, wheel: BuiltWheel) -> None:
        self._say(f"built {wheel.wheel.filename}")

    def downloading(self, files: Sequence[DistFile]) -> None:
        self.start(sum(file.size or 0 for file in files), f"downloading {len(files)} files")

    def progress(self, file: DistFile, nbytes: int) -> None:
        self.advance(nbytes)
