"""Many clients against one sandbox: 200 jobs from 20 concurrent clients, zero errors.

Each client is its own LinkisClient (own login session, own connection pool) on its own
thread and runs its share of jobs one after another: submit, wait, load the DataFrame, check
it. Prints errors, jobs/s, and the latency (submit -> DataFrame in hand) p50/p95/max, against
a baseline of the same job run alone in the same run.

    .venv/bin/python benchmarks/load_clients.py [--jobs 200] [--clients 20] [--workers 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from linkis_magic.client import LinkisClient  # noqa: E402
from linkis_magic.errors import LinkisError  # noqa: E402
from tests.support.sandbox import USERS, start_sandbox  # noqa: E402

ENGINE = "spark-3.2.1"


@dataclass
class LoadResult:
    """Figures of one load run."""

    jobs: int
    errors: list[str]
    latencies: list[float]
    seconds: float
    baseline: float

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1] if len(self.latencies) > 1 else 0.0


def one_job(client: LinkisClient, i: int) -> float:
    begin = time.perf_counter()
    job = client.submit(
        f"select {i} as job, count(*) as n from emp where deptno >= {i % 3 * 10}",
        engine_type=ENGINE,
    )
    job.wait(timeout=120)
    (frame,) = job.frames()
    if frame["job"].tolist() != [i]:
        raise AssertionError(f"job {i} got the wrong result: {frame.to_dict()}")
    return time.perf_counter() - begin


def run_load(url: str, *, jobs: int, clients: int) -> LoadResult:
    users = list(USERS.items())
    pool = [
        LinkisClient(url, user=users[k % len(users)][0], password=users[k % len(users)][1])
        for k in range(clients)
    ]
    try:
        baseline = min(one_job(pool[0], 10**6 + k) for k in range(3))
        errors: list[str] = []
        latencies: list[float] = []

        def client_loop(k: int) -> None:
            for i in range(k, jobs, clients):
                try:
                    latencies.append(one_job(pool[k], i))
                except (LinkisError, AssertionError) as exc:
                    errors.append(f"job {i}: {type(exc).__name__}: {exc}")

        begin = time.perf_counter()
        with ThreadPoolExecutor(clients) as ex:
            list(ex.map(client_loop, range(clients)))
        seconds = time.perf_counter() - begin
    finally:
        for c in pool:
            c.close()
    return LoadResult(jobs, errors, latencies, seconds, baseline)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        box = start_sandbox(Path(tmp), "--workers", str(args.workers))
        try:
            result = run_load(box.url, jobs=args.jobs, clients=args.clients)
        finally:
            box.stop()
    lat = sorted(result.latencies)
    print(f"{result.jobs} jobs from {args.clients} clients, sandbox --workers {args.workers}")
    print(f"errors: {len(result.errors)} (goal 0)")
    print(f"throughput: {len(lat) / result.seconds:.1f} jobs/s ({result.seconds:.2f} s)")
    if lat:
        print(
            f"latency submit->DataFrame: p50 {statistics.median(lat) * 1000:.0f} ms, "
            f"p95 {result.p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms; "
            f"one job alone {result.baseline * 1000:.0f} ms "
            f"(p95 / alone = {result.p95 / result.baseline:.1f}x)"
        )
    for err in result.errors[:10]:
        print("ERROR:", err)
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
