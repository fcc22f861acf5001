"""`wheelhouse publish`: pip and uv install from the bucket; publishes are safe, lean and resumable.

An S3 store (moto's, on 127.0.0.1) stands in for object storage; its request
log says what each publish cost and in what order it wrote. The oracle for the
result is pip and uv installing from the bucket over plain HTTP, hash-checked,
in a network namespace that has nothing but loopback.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result
from conftest import require
from helpers import find_uv, installed, isolated_env, make_venv, run
from indexserver import IndexServer
from s3server import FAKE_CREDENTIALS, Request, S3Server
from wheelhouses import PLATFORM, target_for

from wheelhouse.cli import cli
from wheelhouse.commands.publish import PublishReporter, PublishRequest, publish
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.model.publish import (
    HTML_TYPE,
    JSON_TYPE,
    LocalObject,
    Multipart,
    RemoteObject,
    S3Location,
    Stage,
    etag_of,
    needs_checking,
    placements,
    plan_publish,
)
from wheelhouse.s3.digest import fingerprint
from wheelhouse.s3.errors import AccessDenied, StoreFailed
from wheelhouse.s3.store import S3Store

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
TARGET = target_for(PY)
REQUIREMENTS = ("alpha", "native", "markerpkg")
PREFIX = "team/wheels"
ALPHA = "alpha-1.1-py3-none-any.whl"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _build(root: Path, *requirements: str) -> Path:
    with IndexServer() as server:
        result = invoke(
            *("build", "-q", "-w", str(root), "--index-url", server.url, *requirements),
            *("--python", PY, "--python", "3.12", "--platform", PLATFORM),
        )
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheelhouse for this interpreter's target and one more; no test may change it."""
    return _build(tmp_path_factory.mktemp("publish") / "wh", *REQUIREMENTS)


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same wheelhouse with one more requirement: new files, changed pages and locks."""
    return _build(tmp_path_factory.mktemp("publish") / "wh", *REQUIREMENTS, "stable")


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Fake credentials, and none of this machine's AWS configuration."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    env = {
        **FAKE_CREDENTIALS,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def bucket(s3: S3Server, aws: dict[str, str]) -> str:
    """A new bucket that anyone may read, and an empty request log."""
    name = f"wheels-{uuid.uuid4().hex[:12]}"
    s3.make_bucket(name)
    s3.log.clear()
    return name


def publish_cli(s3: S3Server, root: Path, bucket: str, *args: str, prefix: str = PREFIX) -> Result:
    url = f"s3://{bucket}/{prefix}"
    return invoke("publish", "-w", str(root), url, "--endpoint-url", s3.url, *args)


def expected_objects(root: Path, prefix: str = PREFIX) -> dict[str, bytes]:
    """What the bucket must hold: each file of the wheelhouse, each HTML page twice."""
    objects = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_dir() or relative == ".wheelhouse.lock":
            continue
        objects[f"{prefix}/{relative}"] = path.read_bytes()
        if relative.startswith("simple/") and relative.endswith("/index.html"):
            objects[f"{prefix}/{relative.removesuffix('index.html')}"] = path.read_bytes()
    return objects


def writes(log: list[Request]) -> list[str]:
    return [request.key for request in log if request.is_write]


def _rank(key: str) -> int:
    """The stage a key belongs to, read from its name alone."""
    relative = key.removeprefix(f"{PREFIX}/")
    if relative == "wheelhouse.toml":
        return 5
    if relative.startswith(("locks/", "constraints/")):
        return 4
    if relative.startswith("simple/"):
        return 3 if relative.count("/") == 1 else 2
    return 1


def readers_find_everything(objects: dict[str, bytes], prefix: str = PREFIX) -> None:
    """No present page links to a missing object, no present lock names a missing file."""
    for key, data in objects.items():
        if key.endswith(("/", ".html")) and "/simple/" in f"/{key}":
            base = key if key.endswith("/") else posixpath.dirname(key) + "/"
            for link in re.findall(r'href="([^"#]+)', data.decode()):
                target = posixpath.normpath(posixpath.join(base, link))
                assert target + ("/" if link.endswith("/") else "") in objects, (key, link)
    digests = {hashlib.sha256(data).hexdigest() for data in objects.values()}
    for key, data in objects.items():
        if key.startswith(f"{prefix}/locks/") and key.endswith(".txt"):
            assert set(re.findall(r"sha256:([0-9a-f]{64})", data.decode())) <= digests, key


# --- pip and uv install from the bucket, with no network but loopback ----------------------


def _namespaces() -> list[str]:
    """``unshare -m -n`` when this machine allows it: no network, and a private mount table."""
    try:
        ok = subprocess.run(["unshare", "-m", "-n", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["unshare", "-m", "-n"] if ok.returncode == 0 else []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_pip_and_uv_install_from_the_bucket_with_no_network(built: Path, tmp_path: Path) -> None:
    """Store, publish and installs all run in one namespace, the wheelhouse mounted read-only.

    Where namespaces are not allowed, the same script runs on this machine's
    loopback, without the read-only mount.
    """
    uv = find_uv()
    require("uv", uv is not None, "uv installs from the bucket as the second oracle")
    assert uv is not None
    prefix = _namespaces()
    require("unshare -m -n", bool(prefix), "the installs must run with no network")
    port = 9000 if prefix else _free_port()
    index = f"http://127.0.0.1:{port}/bkt/{PREFIX}/simple/"
    pip_venv, uv_venv = make_venv(tmp_path, name="pip-venv"), make_venv(tmp_path, name="uv-venv")
    lock, headers = built / "locks" / f"{TARGET}.txt", tmp_path / "headers"
    tests = Path(__file__).parent
    read_only = f"mount --bind {built} {built} && mount -o remount,bind,ro {built} && "
    script = f"""
        set -e
        {"ip link set lo up && " + read_only if prefix else ""}:
        {sys.executable} {tests / "s3server.py"} {port} bkt {PREFIX}/ > {tmp_path}/server.out &
        trap "kill $!" EXIT
        for i in $(seq 300); do grep -q ready {tmp_path}/server.out && break; sleep 0.1; done
        {sys.executable} -m wheelhouse publish -q -w {built} s3://bkt/{PREFIX} \
            --endpoint-url http://127.0.0.1:{port}
        {sys.executable} -c "import urllib.request as u; \
            print(u.urlopen('{index}alpha/').headers['Content-Type'])" > {headers}
        {sys.executable} -m pip --python {pip_venv} --disable-pip-version-check --no-input \
            --no-cache-dir install --index-url {index} --require-hashes -r {lock}
        {uv} pip install --python {uv_venv} --index-url {index} --require-hashes -r {lock}
    """
    run([*prefix, "sh", "-c", script], env={**FAKE_CREDENTIALS, "AWS_CONFIG_FILE": os.devnull})
    assert headers.read_text() == f"{HTML_TYPE}\n"
    wanted = {"alpha": "1.1", "beta": "2.0", "delta": "1.0", "gamma": "1.0", "native": "1.0"}
    for venv in (pip_venv, uv_venv):
        assert wanted.items() <= installed(venv).items()


# --- what goes where --------------------------------------------------------------------------


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url) as answer:
        return answer.headers["Content-Type"], answer.read()


def test_keys_content_types_and_plain_http(s3: S3Server, bucket: str, built: Path) -> None:
    result = publish_cli(s3, built, bucket)
    assert result.exit_code == 0, result.output
    assert s3.objects(bucket) == expected_objects(built)
    base = f"{s3.url}/{bucket}/{PREFIX}"
    page = (built / "simple" / "alpha" / "index.html").read_bytes()
    assert _get(f"{base}/simple/alpha/") == (HTML_TYPE, page)
    assert _get(f"{base}/simple/alpha/index.html") == (HTML_TYPE, page)
    assert _get(f"{base}/simple/") == (HTML_TYPE, (built / "simple" / "index.html").read_bytes())
    json_page = (built / "simple" / "alpha" / "index.json").read_bytes()
    assert _get(f"{base}/simple/alpha/index.json") == (JSON_TYPE, json_page)
    assert _get(f"{base}/{ALPHA}")[0] == "application/octet-stream"
    assert _get(f"{base}/{ALPHA}.metadata")[0] == "text/plain; charset=utf-8"
    assert _get(f"{base}/locks/{TARGET}.txt")[0] == "text/plain; charset=utf-8"
    assert _get(f"{base}/wheelhouse.toml")[0] == "text/plain; charset=utf-8"
    head = s3.client().head_object(Bucket=bucket, Key=f"{PREFIX}/{ALPHA}")
    assert head["Metadata"] == {"sha256": hashlib.sha256((built / ALPHA).read_bytes()).hexdigest()}
    assert result.stdout.splitlines()[-1] == f"index: {base}/simple/"


def test_files_then_pages_then_root_then_locks_then_manifest(
    s3: S3Server, bucket: str, built: Path
) -> None:
    assert publish_cli(s3, built, bucket).exit_code == 0
    ranks = [_rank(key) for key in writes(s3.log)]
    assert ranks == sorted(ranks)
    assert set(ranks) == {1, 2, 3, 4, 5}
    assert s3.log[0].is_listing  # the one listing comes before any write


# --- lean: nothing twice ----------------------------------------------------------------------


def test_a_publish_with_no_change_only_lists(s3: S3Server, bucket: str, built: Path) -> None:
    assert publish_cli(s3, built, bucket).exit_code == 0
    s3.log.clear()
    result = publish_cli(s3, built, bucket)
    assert result.exit_code == 0, result.output
    assert [request.is_listing for request in s3.log] == [True]
    assert "uploaded 0 object(s) (0 bytes)" in result.stdout


def test_a_changed_wheelhouse_uploads_only_what_changed(
    s3: S3Server, bucket: str, built: Path, grown: Path
) -> None:
    assert publish_cli(s3, built, bucket).exit_code == 0
    before, after = expected_objects(built), expected_objects(grown)
    s3.log.clear()
    result = publish_cli(s3, grown, bucket)
    assert result.exit_code == 0, result.output
    changed = {key for key, data in after.items() if before.get(key) != data}
    assert sorted(writes(s3.log)) == sorted(changed)
    assert any(key.endswith(".whl") for key in changed)  # new files, not only pages
    assert s3.objects(bucket) == after  # nothing was deleted: none was asked for


def test_an_object_the_listing_cannot_vouch_for_gets_one_head(
    s3: S3Server, bucket: str, built: Path
) -> None:
    assert publish_cli(s3, built, bucket).exit_code == 0
    key = f"{PREFIX}/simple/alpha/index.json"
    data = bytearray(s3.objects(bucket)[key])
    data[-2:] = b" \n"  # same size, other bytes, and no recorded sha256
    s3.client().put_object(Bucket=bucket, Key=key, Body=bytes(data))
    s3.log.clear()
    assert publish_cli(s3, built, bucket).exit_code == 0
    assert [(r.method, r.key) for r in s3.log if not r.is_listing] == [("HEAD", key), ("PUT", key)]
    assert s3.objects(bucket) == expected_objects(built)


def test_large_files_go_up_in_parts_and_are_known_from_the_listing(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    multipart = Multipart(threshold=5 << 20, part_size=5 << 20)  # the smallest S3 allows
    big = tmp_path / "big-1.0-py3-none-any.whl"
    big.write_bytes(os.urandom(11 << 20))
    digests = fingerprint(big, multipart)
    assert digests.etag.endswith("-3")
    location = S3Location(bucket=bucket, prefix="p/")
    local = LocalObject(
        key="p/big.whl",
        source=big.name,
        size=digests.size,
        sha256=digests.sha256,
        etag=digests.etag,
        content_type="application/octet-stream",
        stage=Stage.FILES,
    )
    with S3Store(location, endpoint_url=s3.url, jobs=4, multipart=multipart) as store:
        store.upload(tmp_path, [local], lambda nbytes: None)
        remote = {item.key: item for item in store.list()}
    assert remote["p/big.whl"].etag.strip('"') == digests.etag
    assert needs_checking([local], remote) == []
    assert plan_publish(location, [local], remote, delete=False).uploads == ()
    assert sum(r.is_write and "partNumber" in r.query for r in s3.log) == 3


# --- safe: interrupted, concurrent, deleting --------------------------------------------------


def _publisher(s3: S3Server, root: Path, bucket: str, aws: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "wheelhouse", "publish", "-q", "-w", str(root)]
    command += [f"s3://{bucket}/{PREFIX}", "--endpoint-url", s3.url, "--jobs", "2"]
    return subprocess.Popen(
        command, env=isolated_env(aws), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_killed_publish_leaves_no_dangling_link_and_completes_when_run_again(
    s3: S3Server, bucket: str, built: Path, aws: dict[str, str]
) -> None:
    process: subprocess.Popen[str] | None = None
    seen: list[str] = []

    def kill_half_way(request: Request) -> int | None:
        if request.is_write:
            seen.append(request.key)
            if len(seen) == 30 and process is not None:
                process.send_signal(signal.SIGKILL)
                return 503  # this write never lands
        return None

    s3.hook = kill_half_way
    try:
        process = _publisher(s3, built, bucket, aws)
        process.communicate(timeout=120)
    finally:
        s3.hook = None
    assert process.returncode == -signal.SIGKILL
    half = s3.objects(bucket)
    assert 0 < len(half) < len(expected_objects(built))
    readers_find_everything(half)
    result = publish_cli(s3, built, bucket)
    assert result.exit_code == 0, result.output
    assert s3.objects(bucket) == expected_objects(built)


def test_failed_requests_are_retried(s3: S3Server, bucket: str, built: Path) -> None:
    failed: set[str] = set()

    def fail_first_tries(request: Request) -> int | None:
        if request.is_write and _rank(request.key) in (1, 5) and request.key not in failed:
            failed.add(request.key)  # each file's first try, and the manifest's
            return 503 if len(failed) % 2 else 500
        return None

    s3.hook = fail_first_tries
    try:
        result = publish_cli(s3, built, bucket)
    finally:
        s3.hook = None
    assert result.exit_code == 0, result.output
    assert s3.objects(bucket) == expected_objects(built)
    assert sorted(writes(s3.log)) == sorted([*expected_objects(built), *failed])


def test_two_publishes_at_once_end_consistent(
    s3: S3Server, bucket: str, built: Path, aws: dict[str, str], tmp_path: Path
) -> None:
    """As two CI jobs publishing one artifact do: each from its own copy, to one prefix."""
    copy = Path(shutil.copytree(built, tmp_path / "wh"))
    first, second = (_publisher(s3, root, bucket, aws) for root in (built, copy))
    for process in (first, second):
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert s3.objects(bucket) == expected_objects(built)


def test_delete_removes_only_stale_objects_under_the_prefix(
    s3: S3Server, bucket: str, built: Path
) -> None:
    client = s3.client()
    outside = ["index.html", "team", "team/wheels", "team/wheels2/simple/index.html", "other.whl"]
    stale = [f"{PREFIX}/old-1.0-py3-none-any.whl", f"{PREFIX}/simple/old/index.html"]
    for key in outside + stale:
        client.put_object(Bucket=bucket, Key=key, Body=b"keep?")
    kept = publish_cli(s3, built, bucket)
    assert "kept 2 object(s) the wheelhouse lacks (--delete removes them)" in kept.stdout
    assert set(stale) <= set(s3.objects(bucket))
    s3.log.clear()
    result = publish_cli(s3, built, bucket, "--delete")
    assert result.exit_code == 0, result.output
    assert "uploaded 0 object(s) (0 bytes)" in result.stdout and "deleted 2" in result.stdout
    everything = s3.objects(bucket)
    assert {key: everything[key] for key in outside} == dict.fromkeys(outside, b"keep?")
    assert {k: v for k, v in everything.items() if k not in outside} == expected_objects(built)


def test_delete_waits_until_everything_new_is_up(
    s3: S3Server, bucket: str, built: Path, grown: Path
) -> None:
    assert publish_cli(s3, grown, bucket).exit_code == 0
    s3.log.clear()
    result = publish_cli(s3, built, bucket, "--delete")
    assert result.exit_code == 0, result.output
    methods = [(r.method, "delete" in r.query) for r in s3.log if not r.is_listing]
    assert methods[-1] == ("POST", True)  # one DeleteObjects, after the last upload
    assert all(method == "PUT" for method, _ in methods[:-1])
    assert s3.objects(bucket) == expected_objects(built)


def test_dry_run_lists_the_plan_and_writes_nothing(s3: S3Server, bucket: str, built: Path) -> None:
    result = publish_cli(s3, built, bucket, "--dry-run", "--delete")
    assert result.exit_code == 0, result.output
    assert f"would upload {PREFIX}/{ALPHA} " in result.stdout
    assert "would upload" in result.stdout.splitlines()[-2]
    assert [request.is_listing for request in s3.log] == [True]
    assert s3.objects(bucket) == {}


def test_progress_reports_every_byte(s3: S3Server, bucket: str, built: Path) -> None:
    class Recorder(PublishReporter):
        total = 0
        sent = 0

        def uploading(self, plan: object) -> None:
            self.total = getattr(plan, "upload_bytes", 0)

        def progress(self, nbytes: int) -> None:
            self.sent += nbytes

    reporter = Recorder()
    request = PublishRequest(
        wheelhouse=built,
        location=S3Location.parse(f"s3://{bucket}/{PREFIX}"),
        endpoint_url=s3.url,
    )
    result = publish(request, reporter)
    assert reporter.sent == reporter.total == result.plan.upload_bytes > 0


# --- refusals and errors ----------------------------------------------------------------------


def _error_lines(result: Result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and lines[-1].startswith("hint: "), lines
    return lines


def test_a_wheelhouse_that_fails_verify_is_never_published(
    s3: S3Server, bucket: str, built: Path, tmp_path: Path
) -> None:
    broken = Path(shutil.copytree(built, tmp_path / "wh"))
    data = bytearray((broken / ALPHA).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / ALPHA).write_bytes(data)
    error, hint = _error_lines(publish_cli(s3, broken, bucket))
    assert re.fullmatch(
        rf"error: {re.escape(str(broken))} fails verify \(\d+ problems, first: corrupted file "
        rf"{re.escape(ALPHA)}: sha256 {hashlib.sha256(data).hexdigest()} is not the recorded "
        rf"[0-9a-f]{{64}}\); nothing was published",
        error,
    )
    assert (
        hint == f"hint: `wheelhouse verify -w {broken}` lists every problem; fix them, then publish"
    )
    assert s3.log == []


def test_without_boto3_the_error_says_to_install_the_extra(
    s3: S3Server, bucket: str, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` now fails
    monkeypatch.delitem(sys.modules, "wheelhouse.s3.store")
    error, hint = _error_lines(publish_cli(s3, built, bucket))
    assert error == "error: publish needs the s3 extra, which is not installed (no module boto3)"
    # This checkout is installed in development mode, by pip or uv (PEP 610 says so).
    install = f"pip install -e '{Path(__file__).parent.parent}[s3]'"
    assert hint == (
        f"hint: install the s3 extra: {install} "
        "(or pip install boto3 into the environment that runs wheelhouse)"
    )
    assert s3.log == []


def test_no_such_bucket(s3: S3Server, aws: dict[str, str], built: Path) -> None:
    error, hint = _error_lines(publish_cli(s3, built, "no-such-bucket"))
    assert error == f"error: no bucket 'no-such-bucket' at {s3.url}"
    assert hint == "hint: create the bucket, or check its name, the region and --endpoint-url"


def test_an_unreachable_endpoint_is_named(
    aws: dict[str, str], built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    endpoint = f"http://127.0.0.1:{_free_port()}"
    result = invoke("publish", "-w", str(built), "s3://bkt/p", "--endpoint-url", endpoint)
    error, hint = _error_lines(result)
    assert error.startswith(f"error: cannot reach the object store at {endpoint}: ")
    assert hint.startswith("hint: check --endpoint-url (or AWS_ENDPOINT_URL) and the network")


def test_no_credentials(aws: dict[str, str], built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    endpoint = f"http://127.0.0.1:{_free_port()}"  # never reached: nothing to sign with
    result = invoke("publish", "-w", str(built), "s3://bkt/p", "--endpoint-url", endpoint)
    error, hint = _error_lines(result)
    assert error == "error: no credentials found to publish to bucket 'bkt'"
    assert "AWS_PROFILE" in hint


def test_settings_the_sdk_cannot_use_are_named(
    aws: dict[str, str], built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    error, hint = _error_lines(invoke("publish", "-w", str(built), "s3://bkt/p"))
    assert error == (
        "error: cannot set up the S3 client: "
        "The config profile (no-such-profile) could not be found"
    )
    assert hint.startswith("hint: check --endpoint-url, AWS_PROFILE")


def test_refusals_of_the_store_are_named(aws: dict[str, str], tmp_path: Path) -> None:
    location = S3Location(bucket="bkt", prefix="p/")
    with (
        S3Store(location, endpoint_url="http://127.0.0.1:9") as store,
        Stubber(store.client) as stub,
    ):
        stub.add_client_error("list_objects_v2", "AccessDenied", "no", 403)
        with pytest.raises(
            AccessDenied, match=r"^access denied: list s3://bkt/p/ \(AccessDenied\)$"
        ):
            store.list()
        stub.add_response("delete_objects", {"Errors": [{"Key": "p/x", "Code": "InternalError"}]})
        with pytest.raises(StoreFailed, match=r"^delete s3://bkt/p/x failed: InternalError"):
            store.delete(["p/x"])
        with pytest.raises(ValueError, match="outside"):
            store.delete(["p2/x"])


def test_a_busy_wheelhouse_is_not_published(s3: S3Server, bucket: str, built: Path) -> None:
    with Wheelhouse(built).exclusive():
        error, _hint = _error_lines(publish_cli(s3, built, bucket))
    assert error == f"error: {built} is being written by another process"
    assert s3.log == []


@pytest.mark.parametrize(
    "url",
    [
        "s3:/bkt",
        "gs://bkt/p",
        "s3://",
        "s3://b/p",
        "s3://bkt/a//b",
        "s3://bkt/../x",
        "s3://bkt/a?b",
        "s3://bkt/a#b",
    ],
)
def test_bad_locations_are_usage_errors(url: str, built: Path) -> None:
    result = invoke("publish", "-w", str(built), url)
    assert result.exit_code == 2, result.output
    assert "Invalid value for 's3://BUCKET/PREFIX'" in result.stderr


@pytest.mark.parametrize("url", ["notaurl", "ftp://host", "127.0.0.1:9000"])
def test_a_bad_endpoint_is_a_usage_error(url: str, built: Path) -> None:
    result = invoke("publish", "-w", str(built), "s3://bkt/p", "--endpoint-url", url)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '--endpoint-url': {url!r} is not an http" in result.stderr


# --- the pure plan ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://bkt", "bkt", ""),
        ("s3://bkt/", "bkt", ""),
        ("S3://bkt/a/b", "bkt", "a/b/"),
        ("s3://bkt/a/b/", "bkt", "a/b/"),
        ("s3://my.bucket-1/x", "my.bucket-1", "x/"),
    ],
)
def test_locations(url: str, bucket: str, prefix: str) -> None:
    location = S3Location.parse(url)
    assert (location.bucket, location.prefix) == (bucket, prefix)
    assert str(location) == f"s3://{bucket}/{prefix}"


def test_placements() -> None:
    def where(relative: str) -> list[tuple[str, str, int]]:
        return [(p.key, p.content_type, p.stage) for p in placements(relative)]

    assert where("simple/index.html") == [
        ("simple/index.html", HTML_TYPE, 3),
        ("simple/", HTML_TYPE, 3),
    ]
    assert where("simple/a/index.json") == [("simple/a/index.json", JSON_TYPE, 2)]
    assert where("simple/a/index.html")[1] == ("simple/a/", HTML_TYPE, 2)
    assert where("a-1.0.tar.gz") == [("a-1.0.tar.gz", "application/octet-stream", 1)]
    assert where(f"{ALPHA}.metadata") == [(f"{ALPHA}.metadata", "text/plain; charset=utf-8", 1)]
    assert where("constraints/x.txt")[0][2] == where("locks/pylock.x.toml")[0][2] == 4
    assert where("wheelhouse.toml")[0][2] == 5


def _local(key: str, data: bytes = b"x", stage: Stage = Stage.FILES) -> LocalObject:
    md5 = hashlib.md5(data).digest()
    return LocalObject(
        key=key,
        source=key,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        etag=etag_of([md5], multipart=False),
        content_type="application/octet-stream",
        stage=stage,
    )


def test_the_plan_skips_what_is_there_and_never_goes_outside_the_prefix() -> None:
    location = S3Location(bucket="bkt", prefix="p/")
    same, moved, new, page = (
        _local("p/a"),
        _local("p/b", b"yy"),
        _local("p/c"),
        _local("p/simple/", stage=Stage.PAGES),
    )
    vouched = RemoteObject(
        key="p/b", size=2, etag='"other"', sha256=moved.sha256, content_type=moved.content_type
    )
    remote = {
        "p/a": RemoteObject(key="p/a", size=1, etag=f'"{same.etag}"'),
        "p/b": vouched,
        "p/simple/": RemoteObject(key="p/simple/", size=1, etag='"different"'),
        "p/stale": RemoteObject(key="p/stale", size=1, etag='"x"'),
        "p2/x": RemoteObject(key="p2/x", size=1, etag='"x"'),
        "q": RemoteObject(key="q", size=1, etag='"x"'),
    }
    plan = plan_publish(location, [page, new, same, moved], remote, delete=True)
    assert [item.key for item in plan.uploads] == ["p/c", "p/simple/"]
    assert [stage for stage, _ in plan.stages()] == [Stage.FILES, Stage.PAGES]
    assert {item.key for item in plan.unchanged} == {"p/a", "p/b"}
    assert plan.stale == ("p/stale",)
    listing_only = {**remote, "p/b": RemoteObject(key="p/b", size=2, etag='"other"')}
    assert needs_checking([page, new, same, moved], listing_only) == ["p/simple/", "p/b"]


def test_the_etag_of_parts() -> None:
    parts = [hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()]
    assert etag_of(parts, multipart=True) == hashlib.md5(parts[0] + parts[1]).hexdigest() + "-2"
    assert etag_of(parts[:1], multipart=False) == parts[0].hex()
