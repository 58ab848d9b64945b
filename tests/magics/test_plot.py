"""``%linkis plot`` and ``%linkis profile`` in a real IPython shell against the sandbox.

Each runs one job through the Runner like a cell (the run is recorded, the display follows it)
and returns an Axes or a profile; bad input is a usage error before anything is sent (the
recording proxy in front of the sandbox counts the submits).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest
from IPython.core.error import UsageError
from matplotlib.axes import Axes

from linkis_magic.errors import JobFailed
from tests.support.proxy import FaultProxy

matplotlib.use("Agg")

SUBMIT = "entrance/submit"


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


class TestPlotCommand:
    """One job per plot, followed like a cell; the Axes comes back."""

    def test_histogram_runs_one_job_and_returns_axes(
        self, shell: Any, magics: Any, proxy: FaultProxy
    ) -> None:
        before = proxy.count("POST", SUBMIT)
        ax = shell.run_line_magic("linkis", "plot histogram default.emp comm --bins 3")
        assert isinstance(ax, Axes)
        assert proxy.count("POST", SUBMIT) == before + 1
        run = magics.session.last_run
        assert run.job.state.value == "Succeed" and run.job_engine
        task = magics.session.client().task(run.job.task_id)
        assert "floor(" in (task.execution_code or "") and "percentile_approx" not in (
            task.execution_code or ""
        )
        assert ax.get_legend().get_texts()[0].get_text() == "comm (10 NULLs)"

    def test_boxplot_bar_and_pie(self, shell: Any, magics: Any) -> None:
        box = shell.run_line_magic("linkis", "plot boxplot emp sal comm --where 'deptno <> 10'")
        assert len(box.get_xticklabels()) == 2
        bar = shell.run_line_magic("linkis", "plot bar emp job --top 3")
        assert bar.get_title() == "job in emp: top 3 of 5 values, 0 NULLs"
        pie = shell.run_line_magic("linkis", "plot pie --query 'select deptno from emp' deptno")
        assert pie.get_title() == "deptno in query: 14 rows, 0 NULLs"

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("plot histogram emp ename", "'ename' is string"),
            ("plot boxplot emp sal hiredate", "'hiredate' is date"),
            ("plot histogram emp nope", "no column 'nope'"),
            ("plot histogram emp sal --bins ten", "--bins"),
            ("plot bar emp job dept", "takes one COLUMN"),
            ("plot violin emp sal", "invalid choice"),
            ("plot histogram", "name a \\[DB.\\]TABLE"),
            ("plot pie emp job --where ''", "--where must be a SQL condition"),
        ],
    )
    def test_usage_errors_send_nothing(
        self, shell: Any, magics: Any, proxy: FaultProxy, line: str, message: str
    ) -> None:
        before = proxy.count("POST", SUBMIT)
        with pytest.raises(UsageError, match=message):
            shell.run_line_magic("linkis", line)
        assert proxy.count("POST", SUBMIT) == before

    def test_without_matplotlib_it_says_how_to_install_it(
        self, shell: Any, magics: Any, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails as if absent
        before = proxy.count("POST", SUBMIT)
        with pytest.raises(UsageError, match=r"pip install 'linkis-magic\[plot\]'"):
            shell.run_line_magic("linkis", "plot histogram emp sal")
        assert proxy.count("POST", SUBMIT) == before

    def test_a_failed_job_fails_the_command(self, shell: Any, magics: Any) -> None:
        with pytest.raises(JobFailed):
            shell.run_line_magic("linkis", "plot bar emp job --where 'no_such_column = 1'")


class TestProfileCommand:
    """Statistics as rows, columns as columns; -o binds it, --html writes a standalone page."""

    def test_profile_binds_and_writes_html(
        self, shell: Any, magics: Any, proxy: FaultProxy, tmp_path: Path
    ) -> None:
        before = proxy.count("POST", SUBMIT)
        target = tmp_path / "emp.html"
        frame = shell.run_line_magic("linkis", f"profile emp -o prof --html {target}")
        assert proxy.count("POST", SUBMIT) == before + 1
        assert isinstance(frame, pd.DataFrame) and shell.user_ns["prof"] is frame
        assert frame.loc["nulls", "comm"] == 10 and frame.loc["distinct", "job"] == 5
        page = target.read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "Profile of emp" in page
        assert "<script" not in page and ">comm</th>" in page

    def test_profile_usage_errors_send_nothing(
        self, shell: Any, magics: Any, proxy: FaultProxy, tmp_path: Path
    ) -> None:
        before = proxy.count("POST", SUBMIT)
        with pytest.raises(UsageError, match=r"no table default\.nope"):
            shell.run_line_magic("linkis", "profile nope")
        with pytest.raises(UsageError, match="-o expects a Python variable name"):
            shell.run_line_magic("linkis", "profile emp -o 1x")
        with pytest.raises(UsageError, match="does not exist"):
            shell.run_line_magic("linkis", f"profile emp --html {tmp_path / 'no' / 'x.html'}")
        assert proxy.count("POST", SUBMIT) == before
