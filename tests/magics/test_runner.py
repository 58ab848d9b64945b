"""%%linkis cells in a real IPython shell against the sandbox: blocking, interrupted, background."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobFailed, JobWaitTimeout
from linkis_magic.magics import LinkisInterrupted
from linkis_magic.protocol import JobStatus
from tests.support.double import EXEC_ID, LinkisDouble, Reply, Request, error
from tests.support.proxy import FaultProxy
from tests.support.scripts import TASK_ID, LogScript, ResultFile, ResultServer, task_doc
from tests.support.shell import interrupt_when
from tests.support.wait import wait_until

# count(*) over a bare range is answered from statistics; the filter makes DuckDB work.
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"


class TestCells:
    """%%linkis runs the cell on the gateway and binds typed results."""

    def test_one_table_is_bound_and_is_the_cell_value(self, shell: Any, magics: Any) -> None:
        result = shell.run_cell("%%linkis sql -o df\nselect 1 as a, 'x' as b, 2.5 as c\n")
        assert result.error_in_exec is None
        df = shell.user_ns["df"]
        assert isinstance(df, pd.DataFrame)
        assert result.result is None  # the name holds it; Out[] keeps no copy per re-run
        assert df.to_dict("records") == [{"a": 1, "b": "x", "c": 2.5}]
        assert str(df["a"].dtype) == "Int64"

    def test_runtype_defaults_to_sql(self, shell: Any, magics: Any, alice: LinkisClient) -> None:
        value = shell.run_cell_magic("linkis", "", "select 7 as n")
        assert value["n"].tolist() == [7]
        task = alice.task(magics.session.last_run.job.task_id)
        assert task.run_type == "sql"
        assert "engineType:spark-2.4.3" in task.labels

    def test_two_statements_bind_a_list(self, shell: Any, magics: Any) -> None:
        result = shell.run_cell("%%linkis -o frames\nselect 1 as a;\nselect 2 as b, 3 as c;\n")
        frames = shell.user_ns["frames"]
        assert result.error_in_exec is None and result.result is None
        assert [list(f.columns) for f in frames] == [["a"], ["b", "c"]]

    def test_variables_are_substituted_by_the_gateway(self, shell: Any, magics: Any) -> None:
        shell.user_ns["day"] = "2024-05-06"
        result = shell.run_cell(
            "%%linkis sql --var dt={day} --var n=3 -o v\nselect '${dt}' as d, ${n} as n\n"
        )
        assert result.error_in_exec is None
        assert shell.user_ns["v"].to_dict("records") == [{"d": "2024-05-06", "n": 3}]

    def test_cell_body_is_not_expanded_by_ipython(self, shell: Any, magics: Any) -> None:
        shell.user_ns["day"] = "nope"
        value = shell.run_cell_magic("linkis", "", "select '{day}' as d")
        assert value["d"].tolist() == ["{day}"]

    def test_engine_creator_and_params_reach_the_gateway(
        self, shell: Any, magics: Any, alice: LinkisClient
    ) -> None:
        shell.run_cell_magic(
            "linkis",
            "hql -e hive-3.1.3 -c NB --startup spark.executor.memory=2g --runtime wds.x=1",
            "select 1 as one",
        )
        task = alice.task(magics.session.last_run.job.task_id)
        assert task.creator == "NB"
        assert task.run_type == "hql"
        assert "engineType:hive-3.1.3" in task.labels
        params = str(task.raw.get("paramsJson"))
        assert "spark.executor.memory" in params and "wds.x" in params

    def test_python_text_result_is_shown_not_bound(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = shell.run_cell("%%linkis python -o t\nprint('hello from python')\n")
        out = capsys.readouterr()
        assert result.error_in_exec is None
        assert "hello from python" in out.out
        assert "t" not in shell.user_ns
        assert "not bound" in out.err

    def test_failed_job_fails_the_cell_without_traceback(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = shell.run_cell("%%linkis\nselect * from no_such_table_h6\n")
        out = capsys.readouterr()
        assert isinstance(result.error_in_exec, JobFailed)
        text = out.out + out.err
        assert "JobFailed" in text and "ended Failed" in text
        assert "errCode" in text and "no_such_table_h6" in text
        assert "Traceback" not in text and 'File "' not in text

    def test_limit_caps_rows_and_says_so(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        value = shell.run_cell_magic("linkis", "--limit 3", "select * from range(10) t(x)")
        assert len(value) == 3
        assert "--limit 3" in capsys.readouterr().err

    def test_quiet_prints_nothing(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        value = shell.run_cell_magic("linkis", "python -q", "print('hidden')")
        assert value is None
        out = capsys.readouterr()
        assert out.out == "" and out.err == ""

    def test_text_display_in_a_terminal_shell(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_cell_magic("linkis", "", "select 1 as a")
        out = capsys.readouterr().out
        assert "Succeed" in out and "1 rows × 1 columns" in out
        assert "VBox" not in out

    def test_api_v0_uses_entrance_execute(self, shell: Any, magics: Any, proxy: FaultProxy) -> None:
        value = shell.run_cell_magic("linkis", "--api v0", "select 5 as five")
        assert value["five"].tolist() == [5]
        assert any(s.method == "POST" and "entrance/execute" in s.path for s in proxy.seen)

    def test_timeout_stops_waiting_and_leaves_the_job_running(
        self, shell: Any, magics: Any, alice: LinkisClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(JobWaitTimeout) as info:
            shell.run_cell_magic("linkis", "--timeout 0.5", LONG_QUERY)
        rendered = info.value._render_traceback_()  # what IPython shows instead of a traceback
        assert rendered[0].startswith("JobWaitTimeout: ") and "%linkis kill" in rendered[0]
        job = magics.session.last_run.job
        assert alice.status(job.exec_id, task_id=job.task_id) in (
            JobStatus.RUNNING,
            JobStatus.SCHEDULED,
            JobStatus.INITED,
        )
        shell.run_line_magic("linkis", "kill")
        wait_until(
            lambda: alice.status(job.exec_id, task_id=job.task_id) is JobStatus.CANCELLED,
            interval=0.1,
            what="the killed job to be Cancelled",
        )

    def test_precedence_arguments_config_env_defaults(
        self, shell: Any, magics: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert magics.parse_cell("", "select 1").engine == "spark-2.4.3"
        monkeypatch.setenv("LINKIS_ENGINE", "hive-2.3.3")
        monkeypatch.setenv("LINKIS_CREATOR", "ENVAPP")
        assert magics.parse_cell("", "select 1").engine == "hive-2.3.3"
        assert magics.parse_cell("", "select 1").creator == "ENVAPP"
        shell.run_line_magic("config", "LinkisMagics.engine = 'spark-3.2.1'")
        assert magics.parse_cell("", "select 1").engine == "spark-3.2.1"
        assert magics.parse_cell("-e trino-371", "select 1").engine == "trino-371"
        assert magics.parse_cell("python", "print(1)").engine == "python-python3"


class TestInterrupt:
    """Ctrl-C while a cell blocks kills the Linkis job, waits for Cancelled, re-raises."""

    def test_sigint_kills_the_job(self, shell: Any, magics: Any, alice: LinkisClient) -> None:
        def running() -> bool:
            run = magics.session.last_run
            return run is not None and run.job.state is JobStatus.RUNNING

        watcher, sent = interrupt_when(running)
        with pytest.raises(KeyboardInterrupt) as info:
            shell.run_cell_magic("linkis", "", LONG_QUERY)
        assert isinstance(info.value, LinkisInterrupted)  # a KeyboardInterrupt, one line
        assert "killed (Cancelled)" in str(info.value)
        watcher.join(5)
        assert sent.is_set()
        job = magics.session.last_run.job
        assert alice.status(job.exec_id, task_id=job.task_id) is JobStatus.CANCELLED

    def test_a_suite_started_in_the_background_still_hears_ctrl_c(self) -> None:
        """``cmd &`` in a script (a CI step, a loop of runs) starts pytest with SIGINT ignored;
        the Ctrl-C test above still passes there instead of waiting out its timeout."""
        root = Path(__file__).resolve().parents[2]
        test = f"{Path(__file__).relative_to(root)}::TestInterrupt::test_sigint_kills_the_job"
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", test]
        # bash without job control: the background command's SIGINT is ignored
        proc = subprocess.run(
            ["bash", "-c", '"$@" & wait $!', "bash", *command, "--timeout", "60"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=100,
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert "1 passed" in proc.stdout


class TestBackground:
    """--background returns at once, follows the job on a thread and binds when done."""

    def test_binds_when_the_job_succeeds(self, shell: Any, magics: Any) -> None:
        result = shell.run_cell("%%linkis --background -o bg\nselect 42 as answer\n")
        assert result.error_in_exec is None and result.result is None
        run = magics.session.last_run
        assert run.thread is not None
        run.thread.join(30)
        assert run.job.state is JobStatus.SUCCEED
        assert shell.user_ns["bg"]["answer"].tolist() == [42]

    def test_failed_background_job_binds_nothing(self, shell: Any, magics: Any) -> None:
        shell.run_cell_magic("linkis", "--background -q -o nope", "select * from missing_h6")
        run = magics.session.last_run
        assert run.done.wait(30)
        assert run.job.state is JobStatus.FAILED
        assert "nope" not in shell.user_ns

    def test_kill_defaults_to_the_background_job(
        self, shell: Any, magics: Any, alice: LinkisClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_cell_magic("linkis", "--background -o never", LONG_QUERY)
        run = magics.session.last_run
        wait_until(lambda: run.job.state is JobStatus.RUNNING, interval=0.02, what="Running")
        shell.run_line_magic("linkis", "status")
        assert "Running" in capsys.readouterr().out
        shell.run_line_magic("linkis", "kill")
        assert run.done.wait(30)
        assert run.job.state is JobStatus.CANCELLED
        assert "never" not in shell.user_ns
        assert alice.status(run.job.exec_id, task_id=run.job.task_id) is JobStatus.CANCELLED


class FailingFile(ResultServer):
    """Result sets served by the double, one of which cannot be read."""

    def __init__(self, gw: LinkisDouble, broken: str) -> None:
        super().__init__(gw)
        self.broken = broken

    def _open(self, req: Request) -> Reply:
        if (req.param("path") or "").endswith("/" + self.broken):
            return error("The file is unreadable", err_code=80012)
        return super()._open(req)


class TestResultLoading:
    """Result sets load together; the cell binds only once every one of them is in."""

    def test_a_result_set_that_fails_to_load_binds_nothing(
        self, shell: Any, gw: LinkisDouble, connect: Any
    ) -> None:
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": TASK_ID})
        gw.on("GET", f"entrance/{EXEC_ID}/status", {"status": "Succeed", "execID": EXEC_ID})
        gw.on("GET", f"entrance/{EXEC_ID}/log", LogScript(["2024-01-01 10:00:00.001 INFO ok"]))
        gw.on("GET", f"jobhistory/{TASK_ID}/get", task_doc("Succeed"))
        results = FailingFile(gw, broken="_2.dolphin")
        for i in range(5):
            results.add(ResultFile(f"_{i}.dolphin", [("v", "int")], [[str(i)]]))
        connect(gw.url)
        shell.user_ns["frames"] = "before"
        result = shell.run_cell("%%linkis -o frames\nselect 1;\n")
        assert result.error_in_exec is not None
        assert "unreadable" in str(result.error_in_exec)
        assert shell.user_ns["frames"] == "before"
        opened = {r.param("path") for r in gw.calls("GET", "filesystem/openFile")}
        assert any(str(p).endswith("_2.dolphin") for p in opened)
