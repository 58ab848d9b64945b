"""Submit-to-DataFrame latency of ``select 1`` through Job vs a minimal raw-requests loop.

Both sides run against the same local sandbox in one run, interleaved, so the ratio cancels
out the machine's speed. The raw loop is the least a client can do: submit, status every
10 ms, jobhistory for resultLocation, getDirFileTrees, openFile, an untyped DataFrame.
Goal: median(Job) / median(raw) <= 1.3.

    .venv/bin/python benchmarks/latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
import requests
from _sandbox import PASSWORD, USER, sandbox

from linkis_magic.client import LinkisClient

API = "/api/rest_j/v1/"
BODY = {
    "executionContent": {"code": "select 1 as x", "runType": "sql"},
    "labels": {"engineType": "spark-3.2.1", "userCreator": f"{USER}-IDE"},
}
TERMINAL = {"Succeed", "Failed", "Cancelled", "Timeout"}


def via_job(client: LinkisClient) -> float:
    start = time.perf_counter()
    job = client.submit("select 1 as x", engine_type="spark-3.2.1")
    frames = job.frames()
    elapsed = time.perf_counter() - start
    assert frames[0]["x"][0] == 1
    return elapsed


def via_raw(session: requests.Session, url: str) -> float:
    start = time.perf_counter()
    data = session.post(url + API + "entrance/submit", json=BODY, timeout=30).json()["data"]
    exec_id, task_id = data["execID"], data["taskID"]
    while True:
        status = session.get(
            f"{url}{API}entrance/{exec_id}/status", params={"taskID": task_id}, timeout=30
        ).json()["data"]["status"]
        if status in TERMINAL:
            break
        time.sleep(0.01)
    task = session.get(f"{url}{API}jobhistory/{task_id}/get", timeout=30).json()["data"]["task"]
    tree = session.get(
        url + API + "filesystem/getDirFileTrees",
        params={"path": task["resultLocation"]},
        timeout=30,
    ).json()["data"]["dirFileTrees"]
    path = tree["children"][0]["path"]
    page = session.get(
        url + API + "filesystem/openFile",
        params={"path": path, "page": 1, "pageSize": 5000, "nullValue": "LINKIS_NULL"},
        timeout=30,
    ).json()["data"]
    frame = pd.DataFrame(page["fileContent"], columns=[m["columnName"] for m in page["metadata"]])
    elapsed = time.perf_counter() - start
    assert frame["x"][0] == "1"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with sandbox() as url:
        client = LinkisClient(url, user=USER, password=PASSWORD)
        session = requests.Session()
        session.post(url + API + "user/login", json={"userName": USER, "password": PASSWORD})
        for _ in range(3):  # warm up: DuckDB, imports, connections
            via_job(client)
            via_raw(session, url)
        job_times, raw_times = [], []
        for _ in range(args.runs):
            job_times.append(via_job(client))
            raw_times.append(via_raw(session, url))
        client.close()
        session.close()
    job_med, raw_med = statistics.median(job_times), statistics.median(raw_times)
    print(f"runs: {args.runs} each, interleaved")
    print(f"Job       median {job_med * 1000:8.1f} ms  (min {min(job_times) * 1000:.1f})")
    print(f"raw loop  median {raw_med * 1000:8.1f} ms  (min {min(raw_times) * 1000:.1f})")
    print(f"ratio Job/raw: {job_med / raw_med:.2f}  (goal <= 1.3)")


if __name__ == "__main__":
    main()
