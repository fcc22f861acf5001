"""The network under the HTTP client: every read and write held to the calling thread's deadline.

httpx's timeouts bound each read, not a whole answer: a server that sends one
byte a second, even of its headers, never trips them. :func:`deadline` sets,
for the calling thread, the moment by which its current answer must be done;
every read, write and connection of a :class:`DeadlineTransport` is given no
longer than what is left, and fails with a timeout once nothing is. The body
loops in :mod:`wheelhouse.index.bodies` check the same moment between reads, so a
transport without this (a test's, a proxy's) still ends a slow body.

The transport is httpx's own pipeline (an ``httpcore`` connection pool) with a
network backend that wraps the standard one; only public ``httpcore`` and
``httpx`` names are used.
"""

from __future__ import annotations

import contextlib
import select
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = ["DeadlineTransport", "deadline"]

_local = threading.local()


@contextlib.contextmanager
def deadline(ends: Callable[[], float]) -> Iterator[None]:
    """Hold this thread's network calls to ``ends()`` (a ``time.monotonic`` moment) inside.

    ``ends`` is asked again at every call, so a download's deadline can move as
    its bytes arrive.
    """
    previous = getattr(_local, "ends", None)
    _local.ends = ends
    try:
        yield
    finally:
        _local.ends = previous


def _clip(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """``timeout``, shortened to what is left of the thread's deadline; raise when nothing is."""
    ends: Callable[[], float] | None = getattr(_local, "ends", None)
    if ends is None:
        return timeout
    left = ends() - time.monotonic()
    if left <= 0:
        raise expired("the deadline for the whole answer has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        # Fixed for the stream's life (start_tls makes a new one): looked up once, not per read.
        self._tls = inner.get_extra_info("ssl_object")
        self._socket = inner.get_extra_info("socket") if self._tls is not None else None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to ``max_bytes``: the first read, then what more has already arrived.

        A TLS read gives one record (16 KiB at most), and each read costs the
        HTTP parser an event; joining what is already there into one chunk of up
        to ``max_bytes`` spares it three events in four on a large download.
        """
        data = self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))
        if not data or len(data) >= max_bytes or not self._more_waiting():
            return data
        chunks, size = [data], len(data)
        while size < max_bytes and self._more_waiting():
            more = self._inner.read(max_bytes - size, _clip(timeout, httpcore.ReadTimeout))
            if not more:
                break
            chunks.append(more)
            size += len(more)
        return b"".join(chunks)

    def _more_waiting(self) -> bool:
        """Whether a read now would not wait: decrypted bytes pending, or bytes on the socket."""
        if self._tls is None:
            return False  # a plain socket's read already takes all that is there
        if self._tls.pending():
            return True
        if self._socket is None:
            return False
        readable, _, _ = select.select([self._socket], [], [], 0)
        return bool(readable)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, clipped))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """The standard backend, its streams wrapped so that each call honours the deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, clipped, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, clipped, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.BaseTransport):
    """What ``httpx.HTTPTransport`` does, over connections that honour :func:`deadline`.

    Connection limits are httpx's defaults.
    """

    def __init__(self, ssl_context: ssl.SSLContext, *, http2: bool) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            http1=True,
            http2=http2,
            network_backend=_Backend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx(request):
            answer = self._pool.handle_request(core)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream, request),  # type: ignore[arg-type]
            extensions=answer.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes], request: httpx.Request) -> None:
        self._stream, self._request = stream, request

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx(self._request):
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


@contextlib.contextmanager
def _as_httpx(request: httpx.Request) -> Iterator[None]:
    """Raise httpcore's errors as httpx's of the same name, as httpx's transport does."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise getattr(httpx, type(exc).__name__, httpx.TimeoutException)(
            str(exc), request=request
        ) from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise getattr(httpx, type(exc).__name__, httpx.TransportError)(
            str(exc), request=request
        ) from exc
