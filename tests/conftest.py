"""Shared fixtures: a clean environment for every test, the fixture index server, index
clients, and :func:`require`, the one way a test says what this machine must have.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fakeindex import INDEX, FakeIndex
from indexserver import FIXTURES, IndexServer

from wheelhouse.index.client import IndexClient

_LEAKY_PREFIXES = ("PIP_", "UV_", "WHEELHOUSE_")
_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


_SESSION_CACHE = Path(tempfile.mkdtemp(prefix="wheelhouse-test-cache-"))
#: Kill points tried per command unless ``--killpoints`` says otherwise.
_KILLPOINTS = "all"


def require(name: str, available: bool, why: str) -> None:
    """Skip the test when the machine lacks ``name``; under CI (``CI=true``), fail it instead.

    CI is where every prerequisite is installed (``.ci/run``), so a missing one
    there is a broken set-up, never a reason to pass with fewer tests run.
    """
    if available:
        return
    message = f"missing prerequisite {name}: {why}"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{message} (CI=true: every prerequisite must be there)", pytrace=False)
    pytest.skip(message)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--killpoints",
        default=_KILLPOINTS,
        help="kill points tried per write command, spread evenly, or 'all' "
        f"(default {_KILLPOINTS})",
    )


@pytest.fixture
def killpoint_limit(request: pytest.FixtureRequest) -> int | None:
    """How many kill points to try per command; None for every one."""
    value = str(request.config.getoption("--killpoints"))
    return None if value == "all" else max(2, int(value))


def pytest_configure(config: pytest.Config) -> None:
    """Runs outside a test (module fixtures, subprocesses) never touch the user's cache."""
    os.environ["WHEELHOUSE_CACHE_DIR"] = str(_SESSION_CACHE)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep the machine's pip, uv and proxy settings out of every test."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name.lower() in _PROXIES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    # No credentials of this machine's (~/.netrc) reach a test's requests.
    monkeypatch.setenv("NETRC", str(tmp_path_factory.getbasetemp() / "no-netrc"))
    # Each test starts with an empty cache, so request counts mean what they say.
    monkeypatch.setenv("WHEELHOUSE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def _session_index_server() -> Iterator[IndexServer]:
    with IndexServer() as server:
        yield server


@pytest.fixture
def index_server(_session_index_server: IndexServer) -> Iterator[IndexServer]:
    """The fixture index on 127.0.0.1, well-behaved, with an empty request log.

    Shared by the whole session: switches, the log and any listing changes are
    reset around each test. Tests that need their own copy of the files use
    ``mutable_index_server``.
    """
    _session_index_server.reset()
    yield _session_index_server
    _session_index_server.reset()


@pytest.fixture
def index_server_factory() -> Iterator[Callable[[Path], IndexServer]]:
    """Start an index server over any fixtures root (index.json and files/); stopped after."""
    servers: list[IndexServer] = []

    def start(root: Path) -> IndexServer:
        servers.append(IndexServer(root).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    """A private copy of ``fixtures/`` that a test may change."""
    return Path(shutil.copytree(FIXTURES, tmp_path / "fixtures"))


@pytest.fixture
def mutable_index_server(
    fixtures_copy: Path, index_server_factory: Callable[[Path], IndexServer]
) -> IndexServer:
    """An index server of this test's own, over ``fixtures_copy``."""
    return index_server_factory(fixtures_copy)


@pytest.fixture
def fake() -> FakeIndex:
    """An empty fake index: a test adds its routes."""
    return FakeIndex()


@pytest.fixture
def client(fake: FakeIndex) -> Iterator[IndexClient]:
    """A client of ``fake`` that retries twice, without pausing."""
    with IndexClient([INDEX], transport=httpx.MockTransport(fake), retries=2, backoff=0) as client:
        yield client


@pytest.fixture
def served(index_server: IndexServer) -> Iterator[IndexClient]:
    """A client of the fixture index server."""
    with IndexClient([index_server.url], retries=2, backoff=0, timeout=5) as client:
        yield client
