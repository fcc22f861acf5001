"""Build progress on a terminal, through tqdm."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from wheelhouse.commands.build import BuildReporter
from wheelhouse.model.distributions import BuiltWheel, DistFile
from wheelhouse.model.targets import Target
from wheelhouse.resolve.candidates import Resolution
from wheelhouse.resolve.reporter import Round

__all__ = ["ByteBar", "ProgressReporter", "describe_round"]

#: Seconds between two updates of a target's line: resolvers run thousands of rounds.
INTERVAL = 0.2


class ByteBar:
    """One bar of bytes on a terminal; nothing in pipes or with --quiet."""

    def __init__(self, *, quiet: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.bar: Any = None

    def start(self, total: int, description: str) -> None:
        if self.enabled:
            from tqdm import tqdm  # only a terminal pays for importing it

            self.bar = tqdm(
                total=total, unit="B", unit_scale=True, file=self.stream, desc=description
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
    """Build progress on a terminal through tqdm; silent in pipes and with --quiet.

    While targets resolve, each has a line of its own saying how far it got
    and which project it keeps going back on; the lines go when it is resolved.
    """

    def __init__(self, *, quiet: bool, stream: TextIO | None = None) -> None:
        super().__init__(quiet=quiet, stream=stream)
        self.lines: dict[str, Any] = {}
        self.shown: dict[str, float] = {}
        self.lock = threading.Lock()  # targets resolve on several threads

    def _say(self, text: str) -> None:
        if self.enabled:
            from tqdm import tqdm  # only a terminal pays for importing it

            tqdm.write(text, file=self.stream)

    def resolving(self, target: Target) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        with self.lock:
            self.lines[target.name] = tqdm(
                total=None,
                bar_format="{desc}",
                desc=f"resolving {target.name}",
                file=self.stream,
                position=len(self.lines),
                leave=False,
            )

    def resolving_round(self, target: Target, where: Round) -> None:
        now = time.monotonic()
        with self.lock:
            line = self.lines.get(target.name)
            if line is None or now - self.shown.get(target.name, 0.0) < INTERVAL:
                return
            self.shown[target.name] = now
            line.set_description_str(describe_round(target, where))

    def resolved(self, resolution: Resolution) -> None:
        with self.lock:
            line = self.lines.pop(resolution.target.name, None)
        if line is not None:
            line.close()
        self._say(f"resolved {resolution.target.name}: {len(resolution.pins)} pins")

    def building(self, sdist: DistFile, python: str) -> None:
        self._say(f"building {sdist.filename} with Python {python}")

    def built(self, wheel: BuiltWheel) -> None:
        self._say(f"built {wheel.wheel.filename}")

    def downloading(self, files: Sequence[DistFile]) -> None:
        self.start(sum(file.size or 0 for file in files), f"downloading {len(files)} files")

    def progress(self, file: DistFile, nbytes: int) -> None:
        self.advance(nbytes)

    def close(self) -> None:
        """End the bars and lines, so that later messages do not land inside them."""
        with self.lock:
            lines, self.lines = list(self.lines.values()), {}
        for line in lines:
            line.close()
        super().close()


def describe_round(target: Target, where: Round) -> str:
    """``resolving cp312-…: round 40, 23 projects, backtracking on urllib3``."""
    text = f"resolving {target.name}: round {where.number}, {where.projects} projects"
    if where.backtracking_on:
        text += f", backtracking on {where.backtracking_on}"
    return text
