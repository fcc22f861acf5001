"""A hostile index cannot poison, bloat, stall or bypass a build.

Each case of :mod:`hostileindex` is built against by the real executable in a
child process whose address space is capped (:data:`ADDRESS_SPACE`), and whose
peak memory is measured: a refusal is one ``error:`` line naming the URL and
the limit, exit status 1, no traceback, well within :data:`PEAK`, and nothing
of it kept in the wheelhouse or the cache.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import require
from helpers import isolated_env
from hostileindex import HostileIndex

LINUX = "manylinux_2_28_x86_64"
TARGET = ("--python", "3.11", "--platform", LINUX)
MiB = 1024 * 1024
#: The child's address space: a build needs a tenth of it; the bombs, many times it.
ADDRESS_SPACE = 1024 * MiB
#: The most a refused case may cost: the largest limit (a 64 MiB page) and change.
PEAK = 256 * MiB
#: A deadline short enough for a test, as a user would set it.
SHORT_DEADLINE = {"WHEELHOUSE_HTTP_DEADLINE": "2"}
#: How long a child may run: a case that hangs fails rather than waits.
TIMEOUT = 90.0


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileIndex]:
    """The hostile index, and a second server its redirects lead to."""
    require("RLIMIT_AS", sys.platform.startswith("linux"), "caps a child's memory (Linux)")
    with HostileIndex() as index, HostileIndex() as elsewhere:
        index.redirect_to = elsewhere.base_url
        yield index


@dataclass(frozen=True)
class Outcome:
    """How a build ended, and what it cost."""

    code: int
    stdout: str
    stderr: str
    peak: int  # bytes of resident memory at most
    seconds: float

    def refused(self, *words: str) -> str:
        """The one ``error:`` line, once it is a clean refusal that holds ``words``."""
        assert self.code == 1, self.stderr
        assert "Traceback" not in self.stderr, self.stderr
        errors = [line for line in self.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and self.stderr.startswith("error: "), self.stderr
        for word in words:
            assert word in errors[0], errors[0]
        assert self.peak < PEAK, f"peak memory {self.peak // MiB} MiB"
        return errors[0]


def build(
    tmp_path: Path, *indexes: str, args: tuple[str, ...] = ("victim",), **env: str
) -> Outcome:
    """``wheelhouse build`` in a child with capped memory, timed and measured."""
    urls = [item for url in indexes[1:] for item in ("--extra-index-url", url)]
    command = [
        *(sys.executable, "-m", "wheelhouse", "build", "-q", "-w", str(tmp_path / "wh")),
        *("--index-url", indexes[0], *urls, *args, *TARGET),
    ]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    started = time.monotonic()
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=stderr,
            env=isolated_env({"WHEELHOUSE_CACHE_DIR": str(cache(tmp_path)), **env}),
            preexec_fn=_cap_memory,
        )
        code, peak = _wait(child)
    seconds = time.monotonic() - started
    return Outcome(code, out.read_text(), err.read_text(), peak, seconds)


def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _wait(child: subprocess.Popen[bytes]) -> tuple[int, int]:
    """Exit status and peak resident memory (bytes) of ``child``; killed if it hangs."""
    timer = threading.Timer(TIMEOUT, child.kill)
    timer.start()
    try:
        _pid, status, usage = os.wait4(child.pid, 0)
    finally:
        timer.cancel()
    child.returncode = code = os.waitstatus_to_exitcode(status)
    assert code != -9, f"the build did not end within {TIMEOUT} s"
    return code, usage.ru_maxrss * 1024  # kilobytes on Linux


def nothing_kept(tmp_path: Path, *, pep658: bool = False) -> None:
    """No wheelhouse written and nothing cached; ``pep658``: but metadata files
    kept under their own digest (they matched it, and answer no other page)."""
    wh = tmp_path / "wh"
    left = sorted(path.name for path in wh.iterdir()) if wh.exists() else []
    assert left in ([], [".wheelhouse.lock"]), left
    kept = [path for path in cache(tmp_path).rglob("*") if path.is_file()]
    allowed = [path for path in kept if pep658 and "." in path.name]
    assert sorted(set(kept) - set(allowed)) == [], "kept in the cache"
    assert sum(path.stat().st_size for path in kept) < MiB


def url(hostile: HostileIndex, case: str, path: str = "simple/victim/") -> str:
    return f"{hostile.url(case).removesuffix('simple/')}{path}"


WHEEL = "victim-1.0-py3-none-any.whl"


# Bloat: every body is bounded, decompression too.


def test_a_compressed_bomb_in_metadata_read_by_ranges(
    tmp_path: Path, hostile: HostileIndex
) -> None:
    outcome = build(tmp_path, hostile.url("bomb-ranges"))
    outcome.refused(url(hostile, "bomb-ranges", f"files/{WHEEL}"), "METADATA", "16 MiB")
    nothing_kept(tmp_path)


def test_a_compressed_bomb_in_the_downloaded_wheel(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("bomb-download"))
    outcome.refused(url(hostile, "bomb-download", f"files/{WHEEL}"), "METADATA", "16 MiB")
    nothing_kept(tmp_path, pep658=True)


def test_a_huge_metadata_file(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("huge-metadata"))
    metadata = url(hostile, "huge-metadata", f"files/{WHEEL}.metadata")
    outcome.refused(metadata, "16 MiB", "WHEELHOUSE_MAX_METADATA_SIZE")
    nothing_kept(tmp_path)


def test_a_gzip_bomb_of_a_metadata_file(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("gzip-metadata"))
    outcome.refused(url(hostile, "gzip-metadata", f"files/{WHEEL}.metadata"), "16 MiB")
    nothing_kept(tmp_path)


@pytest.mark.parametrize("case", ["huge-page", "endless-page", "gzip-page"])
def test_a_page_too_large_endless_or_a_gzip_bomb(
    tmp_path: Path, hostile: HostileIndex, case: str
) -> None:
    outcome = build(tmp_path, hostile.url(case))
    outcome.refused(url(hostile, case), "64 MiB", "WHEELHOUSE_MAX_PAGE_SIZE")
    nothing_kept(tmp_path)


def test_a_deeply_nested_json_page(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("deep-json"))
    outcome.refused(url(hostile, "deep-json"), "nested more than 64 deep")
    nothing_kept(tmp_path)


# Stall: every answer has a deadline, every download a minimum rate.


@pytest.mark.parametrize("case", ["slow-page", "slow-headers"])
def test_a_page_sent_a_byte_a_second(tmp_path: Path, hostile: HostileIndex, case: str) -> None:
    outcome = build(tmp_path, hostile.url(case), **SHORT_DEADLINE)
    outcome.refused(url(hostile, case), "2 s (WHEELHOUSE_HTTP_DEADLINE)")
    assert outcome.seconds < 30
    nothing_kept(tmp_path)


def test_a_download_sent_a_byte_a_second(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("slow-download"), **SHORT_DEADLINE)
    outcome.refused(url(hostile, "slow-download", f"files/{WHEEL}"), "10 KiB/s")
    assert outcome.seconds < 30
    nothing_kept(tmp_path, pep658=True)


def test_a_dependency_chain_that_never_ends(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("chain"), args=("chain-0",), WHEELHOUSE_MAX_PROJECTS="40")
    outcome.refused("more than 40 projects (WHEELHOUSE_MAX_PROJECTS)", "chain-40")
    assert outcome.seconds < 60


# Poison: what a file says of itself must be what its page said, and lies stay out
# of the cache.


def test_a_wheel_whose_metadata_names_another_project(
    tmp_path: Path, hostile: HostileIndex
) -> None:
    outcome = build(tmp_path, hostile.url("identity"))
    wheel = url(hostile, "identity", "files/victim-2.0-py3-none-any.whl")
    outcome.refused(wheel, "names evil 9.9, not victim 2.0")
    nothing_kept(tmp_path)


def test_a_wheel_that_is_not_a_zip(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("not-a-zip"))
    outcome.refused(url(hostile, "not-a-zip", f"files/{WHEEL}"), "not a wheel", "zip")
    nothing_kept(tmp_path, pep658=True)


@pytest.mark.parametrize("case", ["poison", "poison-ranges"])
def test_a_failed_build_against_a_liar_leaves_a_later_clean_build_clean(
    tmp_path: Path, hostile: HostileIndex, case: str
) -> None:
    """The liar lists the honest wheel's digest with metadata that adds ``evil``."""
    build(tmp_path, hostile.url(case)).refused(url(hostile, case, f"files/{WHEEL}"))
    clean = build(tmp_path, hostile.url("clean"))
    assert clean.code == 0, clean.stderr
    lock = (tmp_path / "wh" / "locks" / f"cp311-{LINUX}.txt").read_text()
    assert "victim==1.0" in lock and "evil" not in lock
    verify = [sys.executable, "-m", "wheelhouse", "verify", "-w", str(tmp_path / "wh")]
    assert subprocess.run(verify, env=isolated_env(), capture_output=True).returncode == 0


