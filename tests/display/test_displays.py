"""Unit tests for linkis_magic.display: widgets, text lines and frontend detection in-process."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from linkis_magic.config import Settings
from linkis_magic.display import (
    LOG_TAIL_LINES,
    NullDisplay,
    TextDisplay,
    WidgetDisplay,
    frontend_mode,
    make_display,
    summary_text,
)
from linkis_magic.errors import ConfigurationError
from linkis_magic.protocol import Column, JobStatus, StageProgress
from linkis_magic.results import ResultSet
from tests.support.clock import FakeClock
from tests.support.snapshots import make_snap, table_result


class Timers:
    """Collects deferred flushes instead of starting timer threads; fire() runs them."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, delay: float, fn: Callable[[], None]) -> None:
        self.pending.append((delay, fn))

    def fire(self) -> None:
        due, self.pending = self.pending, []
        for _, fn in due:
            fn()


def states(d: WidgetDisplay) -> str:
    return re.sub(r"<[^>]+>", "", d.header.value)


class TestWidgetDisplay:
    """The composite widget reflects snapshots: badge, bars, stage rows, log pane, Kill."""

    def test_children_declared_once_with_css_classes(self) -> None:
        """The VBox holds header, bar+Kill, stages, log, summary and errors with stable classes."""
        d = WidgetDisplay(on_kill=lambda: None, title="demo")
        classes = [c._dom_classes for c in d.widget.children]
        assert "linkis-job" in d.widget._dom_classes
        assert classes[0] == ("linkis-state",)
        assert d.kill_button._dom_classes == ("linkis-kill",)
        assert d.log._dom_classes == ("linkis-log",)
        assert d.summary._dom_classes == ("linkis-summary",)
        assert "Submitted" in d.header.value

    def test_state_badge_elapsed_and_ids(self) -> None:
        """The header shows the state name, elapsed time, taskID and the short execID."""
        d = WidgetDisplay(on_kill=None)
        d.update(make_snap("Running", elapsed=75.0))
        text = states(d)
        assert "Running" in text
        assert "1m 15s" in text
        assert "taskID 17" in text
        assert "execID IDE_alice_spark_0" in text
        assert "#1565c0" in d.header.value  # running colour

    def test_stage_rows_appear_and_update(self) -> None:
        """One row per stage; rows are reused and a new stage adds a row."""
        clock = FakeClock()
        d = WidgetDisplay(on_kill=None, clock=clock.now, schedule=Timers())
        d.update(make_snap(progress=0.25, stages=[("s1", 2, 0, 3, 8)]))
        assert len(d.stages.children) == 1
        row = d.stages.children[0]
        label, bar, counts = row.children
        assert label.value == "s1"
        assert (bar.value, bar.max) == (2, 8)
        assert counts.value == "2 succeeded / 3 running / 0 failed / 8 total"
        assert d.overall.value == 0.25
        assert d.overall.description == "25%"

        clock.advance(1)
        d.update(make_snap(progress=0.6, stages=[("s1", 8, 0, 0, 8), ("s2", 1, 1, 2, 4)]))
        assert len(d.stages.children) == 2
        assert d.stages.children[0] is row  # reused, not rebuilt
        assert (bar.value, bar.bar_style) == (8, "success")
        s2 = d.stages.children[1]
        assert s2.children[0].value == "s2"
        assert s2.children[1].bar_style == "danger"  # a failed task
        assert s2.children[2].value == "1 succeeded / 2 running / 1 failed / 4 total"
        assert "linkis-stage" in s2._dom_classes

    def test_log_tail_keeps_last_lines(self) -> None:
        """The log pane shows only the last LOG_TAIL_LINES lines of the tail."""
        d = WidgetDisplay(on_kill=None)
        lines = [f"INFO line {i}" for i in range(50)]
        d.update(make_snap(tail=lines))
        shown = re.sub(r"<[^>]+>", "", d.log.value).splitlines()
        assert shown == lines[-LOG_TAIL_LINES:]

    def test_error_lines_highlighted_and_escaped(self) -> None:
        """Error lines are red; markup in log lines is escaped, never interpreted."""
        d = WidgetDisplay(on_kill=None)
        bad = "2024-01-01 10:00:00.123 ERROR <script>alert('x')</script> & failed"
        listed = "Caused by: boom"  # not matching the pattern, but in error_lines
        # Linkis's rule, the one the job uses: an INFO line naming an exception is not an error
        info = "2024-01-01 10:00:01.000 INFO retry after java.io.IOException: FATAL Error: x"
        d.update(make_snap(tail=["INFO ok <b>", bad, listed, info], errors=[listed]))
        value = d.log.value
        assert "<script>" not in value
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; failed" in value
        assert "INFO ok &lt;b&gt;" in value
        red = re.findall(r'<span class="linkis-log-error"[^>]*>([^<]*)</span>', value)
        assert len(red) == 2
        assert "Caused by: boom" in red[1]
        assert "INFO ok" not in "".join(red)

    def test_finish_success_summary_and_styles(self) -> None:
        """finish(): rows × columns per result set under the header, green bar, Kill disabled.

        The summary line says only what the header does not (title, state and time are in the
        header); the widget's text/plain is still the complete one-line summary.
        """
        d = WidgetDisplay(on_kill=lambda: None, title="q1")
        d.update(make_snap(progress=0.5))
        results = [table_result(1, 10, 3), table_result(2, 0, 1)]
        d.finish(make_snap("Succeed", progress=1.0, elapsed=3.25), results)
        text = re.sub(r"<[^>]+>", "", d.summary.value)
        assert text == "result 1: 10 rows × 3 columns | result 2: 0 rows × 1 columns"
        assert "3.2s" in states(d)
        assert d.overall.bar_style == "success"
        assert d.overall.value == 1.0
        assert d.kill_button.disabled
        bundle = d.widget._repr_mimebundle_()
        assert bundle["text/plain"] == f"q1: Succeed in 3.2s | {text}"
        assert "application/vnd.jupyter.widget-view+json" in bundle

    @pytest.mark.parametrize(
        ("state", "style"), [("Failed", "danger"), ("Timeout", "danger"), ("Cancelled", "warning")]
    )
    def test_finish_failure_styles(self, state: str, style: str) -> None:
        """Failed/Timeout turn the bar red, Cancelled orange; errCode/errDesc reach the summary."""
        d = WidgetDisplay(on_kill=None)
        d.finish(make_snap(state, progress=0.3, err_code=21304, err_desc="Table not found\nat x"))
        assert d.overall.bar_style == style
        assert "errCode 21304: Table not found" in d.summary.value
        assert "at x" not in d.summary.value

    def test_kill_click_calls_on_kill_and_disables(self) -> None:
        """Clicking Kill calls the callback once and disables the button."""
        calls: list[str] = []
        d = WidgetDisplay(on_kill=lambda: calls.append("kill"))
        d.kill_button.click()
        assert calls == ["kill"]
        assert d.kill_button.disabled

    def test_kill_callback_error_goes_to_output(self) -> None:
        """An exception inside on_kill is shown in the errors Output, not lost or raised."""

        def boom() -> None:
            raise RuntimeError("gateway unreachable")

        d = WidgetDisplay(on_kill=boom)
        d.kill_button.click()
        assert d.kill_button.disabled
        assert "RuntimeError: gateway unreachable" in d.errors.outputs[0]["text"]

    def test_without_on_kill_button_hidden(self) -> None:
        """No callback means no usable Kill button."""
        d = WidgetDisplay(on_kill=None)
        assert d.kill_button.disabled
        assert d.kill_button.layout.display == "none"

    def test_throttling_keeps_state_changes_and_final_state(self) -> None:
        """Rapid updates are dropped, but state changes and finish() are always drawn."""
        clock = FakeClock()
        timers = Timers()
        d = WidgetDisplay(on_kill=None, clock=clock.now, schedule=timers)
        d.update(make_snap("Running", progress=0.1))
        d.update(make_snap("Running", progress=0.2))  # same instant: throttled
        assert d.overall.value == 0.1
        clock.advance(0.3)
        d.update(make_snap("Running", progress=0.3))
        assert d.overall.value == 0.3
        d.update(make_snap("Failed", progress=0.4))  # state change: drawn at once
        assert "Failed" in states(d)
        assert d.renders == 3
        timers.fire()  # the deferred flush finds nothing newer to draw
        assert d.renders == 3
        d2 = WidgetDisplay(on_kill=None, clock=clock.now, schedule=timers)
        d2.update(make_snap("Running", progress=0.1))
        d2.update(make_snap("Running", progress=0.9))
        d2.finish(make_snap("Succeed", progress=1.0, stages=[("s1", 4, 0, 0, 4)]), [])
        assert "Succeed" in states(d2)
        assert len(d2.stages.children) == 1
        assert d2.overall.bar_style == "success"

    def test_skipped_snapshot_is_drawn_by_deferred_flush(self) -> None:
        """A throttled snapshot is drawn once the interval has passed, even with no new update."""
        clock = FakeClock()
        timers = Timers()
        d = WidgetDisplay(on_kill=None, clock=clock.now, schedule=timers)
        d.update(make_snap("Running", progress=0.1))
        clock.advance(0.1)
        d.update(make_snap("Running", progress=0.2))
        d.update(make_snap("Running", progress=0.3))
        assert d.overall.value == 0.1
        assert len(timers.pending) == 1  # one flush per burst
        assert timers.pending[0][0] == pytest.approx(0.15)
        timers.fire()
        assert d.overall.value == 0.3
        d.update(make_snap("Running", progress=0.4))
        d.finish(make_snap("Cancelled", progress=0.4))
        timers.fire()  # a flush after finish() must not redraw a running state
        assert "Cancelled" in states(d)

    def test_default_timer_flushes_on_its_own(self) -> None:
        """Without an injected scheduler a daemon timer draws the skipped snapshot."""
        d = WidgetDisplay(on_kill=None, min_interval=0.05)
        d.update(make_snap("Running", progress=0.1))
        flushed = threading.Event()
        d.overall.observe(lambda change: flushed.set(), names="value")
        d.update(make_snap("Running", progress=0.7))  # throttled
        assert flushed.wait(10)
        assert d.overall.value == 0.7

    def test_updates_after_finish_are_ignored(self) -> None:
        """A late poll tick cannot overwrite the final state."""
        d = WidgetDisplay(on_kill=None)
        d.finish(make_snap("Cancelled"))
        d.update(make_snap("Running", progress=0.5))
        assert "Cancelled" in states(d)


