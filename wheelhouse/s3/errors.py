"""Errors of publishing to object storage: no SDK, no bucket, no access, no answer.

Each names the bucket, key or endpoint at fault, never a credential; a failed
publish can always be run again, and what it uploaded is then skipped.
"""

from __future__ import annotations

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


class MissingS3Extra(WheelhouseError):
    """The AWS SDK (boto3), which only ``publish`` needs, is not installed."""

    def __init__(self, module: str, install: str) -> None:
        super().__init__(module, install)
        self.module, self.install = module, install
        self.hint = (
            f"install the s3 extra: {install} "
            "(or pip install boto3 into the environment that runs wheelhouse)"
        )

    def __str__(self) -> str:
        return f"publish needs the s3 extra, which is not installed (no module {self.module})"


class BucketNotFound(WheelhouseError):
    """The bucket does not exist at the endpoint."""

    def __init__(self, bucket: str, endpoint: str) -> None:
        endpoint = redact(endpoint)
        super().__init__(bucket, endpoint)
        self.bucket, self.endpoint = bucket, endpoint
        self.hint = "create the bucket, or check its name, the region and --endpoint-url"

    def __str__(self) -> str:
        return f"no bucket {self.bucket!r} at {self.endpoint}"


class AccessDenied(WheelhouseError):
    """The credentials may not do what publishing needs."""

    def __init__(self, url: str, action: str, code: str) -> None:
        super().__init__(url, action, code)
        self.url, self.action, self.code = url, action, code
        self.hint = (
            "check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) and that they may "
            "list, read and write under the prefix (and delete, for --delete)"
        )

    def __str__(self) -> str:
        return f"access denied: {self.action} {self.url} ({self.code})"


class NoCredentials(WheelhouseError):
    """The SDK's credential chain found nothing to sign requests with."""

    def __init__(self, bucket: str) -> None:
        super().__init__(bucket)
        self.bucket = bucket
        self.hint = (
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
            "or run where an instance or task role applies"
        )

    def __str__(self) -> str:
        return f"no credentials found to publish to bucket {self.bucket!r}"


class SdkSettings(WheelhouseError):
    """The SDK cannot be set up from its settings: a profile, region or endpoint is wrong."""

    def __init__(self, reason: str) -> None:
        reason = redact(reason)
        super().__init__(reason)
        self.reason = reason
        self.hint = (
            "check --endpoint-url, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL and the "
            "shared config files"
        )

    def __str__(self) -> str:
        return f"cannot set up the S3 client: {self.reason}"


class StoreUnreachable(WheelhouseError):
    """The endpoint did not answer, after the retries."""

    def __init__(self, url: str, reason: str) -> None:
        url, reason = redact(url), redact(reason)
        super().__init__(url, reason)
        self.url, self.reason = url, reason
        self.hint = f"check --endpoint-url (or AWS_ENDPOINT_URL) and the network, then {_RERUN}"

    def __str__(self) -> str:
        return f"cannot reach the object store at {self.url}: {self.reason}"


class StoreFailed(WheelhouseError):
    """Any other refusal or failure of the store, after the retries."""

    def __init__(self, url: str, action: str, reason: str) -> None:
        reason = redact(reason)
        super().__init__(url, action, reason)
        self.url, self.action, self.reason = url, action, reason
        self.hint = _RERUN

    def __str__(self) -> str:
        return f"{self.action} {self.url} failed: {self.reason}"
