"""The index client against a fake index and the fixture server: pages, prefetch, metadata."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from fakeindex import (
    EXTRA,
    FILES,
    INDEX,
    JSON,
    METADATA,
    FakeIndex,
    Handler,
    html_answer,
    json_answer,
    make_wheel,
    sequence,
    serve_ranges,
    served_wheel,
    slowly,
    status,
    wheel_file,
)
from indexserver import IndexServer

from wheelhouse.index.client import IndexClient
from wheelhouse.index.errors import DownloadError, IndexUnreachable, LimitExceeded, Untrusted
from wheelhouse.model.distributions import DistFile, Keep, Policy
from wheelhouse.model.limits import Limits
from wheelhouse.model.pages import ACCEPT, FIRST_INDEX, UNSAFE_BEST_MATCH
from wheelhouse.model.targets import Target

# Project pages


def test_json_page_is_asked_for_and_parsed(fake: FakeIndex, client: IndexClient) -> None:
    fake.routes[f"{INDEX}/demo/"] = json_answer(
        {"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {"sha256": "ab" * 32}}
    )
    page = client.project_files("Demo")
    assert [(file.url, file.sha256) for file in page.files] == [
        (f"{INDEX}/demo/demo-1.0.tar.gz", "ab" * 32)
    ]
    accept = fake.log[0].headers["accept"]
    assert accept.startswith(JSON) and "text/html;q=0.01" in accept


def test_pages_kept_for_a_run_hold_only_what_its_targets_can_take(
    fake: FakeIndex, client: IndexClient
) -> None:
    """A wheel no target can take keeps its name, not its URL or digest."""
    names = ["demo-1.0-py3-none-any.whl", "demo-1.0-cp312-cp312-win_amd64.whl", "demo-1.0.zip"]
    fake.routes[f"{INDEX}/demo/"] = json_answer(
        *({"filename": name, "url": name, "hashes": {"sha256": "ab" * 32}} for name in names)
    )
    linux = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")
    client.keep_only(Keep.of([linux], Policy()))
    page = client.project_files("demo")
    assert [(row.filename, row.sha256) for row in page.listed] == [(names[0], "ab" * 32)]
    assert page.others is not None and page.others.names == "\n".join(names[1:])


def test_html_answer_is_parsed_as_html(fake: FakeIndex, client: IndexClient) -> None:
    fake.routes[f"{INDEX}/demo/"] = html_answer(f"{FILES}/demo-1.0.tar.gz", "other-1.0.tar.gz")
    page = client.project_files("demo")
    assert [file.filename for file in page.files] == ["demo-1.0.tar.gz"]
    assert [error.filename for error in page.refused] == ["other-1.0.tar.gz"]


def test_redirect_is_followed_and_links_resolve_against_the_final_url(
    fake: FakeIndex, client: IndexClient
) -> None:
    moved = "https://mirror.example.invalid/pages/demo/"
    fake.routes[f"{INDEX}/demo/"] = lambda request: httpx.Response(301, headers={"Location": moved})
    fake.routes[moved] = html_answer("demo-1.0.tar.gz")
    [file] = client.project_files("demo").files
    assert file.url == moved + "demo-1.0.tar.gz"


def test_unknown_project_is_an_empty_page(fake: FakeIndex, client: IndexClient) -> None:
    page = client.project_files("nothing-here")
    assert not page.files and not page.refused
    assert len(fake.log) == 1


def test_forbidden_page_fails_without_retrying(fake: FakeIndex, client: IndexClient) -> None:
    fake.routes[f"{INDEX}/demo/"] = status(403)
    with pytest.raises(IndexUnreachable, match="HTTP 403"):
        client.project_files("demo")
    assert len(fake.log) == 1


def test_unexpected_content_type_names_the_page(fake: FakeIndex, client: IndexClient) -> None:
    fake.routes[f"{INDEX}/demo/"] = lambda request: httpx.Response(200, json={})
    with pytest.raises(IndexUnreachable, match=f"{INDEX}/demo/.*content type"):
        client.project_files("demo")


def test_a_failure_is_not_kept_the_next_call_tries_again(
    fake: FakeIndex, client: IndexClient
) -> None:
    """A speculative fetch that failed must not stand in for the resolver's own request."""
    url = f"{INDEX}/demo/"
    fake.routes[url] = sequence(status(502), status(502), status(502), html_answer("demo-1.0.zip"))
    with pytest.raises(IndexUnreachable):
        client.project_files("demo")
    assert len(client.project_files("demo").files) == 1
    assert len(client.project_files("demo").files) == 1  # a success is kept
    assert len(fake.hits(url)) == 4


