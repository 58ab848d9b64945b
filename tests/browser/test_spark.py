"""Spark from the magic, as a JupyterLab user gets it: one line starts the local sandbox on
Spark, then a `%%linkis sql -e spark-...` cell shows one row per Spark job in the widget.

The kernel forgets the session's gateway URL (so the magic uses its embedded sandbox) and
keeps that sandbox's state in a directory of this test; the kernel's shutdown stops it.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import expect

if TYPE_CHECKING:
    from tests.browser.conftest import NotebookFactory

pytestmark = [pytest.mark.browser, pytest.mark.spark]

JOIN = """\
%%linkis sql -e spark-3.5.0 -o sdf
select a.k, count(*) as n
from (select x % 10 as k, x from range(200000) t(x)) a
join range(200000) b(y) on a.x = b.y
group by a.k order by a.k"""
SPARK_TIMEOUT_MS = 180_000  # a Spark session's first start on two shared cores


def private_sandbox(root: Path) -> str:
    """A first cell: no configured gateway, embedded-sandbox state under `root`."""
    (root / "run").mkdir(mode=0o700)
    return "\n".join(
        [
            "import os",
            "for _k in [k for k in os.environ if k.startswith('LINKIS_')]:",
            "    del os.environ[_k]",
            f"os.environ['XDG_RUNTIME_DIR'] = {str(root / 'run')!r}",
            f"os.environ['XDG_DATA_HOME'] = {str(root / 'data')!r}",
        ]
    )


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="needs pyspark")
def test_one_line_starts_spark_and_the_widget_shows_spark_jobs(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook(
        [
            private_sandbox(tmp_path),
            "%load_ext linkis_magic",
            "%linkis sandbox start --spark-master local[2]",
            JOIN,
            "sdf.n.tolist()",
        ]
    )
    for index in range(5):
        nb.run_cell(index)
        nb.wait_done(index, timeout_ms=SPARK_TIMEOUT_MS)
    expect(nb.output(2)).to_contain_text("Spark local[2]")
    card = nb.output(3).locator(".linkis-job")
    expect(card.locator(".linkis-header")).to_contain_text("Succeed")
    rows = card.locator(".linkis-stage")
    expect(rows.first).to_be_visible()
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert len(texts) >= 2, texts  # a join with a shuffle: several Spark jobs
    for text in texts:
        assert re.search(r"jobId-\d+", text), text
        assert re.search(r"(\d+) succeeded / 0 running / 0 failed / \1 total", text), text
    expect(nb.output(4)).to_contain_text(str([20000] * 10))
    nb.no_widget_errors()
    nb.screenshot("widget-spark", nb.cell(3))
