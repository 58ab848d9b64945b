"""%%linkis / %linkis through a real IPython shell against the sandbox gateway.

Every request goes through a loopback counting proxy in front of the session's sandbox, so
the tests can also prove that a usage error sent nothing at all.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.testing import globalipapp

from linkis_magic.client import LinkisClient
from linkis_magic.embedded import EmbeddedSandbox
from linkis_magic.errors import JobCancelled, JobFailed, JobWaitTimeout
from linkis_magic.magics import LinkisInterrupted, LinkisMagics
from linkis_magic.protocol import JobStatus

# count(*) over a bare range is answered from statistics; the filter makes DuckDB work.
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class CountingProxy:
    """A loopback HTTP proxy in front of the sandbox that records every request it forwards."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.paths: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    proxy.paths.append(f"{self.command} {self.path}")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    reply = conn.getresponse()
                    data = reply.read()
                finally:
                    conn.close()
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _forward
            do_POST = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.paths)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def proxy(sandbox: Any) -> Iterator[CountingProxy]:
    box = CountingProxy(sandbox.url)
    yield box
    box.close()


@pytest.fixture(scope="module")
def shell() -> Any:
    # start_ipython() returns None once another test module started the shared shell; the
    # module attribute get_ipython is then the shell's own accessor.
    ip = globalipapp.start_ipython() or globalipapp.get_ipython()
    ip.run_line_magic("load_ext", "linkis_magic")
    return ip


