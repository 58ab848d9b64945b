"""How many requests and log bytes a 30-second job with 2,000 log lines costs through Job,
and how many requests a 10-minute job costs and how late its end is seen.

A counting loopback proxy sits between the client and a local sandbox, so every request is
counted server-side (submit and kill included). The job is a python runType printing 2,000
lines while sleeping. Goals: requests <= 100 for the whole submit -> wait -> frames flow, and
log bytes transferred / log size <= 1.2.

The 10-minute jobs run on a virtual clock (tests/support/clock.py) against the loopback double
(tests/support/scripts.py ``LongJob``): a Spark-like job whose stages run one after another and
whose tasks are all done some seconds before the end (its result write), and a job reporting no
stages (Python), both logging three lines a second; wait() and results() are counted. Goals:
<= 400 requests; the end seen <= 1 s late when the last stage reports every task done, and
<= 5% of the job's age late otherwise.

    .venv/bin/python benchmarks/polling.py [--seconds 30] [--lines 2000] [--long-only]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from _sandbox import PASSWORD, USER, sandbox

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from linkis_magic.client import LinkisClient  # noqa: E402
from linkis_magic.job import Job  # noqa: E402
from tests.support.clock import FakeClock  # noqa: E402
from tests.support.double import EXEC_ID, LinkisDouble  # noqa: E402
from tests.support.scripts import TASK_ID, LongJob  # noqa: E402

LONG = 600.0  # seconds of the virtual long job


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


def long_job(stages: int, wrap_up: float) -> tuple[int, float]:
    """Requests of wait() + results() for a LONG-second virtual job, and how late (seconds)
    the client saw its end."""
    clock = FakeClock()
    with LinkisDouble(users={USER: PASSWORD}) as gw:
        script = LongJob(gw, clock, duration=LONG, stages=stages, wrap_up=wrap_up)
        with LinkisClient(gw.url, user=USER, password=PASSWORD) as client:
            client.login()
            before = len(gw.calls())
            job = Job(client, EXEC_ID, TASK_ID, submitted_at=clock.now(), clock=clock)
            job.wait()
            job.results()
            count = len(gw.calls()) - before
    assert script.seen_end_at is not None
    return count, script.seen_end_at - script.ends_at


def long_jobs() -> None:
    print(f"{LONG / 60:.0f}-minute job on a virtual clock (wait + results):")
    print("| job | requests | end seen late | goal |")
    print("|---|---|---|---|")
    for stages, wrap_up in ((5, 0.5), (5, 5.0), (5, 30.0), (0, 0.0)):
        count, late = long_job(stages, wrap_up)
        if stages:
            name = f"{stages} stages, every task done {wrap_up:g} s before the end"
            goal, ok = "<= 400 requests, <= 1 s late", count <= 400 and late <= 1.0
        else:
            name = "no stages (Python)"
            goal, ok = (
                "<= 400 requests, <= 5% of its age late",
                count <= 400 and late <= 0.05 * LONG,
            )
        print(f"| {name} | {count} | {late:.2f} s ({late / LONG:.1%} of its age) | {goal}: "
              f"{'met' if ok else 'NOT met'} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--long-only", action="store_true", help="only the virtual long jobs")
    args = parser.parse_args()
    long_jobs()
    if args.long_only:
        return
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
