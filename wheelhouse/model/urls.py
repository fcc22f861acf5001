"""URLs as they may be shown or written: never with the credentials they were given with.

An index URL may carry a user name and a token (``https://user:token@host/simple``).
The real URL stays in memory for requests; everything printed or written to disk
goes through :func:`redact` first, which drops the userinfo entirely
(``https://host/simple``), so the written URL still works for a public index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["redact", "unique_urls"]

# A scheme, then an authority's userinfo up to its last "@" (a password may hold an
# unescaped "@"); the authority ends at the first "/", "?", "#" or blank.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@")


def redact(text: str) -> str:
    """``text`` (a URL, or a message holding URLs) with every URL's userinfo dropped."""
    return _USERINFO.sub(r"\g<scheme>", text)


def unique_urls(urls: Iterable[str]) -> tuple[str, ...]:
    """Each URL once, compared without credentials; a spelling with credentials wins.

    A recorded (redacted) URL and the same URL given again with its token are one index.
    """
    chosen: dict[str, str] = {}
    for url in urls:
        key = redact(url).rstrip("/")
        if key not in chosen or redact(chosen[key]) == chosen[key]:
            chosen[key] = url
    return tuple(chosen.values())
