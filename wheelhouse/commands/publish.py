"""``wheelhouse publish``: a verified wheelhouse, uploaded so pip and uv install from a bucket.

Two steps, as everywhere in the tool: a pure plan, from the wheelhouse and one
listing of the prefix (plus a HEAD request for an object whose listing cannot
tell), then its application. Uploads go stage by stage, files first and the
manifest last, so a reader never finds a page or lock naming a missing object;
objects already there with the same bytes are skipped, which makes an
interrupted publish complete when run again. Stale objects under the prefix are
deleted only when asked, and only once everything new is up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from wheelhouse.commands.errors import NotPublishable
from wheelhouse.commands.verify import verify
from wheelhouse.commands.workers import parallel_map
from wheelhouse.house.directory import Wheelhouse
from wheelhouse.house.layout import MANIFEST, MATRIX_CONSTRAINTS
from wheelhouse.model.publish import (
    LocalObject,
    Multipart,
    PublishPlan,
    RemoteObject,
    S3Location,
    needs_checking,
    placements,
    plan_publish,
)
from wheelhouse.s3.digest import fingerprint

__all__ = [
    "ObjectStore",
    "PublishReporter",
    "PublishRequest",
    "PublishResult",
    "apply_plan",
    "local_objects",
    "make_plan",
    "publish",
    "render_plan",
    "wheelhouse_files",
]

_METADATA = ".metadata"  # PEP 658: the core metadata beside each wheel
_PAGES = ("index.html", "index.json")


@dataclass(frozen=True, kw_only=True, slots=True)
class PublishRequest:
    """What to publish where: the wheelhouse, the bucket and prefix, and how."""

    wheelhouse: Path
    location: S3Location
    endpoint_url: str | None = None
    delete: bool = False
    dry_run: bool = False
    jobs: int = 8


@dataclass(frozen=True, kw_only=True, slots=True)
class PublishResult:
    """The plan, carried out unless it was a dry run, and the index's HTTP address."""

    plan: PublishPlan
    dry_run: bool
    index_url: str | None


class PublishReporter:
    """Progress hooks; the CLI overrides them to drive a progress bar."""

    def uploading(self, plan: PublishPlan) -> None:
        """The uploads of ``plan`` start (``plan.upload_bytes`` in all)."""

    def progress(self, nbytes: int) -> None:
        """``nbytes`` more bytes went up (negative when a retry starts a part again)."""

    def deleting(self, keys: Sequence[str]) -> None:
        """These stale keys are about to be deleted."""


class ObjectStore(Protocol):
    """The objects under one prefix, as :class:`wheelhouse.s3.store.S3Store` reaches them."""

    multipart: Multipart

    def __enter__(self) -> ObjectStore: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def list(self) -> list[RemoteObject]: ...

    def head(self, key: str) -> RemoteObject | None: ...

    def upload(
        self, root: Path, objects: Sequence[LocalObject], progress: Callable[[int], None]
    ) -> None: ...

    def delete(self, keys: Sequence[str]) -> None: ...

    def url(self, key: str) -> str | None: ...


def _connect(request: PublishRequest) -> ObjectStore:
    from wheelhouse.s3.sdk import connect

    return connect(request.location, endpoint_url=request.endpoint_url, jobs=request.jobs)


def publish(
    request: PublishRequest,
    reporter: PublishReporter | None = None,
    connect: Callable[[PublishRequest], ObjectStore] = _connect,
) -> PublishResult:
    """Verify, plan and (unless a dry run) upload; a wheelhouse that fails verify is refused."""
    wheelhouse = Wheelhouse.open(request.wheelhouse)
    with connect(request) as store, _unchanging(wheelhouse):
        _check(wheelhouse)
        local = local_objects(wheelhouse, request.location, store.multipart, jobs=request.jobs)
        plan = make_plan(store, local, request)
        if not request.dry_run:
            apply_plan(plan, store, wheelhouse.root, reporter or PublishReporter())
        index_url = store.url(request.location.key("simple/"))
    return PublishResult(plan=plan, dry_run=request.dry_run, index_url=index_url)


@contextlib.contextmanager
def _unchanging(wheelhouse: Wheelhouse) -> Iterator[None]:
    """Hold the wheelhouse's write lock, so no build changes it mid-publish.

    On a read-only mount the lock cannot be taken, and nothing can write there either.
    """
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(OSError):
            stack.enter_context(wheelhouse.exclusive())
        yield


