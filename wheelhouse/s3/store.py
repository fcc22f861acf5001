"""One bucket and prefix behind boto3: list, head, upload in parallel, delete.

The only module that imports boto3 and botocore. Credentials come from the SDK's
own chain (environment, shared config, instance and task roles) and are never
read here. Requests are retried with backoff by botocore (``AWS_MAX_ATTEMPTS``
and ``AWS_RETRY_MODE`` apply); uploads share one transfer manager, which splits
large files into parts and runs at most ``jobs`` transfers at once. Every SDK
error leaves as one of :mod:`wheelhouse.s3.errors`, naming the bucket or key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from s3transfer.subscribers import BaseSubscriber

from wheelhouse import __version__
from wheelhouse.errors import WheelhouseError
from wheelhouse.model.publish import LocalObject, Multipart, RemoteObject, S3Location
from wheelhouse.s3.errors import (
    AccessDenied,
    BucketNotFound,
    NoCredentials,
    SdkSettings,
    StoreFailed,
    StoreUnreachable,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3Store"]

_ATTEMPTS = 5
_DELETE_BATCH = 1000  # the most one DeleteObjects request takes
_DENIED = {"AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


def _config(session: botocore.session.Session, jobs: int) -> Config:
    attempts = session.get_config_variable("max_attempts") or _ATTEMPTS
    return Config(
        retries={
            "mode": session.get_config_variable("retry_mode") or "standard",
            "total_max_attempts": int(attempts),
        },
        max_pool_connections=jobs + 4,  # the transfers, plus HEAD requests beside them
        connect_timeout=10,
        read_timeout=60,
        # Checksums the store did not ask for are refused by many S3-compatible
        # stores; every object carries its sha256 in its metadata instead.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra=f"wheelhouse/{__version__}",
    )


class _Progress(BaseSubscriber):
    """Passes each transfer's byte counts on (negative when a retry rewinds a part)."""

    def __init__(self, callback: Callable[[int], None]) -> None:
        self.callback = callback

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        self.callback(bytes_transferred)


class S3Store:
    """The objects under ``location``; a context manager that ends its transfers."""

    def __init__(
        self,
        location: S3Location,
        *,
        endpoint_url: str | None = None,
        jobs: int = 8,
        multipart: Multipart | None = None,
    ) -> None:
        self.location, self.multipart = location, multipart or Multipart()
        session = botocore.session.get_session()
        try:
            self.client: S3Client = boto3.session.Session(botocore_session=session).client(
                "s3", endpoint_url=endpoint_url, config=_config(session, jobs)
            )
        except (BotoCoreError, ValueError) as exc:  # botocore says "Invalid endpoint" so
            raise SdkSettings(str(exc)) from None
        self.endpoint = self.client.meta.endpoint_url
        transfer = TransferConfig(
            multipart_threshold=self.multipart.threshold,
            multipart_chunksize=self.multipart.part_size,
            max_concurrency=jobs,
            preferred_transfer_client="classic",  # its parts are what Multipart says
        )
        self._manager = create_transfer_manager(self.client, transfer)

    def __enter__(self) -> S3Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._manager.__exit__(kind, error, tb)  # cancels transfers left when raising

    def list(self) -> list[RemoteObject]:
        """Every object under the prefix, by one paginated listing."""
        bucket, prefix = self.location.bucket, self.location.prefix
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        with self._errors("list", prefix):
            return [
                RemoteObject(key=item["Key"], size=item["Size"], etag=item["ETag"])
                for page in pages
                for item in page.get("Contents", [])
            ]

    def head(self, key: str) -> RemoteObject | None:
        """The object with its recorded sha256 and content type; None when it is gone."""
        with self._errors("read", key):
            try:
                found = self.client.head_object(Bucket=self.location.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    return None
                raise
        return RemoteObject(
            key=key,
            size=found["ContentLength"],
            etag=found["ETag"],
            sha256=found.get("Metadata", {}).get("sha256"),
            content_type=found.get("ContentType"),
        )

    def upload(
        self, root: Path, objects: Sequence[LocalObject], progress: Callable[[int], None]
    ) -> None:
        """Upload every object in parallel; if any fails, the rest finish, then it raises."""
        futures = [(item.key, self._submit(root, item, progress)) for item in objects]
        failures: list[tuple[str, Exception]] = []
        for key, future in futures:
            try:
                future.result()
            except Exception as exc:  # collected: every transfer gets its chance first
                failures.append((key, exc))
        if failures:
            key, first = failures[0]
            raise self._translate(first, "upload", key) if _is_sdk(first) else first

    def _submit(self, root: Path, item: LocalObject, progress: Callable[[int], None]) -> Any:
        """Queue one upload: its type and sha256 go with it, as headers of the object."""
        return self._manager.upload(
            str(root / item.source),
            self.location.bucket,
            item.key,
            extra_args={"ContentType": item.content_type, "Metadata": {"sha256": item.sha256}},
            subscribers=[_Progress(progress)],
        )

    def delete(self, keys: Sequence[str]) -> None:
        """Delete these keys, all under the prefix, in batches."""
        if any(not key.startswith(self.location.prefix) for key in keys):
            raise ValueError(f"refusing to delete keys outside {self.location}")
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            with self._errors("delete", batch[0]):
                answer = self.client.delete_objects(
                    Bucket=self.location.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            for failed in answer.get("Errors", [])[:1]:
                key, code = failed.get("Key", ""), failed.get("Code", "")
                raise self._refusal("delete", key, code, failed.get("Message", ""))

    def url(self, key: str) -> str | None:
        """The object's plain HTTP address, as the SDK would address it; None if unknown.

        A presigned URL is built locally, with the endpoint, region and addressing
        style the SDK chose; without its query it is the address a reader uses.
        """
        try:
            signed = self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.location.bucket, "Key": key}, ExpiresIn=60
            )
        except BotoCoreError:
            return None
        return signed.partition("?")[0]

    @contextlib.contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, action, key) from None

    def _translate(self, exc: Exception, action: str, key: str) -> WheelhouseError:
        """The error an SDK failure stands for, naming the bucket, key or endpoint."""
        bucket, url = self.location.bucket, f"s3://{self.location.bucket}/{key}"
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return NoCredentials(bucket)
        if isinstance(exc, (ConnectionError, HTTPClientError)):
            return StoreUnreachable(self.endpoint, str(exc))
        if not isinstance(exc, ClientError):
            return StoreFailed(url, action, str(exc))
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.get("Code") or str(status)
        if code == "NoSuchBucket":
            return BucketNotFound(bucket, self.endpoint)
        if status == 403:
            return AccessDenied(url, action, code)
        return self._refusal(action, key, code, error.get("Message", ""))

    def _refusal(self, action: str, key: str, code: str, message: str) -> WheelhouseError:
        url = f"s3://{self.location.bucket}/{key}"
        if code in _DENIED:
            return AccessDenied(url, action, code)
        return StoreFailed(url, action, f"{code}: {message}".rstrip(": "))


def _is_sdk(exc: Exception) -> bool:
    return isinstance(exc, (ClientError, BotoCoreError))
