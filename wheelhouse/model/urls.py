"""URLs as they may be shown or written: never with the credentials they were given with.

An index URL may carry a user name and a token (``https://user:token@host/simple``).
The real URL stays in memory for requests; everything printed or written to disk
goes through :func:`redact` first, which drops the userinfo entirely
(``https://host/simple``), so the written URL still works for a public index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["redact", "unique_urls", "with_credentials"]

# A scheme, then an authority's userinfo up to its last "@" (a password may hold an
# unescaped "@", and spaces, which httpx sends percent-encoded); the authority ends
# at the first "/", "?", "#" or line end, and a user name at a blank.
_USER = r"(?:[^\s/?#:]*:[^\n\r/?#]*|[^\s/?#]*)@"
_USERINFO = re.compile(rf"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://){_USER}")
# A URL's scheme, userinfo (with its "@") and host:port.
_AUTHORITY = re.compile(
    rf"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>{_USER})?(?P<host>[^/?#@]*)"
)


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


def with_credentials(url: str, index_urls: Iterable[str]) -> str:
    """``url`` with the userinfo of the first index URL on its scheme and host, if any.

    Recorded origins are redacted; a file on a private index's host needs the
    token the user gives that index again.
    """
    found = _AUTHORITY.match(url)
    if found is None or found["user"]:
        return url
    for index in index_urls:
        other = _AUTHORITY.match(index)
        if (
            other
            and other["user"]
            and other.group("scheme", "host") == found.group("scheme", "host")
        ):
            return f"{found['scheme']}{other['user']}{url[found.end('scheme') :]}"
    return url