def _check(wheelhouse: Wheelhouse) -> None:
    problems = verify(wheelhouse).problems
    if problems:
        raise NotPublishable(str(wheelhouse.root), [str(problem) for problem in problems])


def wheelhouse_files(wheelhouse: Wheelhouse) -> list[str]:
    """What readers need, relative to the wheelhouse: files, metadata, pages, locks, manifest."""
    root = wheelhouse.root
    names = sorted(wheelhouse.read_manifest().get("files", {}))
    metadata = [name + _METADATA for name in names if (root / (name + _METADATA)).is_file()]
    pages = sorted(
        page.relative_to(root).as_posix()
        for pattern in ("simple/index.*", "simple/*/index.*")
        for page in root.glob(pattern)
        if page.name in _PAGES
    )
    locks = [
        path.relative_to(root).as_posix()
        for target in wheelhouse.lock_targets()
        for path in (
            wheelhouse.lock_path(target),
            wheelhouse.pylock_path(target),
            wheelhouse.constraints_path(target),
        )
    ]
    matrix = [MATRIX_CONSTRAINTS] if wheelhouse.matrix_constraints_path.is_file() else []
    return [*names, *metadata, *pages, *locks, *matrix, MANIFEST]


def local_objects(
    wheelhouse: Wheelhouse, location: S3Location, multipart: Multipart, *, jobs: int
) -> list[LocalObject]:
    """Every object to publish, with the digests the plan compares (files read in parallel)."""
    files = wheelhouse_files(wheelhouse)
    prints = parallel_map(
        jobs, lambda relative: fingerprint(wheelhouse.root / relative, multipart), files
    )
    found = dict(zip(files, prints, strict=True))
    return [
        LocalObject(
            key=location.key(place.key),
            source=relative,
            size=digests.size,
            sha256=digests.sha256,
            etag=digests.etag,
            content_type=place.content_type,
            stage=place.stage,
        )
        for relative, digests in found.items()
        for place in placements(relative)
    ]


def make_plan(
    store: ObjectStore, local: Sequence[LocalObject], request: PublishRequest
) -> PublishPlan:
    """List the prefix once, HEAD only the objects the listing leaves in doubt, then plan."""
    remote = {item.key: item for item in store.list()}
    doubtful = needs_checking(local, remote)
    checked = dict(zip(doubtful, parallel_map(request.jobs, store.head, doubtful), strict=True))
    for key, found in checked.items():
        if found is None:  # deleted since the listing
            del remote[key]
        else:
            remote[key] = found
    return plan_publish(request.location, local, remote, delete=request.delete)


def apply_plan(
    plan: PublishPlan, store: ObjectStore, root: Path, reporter: PublishReporter
) -> None:
    """Upload stage after stage; then, with ``--delete``, remove the stale keys."""
    reporter.uploading(plan)
    for _stage, objects in plan.stages():
        store.upload(root, objects, reporter.progress)
    if plan.delete and plan.stale:
        reporter.deleting(plan.stale)
        store.delete(plan.stale)


def render_plan(result: PublishResult) -> Iterator[str]:
    """A dry run's list of changes, then the one-line summary of either kind of run."""
    plan, verb = result.plan, ("would " if result.dry_run else "")
    if result.dry_run:
        yield from (f"would upload {item.key} ({item.size} bytes)" for item in plan.uploads)
        yield from (f"would delete {key}" for key in plan.stale if plan.delete)
    deleted = len(plan.stale) if plan.delete else 0
    uploaded = "upload" if result.dry_run else "uploaded"
    yield (
        f"{plan.location}: {verb}{uploaded} {len(plan.uploads)} object(s) "
        f"({plan.upload_bytes} bytes), {len(plan.unchanged)} unchanged, "
        f"{verb}{'delete' if result.dry_run else 'deleted'} {deleted}"
    )
    if plan.stale and not plan.delete:
        kept = "would keep" if result.dry_run else "kept"
        yield f"{kept} {len(plan.stale)} object(s) the wheelhouse lacks (--delete removes them)"
    if result.index_url:
        yield f"index: {result.index_url}"
