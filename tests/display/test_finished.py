"""The finished view: the state said once, a short execID, no running tasks.

The widget header and the static card's header carry title, state badge, time and ids; the
summary line under them only adds what the header does not. The ``text/plain`` of the finished
output and the text display keep the complete one-line summary.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from linkis_magic.display import (
    TextDisplay,
    WidgetDisplay,
    settle_stage,
    short_exec_id,
    status_line,
    summary_html,
    summary_text,
)
from linkis_magic.errors import JobCancelled, JobFailed, KillUnconfirmed
from linkis_magic.protocol import JobStatus, StageProgress
from tests.support.snapshots import make_snap, table_result

FULL = "exec_id018007linkis-cg-entranceb0:9104IDE_alice_spark_0"
TITLE = "Linkis job 17 (sql on spark-2.4.3)"


def visible(markup: str) -> str:
    """The text a browser shows for ``markup`` (tags dropped, entities decoded, spaces folded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def part(markup: str, css: str) -> str:
    """The inner markup of the first ``<div class="css">`` (no nested divs inside)."""
    found = re.search(rf'<div class="{css}"[^>]*>(.*?)</div>', markup)
    assert found, f"no {css} in {markup}"
    return found.group(1)


def finished_card(snap: Any, results: Any = None, error: Any = None) -> dict[str, str]:
    """The output a finished WidgetDisplay leaves in its cell (text/plain + text/html)."""
    d = WidgetDisplay(on_kill=lambda: None, title=TITLE)
    with capture_output() as cap:
        d.show()
        d.update(make_snap(progress=0.5, stages=[("s1", 78, 0, 22, 100)]))
        d.finish(snap, results, error)
    data: dict[str, str] = cap.outputs[-1].data
    return data


class TestStateSaidOnce:
    """Header: title, badge, time, ids. Summary line: results, "no result sets" or the error."""

    def test_static_card(self, shell: Any) -> None:
        """The card shows title and state once; text/plain stays the complete summary."""
        data = finished_card(make_snap("Succeed", elapsed=0.6), [table_result(0, 3, 2)])
        card = data["text/html"]
        text = visible(card)
        assert text.count(TITLE) == 1
        assert text.count("Succeed") == 1
        assert text.count("0.6s") == 1
        assert visible(part(card, "linkis-summary")).strip() == "result 0: 3 rows × 2 columns"
        assert data["text/plain"] == f"{TITLE}: Succeed in 0.6s | result 0: 3 rows × 2 columns"

    def test_widget_kept_after_finish(self) -> None:
        """A widget that stays (static_on_finish=False) has the same calm summary line."""
        d = WidgetDisplay(on_kill=None, title=TITLE, static_on_finish=False)
        d.finish(make_snap("Succeed", elapsed=0.6), [])
        assert visible(d.summary.value) == "no result sets"
        assert TITLE in visible(d.header.value)
        assert d.widget._repr_mimebundle_()["text/plain"] == (
            f"{TITLE}: Succeed in 0.6s | no result sets"
        )

    def test_failure_says_the_error_once(self, shell: Any) -> None:
        """A failed job's summary line is the error, in red; the state is only in the badge."""
        snap = make_snap("Failed", elapsed=4.0, err_code=21304, err_desc="Table not found\nat x")
        data = finished_card(snap)
        line = part(data["text/html"], "linkis-summary")
        assert visible(line).strip() == "errCode 21304: Table not found"
        assert "#c62828" in line
        assert visible(data["text/html"]).count("Failed") == 1
        assert data["text/plain"] == f"{TITLE}: Failed in 4.0s | errCode 21304: Table not found"

    def test_results_that_failed_to_load_are_red(self) -> None:
        """Succeed plus an exception while loading results: the problem is red, not green."""
        d = WidgetDisplay(on_kill=None)
        d.finish(make_snap("Succeed"), None, ValueError("bad page"))
        assert visible(d.summary.value) == "ValueError: bad page"
        assert "#c62828" in d.summary.value

    def test_nothing_to_add_means_no_summary_line(self, shell: Any) -> None:
        """A Cancelled job with no error has nothing beyond the header: no summary line."""
        data = finished_card(make_snap("Cancelled", elapsed=2.0))
        assert 'class="linkis-summary"' not in data["text/html"]
        assert data["text/plain"] == f"{TITLE}: Cancelled in 2.0s"

    def test_kill_is_said_by_the_badge(self, shell: Any) -> None:
        """JobCancelled("... was cancelled") restates the badge: no summary line, short text."""
        error = JobCancelled("Linkis job 17 was cancelled", task_id=17, state="Cancelled")
        data = finished_card(make_snap("Cancelled", elapsed=2.0), None, error)
        assert 'class="linkis-summary"' not in data["text/html"]
        assert data["text/plain"] == f"{TITLE}: Cancelled in 2.0s"

    @pytest.mark.parametrize(
        ("state", "error", "shown"),
        [
            # a JobFailed that carries the gateway's reason is more than the state
            ("Failed", JobFailed("x", state="Failed", err_desc="quota"), "JobFailed: x"),
            # the wait ended before the job did: the state alone would hide that
            (
                "Running",
                KillUnconfirmed("k", reason="no reply", state="Running"),
                "KillUnconfirmed: k",
            ),
            ("Succeed", JobCancelled("c", state="Cancelled"), "JobCancelled: c"),
        ],
    )
    def test_errors_with_more_to_say_stay(
        self, state: str, error: BaseException, shown: str
    ) -> None:
        """Only an error that says nothing but the snapshot's own state is left out."""
        assert summary_text(make_snap(state), None, error).endswith(f" | {shown}")

    def test_text_display_keeps_the_complete_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Text mode prints one complete line: title, state, time, results."""
        d = TextDisplay(on_kill=None, title=TITLE)
        d.finish(make_snap("Succeed", elapsed=0.6), [table_result(0, 3, 2)])
        assert capsys.readouterr().out == (
            f"{TITLE}: Succeed in 0.6s | result 0: 3 rows × 2 columns\n"
        )


class TestShortExecId:
    """The header shows the short job id of the execID; the full one is its hover title."""

    @pytest.mark.parametrize(
        ("exec_id", "short"),
        [
            ("exec_id018010linkis-cg-entrancehost1:9104IDE_carol_spark_7", "IDE_carol_spark_7"),
            (FULL, "IDE_alice_spark_0"),
            # several instances joined by "_" (docs/linkis-protocol.md §3.1)
            ("exec_id018015linkis-cg-entranceh1:9104_h2:9104IDE_bo_hive_12", "IDE_bo_hive_12"),
        ],
    )
    def test_short_form(self, exec_id: str, short: str) -> None:
        """The part after the application name and instance, cut at the embedded lengths."""
        assert short_exec_id(exec_id) == short

    @pytest.mark.parametrize(
        "exec_id",
        [
            "030418IDEhivealice_0",  # the 0.x layout
            "exec_id018030linkis-cg-entranceb0:9104IDE_x",  # lengths longer than the id
            "exec_id01x007linkis-cg-entranceb0:9104IDE_x",  # not digits
            "IDE_alice_spark_0",  # already short
        ],
    )
    def test_other_layouts_stay_whole(self, exec_id: str) -> None:
        """Anything not in the 1.x layout is shown whole, never cut at a guess."""
        assert short_exec_id(exec_id) == exec_id

    def test_widget_header(self) -> None:
        """taskID and short execID are shown; the full execID is the span's title."""
        d = WidgetDisplay(on_kill=None)
        d.update(make_snap("Running"))
        header = d.header.value
        assert "taskID 17 · execID IDE_alice_spark_0" in visible(header)
        assert FULL not in visible(header)
        assert f'title="{FULL}"' in header

    def test_static_card_header(self, shell: Any) -> None:
        """The card's header is shortened the same way; text/plain needs no execID."""
        card = finished_card(make_snap("Succeed"), [])["text/html"]
        header = part(card, "linkis-header")
        assert "execID IDE_alice_spark_0" in visible(header)
        assert FULL not in visible(card)
        assert f'title="{FULL}"' in header

    def test_markup_in_ids_is_escaped(self) -> None:
        """An execID is gateway data: quoted in the title, escaped in the text."""
        d = WidgetDisplay(on_kill=None)
        d.update(make_snap(exec_id='x"><script>y'))
        assert "<script>" not in d.header.value
        assert 'title="x&quot;&gt;&lt;script&gt;y"' in d.header.value

    def test_text_mode_keeps_the_full_exec_id(self) -> None:
        """Text lines are for copying into %linkis commands: the full execID stays."""
        assert f"execID {FULL}" in status_line(make_snap("Running"))


class TestFinishedStages:
    """A finished job never shows running tasks, whatever its last progress read said."""

    @pytest.mark.parametrize(
        ("state", "before", "after"),
        [
            ("Succeed", (78, 0, 22, 100), (100, 0, 0, 100)),
            ("Succeed", (90, 3, 7, 100), (97, 3, 0, 100)),
            ("Succeed", (100, 2, 0, 100), (100, 2, 0, 100)),  # retried tasks: never fewer
            ("Failed", (78, 1, 21, 100), (78, 1, 0, 100)),
            ("Timeout", (5, 0, 3, 10), (5, 0, 0, 10)),
            ("Cancelled", (78, 0, 22, 100), (78, 0, 0, 100)),
            ("Running", (78, 0, 22, 100), (78, 0, 22, 100)),
        ],
    )
    def test_settle_stage(
        self, state: str, before: tuple[int, int, int, int], after: tuple[int, int, int, int]
    ) -> None:
        """Succeed: all but failed done; Failed/Timeout/Cancelled: nothing running; else as is."""
        stage = settle_stage(StageProgress("s1", *before), JobStatus(state))
        assert (stage.succeeded, stage.failed, stage.running, stage.total) == after

    def test_widget_rows_after_succeed_without_final_stages(self) -> None:
        """The final snapshot reports no stages: the row from the last poll still settles."""
        d = WidgetDisplay(on_kill=None)
        d.update(make_snap(progress=0.78, stages=[("s1", 78, 0, 22, 100)]))
        d.finish(make_snap("Succeed"), [])
        _label, bar, counts = d.stages.children[0].children
        assert counts.value == "100 succeeded / 0 running / 0 failed / 100 total"
        assert (bar.value, bar.bar_style) == (100, "success")

    def test_widget_rows_after_cancel(self) -> None:
        """Cancelled: the rows keep their counts but none is running."""
        d = WidgetDisplay(on_kill=None)
        d.update(make_snap(stages=[("s1", 40, 0, 10, 100), ("s2", 0, 0, 4, 8)]))
        d.finish(make_snap("Cancelled", stages=[("s1", 41, 0, 9, 100)]))
        assert [row.children[2].value for row in d.stages.children] == [
            "41 succeeded / 0 running / 0 failed / 100 total",
            "0 succeeded / 0 running / 0 failed / 8 total",
        ]

    def test_static_card_rows(self, shell: Any) -> None:
        """The card shows the settled rows too."""
        card = finished_card(make_snap("Succeed"), [])["text/html"]
        rows = re.findall(r'<tr class="linkis-stage">(.*?)</tr>', card)
        assert [visible(r).split() for r in rows] == [
            ["s1", "100", "succeeded", "/", "0", "running", "/", "0", "failed", "/", "100", "total"]
        ]

    def test_static_card_from_a_snapshot_alone(self) -> None:
        """summary_html settles the snapshot's own stages as well."""
        snap = make_snap("Failed", stages=[("s1", 3, 1, 4, 8)])
        assert "3 succeeded / 0 running / 1 failed / 8 total" in summary_html(snap)

    def test_text_line(self) -> None:
        """The status line of a finished snapshot counts every task of a succeeded stage."""
        snap = make_snap("Succeed", stages=[("s1", 4, 0, 4, 8)])
        assert "stages s1 8/8 |" in status_line(snap)
        assert summary_text(snap, []) == "Linkis job 17: Succeed in 1.0s | no result sets"
