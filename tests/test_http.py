"""HTTP under the index client: retries with backoff, verified downloads, TLS and index URLs."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import ssl
import time
from pathlib import Path

import httpx
import pytest
from fakeindex import (
    INDEX,
    FakeIndex,
    content,
    html_answer,
    make_wheel,
    sequence,
    served_wheel,
    status,
    truncated,
    wheel_file,
)
from indexserver import IndexServer
from pip._internal.models.index import PyPI

from wheelhouse.index.client import IndexClient
from wheelhouse.index.errors import DownloadError, HashMismatch, IndexUnreachable, Untrusted
from wheelhouse.index.tls import CERT_VARIABLES, default_index_url, index_url_from, ssl_context

# Retries


def test_server_errors_and_broken_connections_are_retried(
    fake: FakeIndex, client: IndexClient
) -> None:
    url = f"{INDEX}/demo/"
    fake.routes[url] = sequence(
        status(503), httpx.ConnectError("refused"), html_answer("demo-1.0.zip")
    )
    assert len(client.project_files("demo").files) == 1
    assert len(fake.hits(url)) == 3


def test_truncated_page_is_retried(fake: FakeIndex, client: IndexClient) -> None:
    url = f"{INDEX}/demo/"
    short = httpx.Response(200, headers={"Content-Type": "text/html", "Content-Length": "999"})
    fake.routes[url] = sequence(lambda request: short, html_answer("demo-1.0.zip"))
    assert len(client.project_files("demo").files) == 1
    assert len(fake.hits(url)) == 2


def test_retries_exhausted_name_the_url(fake: FakeIndex, client: IndexClient) -> None:
    url = f"{INDEX}/demo/"
    fake.routes[url] = sequence(httpx.ReadTimeout("slow"), status(500))
    with pytest.raises(IndexUnreachable) as caught:
        client.project_files("demo")
    assert caught.value.url == url and url in str(caught.value)
    assert "HTTP 500 (tried 3 times)" in str(caught.value)
    assert len(fake.hits(url)) == 3


def test_backoff_grows_exponentially(fake: FakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    fake.routes[f"{INDEX}/demo/"] = status(500)
    transport = httpx.MockTransport(fake)
    client = IndexClient([INDEX], transport=transport, retries=3, backoff=0.5)
    with client, pytest.raises(IndexUnreachable):
        client.project_files("demo")
    assert pauses == [0.5, 1.0, 2.0]


# Downloads


def test_download_verifies_and_moves_into_place(
    fake: FakeIndex, client: IndexClient, tmp_path: Path
) -> None:
    body = make_wheel()
    digest = hashlib.sha256(body).hexdigest()
    file = wheel_file(sha256=digest)
    fake.routes[file.url] = content(body)
    seen: list[int] = []
    dest = tmp_path / file.filename
    assert client.download(file, dest, seen.append) == digest
    assert dest.read_bytes() == body and sum(seen) == len(body)
    assert [path.name for path in tmp_path.iterdir()] == [file.filename]


def test_download_with_a_wrong_hash_leaves_no_file(
    fake: FakeIndex, client: IndexClient, tmp_path: Path
) -> None:
    file = wheel_file(sha256="00" * 32)
    fake.routes[file.url] = content(b"tampered")
    with pytest.raises(HashMismatch) as caught:
        client.download(file, tmp_path / file.filename)
    assert caught.value.actual == hashlib.sha256(b"tampered").hexdigest()
    assert list(tmp_path.iterdir()) == []
    assert len(fake.log) == 1


def test_truncated_download_is_retried(
    fake: FakeIndex, client: IndexClient, tmp_path: Path
) -> None:
    body = make_wheel()
    file = wheel_file(sha256=hashlib.sha256(body).hexdigest())
    fake.routes[file.url] = sequence(truncated(body[:3]), content(body))
    seen: list[int] = []
    client.download(file, tmp_path / file.filename, seen.append)
    assert (tmp_path / file.filename).read_bytes() == body
    assert seen == [3, -3, len(body)]
    assert len(fake.log) == 2


def test_always_truncated_download_fails_and_leaves_no_file(
    fake: FakeIndex, client: IndexClient, tmp_path: Path
) -> None:
    file = wheel_file()
    fake.routes[file.url] = truncated(b"abc")
    with pytest.raises(DownloadError, match="truncated body: 3 of 13 bytes"):
        client.download(file, tmp_path / file.filename)
    assert list(tmp_path.iterdir()) == []
    assert len(fake.log) == 3


def test_missing_file_fails_at_once(fake: FakeIndex, client: IndexClient, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        client.download(wheel_file(), tmp_path / "demo-1.0-py3-none-any.whl")
    assert list(tmp_path.iterdir()) == [] and len(fake.log) == 1


def test_interrupted_download_leaves_no_file(
    fake: FakeIndex, client: IndexClient, tmp_path: Path
) -> None:
    file = wheel_file()
    fake.routes[file.url] = content(b"x" * 10)

    def interrupt(size: int) -> None:
        if size > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.download(file, tmp_path / file.filename, interrupt)
    assert list(tmp_path.iterdir()) == []


def test_download_replaces_an_existing_file(
    fake: FakeIndex, client: IndexClient, tmp_path: Path
) -> None:
    file = wheel_file()
    dest = tmp_path / file.filename
    dest.write_bytes(b"old")
    fake.routes[file.url] = content(make_wheel())
    client.download(file, dest)
    assert dest.read_bytes() == make_wheel()


def test_a_wheel_that_is_no_zip_is_refused_and_leaves_no_file(
    fake: FakeIndex, client: IndexClient, tmp_path: Path
) -> None:
    file = wheel_file()
    fake.routes[file.url] = content(b"not a zip")
    with pytest.raises(Untrusted, match=f"{re.escape(file.url)}: not a wheel"):
        client.download(file, tmp_path / file.filename)
    assert list(tmp_path.iterdir()) == []


# Index URL and TLS settings


def test_default_index_url_is_pips() -> None:
    assert default_index_url() == PyPI.simple_url
    assert default_index_url().startswith("https://")


def test_index_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert index_url_from(None) == default_index_url()
    monkeypatch.setenv("PIP_INDEX_URL", "https://pip.example.invalid/simple")
    assert index_url_from(None) == "https://pip.example.invalid/simple"
    monkeypatch.setenv("WHEELHOUSE_INDEX_URL", "https://wh.example.invalid/simple")
    assert index_url_from(None) == "https://wh.example.invalid/simple"
    assert (
        index_url_from("https://cli.example.invalid/simple") == "https://cli.example.invalid/simple"
    )


@pytest.fixture
def no_cert_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in CERT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.usefixtures("no_cert_variables")
def test_tls_uses_the_system_store_by_default() -> None:
    context = ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.usefixtures("no_cert_variables")
def test_tls_uses_a_bundle_named_by_a_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    with pytest.raises(FileNotFoundError):
        ssl_context()
    monkeypatch.setenv("PIP_CERT", str(tmp_path))  # a directory of hashed certificates
    assert ssl_context().verify_mode == ssl.CERT_REQUIRED


@pytest.mark.usefixtures("no_cert_variables")
def test_unreadable_bundle_is_reported_by_the_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(IndexUnreachable, match="REQUESTS_CA_BUNDLE"):
        IndexClient([INDEX])


# Against the fixture index server


def test_served_5xx_is_retried(index_server: IndexServer, served: IndexClient) -> None:
    index_server.configure(fail_5xx=2)
    assert len(served.project_files("alpha").files) == 2
    assert index_server.count("/simple/alpha/") == 3


def test_served_5xx_exhausts_the_retries(index_server: IndexServer, served: IndexClient) -> None:
    index_server.configure(fail_5xx_per_path=5)
    with pytest.raises(IndexUnreachable, match=re.escape(f"{index_server.url}alpha/")):
        served.project_files("alpha")
    assert index_server.count("/simple/alpha/") == 3


def test_served_slow_index_times_out(index_server: IndexServer) -> None:
    index_server.configure(slow=0.5)
    client = IndexClient([index_server.url], retries=1, backoff=0, timeout=0.1)
    with client, pytest.raises(IndexUnreachable, match="tried 2 times"):
        client.project_files("alpha")


def test_served_download(index_server: IndexServer, served: IndexClient, tmp_path: Path) -> None:
    file = served_wheel(served)
    dest = tmp_path / file.filename
    assert served.download(file, dest) == index_server.entry(file.filename).sha256
    assert dest.read_bytes() == index_server.entry(file.filename).path.read_bytes()


def test_served_wrong_hash_is_discarded(
    index_server: IndexServer, served: IndexClient, tmp_path: Path
) -> None:
    index_server.configure(wrong_hash=True)
    file = served_wheel(served)
    with pytest.raises(HashMismatch, match=re.escape(file.url)):
        served.download(file, tmp_path / file.filename)
    assert list(tmp_path.iterdir()) == []


def test_served_truncated_download_fails_after_retries(
    index_server: IndexServer, served: IndexClient, tmp_path: Path
) -> None:
    file = served_wheel(served)
    index_server.configure(truncate=True)
    with pytest.raises(DownloadError, match="tried 3 times"):
        served.download(file, tmp_path / file.filename)
    assert list(tmp_path.iterdir()) == []
    assert index_server.count(f"/files/{file.filename}") == 3


def test_a_full_disk_names_the_file_and_leaves_nothing(
    fake: FakeIndex, client: IndexClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = wheel_file()
    fake.routes[file.url] = content(b"x" * 10)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    dest = tmp_path / file.filename
    with pytest.raises(OSError, match="No space left") as caught:
        client.download(file, dest)
    assert caught.value.filename == str(dest)
    assert list(tmp_path.iterdir()) == []


class _Records:
    """A TLS stream's inner side: each read gives one record, as OpenSSL's does."""

    def __init__(self, records: list[bytes], tls: bool) -> None:
        self.records, self.tls, self.reads = list(records), tls, 0

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.reads += 1
        record = self.records.pop(0) if self.records else b""
        if len(record) > max_bytes:
            self.records.insert(0, record[max_bytes:])
        return record[:max_bytes]

    def pending(self) -> int:  # decrypted bytes waiting: the rest of the body, here
        return len(self.records[0]) if self.records else 0

    def get_extra_info(self, info: str) -> object:
        return self if info == "ssl_object" and self.tls else None


def test_a_tls_read_joins_the_records_already_there_up_to_what_was_asked() -> None:
    from wheelhouse.index.transport import _Stream

    records = [bytes([n]) * 16384 for n in range(6)]
    inner = _Records(records, tls=True)
    stream = _Stream(inner)  # type: ignore[arg-type]
    first = stream.read(65536)
    assert first == b"".join(records[:4]) and inner.reads == 4
    assert stream.read(65536) == b"".join(records[4:])
    assert stream.read(65536) == b""  # the end, not a wait
    plain = _Records(records, tls=False)  # a plain socket's read takes all there is already
    assert _Stream(plain).read(65536) == records[0]  # type: ignore[arg-type]
