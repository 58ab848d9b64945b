"""Two loopback gateways in one shell: named connections, -C, connect, templating, run.

Gateway "pw" is the session's sandbox with alice's password login; gateway "tok" is a second
sandbox where carol authenticates with a token only. Each sits behind its own recording proxy,
so a test can say which gateway a call reached, and that a usage error reached neither.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from linkis_magic.errors import JobFailed
from linkis_magic.magics import LinkisMagics
from tests.support.proxy import FaultProxy
from tests.support.sandbox import SandboxProcess, start_sandbox
from tests.support.wait import wait_until

CAROL_TOKEN = "CAROL-TOK-4f1e-s3cr3t"
ALICE_PASSWORD = "alice-secret"
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"


@pytest.fixture(scope="module")
def tok_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A second sandbox: user carol, who only has a token here."""
    box = start_sandbox(
        tmp_path_factory.mktemp("tok-gateway"), users={"carol": "unused-pw"}, token=CAROL_TOKEN
    )
    yield box
    box.stop()


@pytest.fixture(scope="module")
def pw_proxy(sandbox: SandboxProcess) -> Iterator[FaultProxy]:
    with FaultProxy(sandbox.url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def tok_proxy(tok_box: SandboxProcess) -> Iterator[FaultProxy]:
    with FaultProxy(tok_box.url) as proxy:
        yield proxy


def total(*proxies: FaultProxy) -> int:
    return sum(len(p.seen) for p in proxies)


@pytest.fixture
def conn_file(
    tmp_path: Path,
    clean_magics: LinkisMagics,
    pw_proxy: FaultProxy,
    tok_proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """connections.toml with pw (default, password from $PW_SECRET) and tok (token in file)."""
    path = tmp_path / "connections.toml"
    path.write_text(
        'default = "pw"\n\n'
        f'[pw]\ngateway_url = "{pw_proxy.url}"\nuser = "alice"\npassword_env = "PW_SECRET"\n\n'
        f'[tok]\ngateway_url = "{tok_proxy.url}"\nuser = "carol"\ntoken = "{CAROL_TOKEN}"\n'
        'creator = "NB"\n\n'
        f'[proxied]\ngateway_url = "{pw_proxy.url}"\nuser = "alice"\n'
        'password_env = "PW_SECRET"\nproxy_user = "bob"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    monkeypatch.setenv("LINKIS_MAGIC_CONNECTIONS", str(path))
    monkeypatch.setenv("PW_SECRET", ALICE_PASSWORD)
    return path


def run(shell: Any, cell: str) -> tuple[Any, str]:
    """Run a cell; its result (raising its error) and everything it printed."""
    with capture_output() as cap:
        result = shell.run_cell(cell)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result, cap.stdout + cap.stderr


class TestTwoGateways:
    """Cells and commands go to the connection they name; each keeps its own jobs."""

    def test_cells_commands_and_state_per_connection(
        self, shell: Any, conn_file: Path, pw_proxy: FaultProxy, tok_proxy: FaultProxy
    ) -> None:
        pw_before = pw_proxy.count("POST", "entrance/submit")
        tok_before = tok_proxy.count("POST", "entrance/submit")
        _, out = run(shell, "%%linkis -o on_pw\nselect 1 as x")
        frame = shell.user_ns["on_pw"]
        assert frame["x"].tolist() == [1] and "[" not in out.splitlines()[-1]
        _, out = run(shell, "%%linkis -C tok -o on_tok\nselect 2 as y")
        frame = shell.user_ns["on_tok"]
        assert frame["y"].tolist() == [2]
        assert "[tok]" in out  # the header names a connection that is not the default
        assert pw_proxy.count("POST", "entrance/submit") == pw_before + 1
        assert tok_proxy.count("POST", "entrance/submit") == tok_before + 1

        magics = clean_magics_of(shell)
        pw_session, tok_session = magics.session_for("pw"), magics.session_for("tok")
        assert pw_session is magics.session and tok_session is not pw_session
        assert len(pw_session.runs) == 1 and len(tok_session.runs) == 1
        pw_task, tok_task = pw_session.runs[0].job.task_id, tok_session.runs[0].job.task_id
        _, out = run(shell, "%linkis status")
        assert f"taskID {pw_task}: Succeed" in out
        _, out = run(shell, "%linkis status -C tok")
        assert f"taskID {tok_task}: Succeed" in out

        # line commands take -C, and each connection keeps its own caches
        tok_gets = tok_proxy.count("GET", "datasource/tables")
        tables, _ = run(shell, "%linkis tables -C tok")
        assert "emp" in tables["table"].tolist()
        assert tok_proxy.count("GET", "datasource/tables") == tok_gets + 1
        engines, _ = run(shell, "%linkis engines -C tok")
        assert set(engines["creator"]) == {"NB"}  # carol's engine, from the tok profile

        # connect makes tok current for the kernel
        _, out = run(shell, "%linkis connect tok")
        assert f"Connected to tok: {tok_proxy.url} as carol (token auth)" in out
        frame, out = run(shell, "%%linkis\nselect 3 as z")
        assert frame["z"].tolist() == [3] and "[tok]" in out
        assert len(tok_session.runs) == 2
        table, _ = run(shell, "%linkis connections")
        assert isinstance(table, pd.DataFrame)
        assert table.set_index("name")["current"].to_dict() == {
            "pw (default)": False,
            "tok": True,
            "proxied": False,
        }
        assert table.set_index("name")["auth"].to_dict() == {
            "pw (default)": "password ($PW_SECRET)",
            "tok": "token (in file)",
            "proxied": "password ($PW_SECRET)",
        }
        _, out = run(shell, "%linkis config")
        assert "connection tok" in out
        _, out = run(shell, "%linkis connect")
        assert "Connected to the default connection" in out
        assert magics.session is pw_session

        shown = table.to_string() + repr(magics.sessions.all()) + repr(tok_session.settings())
        assert CAROL_TOKEN not in shown and ALICE_PASSWORD not in shown

    def test_precedence(self, shell: Any, conn_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        magics = clean_magics_of(shell)
        monkeypatch.setenv("LINKIS_CREATOR", "ENVAPP")
        monkeypatch.setenv("LINKIS_ENGINE", "hive-2.3.3")
        settings = magics.settings("tok")
        assert settings.creator == "NB"  # the profile beats the environment
        assert settings.engine == "hive-2.3.3"  # the environment fills what it leaves out
        shell.run_line_magic("config", "LinkisMagics.creator = 'CFG'")
        assert magics.settings("tok").creator == "CFG"  # %config beats the profile
        assert magics.settings("tok", creator="ARG").creator == "ARG"  # the magic line wins
        request = magics.parse_cell("-C tok -c LINE", "select 1")
        assert (request.creator, request.connection) == ("LINE", "tok")

    def test_no_file_and_no_environment_uses_the_sandbox(
        self,
        shell: Any,
        clean_magics: LinkisMagics,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("LINKIS_MAGIC_CONNECTIONS", str(tmp_path / "absent.toml"))
        assert clean_magics.settings().gateway_url is None  # -> the embedded sandbox, as before
        _, out = run(shell, "%linkis connections")
        assert "does not exist" in out
        with pytest.raises(UsageError, match="there is no connections file"):
            run(shell, "%linkis connect prod")

    def test_kernel_exit_kills_the_jobs_of_every_connection(
        self, shell: Any, conn_file: Path
    ) -> None:
        magics = clean_magics_of(shell)
        run(shell, f"%%linkis -q --background\n{LONG_QUERY}")
        run(shell, f"%%linkis -q --background -C tok\n{LONG_QUERY}")
        runs = [magics.session_for("pw").runs[-1], magics.session_for("tok").runs[-1]]
        wait_until(
            lambda: all(r.job.state is not None and r.job.state.value == "Running" for r in runs),
            what="both long jobs to run",
        )
        lines = magics.on_exit()
        assert len(lines) == 2 and all("killed on kernel exit" in line for line in lines)
        assert [r.job.state.value for r in runs if r.job.state] == ["Cancelled", "Cancelled"]


def clean_magics_of(shell: Any) -> LinkisMagics:
    (found,) = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
    return found


class TestUsageErrorsSendNothing:
    """A bad name, file, permission or variable is a short usage error before any request."""

    @pytest.mark.parametrize(
        "cell",
        [
            "%%linkis -C nope\nselect 1",
            "%linkis tables -C nope",
            "%linkis engines -C nope",
            "%linkis status -C nope",
            "%linkis connect nope",
            "%linkis run /tmp/x.sql -C nope",
        ],
    )
    def test_unknown_connection(
        self, shell: Any, conn_file: Path, pw_proxy: FaultProxy, tok_proxy: FaultProxy, cell: str
    ) -> None:
        before = total(pw_proxy, tok_proxy)
        with pytest.raises(UsageError, match=r"no connection named 'nope'.*known: pw, tok"):
            run(shell, cell)
        assert total(pw_proxy, tok_proxy) == before

    def test_malformed_file_says_the_line(
        self, shell: Any, conn_file: Path, pw_proxy: FaultProxy, tok_proxy: FaultProxy
    ) -> None:
        text = conn_file.read_text(encoding="utf-8")
        conn_file.write_text(text + "[broken\n", encoding="utf-8")
        before = total(pw_proxy, tok_proxy)
        line = text.count("\n") + 1
        for cell in ("%%linkis\nselect 1", "%linkis tables", "%linkis connections"):
            with pytest.raises(UsageError, match=rf"not valid TOML: .*line {line}"):
                run(shell, cell)
        assert total(pw_proxy, tok_proxy) == before

    @pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
    def test_secret_in_a_group_readable_file(
        self, shell: Any, conn_file: Path, pw_proxy: FaultProxy, tok_proxy: FaultProxy
    ) -> None:
        conn_file.chmod(0o640)
        before = total(pw_proxy, tok_proxy)
        with pytest.raises(UsageError, match=r"readable by others .*chmod 600") as info:
            run(shell, "%%linkis -C tok\nselect 1")
        assert CAROL_TOKEN not in str(info.value)
        assert total(pw_proxy, tok_proxy) == before

    def test_missing_environment_variable(
        self,
        shell: Any,
        conn_file: Path,
        pw_proxy: FaultProxy,
        tok_proxy: FaultProxy,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.delenv("PW_SECRET")
        before = total(pw_proxy, tok_proxy)
        with pytest.raises(UsageError, match=r"\$PW_SECRET .*not set"):
            run(shell, "%%linkis\nselect 1")
        with pytest.raises(UsageError, match=r"\$PW_SECRET"):
            run(shell, "%linkis history")
        assert total(pw_proxy, tok_proxy) == before
        frame, _ = run(shell, "%%linkis -C tok -q\nselect 5 as v")  # the other one still works
        assert frame["v"].tolist() == [5]


class TestProxyUser:
    """proxy_user goes out as executeUser with a userCreator naming it (linkis-cli's body)."""

    def test_gateway_refuses_it_without_an_admin_token(
        self, shell: Any, conn_file: Path, pw_proxy: FaultProxy
    ) -> None:
        before = pw_proxy.count("POST", "entrance/submit")
        with pytest.raises(Exception, match=r"50080.*bob-IDE") as info:
            run(shell, "%%linkis -C proxied\nselect 1")
        assert not isinstance(info.value, UsageError)
        assert pw_proxy.count("POST", "entrance/submit") == before + 1

    def test_v0_is_a_usage_error(self, shell: Any, conn_file: Path, pw_proxy: FaultProxy) -> None:
        before = len(pw_proxy.seen)
        with pytest.raises(UsageError, match=r"executeUser.*--api v0"):
            run(shell, "%%linkis -C proxied --api v0\nselect 1")
        assert all("entrance/execute" not in s.path for s in pw_proxy.seen[before:])


class TestTemplates:
    """{{ expr }} is rendered from the notebook namespace; ${var} stays a Linkis variable."""

    def test_expressions_loops_and_linkis_variables(self, shell: Any, conn_file: Path) -> None:
        shell.user_ns.update(n=41, cols=["a", "b"], flag=True)
        run(
            shell,
            "%%linkis --var v=kept -o templ\n"
            "select {{ n + 1 }} as x, '${v}' as y"
            "{% for c in cols %}, '{{ c }}' as {{ c }}{% endfor %}"
            "{% if flag %}, 1 as flagged{% endif %}",
        )
        frame = shell.user_ns["templ"]
        assert frame.iloc[0].to_dict() == {"x": 42, "y": "kept", "a": "a", "b": "b", "flagged": 1}
        job = clean_magics_of(shell).session.runs[-1].job
        task = clean_magics_of(shell).session.client().task(job.task_id or 0)
        assert task.execution_code is not None and "{{" not in task.execution_code
        assert "select 42 as x, '${v}' as y, 'a' as a" in task.execution_code  # as submitted

    def test_no_template_sends_as_written(self, shell: Any, conn_file: Path) -> None:
        run(shell, "%%linkis --no-template -o raw\nselect '{{ nothing }}' as s")
        frame = shell.user_ns["raw"]
        assert frame["s"].tolist() == ["{{ nothing }}"]

    def test_undefined_name_is_a_usage_error(
        self, shell: Any, conn_file: Path, pw_proxy: FaultProxy, tok_proxy: FaultProxy
    ) -> None:
        shell.user_ns.pop("undefined_thing", None)
        before = total(pw_proxy, tok_proxy)
        with pytest.raises(UsageError, match="'undefined_thing' is undefined"):
            run(shell, "%%linkis\nselect {{ undefined_thing }}")
        with pytest.raises(UsageError, match="template error on line 2"):
            run(shell, "%%linkis\nselect 1\n{% for %}")
        assert total(pw_proxy, tok_proxy) == before


class TestRunFile:
    """%linkis run PATH: runType from the extension, templated, the cell options."""

    def test_sql_and_python_files(
        self, shell: Any, conn_file: Path, tmp_path: Path, tok_proxy: FaultProxy
    ) -> None:
        shell.user_ns["limit_n"] = 2
        sql = tmp_path / "q.sql"
        sql.write_text("select x from range({{ limit_n }}) t(x) order by x\n", encoding="utf-8")
        before = tok_proxy.count("POST", "entrance/submit")
        _, out = run(shell, f"%linkis run {sql} -C tok -o from_file")
        assert shell.user_ns["from_file"]["x"].tolist() == [0, 1]
        assert "[tok]" in out and tok_proxy.count("POST", "entrance/submit") == before + 1
        script = tmp_path / "hello.py"
        script.write_text("print('hello from {{ limit_n }}')\n", encoding="utf-8")
        _, out = run(shell, f"%linkis run {script}")
        assert "hello from 2" in out
        assert clean_magics_of(shell).session.runs[-1].job_engine == "python-python3"

    def test_bad_files(self, shell: Any, conn_file: Path, tmp_path: Path) -> None:
        odd = tmp_path / "job.txt"
        odd.write_text("select 1", encoding="utf-8")
        with pytest.raises(UsageError, match=r"cannot tell the runType of job\.txt"):
            run(shell, f"%linkis run {odd}")
        frame, _ = run(shell, f"%linkis run {odd} sql -q")  # the runType given after the path
        assert frame.shape == (1, 1)
        with pytest.raises(UsageError, match="cannot read"):
            run(shell, f"%linkis run {tmp_path / 'absent.sql'}")
        with pytest.raises(UsageError, match="required: PATH"):
            run(shell, "%linkis run")


def test_job_failure_on_a_named_connection_fails_the_cell(shell: Any, conn_file: Path) -> None:
    with pytest.raises(JobFailed):
        run(shell, "%%linkis -C tok\nselect * from no_such_table_here")


@pytest.mark.slow
def test_notebook_queries_two_gateways(
    conn_file: Path, pw_proxy: FaultProxy, tok_proxy: FaultProxy
) -> None:
    """A real kernel (nbclient) reads connections.toml and queries both gateways in one run;
    the saved notebook holds neither secret."""
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext linkis_magic"),
            new_code_cell("%linkis connections"),
            new_code_cell("table = 'emp'"),
            new_code_cell("%%linkis -q -o a\nselect count(*) as n from {{ table }}"),
            new_code_cell("%%linkis -q -C tok -o b\nselect count(*) as n from {{ table }}"),
            new_code_cell("print('counts', int(a['n'][0]), int(b['n'][0]))"),
        ]
    )
    before = (pw_proxy.count("POST", "entrance/submit"), tok_proxy.count("POST", "entrance/submit"))
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    after = (pw_proxy.count("POST", "entrance/submit"), tok_proxy.count("POST", "entrance/submit"))
    assert after == (before[0] + 1, before[1] + 1)  # one job on each gateway
    text = nbformat.writes(nb)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs).split()
    assert printed[0] == "counts" and int(printed[1]) > 0
    assert printed[1] == printed[2]  # the same demo table on both gateways
    assert "tok" in text and "pw (default)" in text
    assert CAROL_TOKEN not in text and ALICE_PASSWORD not in text
