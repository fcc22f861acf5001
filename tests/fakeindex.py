"""An in-process fake index for the index client's tests: canned answers by URL, logged."""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import zipfile
from collections.abc import Callable

import httpx

from wheelhouse.index.client import IndexClient
from wheelhouse.model.distributions import DistFile

__all__ = [
    "EXTRA",
    "FILES",
    "INDEX",
    "JSON",
    "METADATA",
    "FakeIndex",
    "Handler",
    "content",
    "html_answer",
    "json_answer",
    "make_wheel",
    "sequence",
    "serve_ranges",
    "served_wheel",
    "slowly",
    "status",
    "truncated",
    "wheel_file",
]

INDEX = "https://index.example.invalid/simple"
EXTRA = "https://extra.example.invalid/simple"
FILES = "https://files.example.invalid"
JSON = "application/vnd.pypi.simple.v1+json"
METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: other>=2\n"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeIndex:
    """Canned answers by URL; every request is logged, and unknown URLs get a 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.log: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.log.append(request)
        handler = self.routes.get(str(request.url).split("#")[0])
        return handler(request) if handler else httpx.Response(404)

    def hits(self, url: str) -> list[httpx.Request]:
        return [request for request in self.log if str(request.url) == url]


def json_answer(*files: dict[str, object]) -> Handler:
    body = json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": list(files)})
    return lambda request: httpx.Response(200, headers={"Content-Type": JSON}, content=body)


def html_answer(*hrefs: str) -> Handler:
    body = "".join(f'<a href="{href}">{href}</a>' for href in hrefs)
    return lambda request: httpx.Response(200, headers={"Content-Type": "text/html"}, content=body)


def sequence(*answers: Handler | Exception) -> Handler:
    """Answer with each handler (or raise each error) in turn, repeating the last."""
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(request)

    return handle


def slowly(handler: Handler) -> Handler:
    """The same answer, late enough for concurrent callers to overlap."""

    def handle(request: httpx.Request) -> httpx.Response:
        time.sleep(0.1)
        return handler(request)

    return handle


def status(code: int) -> Handler:
    return lambda request: httpx.Response(code)


def make_wheel(*, metadata_first: bool = True) -> bytes:
    """A wheel whose METADATA sits before (or after) 200 kB of incompressible data."""
    buffer = io.BytesIO()
    members = [("demo-1.0.dist-info/METADATA", METADATA)]
    filler = [("demo/blob.bin", random.Random(0).randbytes(200_000))]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members + filler if metadata_first else filler + members:
            archive.writestr(name, data)
        archive.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        archive.writestr("vendored/other-2.0.dist-info/METADATA", "Name: other\n")
    return buffer.getvalue()


def serve_ranges(body: bytes) -> Handler:
    """Answer single byte ranges (``-N`` or ``A-B``) with 206, a plain GET with 200."""

    def handle(request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("range", ""))
        if not match:
            return httpx.Response(200, content=body)
        first = int(match[1]) if match[1] else max(0, len(body) - int(match[2]))
        last = int(match[2]) if match[1] and match[2] else len(body) - 1
        headers = {"Content-Range": f"bytes {first}-{last}/{len(body)}"}
        return httpx.Response(206, headers=headers, content=body[first : last + 1])

    return handle


def wheel_file(**details: object) -> DistFile:
    name = "demo-1.0-py3-none-any.whl"
    return DistFile.create(filename=name, url=f"{FILES}/{name}", project="demo", **details)


def content(body: bytes) -> Handler:
    return lambda request: httpx.Response(200, content=body)


def truncated(body: bytes) -> Handler:
    headers = {"Content-Length": str(len(body) + 10)}
    return lambda request: httpx.Response(200, headers=headers, content=body)


def served_wheel(client: IndexClient, name: str = "alpha") -> DistFile:
    return next(file for file in client.project_files(name).files if file.is_wheel)