class TestWidgetOutputs:
    """What the cell output holds: a live status line, then a static card in place."""

    def test_show_then_finish_replaces_output_with_static_card(self, shell: Any) -> None:
        """show() publishes the widget; finish() updates the same display id with text + html."""
        d = WidgetDisplay(on_kill=lambda: None, title="q1")
        with capture_output() as cap:
            d.show()
            d.show()  # once only
            d.update(make_snap(progress=0.5, stages=[("s1", 1, 0, 1, 2)]))
            d.finish(make_snap("Succeed", elapsed=2.0), [table_result(1, 5, 2)])
        first, last = cap.outputs[0], cap.outputs[-1]
        assert len(cap.outputs) == 2
        assert "application/vnd.jupyter.widget-view+json" in first.data
        assert first.data["text/plain"] == "q1: submitted"
        assert last.update
        assert last.transient["display_id"] == first.transient["display_id"]
        assert set(last.data) == {"text/plain", "text/html"}
        assert last.data["text/plain"] == "q1: Succeed in 2.0s | result 1: 5 rows × 2 columns"
        html = last.data["text/html"]
        assert 'class="linkis-summary"' in html
        assert 'class="linkis-stage"' in html
        assert "5 rows × 2 columns" in html

    def test_keep_widget_refreshes_its_text_plain(self, shell: Any) -> None:
        """With static_on_finish=False the widget stays and its text/plain becomes the summary."""
        d = WidgetDisplay(on_kill=None, static_on_finish=False)
        with capture_output() as cap:
            d.show()
            d.update(make_snap(progress=0.5))
            assert d.widget._repr_mimebundle_()["text/plain"].startswith("Linkis job: Running")
            d.finish(make_snap("Failed", err_desc="boom"))
        last = cap.outputs[-1]
        assert last.update
        assert "application/vnd.jupyter.widget-view+json" in last.data
        assert last.data["text/plain"] == "Linkis job 17: Failed in 1.0s | boom"


