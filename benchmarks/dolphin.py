"""Do the `.dolphin` sidecars pay? (figures printed, never asserted)

One 1,000,000-row x 6-column result set (bigint, string, date, decimal, double, timestamp) is
written with the sandbox's own writer, then the reads a client triggers are timed with the
result directory in three states:

    none            the `.dolphin` file alone, as a file from a real Linkis engine would be:
                    records are found by scanning and values are normalized on read
    index           + `.<name>.idx`, the record offsets (which also mark the values as
                    canonical, i.e. written by us, so reads skip normalization)
    index+lines     + `.<name>.lines`, the stored cells tab-joined (what the writer leaves
                    behind today; a clean table's tab-separated export is a copy of it)

Reads: fileInfo's row count (`count_rows`, the client asks it before every big download),
openFile page 1 and page 190 of 5000 rows (`read_page`), and the CSV download of every row
(`export_csv`, what resultsetToExcel streams). Each figure is the median of RUNS runs taken
round-robin over the states (rotating which goes first), printed as a ratio against `none`
from the same run, and for the lines sidecar also against `index` (> 1 means faster). The
CSV download is timed twice: with the default "," separator and as our client asks for it
(tab separator); this table has no NULL, empty or tab cell, so with the lines sidecar both
are copies of it (the "," one with its tabs swapped). The cost side: the bytes each
sidecar adds and the time to write the lines sidecar.

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
STATES = ("none", "index", "index+lines")


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
            _timed(lambda: (dolphin.write_arrow(path, table), dolphin.wait_lines(path)))
            for _ in range(3)
        )
        index, lines = dolphin.index_path(path), dolphin.lines_path(path)
        saved = {index: work / "saved.idx", lines: work / "saved.lines"}
        for live, copy in saved.items():
            shutil.copyfile(live, copy)

        def set_state(state: str) -> None:
            """Put the result directory in `state` (reads may leave a remembered index)."""
            for live in saved:
                live.unlink(missing_ok=True)
            if state != "none":
                shutil.copyfile(saved[index], index)
            if state == "index+lines":
                shutil.copyfile(saved[lines], lines)

        reads: dict[str, Callable[[], object]] = {
            "fileInfo row count": lambda: dolphin.count_rows(path),
            "openFile page 1": lambda: dolphin.read_page(path, 1, PAGE_SIZE, "LINKIS_NULL"),
            f"openFile page {DEEP_PAGE}": lambda: dolphin.read_page(
                path, DEEP_PAGE, PAGE_SIZE, "LINKIS_NULL"
            ),
            "CSV export, all rows": lambda: export.export_csv(path, _Discard(), limit=ROWS),
            "CSV export, tab": lambda: export.export_csv(
                path, _Discard(), limit=ROWS, separator="t", keep_newline=True
            ),
        }
        times: dict[tuple[str, str], list[float]] = {}
        for run in range(RUNS):
            for name, read in reads.items():
                for state in STATES[run % 3 :] + STATES[: run % 3]:  # no state always first
                    set_state(state)
                    times.setdefault((name, state), []).append(_timed(read))

        # The lines sidecar's own write cost: the same bytes written again (the join that
        # makes them is part of write_arrow's encoding).
        set_state("index+lines")
        stored = lines.read_bytes()

        def write_lines() -> None:
            (work / "again.lines").write_bytes(stored)

        lines_write = statistics.median(_timed(write_lines) for _ in range(3))

        print(
            f".dolphin sidecars, {ROWS:,} rows x {table.num_columns} columns, median of {RUNS}; "
            "ratio = time in the state it is measured against / time in this state (> 1 faster)"
        )
        print(
            f"  {'read':<22}{'none':>12}{'index (vs none)':>26}"
            f"{'index+lines (vs none, vs index)':>42}"
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
            f"({saved[index].stat().st_size / size:.0%}), lines "
            f"+{saved[lines].stat().st_size / 1e6:.1f} MB "
            f"({saved[lines].stat().st_size / size:.0%}), written in {lines_write:.2f} s "
            f"({lines_write / write_time:.0%} of the write)"
        )


if __name__ == "__main__":
    main()
