"""Errors of publishing to object storage: no SDK, no bucket, no access, no answer.

Each names the bucket, key or endpoint at fault, never a credential; a failed
publish can always be run again, and what it uploaded is then skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from wheelhouse.errors import WheelhouseError
from wheelhouse.model.urls import redact

__all__ = [
    "AccessDenied",
    "BucketNotFound",
    "MissingS3Extra",
    "NoCredentials",
    "SdkSettings",
    "StoreFailed",
    "StoreUnreachable",
]

_RERUN = "run the same publish again: objects already up are skipped"


@dataclass(eq=False)
class MissingS3Extra(WheelhouseError):
    """The AWS SDK (boto3), which only ``publish`` needs, is not installed."""

    module: str
    install: str

    def __str__(self) -> str:
        return f"publish needs the s3 extra, which is not installed (no module {self.module})"

    @property
    def hint(self) -> str:
        return (
            f"install the s3 extra: {self.install} "
            "(or pip install boto3 into the environment that runs wheelhouse)"
        )


@dataclass(eq=False)
class BucketNotFound(WheelhouseError):
    """The bucket does not exist at the endpoint."""

    bucket: str
    endpoint: str

    def __post_init__(self) -> None:
        self.endpoint = redact(self.endpoint)
        super().__post_init__()

    def __str__(self) -> str:
        return f"no bucket {self.bucket!r} at {self.endpoint}"

    @property
    def hint(self) -> str:
        return "create the bucket, or check its name, the region and --endpoint-url"


@dataclass(eq=False)
class AccessDenied(WheelhouseError):
    """The credentials may not do what publishing needs."""

    url: str
    action: str
    code: str

    def __str__(self) -> str:
        return f"access denied: {self.action} {self.url} ({self.code})"

    @property
    def hint(self) -> str:
        return (
            "check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) and that they may "
            "list, read and write under the prefix (and delete, for --delete)"
        )


@dataclass(eq=False)
class NoCredentials(WheelhouseError):
    """The SDK's credential chain found nothing to sign requests with."""

    bucket: str

    def __str__(self) -> str:
        return f"no credentials found to publish to bucket {self.bucket!r}"

    @property
    def hint(self) -> str:
        return (
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
            "or run where an instance or task role applies"
        )


@dataclass(eq=False)
class SdkSettings(WheelhouseError):
    """The SDK cannot be set up from its settings: a profile, region or endpoint is wrong."""

    reason: str

    def __post_init__(self) -> None:
        self.reason = redact(self.reason)
        super().__post_init__()

    def __str__(self) -> str:
        return f"cannot set up the S3 client: {self.reason}"

    @property
    def hint(self) -> str:
        return (
            "check --endpoint-url, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL and the "
            "shared config files"
        )


@dataclass(eq=False)
class StoreUnreachable(WheelhouseError):
    """The endpoint did not answer, after the retries."""

    url: str
    reason: str

    def __post_init__(self) -> None:
        self.url, self.reason = redact(self.url), redact(self.reason)
        super().__post_init__()

    def __str__(self) -> str:
        return f"cannot reach the object store at {self.url}: {self.reason}"

    @property
    def hint(self) -> str:
        return f"check --endpoint-url (or AWS_ENDPOINT_URL) and the network, then {_RERUN}"


@dataclass(eq=False)
class StoreFailed(WheelhouseError):
    """Any other refusal or failure of the store, after the retries."""

    url: str
    action: str
    reason: str

    def __post_init__(self) -> None:
        self.reason = redact(self.reason)
        super().__post_init__()

    def __str__(self) -> str:
        return f"{self.action} {self.url} failed: {self.reason}"

    @property
    def hint(self) -> str:
        return _RERUN
