"""Sandbox gateway figures (printed, never asserted).

1. Throughput/latency: 50 concurrent `select 1` jobs submitted from 8 client threads with raw
   `requests`; jobs/s and p50/p95 submit-to-Succeed latency, and the error count.
2. Big result: a 1,000,000-row x 6-column query through the sandbox (query + `.dolphin` +
   CSV download via resultsetToExcel) against DuckDB writing the same rows straight to CSV
   (`COPY ... TO`) in this process, as a ratio (goal <= 3).
3. Python jobs: 20 `print(1)` python jobs one after the other (one client), jobs/s and p50
   submit-to-Succeed latency; the first job (which starts the user's python engine) is left
   out, so this shows what reusing the engine costs or saves per job.

The sandbox is started by benchmarks/_sandbox.py, the same starter the tests use.

Run: .venv/bin/python benchmarks/sandbox.py
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import requests
from _sandbox import PASSWORD, USER, sandbox

BIG_QUERY = (
    "select i as id, i * 2 as twice, i % 97 as bucket, 'name_' || i as name, "
    "i / 3.0 as third, date '2024-01-01' + cast(i % 365 as integer) as day "
    "from range(1000000) t(i)"
)


def session(base: str) -> requests.Session:
    http = requests.Session()
    reply = http.post(base + "/user/login", json={"userName": USER, "password": PASSWORD})
    reply.raise_for_status()
    return http


def submit(
    http: requests.Session,
    base: str,
    code: str,
    run_type: str = "sql",
    engine_type: str = "spark-3.2.1",
) -> dict[str, Any]:
    reply = http.post(
        base + "/entrance/submit",
        json={
            "executionContent": {"code": code, "runType": run_type},
            "labels": {"engineType": engine_type},
        },
        timeout=60,
    )
    body = reply.json()
    if body["status"] != 0:
        raise RuntimeError(body["message"])
    data: dict[str, Any] = body["data"]
    return data


def wait(http: requests.Session, base: str, job: dict[str, Any]) -> str:
    while True:
        reply = http.get(
            f"{base}/entrance/{job['execID']}/status", params={"taskID": job["taskID"]}
        )
        state: str = reply.json()["data"]["status"]
        if state in ("Succeed", "Failed", "Cancelled"):
            return state
        time.sleep(0.05)


def throughput(base: str, jobs: int = 50, threads: int = 8) -> None:
    local = threading.local()
    errors: list[str] = []

    def one(_: int) -> float:
        if not hasattr(local, "http"):
            local.http = session(base)
        t0 = time.perf_counter()
        try:
            job = submit(local.http, base, "select 1")
            state = wait(local.http, base, job)
            if state != "Succeed":
                errors.append(state)
        except Exception as exc:  # counted, not raised: the figure is the error count
            errors.append(repr(exc))
        return time.perf_counter() - t0

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(threads)))  # warm-up: log in every thread
        t0 = time.perf_counter()
        latencies = sorted(pool.map(one, range(jobs)))
        wall = time.perf_counter() - t0
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"throughput: {jobs} jobs / {threads} threads: {jobs / wall:.1f} jobs/s, "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, errors {len(errors)}"
    )


def python_jobs(base: str, jobs: int = 20) -> None:
    http = session(base)
    latencies = []
    for index in range(jobs + 1):
        t0 = time.perf_counter()
        job = submit(http, base, "print(1)", "python", "python-python3")
        state = wait(http, base, job)
        if state != "Succeed":
            raise RuntimeError(f"python job {job} ended {state}")
        if index:  # the first one starts the engine
            latencies.append(time.perf_counter() - t0)
    total = sum(latencies)
    print(
        f"python jobs: {jobs} sequential print(1): {jobs / total:.1f} jobs/s, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )


def big_result(base: str, scratch: Path) -> None:
    http = session(base)
    t0 = time.perf_counter()
    job = submit(http, base, BIG_QUERY)
    state = wait(http, base, job)
    t_query = time.perf_counter() - t0
    task = http.get(f"{base}/jobhistory/{job['taskID']}/get").json()["data"]["task"]
    tree = http.get(
        f"{base}/filesystem/getDirFileTrees", params={"path": task["resultLocation"]}
    ).json()["data"]["dirFileTrees"]
    path = tree["children"][0]["path"]
    t1 = time.perf_counter()
    size = 0
    with http.get(
        f"{base}/filesystem/resultsetToExcel",
        params={"path": path, "outputFileType": "csv", "limit": 1_000_000},
        stream=True,
    ) as reply:
        for chunk in reply.iter_content(1 << 20):
            size += len(chunk)
    t_export = time.perf_counter() - t1
    sandbox_total = time.perf_counter() - t0

    out = scratch / "baseline.csv"
    con = duckdb.connect()
    t2 = time.perf_counter()
    con.execute(f"COPY ({BIG_QUERY}) TO '{out}' (HEADER, DELIMITER ',')")
    baseline = time.perf_counter() - t2
    con.close()
    print(
        f"big result: {state}, 1,000,000 x 6: query+.dolphin {t_query:.2f} s, "
        f"CSV download {t_export:.2f} s ({size / 1e6:.1f} MB), total {sandbox_total:.2f} s; "
        f"DuckDB COPY TO csv {baseline:.2f} s ({out.stat().st_size / 1e6:.1f} MB); "
        f"ratio {sandbox_total / baseline:.2f} (goal <= 3)"
    )


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="linkis-bench-") as tmp,
        sandbox("--workers", "4") as url,
    ):
        base = url + "/api/rest_j/v1"
        throughput(base)
        big_result(base, Path(tmp))
        python_jobs(base)


if __name__ == "__main__":
    main()
