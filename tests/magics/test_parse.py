"""Magic lines are checked before anything is sent: a mistake is a short UsageError, no request."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from tests.support.proxy import FaultProxy

# count(*) over a bare range is answered from statistics; the filter makes DuckDB work.
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"


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
        self, shell: Any, magics: Any, proxy: FaultProxy, line: str, cell: str, needle: str
    ) -> None:
        before = len(proxy.seen)
        with pytest.raises(UsageError) as info:
            shell.run_cell_magic("linkis", line, cell)
        assert needle in str(info.value)
        assert len(proxy.seen) == before
        assert magics.session.runs == []

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
        self, shell: Any, magics: Any, proxy: FaultProxy, line: str, needle: str
    ) -> None:
        before = len(proxy.seen)
        with pytest.raises(UsageError) as info:
            shell.run_line_magic("linkis", line)
        assert needle in str(info.value)
        assert len(proxy.seen) == before

    def test_usage_error_renders_short(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = shell.run_cell("%%linkis sql -e spark\nselect 1\n")
        out = capsys.readouterr()
        assert isinstance(result.error_in_exec, UsageError)
        text = out.out + out.err
        assert "UsageError" in text and "spark-2.4.3" in text
        assert "Traceback" not in text

    def test_bad_setting_is_a_usage_error(
        self, shell: Any, magics: Any, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LINKIS_ENGINE", "spark")
        before = len(proxy.seen)
        with pytest.raises(UsageError, match=r"spark-2\.4\.3"):
            shell.run_cell_magic("linkis", "", "select 1")
        assert len(proxy.seen) == before

    def test_config_trait_is_validated(
        self, shell: Any, magics: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        shell.run_cell("%config LinkisMagics.engine = 'hive'")
        assert "'hive' needs a version, e.g. 'hive-2.3.3'" in caplog.text
        assert magics.engine is None

    def test_gateway_outage_timeout_trait_reaches_the_client(
        self, shell: Any, magics: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        shell.run_cell("%config LinkisMagics.gateway_outage_timeout = -1")
        assert "gateway_outage_timeout must be a positive number" in caplog.text
        assert magics.gateway_outage_timeout is None
        shell.run_cell("%config LinkisMagics.gateway_outage_timeout = 2.5")
        settings = magics.session.settings()
        assert settings.origin("gateway_outage_timeout") == (
            "%config LinkisMagics.gateway_outage_timeout"
        )
        assert magics.session.client(settings).gateway_outage_timeout == 2.5

    def test_help_prints_usage_and_sends_nothing(
        self, shell: Any, magics: Any, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = len(proxy.seen)
        assert shell.run_cell_magic("linkis", "-h", "select 1") is None
        assert "--var" in capsys.readouterr().out
        assert len(proxy.seen) == before


@pytest.mark.usefixtures("magics")
class TestMagicUsageErrors:
    """Magic lines with odd characters and huge values are UsageErrors that send nothing."""

    @pytest.mark.parametrize(
        ("line", "cell", "needle"),
        [
            ("sql -c 'IDÉ'", "select 1", "creator"),
            ("sql -c 'I\x01DE'", "select 1", "creator"),
            ("sql -e 'spark-3.2.1\x00'", "select 1", "engine"),
            ("sql --limit 1e3", "select 1", "--limit expects a whole number"),
            ("sql --timeout 1e400", "select 1", "--timeout expects a number"),
            ("sql --timeout nan", "select 1", "--timeout expects a number"),
            ("sql -o 'x y'", "select 1", "-o expects a Python variable name"),
            ("sql", "\u3000\n\t", "the cell is empty"),
        ],
    )
    def test_cell(self, shell: Any, proxy: FaultProxy, line: str, cell: str, needle: str) -> None:
        before = len(proxy.seen)
        with pytest.raises(UsageError) as info:
            shell.run_cell_magic("linkis", line, cell)
        assert needle in str(info.value)
        assert len(proxy.seen) == before

    def test_control_character_variable_name(self, shell: Any, proxy: FaultProxy) -> None:
        before = len(proxy.seen)
        with pytest.raises(UsageError, match="without control characters"):
            shell.run_cell_magic("linkis", "sql --var 'k\x00=v'", "select '${k}'")
        assert len(proxy.seen) == before
