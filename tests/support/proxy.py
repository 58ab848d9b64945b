"""A fault-injecting HTTP/1.1 proxy on loopback, placed between a client and the sandbox.

Why its own server rather than mocks: the failures a Linkis client meets in the field (a load
balancer resetting a keep-alive connection, a gateway answering 503 while it restarts, a
connection dropped half-way through a reply) only show their real shape on a real socket, so
the client's urllib3 retry policy and error translation are exercised as they would be.

Every request that reaches the proxy is offered to ``policy(method, path, n)`` (``n`` counts
requests from 1); it answers one :class:`Fault` or ``None`` (forward untouched):

* ``DROP``: close the client connection without answering (request never forwarded);
* ``RESET``: abort the client connection with a TCP RST (SO_LINGER 0), never forwarded;
* ``RESET_MID``: forward, then send the status line and half of the headers, then RST;
* ``RESET_BODY``: forward, send the headers and half of the body, then RST;
* ``DELAY``: forward at once, hold the reply for ``delay`` seconds (a slow gateway: the
  request has reached the server while the client still waits);
* ``HOLD``: forward at once, hold the reply until the proxy stops (a gateway that never
  answers in time, whatever the client's read timeout and however slow the machine);
* ``STATUS_502`` / ``STATUS_503`` / ``STATUS_504``: answer that status (a proxy's HTML body),
  never forwarded.

The proxy records what it saw (``requests`` and ``faults``) so tests can count, for example,
how many ``entrance/submit`` POSTs reached the sandbox.
"""

from __future__ import annotations

import enum
import http.client
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["Fault", "FaultProxy", "Policy", "random_get_faults"]

_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te"}


class Fault(enum.Enum):
    """What the proxy does to one request."""

    DROP = "drop"
    RESET = "reset"
    RESET_MID = "reset-mid"
    RESET_BODY = "reset-body"
    DELAY = "delay"
    HOLD = "hold"
    STATUS_502 = 502
    STATUS_503 = 503
    STATUS_504 = 504


Policy = Callable[[str, str, int], "Fault | None"]


def random_get_faults(
    *,
    reset: float = 0.1,
    unavailable: float = 0.1,
    seed: int = 7,
    mid: bool = True,
    max_per_path: int | None = None,
) -> Policy:
    """A seeded policy: a share of GETs is reset (half before, half mid-reply) or answered 503.

    POSTs are left alone: a submit that may have reached the server is never resent by the
    client, so faulting it would (rightly) lose the job; retries are about GETs.

    The rolls are seeded, but which request gets which roll depends on how concurrent
    clients interleave. With ``max_per_path`` (below the clients' retry budget) no path
    (query included) is faulted more often than that, so every request gets through within
    its retries however the rolls fall: a test can then expect exactly the clean results.
    """
    rng = random.Random(seed)
    lock = threading.Lock()
    faulted: dict[str, int] = {}

    def policy(method: str, path: str, n: int) -> Fault | None:
        if method != "GET":
            return None
        with lock:
            roll = rng.random()
            half = rng.random() < 0.5
            if max_per_path is not None and faulted.get(path, 0) >= max_per_path:
                return None
            if roll < reset + unavailable:
                faulted[path] = faulted.get(path, 0) + 1
        if roll < reset:
            return Fault.RESET_MID if (mid and half) else Fault.RESET
        if roll < reset + unavailable:
            return Fault.STATUS_503
        return None

    return policy


@dataclass
class Seen:
    """One request the proxy received, and what it did with it."""

    method: str
    path: str
    fault: Fault | None


@dataclass
class FaultProxy:
    """A threaded loopback proxy to ``upstream`` (``http://127.0.0.1:PORT``); use as a context."""

    upstream: str
    policy: Policy = field(default=lambda m, p, n: None)
    delay: float = 0.5
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def count(self, method: str, path_part: str, *, forwarded: bool = True) -> int:
        """How many requests matched (``forwarded``: only those that reached the upstream)."""
        reached = {None, Fault.DELAY, Fault.HOLD, Fault.RESET_MID, Fault.RESET_BODY}
        with self._lock:
            return sum(
                1
                for s in self.seen
                if s.method == method
                and path_part in s.path
                and (not forwarded or s.fault in reached)
            )

    def faults(self) -> int:
        with self._lock:
            return sum(1 for s in self.seen if s.fault not in (None, Fault.DELAY, Fault.HOLD))

    def _decide(self, method: str, path: str) -> Fault | None:
        with self._lock:
            n = len(self.seen) + 1
            fault = self.policy(method, path, n)
            self.seen.append(Seen(method, path, fault))
            return fault

    def start(self) -> FaultProxy:
        proxy = self
        target = urlsplit(self.upstream)
        up_host, up_port = target.hostname or "127.0.0.1", target.port or 80

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

            def _abort(self) -> None:
                """Close with RST: SO_LINGER on with a zero timeout discards unsent data."""
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._decide(self.command, self.path)
                if fault is Fault.DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is Fault.RESET:
                    self._abort()
                    return
                if fault in (Fault.STATUS_502, Fault.STATUS_503, Fault.STATUS_504):
                    assert fault is not None
                    text = f"<html><body><h1>{fault.value} from the proxy</h1></body></html>"
                    payload = text.encode()
                    self.send_response(int(fault.value))
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                status, reason, headers, data = self._forward(body)
                if fault is Fault.DELAY:
                    time.sleep(proxy.delay)
                if fault is Fault.HOLD:
                    proxy._stopping.wait()
                    self.close_connection = True
                    return  # the client gave up long ago
                head = f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")
                for name, value in headers:
                    if name.lower() not in _HOP and name.lower() != "content-length":
                        head += f"{name}: {value}\r\n".encode("latin-1")
                head += f"Content-Length: {len(data)}\r\n\r\n".encode("latin-1")
                if fault is Fault.RESET_MID:
                    self.wfile.write(head[: max(1, len(head) // 2)])
                    self.wfile.flush()
                    self._abort()
                    return
                if fault is Fault.RESET_BODY:
                    self.wfile.write(head + data[: len(data) // 2])
                    self.wfile.flush()
                    self._abort()
                    return
                self.wfile.write(head + data)

            def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
                conn = http.client.HTTPConnection(up_host, up_port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                    headers["Connection"] = "close"
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    return resp.status, resp.reason, resp.getheaders(), resp.read()
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
