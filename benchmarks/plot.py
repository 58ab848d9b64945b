"""%linkis plot / profile: a histogram and a profile of a 10M-row table, aggregated by the gateway.

One local sandbox holds ``big`` (``--rows`` rows, default 10,000,000: a double column ``x``
with 1% NULLs and a string column ``s``). In this process, each median of ``--repeat`` runs:

* histogram: ``viz.plot(client, "histogram", "big", ["x"], bins=20)``, what ``%linkis plot``
  runs (metadata lookup, one aggregation job, its result, the matplotlib drawing); printed
  with the rows and bytes of results transferred (goal: at most bins + 1 rows);
* raw SQL:   the same aggregation SQL submitted through ``LinkisClient`` and its one table
  loaded (goal: histogram / raw <= 1.3, so the library adds little to the query itself);
* pandas:    ``select x from big`` loaded into pandas and ``Series.plot.hist(bins=20)``, what
  a user does without ``%linkis plot`` (the ratio is printed: how much pushing down saves);
* profile:   ``viz.profile(client, "big")`` against its raw SQL, with rows and bytes.

Bytes are the HTTP response bodies the client received for result reads (``filesystem/``),
counted by a requests response hook from Content-Length; the pandas baseline's column comes
through the streamed CSV export, so its size is printed as the result file's size instead.

    .venv/bin/python benchmarks/plot.py [--rows 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import matplotlib
import requests
from _sandbox import PASSWORD, USER, sandbox

from linkis_magic import viz
from linkis_magic.client import LinkisClient
from linkis_magic.protocol import JobStatus

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ENGINE = "spark-3.2.1"
BINS = 20
CREATE = (
    "create table big as select id,"
    " case when id % 100 = 7 then null else cast((id * 7919) % 100003 as double) / 100 end as x,"
    " concat('k', cast(id % 1000 as string)) as s"
    " from range({rows}) t(id)"
)


class Counter:
    """Bytes of ``filesystem/`` response bodies (Content-Length) seen by a requests session."""

    def __init__(self) -> None:
        self.bytes = 0
        self.session = requests.Session()
        self.session.hooks["response"].append(self._count)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/filesystem/" in response.url:
            self.bytes += int(response.headers.get("Content-Length") or 0)


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
        plt.close("all")
    return statistics.median(times), value


def raw_table(client: LinkisClient, sql: str) -> Any:
    job = client.submit(sql, engine_type=ENGINE)
    assert job.wait() is JobStatus.SUCCEED
    (frame,) = job.frames()
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    counter = Counter()
    with (
        sandbox() as url,
        LinkisClient(url, user=USER, password=PASSWORD, session=counter.session) as client,
    ):
        t = time.perf_counter()
        job = client.submit(CREATE.format(rows=args.rows), engine_type=ENGINE)
        assert job.wait() is JobStatus.SUCCEED, job.snapshot()
        print(f"created big ({args.rows:,} rows) on the sandbox in {time.perf_counter() - t:.1f} s")
        raw_table(client, "select 1 as warm")  # connections, imports: not what we measure

        spec = viz.PlotSpec.build("histogram", "big", ["x"], bins=BINS)
        raw_table(client, spec.sql())  # the table's pages in the sandbox's cache for both runs
        before = counter.bytes
        hist_s, _ = median_time(
            lambda: viz.plot(client, "histogram", "big", ["x"], bins=BINS, engine=ENGINE),
            args.repeat,
        )
        hist_bytes = (counter.bytes - before) // args.repeat
        raw_s, frame = median_time(lambda: raw_table(client, spec.sql()), args.repeat)
        print(f"histogram (%linkis plot): {hist_s:.2f} s; {len(frame)} rows, "
              f"{hist_bytes:,} bytes of results  (goal <= {BINS + 1} rows)")  # fmt: skip
        print(f"  same SQL raw through the client: {raw_s:.2f} s; "
              f"ratio {hist_s / raw_s:.2f}  (goal <= 1.3)")  # fmt: skip

        def pandas_hist() -> tuple[int, int]:
            job = client.submit("select x from big", engine_type=ENGINE)
            assert job.wait() is JobStatus.SUCCEED
            (result,) = job.results()
            assert result.frame is not None
            result.frame["x"].plot.hist(bins=BINS)
            location = client.task(job.task_id or 0).result_location or ""
            size = sum(entry.size or 0 for entry in client.dir_tree(location) or ())
            return result.rows, size

        pandas_s, (rows, size) = median_time(pandas_hist, 1)
        print(f"  load the column into pandas + Series.plot.hist: {pandas_s:.2f} s; {rows:,} rows "
              f"(result file {size / 1e6:.0f} MB); pandas / histogram "
              f"{pandas_s / hist_s:.1f}x")  # fmt: skip

        source = viz.Source.of("big")
        types = {c.name: c.type for c in client.columns("default", "big")}
        profile_sql = viz.ProfileSpec(source, types).sql()
        raw_table(client, profile_sql)  # warm, as for the histogram
        before = counter.bytes
        prof_s, prof = median_time(lambda: viz.profile(client, "big", engine=ENGINE), args.repeat)
        prof_bytes = (counter.bytes - before) // args.repeat
        praw_s, row = median_time(lambda: raw_table(client, profile_sql), args.repeat)
        print(f"profile (%linkis profile): {prof_s:.2f} s; {len(row)} row, {prof_bytes:,} bytes "
              f"of results; {prof.shape[0]} statistics x {prof.shape[1]} columns")  # fmt: skip
        print(f"  same SQL raw through the client: {praw_s:.2f} s; ratio {prof_s / praw_s:.2f}")


if __name__ == "__main__":
    main()
