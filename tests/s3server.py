"""An S3 store on 127.0.0.1 for the tests: moto's S3 application behind a request log.

The log is the oracle for request counts (what a publish cost, in what order it
wrote), and a hook sees each request before the store does (to fail it, or to
kill a publisher half-way). It runs in a thread of the test process, or as a script in another
network namespace: ``python tests/s3server.py PORT BUCKET PREFIX`` makes the
bucket, lets anyone read under PREFIX, prints ``ready`` and serves until killed.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

import boto3
from botocore.config import Config
from moto.server import MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

__all__ = ["FAKE_CREDENTIALS", "Request", "S3Server"]

#: What the SDK signs test requests with; moto checks no signature.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # never ask a metadata service for a role
}


@dataclass(frozen=True)
class Request:
    method: str
    bucket: str
    key: str
    query: dict[str, list[str]]

    @property
    def is_listing(self) -> bool:
        return self.method == "GET" and not self.key and "list-type" in self.query

    @property
    def is_write(self) -> bool:
        """A request that creates or changes an object (a part of one counts)."""
        return bool(self.key) and self.method in ("PUT", "POST")


class _Quiet(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No line per request on stderr: the log keeps them."""


class S3Server:
    """moto's S3 on 127.0.0.1 (``port`` 0 picks a free one), with ``log`` and ``hook``."""

    def __init__(self, port: int = 0) -> None:
        self.log: list[Request] = []
        #: Sees each request first; a status it returns is the answer, and the store
        #: never sees the request.
        self.hook: Callable[[Request], int | None] | None = None
        self._app = create_backend_app("s3")
        self._server = make_server("127.0.0.1", port, self._logged, True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> S3Server:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def _logged(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        bucket, _, key = unquote(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
        request = Request(
            environ["REQUEST_METHOD"],
            bucket,
            key,
            parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
        )
        self.log.append(request)
        status = self.hook(request) if self.hook is not None else None
        if status is not None:  # the hook answers instead of the store
            start_response(f"{status} Refused by the test", [("Content-Length", "0")])
            return [b""]
        result: Iterable[bytes] = self._app(environ, start_response)
        return result

    def client(self) -> Any:
        """A boto3 client for setting the scene (make buckets, put sentinels)."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            config=Config(request_checksum_calculation="when_required"),
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
        )

    def make_bucket(self, bucket: str, readable: str = "") -> None:
        """Create ``bucket``; anyone may GET the objects under the prefix ``readable``."""
        client = self.client()
        client.create_bucket(Bucket=bucket)
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{readable}*",
        }
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object of the bucket, by key."""
        client = self.client()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def main(port: str, bucket: str, prefix: str) -> None:
    with S3Server(int(port)) as server:
        server.make_bucket(bucket, prefix)
        print("ready", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(*sys.argv[1:])
