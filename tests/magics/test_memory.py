"""No result outlives the user's use of it: re-running a cell frees the previous result."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pandas as pd
import pytest

from linkis_magic.magics._runner import Runner
from linkis_magic.protocol import JobStatus
from tests.support.shell import interrupt_when

LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"
TABLE = "select x, x * 2 as y from range(1000) t(x)"


def _collected(ref: weakref.ref[Any]) -> bool:
    gc.collect()
    return ref() is None


class TestResultsAreReleased:
    """Once a cell has shown and bound its result, nothing of the extension keeps it."""

    def test_rebinding_a_name_frees_the_old_frame(self, shell: Any, magics: Any) -> None:
        shell.run_cell(f"%%linkis -o df\n{TABLE}\n")
        first = weakref.ref(shell.user_ns["df"])
        shell.run_cell(f"%%linkis -o df\n{TABLE}\n")
        assert isinstance(shell.user_ns["df"], pd.DataFrame)
        assert _collected(first), gc.get_referrers(first())

    def test_several_frames_are_freed_too(self, shell: Any, magics: Any) -> None:
        shell.run_cell(f"%%linkis -o frames\n{TABLE};\n{TABLE};\n")
        refs = [weakref.ref(f) for f in shell.user_ns["frames"]]
        del shell.user_ns["frames"]
        assert all(_collected(ref) for ref in refs)

    def test_the_job_of_an_old_run_keeps_no_results(self, shell: Any, magics: Any) -> None:
        shell.run_cell(f"%%linkis -o df\n{TABLE}\n")
        run = magics.session.last_run
        assert run.job.state is JobStatus.SUCCEED  # still there for %linkis status|log
        frame = weakref.ref(shell.user_ns.pop("df"))
        assert _collected(frame)
        shell.run_line_magic("linkis", f"status {run.job.task_id}")  # still answers

    def test_a_background_result_is_freed_when_rebound(self, shell: Any, magics: Any) -> None:
        shell.run_cell(f"%%linkis --background -q -o bg\n{TABLE}\n")
        run = magics.session.last_run
        assert run.done.wait(60)
        first = weakref.ref(shell.user_ns["bg"])
        shell.run_cell(f"%%linkis -q -o bg\n{TABLE}\n")
        assert _collected(first)

    def test_an_interrupted_cell_keeps_nothing(self, shell: Any, magics: Any) -> None:
        shell.run_cell(f"%%linkis -q -o df\n{TABLE}\n")
        kept = weakref.ref(shell.user_ns.pop("df"))

        def running() -> bool:
            run = magics.session.last_run
            return run is not None and run.job.state is JobStatus.RUNNING

        watcher, _ = interrupt_when(running)
        with pytest.raises(KeyboardInterrupt):
            shell.run_cell_magic("linkis", "-q", LONG_QUERY)
        watcher.join(10)
        assert _collected(kept)


class TestRunsAreBounded:
    """The runs commands can name are bounded, but a running job is never forgotten."""

    def test_only_the_newest_finished_runs_are_kept(self, shell: Any, magics: Any) -> None:
        runner = Runner(lambda: shell.user_ns, keep=2, show=lambda value: None)
        magics.session.runner = runner
        try:
            for n in range(4):
                shell.run_cell_magic("linkis", "-q", f"select {n} as n")
            kept = [run.job.task_id for run in runner.runs]
            assert len(kept) == 2 and kept == sorted(kept)
            assert runner.find(kept[0]) is not None
        finally:
            magics.session.runner = Runner(lambda: shell.user_ns)

    def test_a_running_background_job_stays_nameable(self, shell: Any, magics: Any) -> None:
        runner = Runner(lambda: shell.user_ns, keep=1, show=lambda value: None)
        magics.session.runner = runner
        try:
            shell.run_cell_magic("linkis", "--background -q", LONG_QUERY)
            long_run = runner.runs[-1]
            for n in range(3):
                shell.run_cell_magic("linkis", "-q", f"select {n} as n")
            assert long_run in runner.runs and long_run in runner.running()
            shell.run_line_magic("linkis", f"kill {long_run.job.task_id}")
            assert long_run.done.wait(60)
            assert long_run.job.state is JobStatus.CANCELLED
            assert long_run not in runner.runs  # finished and beyond the bound: forgotten
        finally:
            magics.session.runner = Runner(lambda: shell.user_ns)
