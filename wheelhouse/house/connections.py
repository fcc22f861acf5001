"""The server's connections: idle ones wait without a thread, a request head has a deadline.

:class:`Parking` watches every open connection that has no request under way,
with one thread and a selector, so a thousand idle clients cost no thread each;
only a connection whose client sends something goes to a worker.
:class:`RequestReader` gives a worker the bytes of one request head, unbuffered
(nothing of a next request is read ahead, so the connection can wait in the
parking again), within a deadline and a size.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["Parking", "RequestReader", "close"]

#: How long a parking waits at most before it looks at deadlines and closing again.
_TICK = 1.0
#: What a closing connection may still send, read and dropped, before it is cut.
_DRAIN_BYTES = 1 << 20


def close(sock: socket.socket) -> None:
    """Close a connection, whatever state it is in."""
    with contextlib.suppress(OSError):
        sock.close()


@dataclass(slots=True)
class _Waiting:
    address: Any
    deadline: float
    draining: bool
    drained: int = 0


class Parking:
    """Open connections that wait for their client, watched by one thread.

    A connection stays until its client sends something (``ready`` then gets it),
    its ``idle`` seconds run out, or it is the oldest of ``capacity`` waiting (then
    it is closed, so that new clients are always served). A connection parked
    ``draining`` is being closed after an answer: what its client still sends is
    read and dropped for up to ``linger`` seconds, since closing a socket with
    unread input resets it and the client could lose the answer.
    """

    def __init__(
        self,
        ready: Callable[[socket.socket, Any], None],
        *,
        idle: float,
        capacity: int,
        linger: float,
    ) -> None:
        self._ready, self._idle, self._capacity, self._linger = ready, idle, capacity, linger
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        for end in (self._wake_reader, self._wake_writer):
            end.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._arrivals: list[tuple[socket.socket, _Waiting]] = []
        self._waiting: dict[socket.socket, _Waiting] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="wheelhouse-idle", daemon=True)
        self._thread.start()

    def park(self, sock: socket.socket, address: Any, *, draining: bool = False) -> None:
        """Let ``sock`` wait for its client's next request, or for its end when ``draining``."""
        if draining:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)  # the client sees the answer end
        deadline = time.monotonic() + (self._linger if draining else self._idle)
        with self._lock:
            taken = not self._closed
            if taken:
                self._arrivals.append((sock, _Waiting(address, deadline, draining)))
        if taken:
            self._wake()
        else:
            close(sock)

    def close(self) -> None:
        """Close every waiting connection and stop watching."""
        with self._lock:
            self._closed = True
        self._wake()
        self._thread.join(timeout=10)

    def _wake(self) -> None:
        # Full means a wake-up is pending already.
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    def _run(self) -> None:
        try:
            while not self._closed:
                self._adopt()
                for key, _ in self._selector.select(self._timeout()):
                    self._on_readable(key.fileobj)  # type: ignore[arg-type]
                self._expire()
        finally:
            self._close_all()

    def _timeout(self) -> float:
        soonest = min((waiting.deadline for waiting in self._waiting.values()), default=None)
        return _TICK if soonest is None else min(_TICK, max(0.0, soonest - time.monotonic()))

    def _adopt(self) -> None:
        """Start watching the connections parked since the last round."""
        with self._lock:
            arrivals, self._arrivals = self._arrivals, []
        for sock, waiting in arrivals:
            if len(self._waiting) >= self._capacity:
                self._drop(min(self._waiting, key=lambda s: self._waiting[s].deadline))
            try:
                self._selector.register(sock, selectors.EVENT_READ)
            except (OSError, ValueError):  # closed meanwhile
                close(sock)
                continue
            self._waiting[sock] = waiting

    def _on_readable(self, sock: socket.socket) -> None:
        if sock is self._wake_reader:
            with contextlib.suppress(OSError):
                while sock.recv(4096):
                    pass
            return
        waiting = self._waiting[sock]
        if waiting.draining:
            self._drain(sock, waiting)
            return
        self._selector.unregister(sock)
        del self._waiting[sock]
        try:
            self._ready(sock, waiting.address)
        except Exception:  # the server is closing: nobody will answer
            close(sock)

    def _drain(self, sock: socket.socket, waiting: _Waiting) -> None:
        try:
            data = sock.recv(1 << 16)  # readable: this does not block
        except OSError:
            data = b""
        waiting.drained += len(data)
        if not data or waiting.drained > _DRAIN_BYTES:
            self._drop(sock)

    def _expire(self) -> None:
        now = time.monotonic()
        for sock in [sock for sock, waiting in self._waiting.items() if waiting.deadline <= now]:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        del self._waiting[sock]
        close(sock)

    def _close_all(self) -> None:
        with self._lock:
            arrivals, self._arrivals = self._arrivals, []
        for sock in [*self._waiting, *(sock for sock, _ in arrivals)]:
            close(sock)
        self._waiting.clear()
        self._selector.close()
        close(self._wake_reader)
        close(self._wake_writer)


class RequestReader(io.RawIOBase):
    """The bytes of one request head from a connection: unbuffered, in time, bounded.

    Lines are read by peeking for the line end first, two system calls a line, and
    nothing past the line is consumed. Past ``seconds`` a read raises
    ``TimeoutError``, as a socket timeout does; past ``limit`` bytes it raises
    ``http.client.LineTooLong``, which the request parser answers with 431. The
    socket's own timeout is restored after each read.
    """

    def __init__(self, sock: socket.socket, *, seconds: float, limit: int) -> None:
        super().__init__()
        self._sock, self._left = sock, limit
        self._deadline = time.monotonic() + seconds
        self._timeout = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1, /) -> bytes:
        limit = size if size is not None and size >= 0 else self._left + 1
        line = bytearray()
        while len(line) < limit:
            peeked = self._recv(min(1 << 12, limit - len(line)), socket.MSG_PEEK)
            end = peeked.find(b"\n") + 1 or len(peeked)
            line += self._recv(end)  # there already: all of it comes at once
            if not peeked or line.endswith(b"\n"):
                break
        return bytes(line)

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._recv(len(view))
        view[: len(data)] = data
        return len(data)

    def _recv(self, size: int, flags: int = 0) -> bytes:
        if size == 0:
            return b""
        if self._left <= 0:
            raise http.client.LineTooLong("request head")
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(min(size, self._left), flags)
        finally:
            self._sock.settimeout(self._timeout)
        if not flags:
            self._left -= len(data)
        return data
