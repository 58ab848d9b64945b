"""How many requests and log bytes a 30-second job with 2,000 log lines costs through Job.

A counting loopback proxy sits between the client and a local sandbox, so every request is
counted server-side (submit and kill included). The job is a python runType printing 2,000
lines while sleeping. Goals: requests <= 100 for the whole submit -> wait -> frames flow, and
log bytes transferred / log size <= 1.2.

    .venv/bin/python benchmarks/polling.py [--seconds 30] [--lines 2000]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from _sandbox import PASSWORD, USER, sandbox

from linkis_magic.client import LinkisClient


class Counting:
    """Requests per route kind and response bytes of the log endpoints."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.log_bytes = 0

    def record(self, path: str, body: bytes) -> None:
        route = path.split("?", 1)[0].removeprefix("/api/rest_j/v1/")
        kind = route.rsplit("/", 1)[-1] if route.startswith("entrance/") else route
        with self.lock:
            self.requests[kind] += 1
            if kind in ("log", "filesystem/openLog"):
                self.log_bytes += len(body)


@contextmanager
def counting_proxy(upstream: str, counts: Counting) -> Iterator[str]:
    """A loopback HTTP proxy that forwards to ``upstream`` and counts what passes."""
    session = requests.Session()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else None
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            resp = session.request(
                self.command, upstream + self.path, data=data, headers=headers,
                allow_redirects=False, timeout=60,
            )  # fmt: skip
            body = resp.content
            counts.record(self.path, body)
            self.send_response(resp.status_code)
            for key, value in resp.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                       "content-encoding", "set-cookie"):  # fmt: skip
                    self.send_header(key, value)
            for cookie in resp.raw.headers.getlist("Set-Cookie"):
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    pause = args.seconds / args.lines
    code = (
        "import time\n"
        f"for i in range({args.lines}):\n"
        "    print(f'progress line {i:05d} of the benchmark job', flush=True)\n"
        f"    time.sleep({pause!r})\n"
        "print('done')\n"
    )
    counts = Counting()
    with sandbox() as url, counting_proxy(url, counts) as proxy:
        client = LinkisClient(proxy, user=USER, password=PASSWORD)
        client.login()
        before = sum(counts.requests.values())
        start = time.perf_counter()
        job = client.submit(code, run_type="python", engine_type="python-python3")
        job.wait()
        results = job.results()
        elapsed = time.perf_counter() - start
        client.close()
    total = sum(counts.requests.values()) - before
    log_size = sum(len(line.encode("utf-8")) + 1 for line in job.log_lines)
    printed = sum(1 for line in job.log_lines if "progress line" in line)
    print(f"job: {elapsed:.1f} s, {len(job.log_lines)} log lines ({printed} printed), "
          f"{len(results)} result set(s)")  # fmt: skip
    print(f"requests after login: {total}  (goal <= 100)")
    for kind, n in counts.requests.most_common():
        print(f"  {kind:32s} {n}")
    print(f"log bytes transferred / log size: {counts.log_bytes / log_size:.2f}  "
          f"({counts.log_bytes} / {log_size} bytes; goal <= 1.2)")  # fmt: skip


if __name__ == "__main__":
    main()
