"""Submit -> typed DataFrame on the embedded sandbox, against DuckDB itself, and where it goes.

For a 6-column table over ``range(N)`` (bigint, bigint, double, string, date, timestamp), in one
run and interleaved: the public API (``client.submit(q).frames()`` against a local sandbox)
versus DuckDB in this process (``duckdb.sql(q).df()``), medians of --runs. Goals: ratio
<= 3.0 at 1,000,000 rows and <= 5.0 at 100,000 (a guard against regressions, not a target).

Then, for the largest size, where the time of one submit -> DataFrame goes: the query and the
``.dolphin`` write on the server (from the job's own log), the wait until the client saw the
end, and the result loading (listing/first page/fileInfo requests, the CSV export download, the
parse), each measured in this run. Last, the CPU seconds one job costs the sandbox and the
client against DuckDB's: spread over this machine's cores, their sum bounds the wall time from
below, whatever overlaps.

    .venv/bin/python benchmarks/e2e.py [--sizes 100000,1000000] [--runs 7]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import statistics
import tempfile
import time
from datetime import datetime
from typing import Any

import duckdb
import pyarrow.csv as pacsv
import requests
from _sandbox import PASSWORD, USER

from linkis_magic.client import LinkisClient
from tests.support.sandbox import running_sandbox

QUERY = (
    "select i as id, i * 1000003 as big, i / 7.0 as dbl, "
    "concat('name_', cast(i % 5000 as string)) as name, "
    "cast('2020-01-01' as date) as day, "
    "cast('2020-01-01 10:00:00' as timestamp) as ts from range({n}) as t(i)"
)
ENGINE = "spark-3.2.1"
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ")


def via_linkis(client: LinkisClient, n: int) -> float:
    start = time.perf_counter()
    (frame,) = client.submit(QUERY.format(n=n), engine_type=ENGINE).frames()
    elapsed = time.perf_counter() - start
    assert len(frame) == n and str(frame["id"].dtype) == "Int64", frame.dtypes
    return elapsed


def via_duckdb(n: int) -> float:
    start = time.perf_counter()
    frame = duckdb.sql(QUERY.format(n=n)).df()
    elapsed = time.perf_counter() - start
    assert len(frame) == n
    return elapsed


def _stamp(line: str) -> float:
    match = _STAMP.match(line)
    assert match, line
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()


class Timings:
    """Request durations by route (time to the response headers), from a session hook."""

    def __init__(self) -> None:
        self.by_route: dict[str, float] = {}

    def hook(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        route = resp.request.path_url.split("?")[0].rsplit("/", 1)[-1]
        self.by_route[route] = self.by_route.get(route, 0.0) + resp.elapsed.total_seconds()


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, all its threads included."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_job(client: LinkisClient, pid: int, n: int, runs: int) -> None:
    """CPU seconds one submit -> DataFrame costs the sandbox and this process, against what
    DuckDB's own query and conversion cost: with both sides on one machine, the sum over
    the cores is a floor for the wall time, whatever the overlap."""
    ours, server, client_side, duck = [], [], [], []
    for _ in range(runs):
        s0, c0, w0 = _process_cpu(pid), _own_cpu(), time.perf_counter()
        client.submit(QUERY.format(n=n), engine_type=ENGINE).frames()
        ours.append(time.perf_counter() - w0)
        c1 = _own_cpu()
        time.sleep(0.5)  # the sandbox's work after the job (its lines file) counts too
        server.append(_process_cpu(pid) - s0)
        client_side.append(c1 - c0)
        d0 = _own_cpu()
        via_duckdb(n)
        duck.append(_own_cpu() - d0)
    s, c, d = (statistics.median(x) for x in (server, client_side, duck))
    cores = os.cpu_count() or 1
    print(f"CPU per job at {n:,} rows (medians of {runs}):")
    print(f"  sandbox {s:.2f} s + client {c:.2f} s = {s + c:.2f} s of CPU")
    print(f"  DuckDB in-process: {d:.2f} s of CPU")
    print(f"  on {cores} cores the CPU alone needs >= {(s + c) / cores:.2f} s of wall time")
    wall = statistics.median(ours)
    print(f"  ({(s + c) / cores / d:.1f}x DuckDB's CPU; the wall median here: {wall:.2f} s)")


def breakdown(url: str, n: int) -> None:
    timings = Timings()
    session = requests.Session()
    session.hooks["response"].append(timings.hook)
    with LinkisClient(url, user=USER, password=PASSWORD, session=session) as client:
        client.login()
        submitted = time.time()
        job = client.submit(QUERY.format(n=n), engine_type=ENGINE)
        job.wait()
        seen = time.time()
        loading = timings.by_route.copy()
        start = time.perf_counter()
        (frame,) = job.frames()
        load_s = time.perf_counter() - start
        assert len(frame) == n
        log = job.log_lines
        running = next(_stamp(x) for x in log if " is running " in x)
        executing = next(_stamp(x) for x in log if "Executing statement" in x)
        computed = next(_stamp(x) for x in log if " computed " in x and "row(s)" in x)
        written = next(_stamp(x) for x in log if "result set" in x and "row(s)" in x)
        ended = _stamp(log[-1])
        requests_s = {k: v - loading.get(k, 0.0) for k, v in timings.by_route.items()}
        (result,) = job.results()
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            client.export_result(result.path, dest=out, limit=n, separator="\t")
            export_s = time.perf_counter() - start
            out.seek(0)
            data = out.read()
        start = time.perf_counter()
        pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(delimiter="\t"))
        parse_s = time.perf_counter() - start
    listing = sum(requests_s.get(r, 0.0) for r in ("getDirFileTrees", "openFile", "fileInfo"))
    print(f"where the time goes at {n:,} rows (one run):")
    print(f"  submit -> running on the server      {running - submitted:6.3f} s")
    print(f"  query (DuckDB) until its Arrow table {computed - executing:6.3f} s")
    print(f"  .dolphin + index write               {written - computed:6.3f} s")
    print(f"  job wrap-up                          {ended - written:6.3f} s")
    print(f"  end on the server -> client saw it   {max(seen - ended, 0.0):6.3f} s (poll wait)")
    print(f"  results: listing/first page/fileInfo {listing:6.3f} s (request time)")
    print(f"  results: whole load (export + parse) {load_s:6.3f} s")
    print(f"    the export download alone          {export_s:6.3f} s ({len(data) / 1e6:.0f} MB)")
    print(f"    pyarrow parsing those bytes        {parse_s:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    duckdb.sql("select 1").fetchall()  # load the library before timing it
    with (
        running_sandbox("--no-demo-data") as box,
        LinkisClient(box.url, user=USER, password=PASSWORD) as client,
    ):
        url = box.url
        client.submit(QUERY.format(n=30_000), engine_type=ENGINE).frames()  # engine, imports
        rows = []
        for n in sizes:
            # one untimed run of each side at this size first: the first runs at a new size
            # still grow memory pools and start threads on both sides (as rtt.py warms up)
            via_linkis(client, n)
            via_duckdb(n)
            ours, theirs = [], []
            for _ in range(args.runs):
                ours.append(via_linkis(client, n))
                theirs.append(via_duckdb(n))
            a, b = statistics.median(ours), statistics.median(theirs)
            rows.append((n, a, b, a / b))
        print("| rows | submit -> typed DataFrame | DuckDB duckdb.sql(q).df() | ratio |")
        print("|---|---|---|---|")
        for n, a, b, ratio in rows:
            print(f"| {n:,} | {a:.2f} s | {b:.2f} s | {ratio:.1f} |")
        goals = {100_000: 5.0, 1_000_000: 3.0}
        for n, _a, _b, ratio in rows:
            if n in goals:
                verdict = "met" if ratio <= goals[n] else "NOT met"
                print(f"goal at {n:,} rows: <= {goals[n]:.1f}: {verdict}")
        breakdown(url, max(sizes))
        if os.path.exists(f"/proc/{box.proc.pid}/stat"):
            cpu_per_job(client, box.proc.pid, max(sizes), args.runs)


if __name__ == "__main__":
    main()
