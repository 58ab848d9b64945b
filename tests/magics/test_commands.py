"""The %linkis line commands through a real IPython shell against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.embedded import EmbeddedSandbox
from linkis_magic.errors import JobFailed
from tests.support.proxy import FaultProxy

# count(*) over a bare range is answered from statistics; the filter makes DuckDB work.
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"


class TestLineCommands:
    """%linkis status/progress/log/kill/history/attach/login/logout/config."""

    def test_status_progress_log_by_default_task_and_exec_id(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_cell_magic("linkis", "-q", "select 1 as a")
        job = magics.session.last_run.job
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
        assert value is None  # bound and shown; the name is its one handle
        assert shell.user_ns["again"]["three"].tolist() == [3]

    def test_attach_a_failed_task_fails(self, shell: Any, magics: Any) -> None:
        with pytest.raises(JobFailed):
            shell.run_cell_magic("linkis", "-q", "select * from nowhere_h6")
        task_id = magics.session.last_run.job.task_id
        with pytest.raises(JobFailed):
            shell.run_line_magic("linkis", f"attach {task_id} -q")

    def test_history_is_a_dataframe(self, shell: Any, magics: Any) -> None:
        shell.run_cell_magic("linkis", "-q", "select 1")
        shell.run_cell_magic("linkis", "-q", "select 2")
        frame = shell.run_line_magic("linkis", "history -n 2")
        assert isinstance(frame, pd.DataFrame)
        assert len(frame) == 2
        assert frame["taskID"].iloc[0] == magics.session.last_run.job.task_id
        assert frame["status"].iloc[0] == "Succeed"

    def test_login_logout_and_config_never_show_the_password(
        self, shell: Any, magics: Any, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_line_magic("linkis", "login")
        assert f"Logged in to {proxy.url} as alice" in capsys.readouterr().out
        assert any("user/login" in s.path for s in proxy.seen)
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
        assert frame["taskID"].iloc[0] == magics.session.last_run.job.task_id


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
        saved, magics.session.sandbox = magics.session.sandbox, box
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
            magics.session.sandbox = saved
