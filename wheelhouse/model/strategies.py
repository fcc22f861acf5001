"""How a project's files are gathered from several indexes (``--index-strategy``).

From the first index that knows the project (the default, as uv does), or from
all of them, merged (as pip does, which lets a public project shadow a private
name). Apart from the page parser so that the command line names them cheaply.
"""

from __future__ import annotations

__all__ = ["FIRST_INDEX", "STRATEGIES", "UNSAFE_BEST_MATCH"]

FIRST_INDEX, UNSAFE_BEST_MATCH = "first-index", "unsafe-best-match"
STRATEGIES = (FIRST_INDEX, UNSAFE_BEST_MATCH)
