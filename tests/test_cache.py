"""The persistent cache: revalidated pages, metadata and files by digest, only once verified."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from wheelhouse.index.cache import Cache, default_cache_dir
from wheelhouse.index.client import IndexClient
from wheelhouse.index.errors import Untrusted
from wheelhouse.model.distributions import DistFile

INDEX = "http://index.invalid/simple"
METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n"
#: What a lying index says the same wheel needs.
LIE = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: evil\n\n"


def _wheel(metadata: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA", metadata)
    return buffer.getvalue()


WHEEL = _wheel(METADATA)
WHEEL_SHA = hashlib.sha256(WHEEL).hexdigest()


def _page(metadata: bytes | None = METADATA) -> bytes:
    entry: dict[str, object] = {
        "filename": "demo-1.0-py3-none-any.whl",
        "url": "http://files.invalid/demo-1.0-py3-none-any.whl",
        "hashes": {"sha256": WHEEL_SHA},
    }
    if metadata is not None:
        entry["core-metadata"] = {"sha256": hashlib.sha256(metadata).hexdigest()}
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": [entry]}).encode()


class Recorder:
    """A fake index that serves one project, optionally with an ETag.

    ``metadata`` is what its page and metadata file say of the wheel (None: no
    metadata file); ``wheel`` is what the wheel's URL serves.
    """

    def __init__(
        self, etag: str | None, metadata: bytes | None = METADATA, wheel: bytes = WHEEL
    ) -> None:
        self.etag, self.metadata, self.wheel = etag, metadata, wheel
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/demo/"):
            if self.etag and request.headers.get("if-none-match") == self.etag:
                return httpx.Response(304)
            headers = {"content-type": "application/vnd.pypi.simple.v1+json"}
            if self.etag:
                headers["etag"] = self.etag
            return httpx.Response(200, content=_page(self.metadata), headers=headers)
        if path.endswith(".whl.metadata") and self.metadata is not None:
            return httpx.Response(200, content=self.metadata)
        if path.endswith(".whl"):
            return httpx.Response(200, content=self.wheel)
        return httpx.Response(404)

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


def _client(recorder: Recorder, cache: Cache) -> IndexClient:
    return IndexClient([INDEX], transport=httpx.MockTransport(recorder), cache=cache, retries=0)


def _run(recorder: Recorder, cache: Cache, dest: Path) -> DistFile:
    with _client(recorder, cache) as client:
        (file,) = client.project_files("demo").files
        assert client.metadata(file) == METADATA
        assert client.download(file, dest) == WHEEL_SHA
    return file


def test_second_run_revalidates_the_page_and_reads_nothing_else(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    first = Recorder(etag='"v1"')
    _run(first, cache, tmp_path / "a.whl")
    assert len(first.requests) == 3
    second = Recorder(etag='"v1"')
    _run(second, cache, tmp_path / "b.whl")
    assert second.paths() == ["/simple/demo/"]
    assert second.requests[0].headers["if-none-match"] == '"v1"'
    assert (tmp_path / "b.whl").read_bytes() == WHEEL


def test_a_page_without_validators_is_fetched_again(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    _run(Recorder(etag=None), cache, tmp_path / "a.whl")
    again = Recorder(etag=None)
    _run(again, cache, tmp_path / "b.whl")
    assert again.paths() == ["/simple/demo/"]
    assert "if-none-match" not in again.requests[0].headers


def test_a_corrupted_cached_file_is_dropped_and_fetched(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    _run(Recorder(etag=None), cache, tmp_path / "a.whl")
    (cached,) = (tmp_path / "cache" / "files").rglob(WHEEL_SHA)
    cached.unlink()
    cached.write_bytes(b"changed behind our back")
    again = Recorder(etag=None)
    _run(again, cache, tmp_path / "b.whl")
    assert "/demo-1.0-py3-none-any.whl" in again.paths()
    assert (tmp_path / "b.whl").read_bytes() == WHEEL


def test_an_unwritable_cache_never_fails_a_run(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    recorder = Recorder(etag='"v1"')
    _run(recorder, Cache(blocker), tmp_path / "a.whl")
    assert (tmp_path / "a.whl").read_bytes() == WHEEL


def test_default_cache_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHEELHOUSE_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("WHEELHOUSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "wheelhouse"


@pytest.mark.parametrize(
    "meta",
    [
        [],
        "a string",
        {"url": f"{INDEX}/demo/", "etag": '"v1"'},  # no content-type
        {"url": 1, "content-type": "text/html", "etag": '"v1"'},
        {"url": f"{INDEX}/demo/", "content-type": "text/html", "etag": 7},
    ],
)
def test_a_corrupt_page_entry_is_a_miss_not_a_failure(tmp_path: Path, meta: object) -> None:
    cache = Cache(tmp_path / "cache")
    _run(Recorder(etag='"v1"'), cache, tmp_path / "a.whl")
    (header,) = (tmp_path / "cache" / "pages").rglob("*.json")
    if isinstance(meta, dict):
        meta["sha256"] = hashlib.sha256(header.with_suffix(".body").read_bytes()).hexdigest()
    header.write_text(json.dumps(meta))
    assert cache.page(f"{INDEX}/demo/") is None
    again = Recorder(etag='"v1"')
    _run(again, cache, tmp_path / "b.whl")
    assert again.paths() == ["/simple/demo/"]
    assert "if-none-match" not in again.requests[0].headers


def test_files_are_kept_by_link_and_given_out_by_checked_copy(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    source = tmp_path / "a.whl"
    source.write_bytes(WHEEL)
    cache.store_file(WHEEL_SHA, source)
    (kept,) = (tmp_path / "cache" / "files").rglob(WHEEL_SHA)
    assert kept.stat().st_ino == source.stat().st_ino
    dest = tmp_path / "b.whl"
    assert cache.fetch_file(WHEEL_SHA, dest)
    assert dest.read_bytes() == WHEEL and dest.stat().st_ino != source.stat().st_ino
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.whl", "b.whl", "cache"]


def test_metadata_a_page_lied_about_never_answers_for_an_honest_page(tmp_path: Path) -> None:
    """The same wheel's digest with other metadata is kept under another key."""
    cache = Cache(tmp_path / "cache")
    with _client(Recorder(etag=None, metadata=LIE), cache) as client:
        (file,) = client.project_files("demo").files
        assert client.metadata(file) == LIE  # this run believes it, until the download
    honest = Recorder(etag=None)
    with _client(honest, cache) as client:
        (file,) = client.project_files("demo").files
        assert client.metadata(file) == METADATA
    assert "/demo-1.0-py3-none-any.whl.metadata" in honest.paths()


