"""Do the `.dolphin` sidecars pay? (figures printed, never asserted)

One 1,000,000-row x 6-column result set (bigint, string, date, decimal, double, timestamp) is
written with the sandbox's own writer, then the reads a client triggers are timed with the
result directory in three states:

    none            the `.dolphin` file alone, as a file from a real Linkis engine would be:
                    records are found by scanning and values are normalized on read
    index           + `.<name>.idx`, the record offsets (which also mark the values as
                    canonical, i.e. written by us, so reads skip normalization)
    index+columns   + `.<name>.arrow`, the Arrow copy of the stored cells (what the writer
                    leaves behind today)

Reads: fileInfo's row count (`count_rows`, the client asks it before every big download),
openFile page 1 and page 190 of 5000 rows (`read_page`), and the CSV download of every row
(`export_csv`, what resultsetToExcel streams). Each figure is the median of RUNS runs taken
round-robin over the states (rotating which goes first), printed as a ratio against `none`
from the same run, and for the columns sidecar also against `index` (> 1 means faster).
The cost side: the bytes each sidecar adds and the time to write the columns sidecar.

Run: .venv/bin/python benchmarks/dolphin.py
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from linkis_magic.sandbox import dolphin, export

ROWS = 1_000_000
PAGE_SIZE = 5000
DEEP_PAGE = 190
RUNS = 5
STATES = ("none", "index", "index+columns")


class _Discard:
    """A binary sink that drops what it is given (the export's cost, not the disk's)."""

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return len(data)


def _table() -> pa.Table:
    i = np.arange(ROWS, dtype=np.int64)
    cents = (i * 7919) % 10_000_000
    amounts = pa.array([f"{c // 100}.{c % 100:02d}" for c in cents.tolist()])
    return pa.table(
        {
            "id": pa.array(i),
            "name": pa.array([f"customer_{k}" for k in range(ROWS)]),
            "day": pa.array((np.datetime64("2024-01-01") + i % 365).astype("datetime64[D]")),
            "amount": amounts.cast(pa.decimal128(12, 2)),
            "ratio": pa.array(i / 3.0),
            "at": pa.array(
                (np.datetime64("2024-01-01T00:00:00") + i * 1_500_000).astype("datetime64[us]")
            ),
        }
    )


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="linkis-dolphin-bench-") as tmp:
        work = Path(tmp)
        path = work / "_0.dolphin"
        table = _table()
        write_time = statistics.median(
            _timed(lambda: dolphin.write_arrow(path, table)) for _ in range(3)
        )
        index, columns = dolphin.index_path(path), dolphin.columns_path(path)
        saved = {index: work / "saved.idx", columns: work / "saved.arrow"}
        for live, copy in saved.items():
            shutil.copyfile(live, copy)

        def set_state(state: str) -> None:
            """Put the result directory in `state` (reads may leave a remembered index)."""
            for live in saved:
                live.unlink(missing_ok=True)
            if state != "none":
                shutil.copyfile(saved[index], index)
            if state == "index+columns":
                shutil.copyfile(saved[columns], columns)

        reads: dict[str, Callable[[], object]] = {
            "fileInfo row count": lambda: dolphin.count_rows(path),
            "openFile page 1": lambda: dolphin.read_page(path, 1, PAGE_SIZE, "LINKIS_NULL"),
            f"openFile page {DEEP_PAGE}": lambda: dolphin.read_page(
                path, DEEP_PAGE, PAGE_SIZE, "LINKIS_NULL"
            ),
            "CSV export, all rows": lambda: export.export_csv(path, _Discard(), limit=ROWS),
        }
        times: dict[tuple[str, str], list[float]] = {}
        for run in range(RUNS):
            for name, read in reads.items():
                for state in STATES[run % 3 :] + STATES[: run % 3]:  # no state always first
                    set_state(state)
                    times.setdefault((name, state), []).append(_timed(read))

        # The columns sidecar's own write cost: the same cells written as Arrow IPC again.
        set_state("index+columns")
        stored = pa.ipc.open_file(pa.memory_map(str(columns))).read_all()

        def write_columns() -> None:
            with (
                pa.OSFile(str(work / "again.arrow"), "wb") as sink,
                pa.ipc.new_file(sink, stored.schema) as ipc,
            ):
                ipc.write_table(stored)

        columns_write = statistics.median(_timed(write_columns) for _ in range(3))

        print(
            f".dolphin sidecars, {ROWS:,} rows x {table.num_columns} columns, median of {RUNS}; "
            "ratio = time in the state it is measured against / time in this state (> 1 faster)"
        )
        print(
            f"  {'read':<22}{'none':>12}{'index (vs none)':>26}"
            f"{'index+columns (vs none, vs index)':>42}"
        )
        for name in reads:
            none, with_index, both = (statistics.median(times[(name, s)]) for s in STATES)
            print(
                f"  {name:<22}{none * 1000:9.1f} ms"
                f"{with_index * 1000:13.1f} ms {none / with_index:8.1f}x"
                f"{both * 1000:18.1f} ms {none / both:8.1f}x {with_index / both:8.1f}x"
            )
        size = path.stat().st_size
        print(
            f"  write_arrow (all three files) {write_time:.2f} s; .dolphin {size / 1e6:.1f} MB, "
            f"index +{saved[index].stat().st_size / 1e6:.1f} MB "
            f"({saved[index].stat().st_size / size:.0%}), columns "
            f"+{saved[columns].stat().st_size / 1e6:.1f} MB "
            f"({saved[columns].stat().st_size / size:.0%}), written in {columns_write:.2f} s "
            f"({columns_write / write_time:.0%} of the write)"
        )


if __name__ == "__main__":
    main()
