"""Sequential round trips of submit -> DataFrames, behind a proxy that adds network latency.

A loopback TCP proxy (asyncio) sits between the client and a local sandbox and holds every
chunk DELAY seconds in each direction, in order, so each round trip costs 2 x DELAY more
(RTT 50 ms by default) and nothing else changes: bandwidth is not limited. In one run, with the
delay switched between 0 and DELAY for interleaved runs, the public Python API
(``client.submit(q).frames()``) runs three queries; the extra time divided by the RTT is the
number of round trips a user waits for one after another. Goals (issue 24): ``select 1`` <= 4.5,
10,000 rows x 2 columns <= 5.5, six one-row result sets <= 6.0 (Linkis 1.x's floor for one table
is 4: submit, a poll that sees the end with resultLocation, getDirFileTrees, one content call).
A 100,000-row table (the CSV export path) is printed too, without a goal.

    .venv/bin/python benchmarks/rtt.py [--runs 7] [--delay 0.025]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from _sandbox import PASSWORD, USER, sandbox

from linkis_magic.client import LinkisClient

ENGINE = "spark-3.2.1"
QUERIES = {
    "select 1": ("select 1 as x", 1, 1),
    "10,000 rows x 2": ("select i, i * 2 as j from range(10000) as t(i)", 1, 10_000),
    "six one-row result sets": (";\n".join(f"select {n} as c{n}" for n in range(6)), 6, 1),
    "100,000 rows x 2 (CSV export)": (
        "select i, i * 2 as j from range(100000) as t(i)",
        1,
        100_000,
    ),
}
GOALS = {"select 1": 4.5, "10,000 rows x 2": 5.5, "six one-row result sets": 6.0}
"""The big table has no goal: it shows the export path's round trips (its floor is also 4, the
export asked beside the first page and fileInfo), the transfer itself not being slowed."""


class DelayProxy:
    """Forwards TCP connections to an upstream port, each chunk ``delay`` seconds late.

    Each direction of each connection has a reader that stamps chunks as they arrive and a
    writer that sends each one when its time has come, so latency is added without limiting
    throughput. ``delay`` may be changed between runs (it applies to chunks read after that).
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.delay = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delay-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> DelayProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        except (asyncio.CancelledError, ConnectionError):  # stopping, or a peer hung up
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(send())
        try:
            while True:
                data = await reader.read(1 << 16)
                queue.put_nowait((loop.time() + self.delay, data))
                if not data:
                    break
            await sender
        finally:
            sender.cancel()


@contextmanager
def delay_proxy(url: str) -> Iterator[tuple[DelayProxy, str]]:
    proxy = DelayProxy(urlsplit(url).port or 80).start()
    try:
        yield proxy, f"http://127.0.0.1:{proxy.port}"
    finally:
        proxy.stop()


def one_run(client: LinkisClient, code: str, sets: int, rows: int) -> float:
    start = time.perf_counter()
    frames = client.submit(code, engine_type=ENGINE).frames()
    elapsed = time.perf_counter() - start
    assert len(frames) == sets and all(len(f) == rows for f in frames), frames
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--delay", type=float, default=0.025, help="seconds each way")
    args = parser.parse_args()
    rtt = 2 * args.delay
    with sandbox() as url, delay_proxy(url) as (proxy, proxied):
        client = LinkisClient(proxied, user=USER, password=PASSWORD)
        client.login()
        rows = []
        for name, (code, sets, nrows) in QUERIES.items():
            for _ in range(2):  # warm up: engine, imports, connections
                one_run(client, code, sets, nrows)
            fast, slow = [], []
            for _ in range(args.runs):
                proxy.delay = 0.0
                fast.append(one_run(client, code, sets, nrows))
                proxy.delay = args.delay
                slow.append(one_run(client, code, sets, nrows))
            proxy.delay = 0.0
            t0, t1 = statistics.median(fast), statistics.median(slow)
            rows.append((name, t0, t1, (t1 - t0) / rtt))
        client.close()
    print(f"median of {args.runs} interleaved runs each; the proxy adds {rtt * 1000:.0f} ms RTT")
    print(f"| query | RTT 0 | RTT {rtt * 1000:.0f} ms | extra round trips | goal |")
    print("|---|---|---|---|---|")
    for name, t0, t1, extra in rows:
        goal = GOALS.get(name)
        if goal is None:
            judged = "none (floor 4)"
        else:
            judged = f"<= {goal} ({'met' if extra <= goal else 'NOT met'})"
        print(f"| {name} | {t0 * 1000:.0f} ms | {t1 * 1000:.0f} ms | {extra:.1f} | {judged} |")


if __name__ == "__main__":
    main()