@pytest.fixture
def magics(shell: Any, proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shell's LinkisMagics, configured for alice through the proxy, reset afterwards."""
    for var in list(os.environ):
        if var.startswith("LINKIS_"):
            monkeypatch.delenv(var)
    found = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
    assert len(found) == 1
    m = found[0]
    shell.run_line_magic("config", f"LinkisMagics.gateway_url = {proxy.url!r}")
    shell.run_line_magic("config", "LinkisMagics.user = 'alice'")
    shell.run_line_magic("config", "LinkisMagics.password = 'alice-secret'")
    yield m
    for run in m.runs:
        if run.thread is not None and not run.done.is_set():
            run.cancel.set()
            run.thread.join(30)
    for name in m.SETTING_TRAITS:
        setattr(m, name, None)
    m.runs.clear()
    m.drop_client()


@pytest.fixture
def alice(sandbox: Any) -> Iterator[LinkisClient]:
    """A separate client straight to the sandbox, to check what the gateway recorded."""
    with LinkisClient(sandbox.url, user="alice", password="alice-secret") as client:
        yield client


def run_cell(shell: Any, source: str) -> Any:
    result = shell.run_cell(source)
    return result


class TestUsageErrors:
    """Anything wrong on the magic line is a short UsageError and sends no request."""

    @pytest.mark.parametrize(
        ("line", "cell", "needle"),
        [
            ("sql --bogus", "select 1", "unrecognized arguments"),
            ("sql --var novalue", "select 1", "--var expects KEY=VALUE"),
            ("sql --var =x", "select 1", "--var expects KEY=VALUE"),
            ("sql --startup spark.memory", "select 1", "--startup expects KEY=VALUE"),
            ("sql --runtime 'a b=1'", "select 1", "--runtime expects KEY=VALUE"),
            ("sql", "   \n  ", "the cell is empty"),
            ("sql -e spark", "select 1", "spark-2.4.3"),
            ("sql -e hive", "select 1", "hive-2.3.3"),
            ("sql --limit 0", "select 1", "--limit expects a whole number"),
            ("sql --limit ten", "select 1", "--limit expects a whole number"),
            ("sql -o 1df", "select 1", "-o expects a Python variable name"),
            ("sql -o class", "select 1", "-o expects a Python variable name"),
            ("sql --export out.txt", "select 1", "--export writes .csv or .xlsx"),
            ("sql --export /no/such/dir/out.csv", "select 1", "does not exist"),
            ("sql --timeout -1", "select 1", "--timeout expects a number"),
            ("sql --timeout soon", "select 1", "--timeout expects a number"),
            ("sql --api v2", "select 1", "invalid choice"),
            ("sql -c 'my-app'", "select 1", "creator"),
            ("status", "select 1", "line command"),
            ("sql 'unbalanced", "select 1", "cannot split"),
            ("s-q-l", "select 1", "RUNTYPE"),
        ],
    )
    def test_cell_usage_errors(
        self, shell: Any, magics: Any, proxy: CountingProxy, line: str, cell: str, needle: str
    ) -> None:
        before = proxy.count
        with pytest.raises(UsageError) as info:
            shell.run_cell_magic("linkis", line, cell)
        assert needle in str(info.value)
        assert proxy.count == before
        assert magics.runs == []

    @pytest.mark.parametrize(
        ("line", "needle"),
        [
            ("", "needs a command"),
            ("frobnicate", "unknown command 'frobnicate'"),
            ("sql", "cell magic %%linkis"),
            ("status abc", "taskID (a number) or an execID"),
            ("status", "no Linkis job in this session"),
            ("history -n x", "-n expects a whole number"),
            ("history -n 0", "-n expects a whole number"),
            ("attach x", "attach expects a taskID"),
            ("attach 12 -o 9x", "-o expects a Python variable name"),
            ("attach", "the following arguments are required"),
            ("sandbox explode", "invalid choice"),
            ("log -n none", "-n expects a whole number"),
            ("kill 1 2", "unrecognized arguments"),
            ("login ftp://x", "must start with http"),
        ],
    )
    def test_line_usage_errors(
        self, shell: Any, magics: Any, proxy: CountingProxy, line: str, needle: str
    ) -> None:
        before = proxy.count
        with pytest.raises(UsageError) as info:
            shell.run_line_magic("linkis", line)
        assert needle in str(info.value)
        assert proxy.count == before

    def test_usage_error_renders_short(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = run_cell(shell, "%%linkis sql -e spark\nselect 1\n")
        out = capsys.readouterr()
        assert isinstance(result.error_in_exec, UsageError)
        text = out.out + out.err
        assert "UsageError" in text and "spark-2.4.3" in text
        assert "Traceback" not in text

    def test_bad_setting_is_a_usage_error(
        self, shell: Any, magics: Any, proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LINKIS_ENGINE", "spark")
        before = proxy.count
        with pytest.raises(UsageError, match=r"spark-2\.4\.3"):
            shell.run_cell_magic("linkis", "", "select 1")
        assert proxy.count == before

    def test_config_trait_is_validated(
        self, shell: Any, magics: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        run_cell(shell, "%config LinkisMagics.engine = 'hive'")
        assert "'hive' needs a version, e.g. 'hive-2.3.3'" in caplog.text
        assert magics.engine is None

    def test_help_prints_usage_and_sends_nothing(
        self, shell: Any, magics: Any, proxy: CountingProxy, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = proxy.count
        assert shell.run_cell_magic("linkis", "-h", "select 1") is None
        assert "--var" in capsys.readouterr().out
        assert proxy.count == before


class TestCells:
    """%%linkis runs the cell on the gateway and binds typed results."""

    def test_one_table_is_bound_and_is_the_cell_value(self, shell: Any, magics: Any) -> None:
        result = run_cell(shell, "%%linkis sql -o df\nselect 1 as a, 'x' as b, 2.5 as c\n")
        assert result.error_in_exec is None
        df = shell.user_ns["df"]
        assert isinstance(df, pd.DataFrame)
        assert result.result is df
        assert df.to_dict("records") == [{"a": 1, "b": "x", "c": 2.5}]
        assert str(df["a"].dtype) == "Int64"

    def test_runtype_defaults_to_sql(self, shell: Any, magics: Any, alice: LinkisClient) -> None:
        value = shell.run_cell_magic("linkis", "", "select 7 as n")
        assert value["n"].tolist() == [7]
        task = alice.task(magics.last_run.job.task_id)
        assert task.run_type == "sql"
        assert "engineType:spark-2.4.3" in task.labels

    def test_two_statements_bind_a_list(self, shell: Any, magics: Any) -> None:
        result = run_cell(shell, "%%linkis -o frames\nselect 1 as a;\nselect 2 as b, 3 as c;\n")
        frames = shell.user_ns["frames"]
        assert result.result is frames
        assert [list(f.columns) for f in frames] == [["a"], ["b", "c"]]

    def test_variables_are_substituted_by_the_gateway(self, shell: Any, magics: Any) -> None:
        shell.user_ns["day"] = "2024-05-06"
        result = run_cell(
            shell, "%%linkis sql --var dt={day} --var n=3 -o v\nselect '${dt}' as d, ${n} as n\n"
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
        task = alice.task(magics.last_run.job.task_id)
        assert task.creator == "NB"
        assert task.run_type == "hql"
        assert "engineType:hive-3.1.3" in task.labels
        params = str(task.raw.get("paramsJson"))
        assert "spark.executor.memory" in params and "wds.x" in params

    def test_python_text_result_is_shown_not_bound(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = run_cell(shell, "%%linkis python -o t\nprint('hello from python')\n")
        out = capsys.readouterr()
        assert result.error_in_exec is None
        assert "hello from python" in out.out
        assert "t" not in shell.user_ns
        assert "not bound" in out.err

    def test_failed_job_fails_the_cell_without_traceback(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = run_cell(shell, "%%linkis\nselect * from no_such_table_h6\n")
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

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_export_writes_the_first_table(
        self, shell: Any, magics: Any, tmp_path: Path, suffix: str
    ) -> None:
        target = tmp_path / f"out{suffix}"
        shell.run_cell_magic(
            "linkis", f"--export {target}", "select x, x * 2 as y from range(4) t(x); select 1"
        )
        back = pd.read_csv(target) if suffix == ".csv" else pd.read_excel(target)
        assert back.to_dict("list") == {"x": [0, 1, 2, 3], "y": [0, 2, 4, 6]}

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

    def test_api_v0_uses_entrance_execute(
        self, shell: Any, magics: Any, proxy: CountingProxy
    ) -> None:
        value = shell.run_cell_magic("linkis", "--api v0", "select 5 as five")
        assert value["five"].tolist() == [5]
        assert any(p.startswith("POST /api/rest_j/v1/entrance/execute") for p in proxy.paths)

    def test_timeout_stops_waiting_and_leaves_the_job_running(
        self, shell: Any, magics: Any, alice: LinkisClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(JobWaitTimeout) as info:
            shell.run_cell_magic("linkis", "--timeout 0.5", LONG_QUERY)
        rendered = info.value._render_traceback_()  # what IPython shows instead of a traceback
        assert rendered[0].startswith("JobWaitTimeout: ") and "%linkis kill" in rendered[0]
        job = magics.last_run.job
        assert alice.status(job.exec_id, task_id=job.task_id) in (
            JobStatus.RUNNING,
            JobStatus.SCHEDULED,
            JobStatus.INITED,
        )
        shell.run_line_magic("linkis", "kill")
        deadline = time.monotonic() + 30
        while alice.status(job.exec_id, task_id=job.task_id) is not JobStatus.CANCELLED:
            assert time.monotonic() < deadline
            time.sleep(0.1)

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
        sent = threading.Event()

        def interrupt_when_running() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                run = magics.last_run
                if run is not None and run.job.state is JobStatus.RUNNING:
                    os.kill(os.getpid(), signal.SIGINT)
                    sent.set()
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=interrupt_when_running, daemon=True)
        watcher.start()
        with pytest.raises(KeyboardInterrupt) as info:
            shell.run_cell_magic("linkis", "", LONG_QUERY)
        assert isinstance(info.value, LinkisInterrupted)  # a KeyboardInterrupt, one line
        assert "killed (Cancelled)" in str(info.value)
        watcher.join(5)
        assert sent.is_set()
        job = magics.last_run.job
        assert alice.status(job.exec_id, task_id=job.task_id) is JobStatus.CANCELLED


class TestBackground:
    """--background returns at once, follows the job on a thread and binds when done."""

    def test_binds_when_the_job_succeeds(self, shell: Any, magics: Any) -> None:
        result = run_cell(shell, "%%linkis --background -o bg\nselect 42 as answer\n")
        assert result.error_in_exec is None and result.result is None
        run = magics.last_run
        assert run.thread is not None
        run.thread.join(30)
        assert run.error is None
        assert shell.user_ns["bg"]["answer"].tolist() == [42]

    def test_failed_background_job_binds_nothing(self, shell: Any, magics: Any) -> None:
        shell.run_cell_magic("linkis", "--background -q -o nope", "select * from missing_h6")
        run = magics.last_run
        assert run.done.wait(30)
        assert isinstance(run.error, JobFailed)
        assert "nope" not in shell.user_ns

    def test_kill_defaults_to_the_background_job(
        self, shell: Any, magics: Any, alice: LinkisClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_cell_magic("linkis", "--background -o never", LONG_QUERY)
        run = magics.last_run
        deadline = time.monotonic() + 30
        while run.job.state is not JobStatus.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        shell.run_line_magic("linkis", "status")
        assert "Running" in capsys.readouterr().out
        shell.run_line_magic("linkis", "kill")
        assert run.done.wait(30)
        assert isinstance(run.error, JobCancelled)
        assert "never" not in shell.user_ns
        assert alice.status(run.job.exec_id, task_id=run.job.task_id) is JobStatus.CANCELLED


class TestLineCommands:
    """%linkis status/progress/log/kill/history/attach/login/logout/config."""

    def test_status_progress_log_by_default_task_and_exec_id(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_cell_magic("linkis", "-q", "select 1 as a")
        job = magics.last_run.job
        capsys.readouterr()
        for ident in ("", str(job.task_id), job.exec_id):
            shell.run_line_magic("linkis", f"status {ident}")
            assert f"taskID {job.task_id}: Succeed" in capsys.readouterr().out
            shell.run_line_magic("linkis", f"progress {ident}")
            assert "100%" in capsys.readouterr().out
            shell.run_line_magic("linkis", f"log {ident}")
            assert "Your job completed with" in capsys.readouterr().out

    def test_commands_on_a_task_from_another_session(
        self, shell: Any, magics: Any, alice: LinkisClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        job = alice.submit("select 3 as three", engine_type="spark-2.4.3")
        job.wait()
        shell.run_line_magic("linkis", f"status {job.task_id}")
        assert "Succeed" in capsys.readouterr().out
        shell.run_line_magic("linkis", f"log {job.task_id} -n 1")
        assert capsys.readouterr().out.count("\n") == 1
        value = shell.run_line_magic("linkis", f"attach {job.task_id} -o again")
        assert shell.user_ns["again"] is value
        assert value["three"].tolist() == [3]

    def test_attach_a_failed_task_fails(self, shell: Any, magics: Any) -> None:
        with pytest.raises(JobFailed):
            shell.run_cell_magic("linkis", "-q", "select * from nowhere_h6")
        task_id = magics.last_run.job.task_id
        with pytest.raises(JobFailed):
            shell.run_line_magic("linkis", f"attach {task_id} -q")

    def test_history_is_a_dataframe(self, shell: Any, magics: Any) -> None:
        shell.run_cell_magic("linkis", "-q", "select 1")
        shell.run_cell_magic("linkis", "-q", "select 2")
        frame = shell.run_line_magic("linkis", "history -n 2")
        assert isinstance(frame, pd.DataFrame)
        assert len(frame) == 2
        assert frame["taskID"].iloc[0] == magics.last_run.job.task_id
        assert frame["status"].iloc[0] == "Succeed"

    def test_login_logout_and_config_never_show_the_password(
        self, shell: Any, magics: Any, proxy: CountingProxy, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_line_magic("linkis", "login")
        assert f"Logged in to {proxy.url} as alice" in capsys.readouterr().out
        assert any("user/login" in p for p in proxy.paths)
        shell.run_line_magic("linkis", "config")
        shell.run_line_magic("config", "LinkisMagics")
        shell.run_line_magic("linkis", "logout")
        out = capsys.readouterr().out
        assert "Logged out." in out and "password" in out
        assert "alice-secret" not in out
        # A new session is made on the next cell.
        assert shell.run_cell_magic("linkis", "-q", "select 1 as a")["a"].tolist() == [1]

    def test_config_shows_values_and_where_they_come_from(
        self,
        shell: Any,
        magics: Any,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setenv("LINKIS_ENGINE", "hive-2.3.3")
        shell.run_line_magic("linkis", "config")
        out = capsys.readouterr().out
        assert re.search(r"engine\s+hive-2\.3\.3\s+\(\$LINKIS_ENGINE\)", out)
        assert re.search(r"user\s+alice\s+\(%config LinkisMagics\.user\)", out)
        assert re.search(r"creator\s+IDE\s+\(default\)", out)
        assert re.search(r"password\s+<set>", out) and "alice-secret" not in out

    def test_token_auth(self, shell: Any, magics: Any, sandbox: Any) -> None:
        magics.password = None
        shell.run_line_magic("config", f"LinkisMagics.token = {sandbox.token!r}")
        shell.run_line_magic("linkis", "login")
        assert shell.run_cell_magic("linkis", "-q", "select 2 as b")["b"].tolist() == [2]

    def test_gateway_from_the_environment(
        self, shell: Any, magics: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        magics.gateway_url = None
        magics.user = None
        magics.password = None
        monkeypatch.setenv("LINKIS_GATEWAY_URL", sandbox.url)
        monkeypatch.setenv("LINKIS_USER", "bob")
        monkeypatch.setenv("LINKIS_PASSWORD", "bob-secret")
        shell.run_cell_magic("linkis", "-q", "select 1")
        frame = shell.run_line_magic("linkis", "history -n 1")
        assert frame["taskID"].iloc[0] == magics.last_run.job.task_id


class TestEmbeddedSandbox:
    """With no gateway configured, the magic starts its own sandbox and says so once."""

    def test_starts_reuses_and_stops(
        self,
        shell: Any,
        magics: Any,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        magics.gateway_url = None
        magics.user = None
        magics.password = None
        box = EmbeddedSandbox(state_dir=tmp_path / "run", data_dir=tmp_path / "data")
        saved, magics.sandbox = magics.sandbox, box
        try:
            value = shell.run_cell_magic("linkis", "", "select 1 as a")
            assert value["a"].tolist() == [1]
            out = capsys.readouterr().out
            assert out.count("started the local sandbox at http://127.0.0.1:") == 1
            assert box._info is not None
            assert box._info.password.reveal() not in out
            assert box.state_file.exists()
            shell.run_cell_magic("linkis", "", "select 2 as b")
            assert "sandbox" not in capsys.readouterr().out
            # a second manager (another kernel) adopts the recorded sandbox
            other = EmbeddedSandbox(state_dir=tmp_path / "run", data_dir=tmp_path / "data")
            info, line = other.ensure()
            assert info.url == box._info.url and line is not None and "using" in line
            shell.run_line_magic("linkis", "sandbox status")
            assert "started by this kernel" in capsys.readouterr().out
            shell.run_line_magic("linkis", "sandbox stop")
            assert "stopped" in capsys.readouterr().out
            assert not box.state_file.exists()
            shell.run_line_magic("linkis", "sandbox status")
            assert "No local sandbox running" in capsys.readouterr().out
            shell.run_line_magic("linkis", "sandbox start")
            assert "started the local sandbox" in capsys.readouterr().out
            assert shell.run_cell_magic("linkis", "-q", "select 3 as c")["c"].tolist() == [3]
        finally:
            box.stop()
            magics.sandbox = saved


class TestAwaitRewrite:
    """Only kernels that can dispatch comm messages during an awaited cell get rewritten."""

    def test_terminal_shell_cells_stay_synchronous(self, shell: Any, magics: Any) -> None:
        code = shell.transform_cell("%%linkis sql -o df\nselect 1\n")
        assert code.startswith("get_ipython().run_cell_magic('linkis', 'sql -o df'")
        assert not magics.use_awaited_cells()


class TestExtensionLifecycle:
    """%unload_ext removes the magics and the hook; %load_ext brings them back once."""

    def test_unload_and_reload(self, shell: Any, magics: Any) -> None:
        shell.run_line_magic("unload_ext", "linkis_magic")
        assert shell.find_cell_magic("linkis") is None
        assert magics.transform_await not in shell.input_transformers_post
        shell.run_line_magic("load_ext", "linkis_magic")
        shell.run_line_magic("load_ext", "linkis_magic")
        found = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
        assert len(found) == 1
        assert shell.find_cell_magic("linkis") is not None
        hooks = [t for t in shell.input_transformers_post if getattr(t, "__self__", None)]
        assert sum(isinstance(t.__self__, LinkisMagics) for t in hooks) == 1