class TestUnreachableGateway:
    """A gateway that stops answering is said once, at once, and cleared when it answers."""

    SINCE = datetime(2026, 1, 2, 13, 4, 5).astimezone()

    def test_text_says_it_once_and_when_it_is_back(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        clock = FakeClock()
        d = TextDisplay(on_kill=None, clock=clock.now)
        d.update(make_snap("Running", progress=0.3))
        d.update(make_snap("Running", progress=0.3, unreachable_since=self.SINCE))
        d.update(make_snap("Running", progress=0.3, unreachable_since=self.SINCE))
        d.update(make_snap("Running", progress=0.3))
        notes = [line for line in capsys.readouterr().out.splitlines() if "Note" in line]
        assert notes == [
            "  Note: gateway unreachable since 13:04:05, retrying",
            "  Note: gateway answering again",
        ]

    def test_widget_notice_line_shows_and_clears_unthrottled(self) -> None:
        clock = FakeClock()
        d = WidgetDisplay(on_kill=None, clock=clock.now, schedule=Timers())
        d.update(make_snap("Running", notices=["entrance offline"]))
        d.update(make_snap("Running", notices=["entrance offline"], unreachable_since=self.SINCE))
        assert "gateway unreachable since 13:04:05, retrying" in d.notice.value
        assert "entrance offline" in d.notice.value
        d.update(make_snap("Running", notices=["entrance offline"]))  # same instant: no throttle
        assert "unreachable" not in d.notice.value
        assert "entrance offline" in d.notice.value


class TestTextDisplay:
    """Plain lines on stdout: state changes, throttled progress, error lines, the summary."""

    def test_lines(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Prints state changes at once, progress at most every interval, errors, summary."""
        clock = FakeClock()
        d = TextDisplay(on_kill=None, clock=clock.now)
        d.show()
        d.update(make_snap("Scheduled", elapsed=0.1))
        d.update(make_snap("Running", progress=0.1, stages=[("s1", 1, 0, 1, 8)], elapsed=0.5))
        clock.advance(1)
        new = [
            "2024-01-01 10:00:00.1 INFO x",
            "2024-01-01 10:00:00.2 ERROR bad <thing>",
            "2024-01-01 10:00:00.3 INFO retry after java.io.IOException: Error: reset",
        ]
        d.update(make_snap("Running", progress=0.2, new=new))
        clock.advance(5)
        d.update(make_snap("Running", progress=0.5, stages=[("s1", 4, 0, 1, 8)], elapsed=6.0))
        clock.advance(5)
        d.update(make_snap("Running", progress=0.5, stages=[("s1", 4, 0, 1, 8)], elapsed=11.0))
        d.finish(make_snap("Succeed", elapsed=12.0), [table_result(1, 3, 2)])
        lines = capsys.readouterr().out.splitlines()
        assert lines == [
            "Linkis job: Scheduled | 0% | 0.1s | taskID 17, "
            "execID exec_id018007linkis-cg-entranceb0:9104IDE_alice_spark_0",
            "Linkis job: Running | 10% | stages s1 1/8 | 0.5s | taskID 17, "
            "execID exec_id018007linkis-cg-entranceb0:9104IDE_alice_spark_0",
            "  ! 2024-01-01 10:00:00.2 ERROR bad <thing>",
            "Linkis job: Running | 50% | stages s1 4/8 | 6.0s | taskID 17, "
            "execID exec_id018007linkis-cg-entranceb0:9104IDE_alice_spark_0",
            "Linkis job 17: Succeed in 12.0s | result 1: 3 rows × 2 columns",
        ]

    def test_failure_summary(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A failure prints the state and the error description in one line."""
        d = make_display("text", on_kill=None, title="etl")
        d.finish(make_snap("Failed", elapsed=4.0, err_code=1, err_desc="syntax error"))
        assert capsys.readouterr().out == "etl: Failed in 4.0s | errCode 1: syntax error\n"

    def test_text_and_truncated_results(self) -> None:
        """Text result sets count lines; a --limit cut is announced."""
        text = ResultSet(3, "/r/_3.dolphin", "1", None, "a\nb", (), 2, False)
        cut = ResultSet(4, "/r/_4.dolphin", "2", None, None, (Column("n", "int", None),), 5, True)
        assert summary_text(make_snap("Succeed"), [text, cut]) == (
            "Linkis job 17: Succeed in 1.0s | result 3: text, 2 lines"
            " | result 4: 5 rows × 1 columns (truncated)"
        )

    def test_exception_in_summary(self) -> None:
        """An exception raised while loading results appears when the job has no errDesc."""
        text = summary_text(make_snap("Succeed"), None, ValueError("bad page\nmore"))
        assert text == "Linkis job 17: Succeed in 1.0s | ValueError: bad page"

    def test_null_display_prints_nothing(self, capsys: pytest.CaptureFixture[str]) -> None:
        """-q: nothing at all on stdout."""
        d = make_display("none", on_kill=None)
        assert isinstance(d, NullDisplay)
        d.show()
        d.update(make_snap())
        d.finish(make_snap("Failed"))
        assert capsys.readouterr().out == ""
        assert d.summary_text(make_snap("Succeed"), []) == (
            "Linkis job 17: Succeed in 1.0s | no result sets"
        )


class TestFrontendMode:
    """Widget only in a kernel with ipywidgets; the display setting wins."""

    def test_terminal_shell_is_text(self, shell: Any) -> None:
        """A real (non-kernel) InteractiveShell gets text."""
        assert frontend_mode(shell) == "text"
        assert frontend_mode() == "text"

    def test_setting_wins(self, shell: Any) -> None:
        """The display setting beats detection; auto falls back to it."""
        assert frontend_mode(shell, "widget") == "widget"
        assert frontend_mode(shell, " Text ") == "text"
        assert frontend_mode(shell, "auto") == "text"

    def test_env_var_is_read_once_by_settings(
        self, shell: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """$LINKIS_DISPLAY reaches the display through Settings only: a %config or magic
        value over it is not overruled by a second read of the environment."""
        monkeypatch.setenv("LINKIS_DISPLAY", "widget")
        settings = Settings.from_env()
        assert frontend_mode(shell, settings.display) == "widget"
        assert frontend_mode(shell) == "text"  # the environment is not read here
        chosen = settings.merged(origin="%config LinkisMagics.display", display="auto")
        assert frontend_mode(shell, chosen.display) == "text"

    def test_bad_values_say_what_to_fix(self) -> None:
        """Unknown values raise ConfigurationError naming the setting and the choices."""
        with pytest.raises(ConfigurationError, match=r"display 'fancy' must be one of auto"):
            Settings.from_env({"LINKIS_DISPLAY": "fancy"})
        with pytest.raises(ConfigurationError, match=r"display 'gui' must be one of auto, widget"):
            frontend_mode(None, "gui")
        with pytest.raises(ConfigurationError, match="'none'"):
            make_display("html", on_kill=None)  # type: ignore[arg-type]

    def test_make_display_kinds(self) -> None:
        """make_display returns the display class for each mode with title and callback."""
        assert isinstance(make_display("widget", on_kill=None, title="t"), WidgetDisplay)
        d = make_display("text", on_kill=print, title="t")
        assert isinstance(d, TextDisplay)
        assert (d.title, d.on_kill) == ("t", print)


def test_job_status_names_match() -> None:
    """The display's colour table covers every JobStatus (a new state would be grey)."""
    from linkis_magic.display._format import BADGE_COLOURS

    assert set(BADGE_COLOURS) == {*JobStatus, None}
    assert StageProgress("s", 1, 0, 0, 2).fraction == 0.5


def test_snapshot_before_first_status() -> None:
    """A snapshot without a state yet (state=None) shows as Submitted, not "None"."""
    from linkis_magic.job import JobSnapshot

    snap = JobSnapshot(None, None, None, 0.0, 0.0, (), (), (), (), None, None, False)
    d = WidgetDisplay(on_kill=None)
    d.update(snap)
    assert "Submitted" in states(d)
    assert "None" not in states(d)
