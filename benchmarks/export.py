"""``--export`` of a 2,000,000-row result: memory held and time, against a raw download.

One local sandbox runs a 4-column query over ``range(N)``. Then, in this process, interleaved:

* Job:  ``job.export(path)`` (listing, the one-row type probe, the streamed resultsetToExcel
        written to a temporary file and renamed) -- what ``%%linkis --export`` does;
* raw:  ``requests`` streaming the same resultsetToExcel URL into a file, nothing else.

Prints the file size, the peak RSS growth of this process during ``job.export`` (goal: under
100 MB, whatever the file size), and the median time ratio Job / raw.

    .venv/bin/python benchmarks/export.py [--rows 2000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests
from _memory import peak_growth
from _sandbox import PASSWORD, USER, sandbox

from linkis_magic.client import LinkisClient
from linkis_magic.results import table_files
from linkis_magic.results._export import ALL_ROWS

API = "/api/rest_j/v1/"


def raw_download(url: str, session: requests.Session, path: str, target: Path) -> float:
    start = time.perf_counter()
    params = {"path": path, "outputFileType": "csv", "nullValue": "NULL", "limit": ALL_ROWS}
    with session.get(url + API + "filesystem/resultsetToExcel", params=params, stream=True) as r:
        r.raise_for_status()
        with target.open("wb") as out:
            for chunk in r.iter_content(chunk_size=64 * 1024):
                out.write(chunk)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    code = (
        "select x as id, x * 7 as big, x / 3.0 as ratio, 'row ' || x as label "
        f"from range({args.rows}) t(x)"
    )
    with sandbox() as url, tempfile.TemporaryDirectory() as tmp:
        session = requests.Session()
        session.post(url + API + "user/login", json={"userName": USER, "password": PASSWORD})
        with LinkisClient(url, user=USER, password=PASSWORD) as client:
            job = client.submit(code, engine_type="spark-3.2.1")
            job.wait()
            location = client.task(job.task_id or 0).result_location
            assert location is not None
            ((_, remote),) = table_files(client, location)
            job_times, raw_times, growths = [], [], []
            size = 0
            for run in range(args.runs):
                target = Path(tmp) / f"job{run}.csv"
                done: list[float] = []

                def export(target: Path = target, done: list[float] = done) -> None:
                    start = time.perf_counter()
                    job.export(target)
                    done.append(time.perf_counter() - start)

                growths.append(peak_growth(threading.Thread(target=export)))
                job_times.append(done[0])
                size = target.stat().st_size
                raw_times.append(raw_download(url, session, remote, Path(tmp) / f"raw{run}.csv"))
    print(f"export of {args.rows:,} rows: {size / 2**20:.0f} MB on disk")
    print(
        f"peak RSS growth during job.export: {max(growths) / 2**20:.1f} MB "
        f"({max(growths) / size:.3f} of the file; goal < 100 MB)"
    )
    job_median, raw_median = statistics.median(job_times), statistics.median(raw_times)
    print(f"job.export median {job_median:.2f} s, raw streamed download median {raw_median:.2f} s")
    print(f"ratio Job / raw: {job_median / raw_median:.2f}")


if __name__ == "__main__":
    main()
