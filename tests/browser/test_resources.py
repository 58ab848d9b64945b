"""The widget's resource line in JupyterLab: a `%%linkis` cell against a gateway with YARN.

The sandbox has no YARN (its progressWithResource says ``yarnResource: null``), so this cell
runs against the loopback double (tests/support/double.py), which answers
progressWithResource with ``yarnMetrics`` (docs/linkis-protocol.md §14.1) and holds the job
Running until the test has looked at the live widget. The kernel reaches the double on
127.0.0.1 through `%config LinkisMagics.gateway_url`.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import expect
from tests.support.double import ALICE_PASSWORD, EXEC_ID, LinkisDouble, Reply, Request, envelope
from tests.support.scripts import (
    TASK_ID,
    LogScript,
    ResultFile,
    ResultServer,
    task_doc,
    yarn_progress,
)

if TYPE_CHECKING:
    from tests.browser.conftest import NotebookFactory

pytestmark = pytest.mark.browser

APP = "application_1700000000000_0042"
LOG = [
    "2024-01-01 10:00:00.101 INFO Task 7 submitted to engine spark-3.2.1 (queue root.analytics)",
    f"2024-01-01 10:00:02.348 INFO Spark application {APP} started: 2 executors, 4 cores",
    "2024-01-01 10:00:03.912 INFO Stage 1 (group by dept) started: 10 tasks",
]
QUERY = """\
%%linkis -e spark-3.2.1 -o by_dept
select dept, count(*) as n from emp group by dept"""


class HeldJob:
    """entrance status and jobhistory: Running until ``release``, then Succeed."""

    def __init__(self) -> None:
        self.released = threading.Event()

    @property
    def state(self) -> str:
        return "Succeed" if self.released.is_set() else "Running"

    def status(self, _req: Request) -> Reply:
        return envelope({"status": self.state, "execID": EXEC_ID})

    def history(self, _req: Request) -> Reply:
        return envelope(task_doc(self.state))


@pytest.fixture
def yarn_gateway(gw: LinkisDouble) -> HeldJob:
    """The double scripted for one Spark job holding one YARN application."""
    job = HeldJob()
    gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": TASK_ID})
    gw.on("GET", f"entrance/{EXEC_ID}/status", job.status)
    gw.on("GET", f"jobhistory/{TASK_ID}/get", job.history)
    gw.on("GET", f"entrance/{EXEC_ID}/log", LogScript(LOG))
    gw.on(
        "GET",
        f"entrance/{EXEC_ID}/progressWithResource",
        yarn_progress((APP, 8, 4), core_share=0.25, memory_share=0.4),
    )
    rows: list[list[str | None]] = [["ops", "7"], ["sales", "12"]]
    ResultServer(gw).add(ResultFile("_0.dolphin", [("dept", "string"), ("n", "bigint")], rows))
    return job


def connect_cell(url: str) -> str:
    return "\n".join(
        [
            "%load_ext linkis_magic",
            f"%config LinkisMagics.gateway_url = {url!r}",
            "%config LinkisMagics.user = 'alice'",
            f"%config LinkisMagics.password = {ALICE_PASSWORD!r}",
        ]
    )


# The share bars' sizes, read in one go (see the test).
_BAR_BOXES_JS = """(job) => [...job.querySelectorAll('.linkis-yarn-app .linkis-share-bar')]
    .map((bar) => bar.getBoundingClientRect())
    .map((r) => ({width: r.width, height: r.height}))"""


def share_widths(view: Any) -> list[str]:
    """The fill widths of the share bars (inline style, e.g. "25.0%"), in order."""
    widths: list[str] = view.locator(".linkis-share-bar").evaluate_all(
        "(bars) => bars.map((bar) => bar.style.width)"
    )
    return widths


class TestResourceLine:
    """Queue, cores, GiB, application id and two share bars while running, and after."""

    def test_live_widget_and_card_show_the_yarn_application(
        self, notebook: NotebookFactory, gw: LinkisDouble, yarn_gateway: HeldJob
    ) -> None:
        """The running widget has one resource line with both bars; the card keeps it."""
        nb = notebook([connect_cell(gw.url), QUERY])
        nb.run_cell(0)
        nb.wait_done(0)
        nb.run_cell(1)
        view = nb.output(1).locator(".linkis-job:has(.linkis-progress)")
        expect(view.locator(".linkis-header")).to_contain_text("Running")
        line = view.locator(".linkis-resources .linkis-yarn-app")
        expect(line).to_have_count(1)
        expect(line).to_be_visible()
        expect(line).to_contain_text(
            re.compile(rf"queue root\.analytics · 4 cores · 8\.0 GiB · {APP}")
        )
        expect(line.locator(".linkis-app-id")).to_have_text(APP)
        shares = line.locator(".linkis-share")
        expect(shares).to_have_count(2)
        expect(shares.nth(0)).to_have_text(re.compile(r"^\s*cores\s+25%\s*$"))
        expect(shares.nth(1)).to_have_text(re.compile(r"^\s*memory\s+40%\s*$"))
        assert share_widths(line) == ["25%", "40%"]
        # measured in one evaluate on the job view: the line itself is redrawn on a change
        boxes = view.evaluate(_BAR_BOXES_JS)
        assert len(boxes) == 2, boxes
        assert all(box["width"] > 0 and box["height"] > 0 for box in boxes), boxes
        expect(view.locator(".linkis-stage").first).to_contain_text("4 succeeded")
        expect(view.locator(".linkis-log pre")).to_contain_text(APP)
        nb.no_widget_errors()
        nb.screenshot("widget-resources", nb.cell(1))

        yarn_gateway.released.set()
        nb.wait_done(1)
        card = nb.output(1).locator(".linkis-job.linkis-static")
        expect(card.locator(".linkis-header")).to_contain_text("Succeed")
        kept = card.locator(".linkis-resources .linkis-yarn-app")
        expect(kept).to_have_count(1)
        expect(kept).to_contain_text(re.compile(rf"4 cores · 8\.0 GiB · {APP}"))
        expect(kept.locator(".linkis-share")).to_have_count(2)
        assert share_widths(kept) == ["25%", "40%"]
        expect(card.locator(".linkis-summary")).to_have_text("result 0: 2 rows × 2 columns")
        expect(nb.output(1).locator("table.dataframe tbody tr")).to_have_count(2)
        nb.no_widget_errors()
        # one progress call per tick: the plain route was never needed
        assert gw.calls("GET", f"entrance/{EXEC_ID}/progress") == []
