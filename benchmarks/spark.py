"""Spark through the sandbox: submit -> DataFrame vs the same query's toPandas() in-process.

Prints (one run, same machine): the median time from submit to a typed DataFrame for a
1,000,000-row Spark result through the sandbox and the client, over the median time of
`spark.sql(q).toPandas()` on a local SparkSession with the same master (goal <= 3), and the
time from a kill to the job's Cancelled state.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobCancelled
from linkis_magic.job import JobSnapshot
from tests.conftest import start_sandbox

MASTER = "local[2]"
QUERY = (
    "select id, id * 2 as b, cast(id as double) / 3 as d, concat('row-', id) as s, "
    "date_add(date'2024-01-01', cast(id % 365 as int)) as dt from range(1000000)"
)
RUNS = 3


def via_sandbox(client: LinkisClient) -> float:
    start = time.perf_counter()
    job = client.submit(QUERY, engine_type="spark-3.5.0")
    job.wait()
    (frame,) = job.frames()
    assert len(frame) == 1_000_000
    return time.perf_counter() - start


def via_to_pandas() -> list[float]:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(MASTER)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sql(QUERY).toPandas()  # warm up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        frame = spark.sql(QUERY).toPandas()
        times.append(time.perf_counter() - start)
        assert len(frame) == 1_000_000
    spark.stop()
    return times


def kill_latency(client: LinkisClient) -> float:
    job = client.submit(
        "select count(*) from range(0, 20000000000, 1, 4) where id % 7 = 3",
        engine_type="spark-3.5.0",
    )
    cancel = threading.Event()
    sent: list[float] = []

    def on_update(snap: JobSnapshot) -> None:
        if not cancel.is_set() and any(st.running for st in snap.stages):
            sent.append(time.perf_counter())
            cancel.set()

    try:
        job.wait(on_update=on_update, cancel=cancel, timeout=120)
    except JobCancelled:
        return time.perf_counter() - sent[0]
    raise RuntimeError("the job was not cancelled")


def main() -> None:
    box = start_sandbox(Path(tempfile.mkdtemp()), "--spark-master", MASTER)
    try:
        with LinkisClient(box.url, user="alice", password="alice-secret") as client:
            via_sandbox(client)  # warm up: the shared SparkSession starts lazily
            sandbox_times = [via_sandbox(client) for _ in range(RUNS)]
            kill = kill_latency(client)
    finally:
        box.stop()
    local_times = via_to_pandas()
    ours, base = statistics.median(sandbox_times), statistics.median(local_times)
    print(f"submit -> DataFrame through the sandbox: median {ours:.2f} s over {RUNS} runs")
    print(f"spark.sql(q).toPandas() in-process:     median {base:.2f} s over {RUNS} runs")
    print(f"ratio sandbox / toPandas: {ours / base:.2f}  (goal <= 3)")
    print(f"kill -> Cancelled seen by the client: {kill:.2f} s  (goal <= 3)")


if __name__ == "__main__":
    main()
