"""``client.push`` of a 1,000,000 x 6 typed frame: time against Parquet + DuckDB in-process,
and the client's memory.

One local sandbox (its load job runs on DuckDB). Then, in this process, interleaved:

* push:  ``client.push(df, "t", engine_type=...)``: Parquet parts written, uploaded as
         multipart requests, one SQL job creating the table from them, the upload deleted;
* local: ``df.to_parquet(file)`` then DuckDB ``CREATE TABLE AS SELECT * FROM
         read_parquet(file)`` in this process: the same work without a gateway in between.

Prints the median time ratio push / local (goal: <= 2.5x) and the peak RSS growth of this
process during a push against the frame's own memory (goal: <= 1.0x).

    .venv/bin/python benchmarks/push.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from _memory import peak_growth
from _sandbox import PASSWORD, USER, sandbox

from linkis_magic.client import LinkisClient

ENGINE = "spark-2.4.3"  # runs on the sandbox's DuckDB engine


def frame(rows: int) -> pd.DataFrame:
    """Six typed columns: nullable ints, floats, strings, booleans, dates, timestamps."""
    rng = np.random.default_rng(7)
    ints = pd.array(rng.integers(0, 1 << 40, rows), dtype="Int64")
    ints[::97] = pd.NA
    start = np.datetime64("2020-01-01T00:00:00", "s")
    return pd.DataFrame(
        {
            "id": ints,
            "amount": rng.normal(100, 30, rows),
            "label": pd.array([f"item-{i % 5000:05d}" for i in range(rows)], dtype="string"),
            "flag": pd.array(rng.integers(0, 2, rows).astype(bool), dtype="boolean"),
            "day": pd.Series(start + rng.integers(0, 1500, rows) * 86400).astype("datetime64[s]"),
            "at": pd.Series(start.astype("datetime64[us]") + rng.integers(0, 10**14, rows)).astype(
                "datetime64[us]"
            ),
        }
    )


def local(df: pd.DataFrame, tmp: Path, n: int) -> float:
    begin = time.perf_counter()
    path = tmp / f"local_{n}.parquet"
    df.to_parquet(path)
    with duckdb.connect(str(tmp / "local.duckdb")) as con:
        con.execute(f"CREATE TABLE t{n} AS SELECT * FROM read_parquet('{path}')")
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    df = frame(args.rows)
    frame_bytes = int(df.memory_usage(deep=True, index=False).sum())
    print(f"frame: {args.rows} rows x {df.shape[1]} columns, {frame_bytes / 2**20:.1f} MiB")
    with (
        sandbox() as url,
        tempfile.TemporaryDirectory() as tmp,
        LinkisClient(url, user=USER, password=PASSWORD) as client,
    ):
        client.push(df.head(1000), "warm", engine_type=ENGINE)  # engine and imports warm
        local(df.head(1000), Path(tmp), 0)
        push_times, local_times, growths = [], [], []
        for n in range(1, args.runs + 1):
            took: list[float] = []

            def push(n: int = n, took: list[float] = took) -> None:
                begin = time.perf_counter()
                client.push(df, f"t{n}", engine_type=ENGINE)
                took.append(time.perf_counter() - begin)

            growths.append(peak_growth(threading.Thread(target=push)))
            push_times.append(took[0])
            local_times.append(local(df, Path(tmp), n))
            print(
                f"run {n}: push {push_times[-1]:.2f}s, local {local_times[-1]:.2f}s, "
                f"push RSS growth {growths[-1] / 2**20:.1f} MiB"
            )
        ratio = statistics.median(push_times) / statistics.median(local_times)
        print(f"push / local (median): {ratio:.2f}x  (goal <= 2.5x)")
        print(
            f"peak RSS growth during push / frame memory: {max(growths) / frame_bytes:.2f}x "
            f"(goal <= 1.0x)"
        )


if __name__ == "__main__":
    main()
