"""A kernel that runs all day: memory, threads and files over 300 mixed cells in one shell.

One real IPython shell (history on, as in a notebook) talks to a sandbox and runs, in turn:

* a 300k-row table bound to the same name (``-o df``), the cell a user re-runs all day;
* a failing query;
* a long query started with ``--background`` and killed with ``%linkis kill``;
* a 300k-row table bound by a ``--background`` cell;
* a 300k-row ``--export`` to CSV;
* metadata magics (``%linkis tables``, ``columns``, ``history``, ``engines``) and a Tab
  completion in a SQL body.

After every 50 cells (and a ``gc.collect()``) it prints the shell's RSS, live threads and open
file descriptors, and the sandbox process's RSS. Goals: the shell's RSS grows by at most 50 MB
from cell 50 to cell 300, its threads and descriptors come back to their cell-50 counts, and
the sandbox's RSS grows by at most 100 MB.

    .venv/bin/python benchmarks/soak.py [--cells 300] [--rows 300000]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _memory import rss  # noqa: E402
from IPython.core.completer import provisionalcompleter  # noqa: E402

from linkis_magic.protocol import JobStatus  # noqa: E402
from tests.support.sandbox import running_sandbox  # noqa: E402
from tests.support.shell import configure, ipython, magics_of  # noqa: E402
from tests.support.wait import wait_until  # noqa: E402

LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"
CHECKPOINT = 50
RSS_GOAL_MB = 50.0
SANDBOX_GOAL_MB = 100.0


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MB, from /proc."""
    return rss(pid) / (1 << 20)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def table(rows: int) -> str:
    return f"select x, x * 2 as y, concat('v', cast(x as varchar)) as s from range({rows}) t(x)"


def run_cell(shell: Any, code: str) -> Any:
    """One notebook cell: history on, like a kernel's execute_request."""
    return shell.run_cell(code, store_history=True)


def cell(shell: Any, n: int, rows: int, scratch: Path) -> None:
    """Run the n-th cell of the mix."""
    magics = magics_of(shell)
    kind = n % 6
    if kind == 0:
        result = run_cell(shell, f"%%linkis -q -o df\n{table(rows)}\n")
        assert result.error_in_exec is None and len(shell.user_ns["df"]) == rows
    elif kind == 1:
        result = run_cell(shell, "%%linkis -q\nselect * from no_such_table_anywhere\n")
        assert result.error_in_exec is not None
    elif kind == 2:
        run_cell(shell, f"%%linkis --background -q\n{LONG_QUERY}\n")
        run = magics.session.last_run
        wait_until(lambda: run.job.state is JobStatus.RUNNING, timeout=60, what="Running")
        run_cell(shell, "%linkis kill")
        assert run.done.wait(60)
    elif kind == 3:
        run_cell(shell, f"%%linkis --background -q -o bg\n{table(rows)}\n")
        assert magics.session.last_run.done.wait(120)
        assert len(shell.user_ns["bg"]) == rows
    elif kind == 4:
        target = scratch / "out.csv"
        result = run_cell(shell, f"%%linkis -q --export {target}\n{table(rows)}\n")
        assert result.error_in_exec is None and target.exists()
    else:
        for line in ("%linkis tables", "%linkis columns emp", "%linkis history -n 5"):
            assert run_cell(shell, line).error_in_exec is None
        assert run_cell(shell, "%linkis engines").error_in_exec is None
        text = "%%linkis\nselect * from em"
        with provisionalcompleter():
            list(shell.Completer.completions(text, len(text)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()

    shell = ipython()
    with running_sandbox() as box, tempfile.TemporaryDirectory() as tmp:
        configure(shell, box.url)
        sandbox_pid = box.proc.pid
        print(f"{args.cells} cells, tables of {args.rows:,} rows, sandbox pid {sandbox_pid}")
        print(f"{'cell':>5} {'RSS MB':>8} {'threads':>8} {'fds':>5} {'sandbox RSS MB':>15}")
        marks: dict[int, tuple[float, int, int, float]] = {}
        every = max(1, min(CHECKPOINT, args.cells // 6))
        sink = io.StringIO()
        for n in range(1, args.cells + 1):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(sink):
                cell(shell, n, args.rows, Path(tmp))
            if n % every == 0:
                gc.collect()
                mark = (rss_mb(), threading.active_count(), open_fds(), rss_mb(sandbox_pid))
                marks[n] = mark
                print(f"{n:>5} {mark[0]:>8.1f} {mark[1]:>8} {mark[2]:>5} {mark[3]:>15.1f}")
        first, last = marks[min(marks)], marks[max(marks)]
        growth, box_growth = last[0] - first[0], last[3] - first[3]
        print(
            f"shell RSS growth cell {min(marks)} -> {max(marks)}: {growth:+.1f} MB "
            f"({growth / RSS_GOAL_MB:.2f} of the {RSS_GOAL_MB:g} MB goal)"
        )
        print(
            f"threads {first[1]} -> {last[1]}, fds {first[2]} -> {last[2]} "
            f"(goal: back to the cell-{min(marks)} counts)"
        )
        print(
            f"sandbox RSS growth: {box_growth:+.1f} MB "
            f"({box_growth / SANDBOX_GOAL_MB:.2f} of the {SANDBOX_GOAL_MB:g} MB goal)"
        )


if __name__ == "__main__":
    main()
