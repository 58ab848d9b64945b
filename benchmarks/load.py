"""Succeed -> typed DataFrame for a 1,000,000 x 6 table, against two baselines and in memory.

One local sandbox runs ``select`` over ``range(N)`` producing int, bigint, double, string,
date and timestamp columns. Then, in this process:

* Job:      ``job.frames()`` after Succeed (listing, first page, fileInfo, the CSV export
            parsed by pyarrow in batches while it downloads, validation, typing) -- what a
            user waits for; the server's own export time is printed too, since it is part of
            it and no client can go below it;
* pyarrow:  ``pyarrow.csv.read_csv`` of the same CSV bytes already in memory (goal: Job is at
            most 3x slower);
* pages:    a plain loader reading every ``openFile`` page (5000 rows) into a DataFrame
            (goal: Job is at least 5x faster);
* memory:   peak RSS growth during ``job.frames()`` / ``DataFrame.memory_usage(deep=True)``
            (goal <= 3), with the peak read from /proc/self/status VmHWM after resetting it.

    .venv/bin/python benchmarks/load.py [--rows 1000000] [--skip-pages]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
from _sandbox import PASSWORD, USER, sandbox

from linkis_magic.client import LinkisClient
from linkis_magic.protocol import JobStatus

FAST_WARMUP = 30_000  # above results.FAST_PATH_ROWS, so the warm-up takes the CSV path too
SQL = (
    "select cast(range as integer) as i, range * 1000000007 as big,"
    " cast(range as double) / 7 as x, 'name ' || range as s,"
    " date '2000-01-01' + cast(range % 9000 as integer) as day,"
    " timestamp '2000-01-01 00:00:00' + to_seconds(range) as ts"
    " from range({rows})"
)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)


def pages_loader(client: LinkisClient, path: str) -> pd.DataFrame:
    """The plain baseline: every openFile page, cells as strings, one DataFrame."""
    rows: list[list[str | None]] = []
    page = 1
    while True:
        got = client.open_file(path, page=page, page_size=5000)
        rows.extend(got.rows)
        if len(got.rows) < 5000:
            break
        page += 1
    frame: pd.DataFrame = pd.DataFrame(rows, columns=[c.name for c in got.columns])
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-pages", action="store_true", help="skip the slow pages baseline")
    args = parser.parse_args()
    with sandbox() as url, LinkisClient(url, user=USER, password=PASSWORD) as client:
        t = time.perf_counter()
        job = client.submit(SQL.format(rows=args.rows), engine_type="spark-3.2.1")
        assert job.wait() is JobStatus.SUCCEED
        print(f"query + result file on the sandbox: {time.perf_counter() - t:.1f} s")

        warm = client.submit(SQL.format(rows=FAST_WARMUP), engine_type="spark-3.2.1")
        warm.frames()  # imports, pyarrow kernels, connections: not what we measure
        reset_peak_rss()
        base_rss = _status_kb("VmRSS")
        t = time.perf_counter()
        (frame,) = job.frames()
        job_s = time.perf_counter() - t
        peak = _status_kb("VmHWM") - base_rss
        final = int(frame.memory_usage(deep=True).sum())
        (rs,) = job.results()
        assert len(frame) == args.rows, len(frame)
        print(f"Job.frames(): {job_s:.2f} s for {len(frame):,} rows; dtypes "
              f"{', '.join(str(d) for d in frame.dtypes)}")  # fmt: skip

        with tempfile.TemporaryFile() as fh:
            t = time.perf_counter()
            client.export_result(rs.path, dest=fh, limit=args.rows, separator="\t")
            export_s = time.perf_counter() - t
        print(f"  of which the server's CSV export + transfer alone takes about {export_s:.2f} s")

        csv = client.export_result(
            rs.path, dest=None, limit=args.rows, separator="\t", null_value="NULL"
        )
        assert isinstance(csv, bytes)
        t = time.perf_counter()
        table = pacsv.read_csv(io.BytesIO(csv), parse_options=pacsv.ParseOptions(delimiter="\t"))
        arrow_s = time.perf_counter() - t
        assert table.num_rows == args.rows
        print(
            f"pyarrow.csv.read_csv of the same {len(csv) / 1e6:.0f} MB in memory: {arrow_s:.2f} s"
        )
        print(f"  ratio Job / pyarrow: {job_s / arrow_s:.1f}  (goal <= 3)")
        print(f"  (Job time minus the export alone) / pyarrow: {(job_s - export_s) / arrow_s:.1f}")

        if not args.skip_pages:
            t = time.perf_counter()
            plain = pages_loader(client, rs.path)
            pages_s = time.perf_counter() - t
            assert len(plain) == args.rows
            print(f"plain openFile pages loader: {pages_s:.2f} s")
            print(f"  speed-up Job vs pages: {pages_s / job_s:.1f}x  (goal >= 5)")
        print(f"peak RSS growth {peak / 1e6:.0f} MB / final frame {final / 1e6:.0f} MB "
              f"= {peak / final:.2f}  (goal <= 3)")  # fmt: skip


if __name__ == "__main__":
    main()
