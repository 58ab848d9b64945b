"""Spark from the magic: one line gives the embedded sandbox real Spark (spark group).

Skipped without pyspark, except on CI, where a missing [spark] extra is an error.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkis_magic.embedded import EmbeddedSandbox
from linkis_magic.magics import LinkisMagics

if importlib.util.find_spec("pyspark") is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI runs the spark group: install the [spark] extra (pyspark)")
    pytest.skip("the [spark] extra is not installed", allow_module_level=True)

pytestmark = pytest.mark.spark

# Two tables joined and grouped: several Spark jobs, each with its own tasks.
JOIN = """\
select a.k, count(*) as n
from (select x % 10 as k, x from range(200000) t(x)) a
join range(200000) b(y) on a.x = b.y
group by a.k order by a.k"""


@pytest.fixture
def own_sandbox(clean_magics: LinkisMagics, tmp_path: Path) -> Iterator[LinkisMagics]:
    """The magics with no gateway configured and an embedded sandbox of this test's own."""
    box = EmbeddedSandbox(state_dir=tmp_path / "run", data_dir=tmp_path / "data")
    saved, clean_magics.session.sandbox = clean_magics.session.sandbox, box
    try:
        yield clean_magics
    finally:
        box.stop()
        clean_magics.session.sandbox = saved


class TestSparkFromTheMagic:
    """``%linkis sandbox start --spark-master`` and the sandbox_spark_master trait."""

    def test_one_line_then_spark_cells(
        self, shell: Any, own_sandbox: LinkisMagics, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_cell_magic("linkis", "-q", "select 1 as warm")  # a sandbox without Spark
        before = own_sandbox.session.sandbox.url
        shell.run_line_magic("linkis", "sandbox start --spark-master local[2]")
        out = capsys.readouterr().out
        assert "restarted the local sandbox" in out and "Spark local[2]" in out
        assert own_sandbox.session.sandbox.url != before
        shell.run_cell_magic("linkis", "sql -e spark-3.5.0 -o sdf", JOIN)
        frame = shell.user_ns["sdf"]
        assert frame["n"].tolist() == [20000] * 10
        stages = own_sandbox.session.last_run.job.snapshot().stages  # the widget's stage rows
        assert len(stages) >= 2 and all(s.id.startswith("jobId-") for s in stages)
        assert all(s.total > 0 and s.succeeded == s.total for s in stages)
        shell.run_line_magic("linkis", "sandbox status")
        assert "Spark local[2]" in capsys.readouterr().out

    def test_trait_starts_the_sandbox_with_spark(
        self, shell: Any, own_sandbox: LinkisMagics, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_line_magic("config", "LinkisMagics.sandbox_spark_master = 'local[2]'")
        frame = shell.run_cell_magic("linkis", "-e spark-3.5.0", "select 41 + 1 as answer")
        assert frame["answer"].tolist() == [42]
        assert "spark-* on Spark local[2]" in capsys.readouterr().out
        log = "\n".join(own_sandbox.session.last_run.job.log_lines)
        assert "DuckDB" not in log and "DAGScheduler" in log, log  # Spark ran it, not DuckDB
