"""Credentials for private indexes: each request gets its own host's, and no other's.

Where a host's user name and password come from, first found wins, as pip and uv
look for them:

1. the URL itself (``https://user:token@host/simple``), or an index URL given
   with credentials on the same scheme, host and port;
2. ``$NETRC``, else ``~/.netrc``: the ``machine`` entry of the host (the standard
   library's :mod:`netrc` reads it; a ``default`` entry counts, as in curl);
3. the ``keyring`` command, when the index URL names a user but no password
   (``https://user@host/simple``): ``keyring get <index URL> <user>``, then
   ``keyring get <host[:port]> <user>``, as pip's ``--keyring-provider subprocess``
   asks. It runs at most once per host and run, bounded by a timeout; it is
   also asked after a 401 to credentials that came from ``~/.netrc``.

A user name with no password found anywhere is sent alone (an index whose token
is the user name). Credentials ride only on requests to their own host: a file
hosted elsewhere gets none, and httpx drops the header on a redirect to another
host. Nothing here prints or stores them; :meth:`Credentials.describe` tells where
a host's came from, never what they are.
"""

from __future__ import annotations

import base64
import dataclasses
import netrc
import os
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from wheelhouse.model.urls import redact

__all__ = ["KEYRING_TIMEOUT", "Credentials", "Login", "Runner", "netrc_path"]

#: Seconds one ``keyring`` command may take; a backend that prompts or hangs is cut off.
KEYRING_TIMEOUT = 30.0

#: Runs a command with a timeout; its standard output on success, None on any failure.
Runner = Callable[[Sequence[str], float], "str | None"]

_Origin = tuple[str, str, int | None]


@dataclass(frozen=True, slots=True)
class Login:
    """A user name and password, and where they were found (never shown with them)."""

    username: str
    password: str = dataclasses.field(repr=False)  # a traceback's repr must not show it
    source: str = ""

    def header(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class _Index:
    url: str  # without credentials
    username: str | None
    password: str | None = dataclasses.field(repr=False)


def netrc_path(environ: Mapping[str, str]) -> Path:
    """``$NETRC``, else ``~/.netrc``."""
    return Path(environ.get("NETRC") or Path("~/.netrc").expanduser())


class Credentials(httpx.Auth):
    """Basic authentication for every request, from its own host's credentials.

    ``index_urls`` are the indexes as the user gave them, credentials included.
    ``keyring`` runs the ``keyring`` command (None: never asked). Thread-safe:
    each host's credentials are looked up once, by the first request to it.
    """

    def __init__(
        self,
        index_urls: Sequence[str],
        *,
        environ: Mapping[str, str] | None = None,
        keyring: Runner | None = None,
        keyring_timeout: float = KEYRING_TIMEOUT,
    ) -> None:
        self._indexes: dict[_Origin, _Index] = {}
        for url in index_urls:
            parsed = httpx.URL(url)
            # The first index on a host speaks for it, one with credentials before one without.
            known = self._indexes.get(_origin(parsed))
            if known is None or (known.username is None and parsed.username):
                self._indexes[_origin(parsed)] = _Index(
                    url=redact(url).rstrip("/") + "/",
                    username=parsed.username or None,
                    password=parsed.password or None,
                )
        self._netrc = netrc_path(os.environ if environ is None else environ)
        self._keyring, self._timeout = keyring, keyring_timeout
        self._lock = threading.Lock()
        self._found: dict[_Origin, Login | None] = {}
        self._asked_keyring: set[_Origin] = set()
        self._machines: netrc.netrc | bool | None = False  # False: not read yet

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        login = self._for(request.url)
        if login is not None:
            request.headers["Authorization"] = login.header()
        response = yield request
        if response.status_code != 401 or _origin(response.url) != _origin(request.url):
            return
        better = self._after_refusal(request.url, login)
        if better is not None:
            request.headers["Authorization"] = better.header()
            yield request

    def describe(self, url: str) -> str:
        """Where the credentials sent to ``url``'s host came from, or that none were found."""
        parsed = httpx.URL(url)
        with self._lock:
            login = self._found.get(_origin(parsed))
        if parsed.username or parsed.password:
            login = Login(parsed.username, parsed.password, "the URL")
        if login is None:
            return f"no credentials were found for {parsed.host}"
        return f"the credentials for {parsed.host} from {login.source} were refused"

    def _for(self, url: httpx.URL) -> Login | None:
        if url.username or url.password:
            return Login(url.username, url.password, "the URL")
        origin = _origin(url)
        with self._lock:
            if origin not in self._found:
                self._found[origin] = self._look_up(origin, url.host)
            return self._found[origin]

    def _look_up(self, origin: _Origin, host: str) -> Login | None:
        index = self._indexes.get(origin)
        if index is not None and index.username is not None and index.password is not None:
            return Login(index.username, index.password, "the index URL")
        found = self._from_netrc(host)
        if found is not None or index is None or index.username is None:
            return found
        return self._from_keyring(origin, index) or Login(index.username, "", "the index URL")

    def _after_refusal(self, url: httpx.URL, sent: Login | None) -> Login | None:
        """Credentials worth one more try after a 401: the keyring's, if not asked yet."""
        origin = _origin(url)
        index = self._indexes.get(origin)
        if index is None or index.username is None or url.username or url.password:
            return None
        with self._lock:
            if origin in self._asked_keyring:
                return None
            found = self._from_keyring(origin, index)
            if found is None or found == sent:
                return None
            self._found[origin] = found
            return found

    def _from_netrc(self, host: str) -> Login | None:
        if self._machines is False:
            self._machines = _read_netrc(self._netrc)
        if not isinstance(self._machines, netrc.netrc):
            return None
        entry = self._machines.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return Login(login or "", password or "", _shown(self._netrc))

    def _from_keyring(self, origin: _Origin, index: _Index) -> Login | None:
        """``keyring get`` for the index URL, then for its host; at most once per host."""
        self._asked_keyring.add(origin)
        if self._keyring is None or index.username is None:
            return None
        _scheme, host, port = origin
        for service in (index.url, host if port is None else f"{host}:{port}"):
            out = self._keyring(["keyring", "get", service, index.username], self._timeout)
            password = out.rstrip("\r\n") if out is not None else None
            if password:
                return Login(index.username, password, "keyring")
        return None


def _origin(url: httpx.URL) -> _Origin:
    return url.scheme, url.host, url.port


def _read_netrc(path: Path) -> netrc.netrc | None:
    """The parsed file; None when it is missing or unreadable (pip and uv go on without it)."""
    try:
        return netrc.netrc(str(path))
    except (OSError, netrc.NetrcParseError):
        return None


def _shown(path: Path) -> str:
    home = Path("~").expanduser()
    try:
        return f"~/{path.relative_to(home)}"
    except ValueError:
        return str(path)