def test_a_failed_prefetch_is_fetched_again_when_asked_for(fake: FakeIndex) -> None:
    url = f"{INDEX}/demo/"
    fake.routes[url] = sequence(httpx.ConnectError("refused"), html_answer("demo-1.0.zip"))
    with IndexClient([INDEX], transport=httpx.MockTransport(fake), retries=0) as client:
        client.prefetch(["demo"])
        deadline = time.monotonic() + 5
        # Until the prefetch has failed and dropped its entry (a caller arriving
        # earlier would wait for it, and share its failure).
        while (not fake.hits(url) or client.has_page("demo")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(client.project_files("demo").files) == 1
    assert len(fake.hits(url)) == 2


def test_one_request_per_project_even_with_eight_threads(
    fake: FakeIndex, client: IndexClient
) -> None:
    fake.routes[f"{INDEX}/demo/"] = slowly(html_answer("demo-1.0.zip"))
    barrier = threading.Barrier(8)
    results: list[object] = []

    def ask() -> None:
        barrier.wait()
        results.append(client.project_files(["demo", "DEMO", "De_Mo"][len(results) % 3]))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(result == results[0] for result in results)
    assert len(fake.log) == 1


def test_unsafe_best_match_merges_extra_indexes_main_first(fake: FakeIndex) -> None:
    fake.routes[f"{INDEX}/demo/"] = html_answer(f"{FILES}/main/demo-1.0.zip")
    fake.routes[f"{EXTRA}/demo/"] = html_answer(
        f"{FILES}/extra/demo-1.0.zip", f"{FILES}/extra/demo-2.0.zip"
    )
    transport = httpx.MockTransport(fake)
    indexes = [INDEX, EXTRA + "/"]
    with IndexClient(indexes, transport=transport, strategy=UNSAFE_BEST_MATCH) as client:
        page = client.project_files("demo")
    assert [file.url for file in page.files] == [
        f"{FILES}/main/demo-1.0.zip",
        f"{FILES}/extra/demo-2.0.zip",
    ]


def test_first_index_takes_the_first_index_that_knows_the_project(fake: FakeIndex) -> None:
    fake.routes[f"{INDEX}/private/"] = html_answer(f"{FILES}/main/private-1.0.zip")
    fake.routes[f"{EXTRA}/private/"] = html_answer(f"{FILES}/extra/private-99.0.zip")
    fake.routes[f"{EXTRA}/public/"] = html_answer(f"{FILES}/extra/public-1.0.zip")
    with IndexClient([INDEX, EXTRA], transport=httpx.MockTransport(fake)) as client:
        client.prefetch(["private"])
        private, public = client.project_files("private"), client.project_files("public")
        digests = client.page_digests(["private"])
    assert [file.url for file in private.files] == [f"{FILES}/main/private-1.0.zip"]
    assert [file.url for file in public.files] == [f"{FILES}/extra/public-1.0.zip"]
    asked = [str(request.url) for request in fake.log]
    assert f"{EXTRA}/private/" not in asked, "a later index heard a name an earlier one has"
    with IndexClient([INDEX], transport=httpx.MockTransport(fake)) as alone:
        assert digests == alone.page_digests(["private"])


@pytest.mark.parametrize("strategy", [FIRST_INDEX, UNSAFE_BEST_MATCH])
def test_a_parsed_page_keeps_its_digest_not_its_body(fake: FakeIndex, strategy: str) -> None:
    """Bodies of large projects run to megabytes: once parsed only the digest stays,
    and page_digests asks for nothing again."""
    fake.routes[f"{INDEX}/demo/"] = html_answer(f"{FILES}/main/demo-1.0.zip")
    fake.routes[f"{EXTRA}/demo/"] = html_answer(f"{FILES}/extra/demo-2.0.zip")
    indexes = [INDEX, EXTRA]
    with IndexClient(indexes, transport=httpx.MockTransport(fake), strategy=strategy) as client:
        client.project_files("demo")
        kept = [future.result() for future in client._raw_pages.values()]
        digests = client.page_digests(["demo"])
    assert [page.content if page else None for page in kept] == [b""] * len(kept)
    asked = [str(request.url) for request in fake.log]
    assert len(asked) == len(set(asked)), "a page was fetched twice"
    with IndexClient(indexes, transport=httpx.MockTransport(fake), strategy=strategy) as fresh:
        assert digests == fresh.page_digests(["demo"])  # from bodies never parsed


def test_a_redirect_from_https_to_http_is_refused(fake: FakeIndex, client: IndexClient) -> None:
    """Anyone on the way could rewrite a page served over plain http, digests included."""
    plain = "http://mirror.example.invalid/pages/demo/"
    fake.routes[f"{INDEX}/demo/"] = lambda request: httpx.Response(301, headers={"Location": plain})
    fake.routes[plain] = html_answer("demo-1.0.tar.gz")
    with pytest.raises(Untrusted, match="redirected from https to http"):
        client.project_files("demo")
    assert [str(request.url) for request in fake.log] == [f"{INDEX}/demo/"]


def test_a_page_larger_than_its_limit_is_refused(fake: FakeIndex) -> None:
    fake.routes[f"{INDEX}/demo/"] = html_answer(*[f"demo-{n}.0.tar.gz" for n in range(100)])
    client = IndexClient(
        [INDEX], transport=httpx.MockTransport(fake), limits=Limits(page_size=1024)
    )
    with client, pytest.raises(LimitExceeded, match=r"than 1 KiB \(WHEELHOUSE_MAX_PAGE_SIZE"):
        client.project_files("demo")


def test_prefetch_fetches_in_the_background_once(fake: FakeIndex, client: IndexClient) -> None:
    for name in ("alpha", "beta", "gamma"):
        fake.routes[f"{INDEX}/{name}/"] = html_answer(f"{name}-1.0.zip")
    client.prefetch(["alpha", "Beta", "gamma", "alpha"])
    client.prefetch(["beta"])
    assert [len(client.project_files(name).files) for name in ("gamma", "beta", "alpha")] == [1] * 3
    assert sorted(str(request.url) for request in fake.log) == [
        f"{INDEX}/{name}/" for name in ("alpha", "beta", "gamma")
    ]


# Metadata


def test_metadata_from_the_pep658_file(fake: FakeIndex, client: IndexClient) -> None:
    file = wheel_file(metadata_sha256=hashlib.sha256(METADATA).hexdigest())
    fake.routes[file.url + ".metadata"] = lambda request: httpx.Response(200, content=METADATA)
    assert client.metadata(file) == METADATA
    assert client.metadata(file) == METADATA
    assert [str(request.url) for request in fake.log] == [file.url + ".metadata"]


@pytest.mark.parametrize(
    "metadata_answer", [status(404), status(410), lambda r: httpx.Response(200, content=b"x")]
)
def test_metadata_file_missing_or_corrupt_falls_back_to_the_wheel(
    fake: FakeIndex, client: IndexClient, metadata_answer: Handler
) -> None:
    file = wheel_file(metadata_sha256=hashlib.sha256(METADATA).hexdigest())
    fake.routes[file.url + ".metadata"] = metadata_answer
    fake.routes[file.url] = serve_ranges(make_wheel())
    assert client.metadata(file) == METADATA


def test_metadata_by_ranges_never_fetches_the_whole_wheel(
    fake: FakeIndex, client: IndexClient
) -> None:
    body = make_wheel(metadata_first=True)
    file = wheel_file()
    fake.routes[file.url] = serve_ranges(body)
    assert client.metadata(file) == METADATA
    ranges = [request.headers.get("range") for request in fake.hits(file.url)]
    assert None not in ranges
    assert ranges[0] == "bytes=-65536" and len(ranges) == 2
    assert all(request.headers["accept-encoding"] == "identity" for request in fake.log)


def test_metadata_in_the_tail_costs_one_request(fake: FakeIndex, client: IndexClient) -> None:
    file = wheel_file()
    fake.routes[file.url] = serve_ranges(make_wheel(metadata_first=False))
    assert client.metadata(file) == METADATA
    assert [request.headers.get("range") for request in fake.log] == ["bytes=-65536"]


def test_metadata_of_a_small_wheel(fake: FakeIndex, client: IndexClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA", METADATA)
    file = wheel_file()
    fake.routes[file.url] = serve_ranges(buffer.getvalue())
    assert client.metadata(file) == METADATA
    assert len(fake.log) == 1


def test_metadata_reads_the_whole_wheel_when_ranges_are_ignored(
    fake: FakeIndex, client: IndexClient
) -> None:
    file = wheel_file()
    body = make_wheel()
    fake.routes[file.url] = lambda request: httpx.Response(200, content=body)
    assert client.metadata(file) == METADATA
    assert len(fake.log) == 1


def test_metadata_is_fetched_once_across_threads(fake: FakeIndex, client: IndexClient) -> None:
    file = wheel_file(metadata_sha256="")
    fake.routes[file.url + ".metadata"] = slowly(
        lambda request: httpx.Response(200, content=METADATA)
    )
    threads = [threading.Thread(target=client.metadata, args=(file,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.log) == 1


def test_metadata_of_a_broken_wheel_names_it(fake: FakeIndex, client: IndexClient) -> None:
    file = wheel_file()
    fake.routes[file.url] = serve_ranges(b"not a zip at all")
    with pytest.raises(Untrusted, match=f"{file.url}: not a wheel"):
        client.metadata(file)


def test_metadata_by_ranges_fetches_no_more_than_the_budget(fake: FakeIndex) -> None:
    """What a zip declares is the index's word: the bytes fetched are bounded all the same."""
    noise = random.Random(0).randbytes(300_000)  # incompressible: a long member to fetch
    file = wheel_file()
    fake.routes[file.url] = serve_ranges(_zip({"demo-1.0.dist-info/METADATA": METADATA + noise}))
    small = Limits(page_size=100_000)
    client = IndexClient([INDEX], transport=httpx.MockTransport(fake), limits=small)
    with client, pytest.raises(LimitExceeded, match="by ranges would fetch more than 100000 bytes"):
        client.metadata(file)
    assert len(fake.log) == 1  # the tail alone: the member was never asked for


def test_metadata_that_names_another_project_is_refused(
    fake: FakeIndex, client: IndexClient
) -> None:
    lie = METADATA.replace(b"Name: demo", b"Name: evil")
    file = wheel_file(metadata_sha256=hashlib.sha256(lie).hexdigest())
    fake.routes[file.url + ".metadata"] = lambda request: httpx.Response(200, content=lie)
    with pytest.raises(Untrusted, match=r"names evil 1\.0, not demo 1\.0"):
        client.metadata(file)


def test_metadata_of_a_missing_wheel_names_it(client: IndexClient) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        client.metadata(wheel_file())


def test_metadata_of_an_sdist_is_refused(client: IndexClient) -> None:
    sdist = DistFile.create(
        filename="demo-1.0.tar.gz", url=f"{FILES}/demo-1.0.tar.gz", project="demo"
    )
    with pytest.raises(ValueError, match="not a wheel"):
        client.metadata(sdist)


# Against the fixture index server


def test_served_pages_match_the_listing(index_server: IndexServer, served: IndexClient) -> None:
    page = served.project_files("ZOPE_name.mixed")
    assert [file.filename for file in page.files] == ["zope_name_mixed-1.0-py3-none-any.whl"]
    [file] = page.files
    entry = index_server.entry(file.filename)
    assert (file.sha256, file.size, file.upload_time) == (
        entry.sha256,
        entry.size,
        entry.upload_time,
    )
    assert file.metadata_sha256 == entry.metadata_sha256
    assert index_server.requests("/simple/")[0].accept == ACCEPT


def test_served_html_gives_the_same_files_as_json(index_server: IndexServer) -> None:
    pages = []
    for html_only in (False, True):
        index_server.configure(html_only=html_only)
        with IndexClient([index_server.url], backoff=0) as client:
            pages.append(client.project_files("delta"))
    json_page, html_page = pages
    assert [file.upload_time for file in html_page.files] == [None] * 3
    strip = [dataclasses.replace(file, upload_time=None, size=None) for file in json_page.files]
    assert strip == list(html_page.files)
    assert {file.yanked for file in html_page.files} == {None, "broken build"}


def test_served_bad_names_are_refused(served: IndexClient) -> None:
    page = served.project_files("badfiles")
    assert [file.filename for file in page.files] == ["badfiles-1.0-py3-none-any.whl"]
    assert sorted(error.filename for error in page.refused) == [
        "../escape-1.0.tar.gz",
        "other-1.0-py3-none-any.whl",
        "sub\\escape-1.0-py3-none-any.whl",
    ]


def test_served_unknown_project_is_empty(served: IndexClient) -> None:
    assert served.project_files("no-such-project").files == ()


def test_served_pages_once_across_threads_and_prefetch(
    index_server: IndexServer, served: IndexClient
) -> None:
    served.prefetch(["alpha", "beta", "gamma"])
    threads = [
        threading.Thread(target=served.project_files, args=(name,))
        for name in ("alpha", "beta", "gamma", "Alpha", "BETA") * 3
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(request.path for request in index_server.log) == [
        "/simple/alpha/",
        "/simple/beta/",
        "/simple/gamma/",
    ]


def test_served_metadata_from_the_pep658_file(
    index_server: IndexServer, served: IndexClient
) -> None:
    file = served_wheel(served)
    assert served.metadata(file) == index_server.metadata(index_server.entry(file.filename))
    assert [request.path for request in index_server.requests("/files/")] == [
        f"/files/{file.filename}.metadata"
    ]


def test_served_metadata_by_ranges(index_server: IndexServer, served: IndexClient) -> None:
    index_server.configure(no_metadata=True)
    file = served_wheel(served)
    assert served.metadata(file) == index_server.metadata(index_server.entry(file.filename))
    [request] = index_server.requests("/files/")
    assert (request.range, request.status) == ("bytes=-65536", 206)


def test_served_metadata_without_ranges(index_server: IndexServer, served: IndexClient) -> None:
    index_server.configure(no_metadata=True, no_range=True)
    file = served_wheel(served)
    assert served.metadata(file) == index_server.metadata(index_server.entry(file.filename))
    [request] = index_server.requests("/files/")
    assert request.status == 200


def test_served_metadata_of_a_big_wheel_reads_a_fraction(
    mutable_index_server: IndexServer, tmp_path: Path
) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(make_wheel(metadata_first=True))
    mutable_index_server.add_file(path)
    mutable_index_server.configure(no_metadata=True)
    with IndexClient([mutable_index_server.url], backoff=0) as client:
        assert client.metadata(served_wheel(client, "demo")) == METADATA
    requests = mutable_index_server.requests("/files/")
    assert all(request.range for request in requests) and len(requests) == 2
    assert sum(request.sent for request in requests) < path.stat().st_size / 2


# Background work


def test_a_failure_does_not_wait_for_pending_prefetches(fake: FakeIndex) -> None:
    release = threading.Event()

    def stuck(request: httpx.Request) -> httpx.Response:
        release.wait(10)
        return httpx.Response(404)

    names = [f"p{number}" for number in range(5)]
    for name in names:
        fake.routes[f"{INDEX}/{name}/"] = stuck
    client = IndexClient([INDEX], transport=httpx.MockTransport(fake), jobs=1)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt), client:
            client.prefetch(names)
            while not fake.log:
                time.sleep(0.01)
            raise KeyboardInterrupt
        assert time.monotonic() - started < 5  # the stuck fetch was not waited for
    finally:
        release.set()
    time.sleep(0.1)
    assert len(fake.log) == 1  # pending prefetches were cancelled, not run


def test_page_digests_fails_at_once_and_cancels_the_rest(fake: FakeIndex) -> None:
    release = threading.Event()

    def stuck(request: httpx.Request) -> httpx.Response:
        release.wait(10)
        return httpx.Response(404)

    fake.routes[f"{INDEX}/a/"] = status(403)
    for name in ("b", "c", "d"):
        fake.routes[f"{INDEX}/{name}/"] = stuck
    client = IndexClient([INDEX], transport=httpx.MockTransport(fake), jobs=1, retries=0)
    started = time.monotonic()
    try:
        with pytest.raises(IndexUnreachable), client:
            client.page_digests(["a", "b", "c", "d"])
        assert time.monotonic() - started < 5  # the fetch already running was not waited for
    finally:
        release.set()
    time.sleep(0.1)
    # The one worker may have started on b before the failure was seen; c and d never ran.
    assert {str(request.url) for request in fake.log} <= {f"{INDEX}/a/", f"{INDEX}/b/"}


def test_prefetch_after_close_is_refused(client: IndexClient) -> None:
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.prefetch(["demo"])


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
