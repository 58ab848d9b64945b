"""Spark through the sandbox: submit -> DataFrame vs the same query's toPandas() in-process.

Prints (one run, same machine): the median time from submit to a typed DataFrame for a
1,000,000-row Spark result through the sandbox and the client, over the time of
`spark.sql(q).toPandas()` on a local SparkSession with the same master (goal <= 3), and the
time from a kill to the job's Cancelled state. Runs are interleaved pairs (one through the
sandbox, one in-process) and the ratio is the median of the pairs' ratios, so a slow moment of
the machine hits both sides of a pair.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from _sandbox import PASSWORD, USER, sandbox

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobCancelled
from linkis_magic.job import JobSnapshot

MASTER = "local[2]"
QUERY = (
    "select id, id * 2 as b, cast(id as double) / 3 as d, concat('row-', id) as s, "
    "date_add(date'2024-01-01', cast(id % 365 as int)) as dt from range(1000000)"
)
RUNS = 5


def via_sandbox(client: LinkisClient) -> float:
    start = time.perf_counter()
    job = client.submit(QUERY, engine_type="spark-3.5.0")
    job.wait()
    (frame,) = job.frames()
    assert len(frame) == 1_000_000
    return time.perf_counter() - start


def local_session() -> Any:
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(MASTER)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def via_to_pandas(spark: Any) -> float:
    start = time.perf_counter()
    frame = spark.sql(QUERY).toPandas()
    elapsed = time.perf_counter() - start
    assert len(frame) == 1_000_000
    return elapsed


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
    spark = local_session()
    try:
        with (
            sandbox("--spark-master", MASTER) as url,
            LinkisClient(url, user=USER, password=PASSWORD) as client,
        ):
            via_sandbox(client)  # warm up: the shared SparkSession starts lazily
            via_to_pandas(spark)
            # Interleaved, so both sides see the same moments of this shared, noisy machine.
            pairs = [(via_sandbox(client), via_to_pandas(spark)) for _ in range(RUNS)]
            kill = kill_latency(client)
    finally:
        spark.stop()
    ours = statistics.median(p[0] for p in pairs)
    base = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    print(f"submit -> DataFrame through the sandbox: median {ours:.2f} s over {RUNS} runs")
    print(f"spark.sql(q).toPandas() in-process:     median {base:.2f} s over {RUNS} runs")
    print(f"ratio sandbox / toPandas, median of {RUNS} pairs: {ratio:.2f}  (goal <= 3)")
    print(f"kill -> Cancelled seen by the client: {kill:.2f} s  (goal <= 3)")


if __name__ == "__main__":
    main()