def test_metadata_read_by_ranges_is_never_kept(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    liar = Recorder(etag=None, metadata=None, wheel=_wheel(LIE))
    with _client(liar, cache) as client:
        (file,) = client.project_files("demo").files
        assert client.metadata(file) == LIE
    assert not list((tmp_path / "cache").rglob(f"{WHEEL_SHA}*"))
    with _client(Recorder(etag=None, metadata=None), cache) as client:
        (file,) = client.project_files("demo").files
        assert client.metadata(file) == METADATA


def test_a_downloaded_wheel_whose_metadata_was_a_lie_is_refused_and_not_kept(
    tmp_path: Path,
) -> None:
    cache = Cache(tmp_path / "cache")
    dest = tmp_path / "demo-1.0-py3-none-any.whl"
    with _client(Recorder(etag=None, metadata=LIE), cache) as client:
        (file,) = client.project_files("demo").files
        client.metadata(file)
        with pytest.raises(Untrusted, match="other dependencies"):
            client.download(file, dest)
    assert not dest.exists() and not list((tmp_path / "cache" / "files").rglob("*"))
    assert not (tmp_path / "cache" / "core-metadata" / WHEEL_SHA[:2] / WHEEL_SHA).exists()


def test_a_downloaded_wheel_tells_its_metadata_to_later_runs(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    _run(Recorder(etag=None, metadata=None), cache, tmp_path / "a.whl")
    again = Recorder(etag=None, metadata=None)
    with _client(again, cache) as client:
        (file,) = client.project_files("demo").files
        assert client.metadata(file) == METADATA
    assert again.paths() == ["/simple/demo/"]