def test_every_file_refused_says_why(tmp_path: Path, hostile: HostileIndex) -> None:
    line = build(tmp_path, hostile.url("all-refused")).refused("victim")
    assert "no such project" not in line
    assert "it is a file of other" in line and "path separator" in line


# Bypass: the indexes the user named, in the order named.


def test_a_public_project_cannot_shadow_a_private_name(
    tmp_path: Path, hostile: HostileIndex
) -> None:
    private, public = hostile.url("private"), hostile.url("public")
    outcome = build(tmp_path, private, public, args=("internal-lib",))
    assert outcome.code == 0, outcome.stderr
    lock = (tmp_path / "wh" / "locks" / f"cp311-{LINUX}.txt").read_text()
    assert "internal-lib==1.0" in lock and "evil" not in lock
    manifest = (tmp_path / "wh" / "wheelhouse.toml").read_text()
    assert 'strategy = "first-index"' in manifest


def test_merging_every_index_is_asked_for_by_name(tmp_path: Path, hostile: HostileIndex) -> None:
    private, public = hostile.url("private"), hostile.url("public")
    args = ("internal-lib", "--index-strategy", "unsafe-best-match")
    outcome = build(tmp_path, private, public, args=args)
    assert outcome.code == 0, outcome.stderr
    assert "internal-lib==99.0" in (tmp_path / "wh" / "locks" / f"cp311-{LINUX}.txt").read_text()
    manifest = (tmp_path / "wh" / "wheelhouse.toml").read_text()
    assert 'strategy = "unsafe-best-match"' in manifest


@pytest.mark.parametrize("case", ["redirect-page", "redirect-file"])
def test_a_redirect_off_the_index_is_followed_and_the_file_still_checked(
    tmp_path: Path, hostile: HostileIndex, case: str
) -> None:
    """Redirects lead anywhere, as pip's do (a page may link anywhere too), but the
    bytes must match the page's digest wherever they come from."""
    outcome = build(tmp_path, hostile.url(case))
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "wh" / WHEEL).is_file()


def test_a_redirect_to_other_bytes_is_refused(tmp_path: Path, hostile: HostileIndex) -> None:
    outcome = build(tmp_path, hostile.url("redirect-elsewhere"))
    outcome.refused(url(hostile, "redirect-elsewhere", f"files/{WHEEL}"), "sha256")
    nothing_kept(tmp_path, pep658=True)
