"""WidgetDisplay: the live ipywidgets view of one job, and its static card when done.

One composite ``VBox`` (children declared once, assigned whole, as in ipywidgets'
``widget_templates.py``): state badge, overall bar, one row per Linkis stage, one line per YARN
application the job holds (hidden when it holds none), a log tail with error lines in red, a
Kill button and a summary. When the job ends the cell's output is replaced in place by a static
HTML card of the final state, so a saved notebook shows that card in every frontend instead of
"Error displaying widget: model not found". ipywidgets is imported only when a widget display
is built.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from linkis_magic.display._base import JobDisplay
from linkis_magic.display._format import (
    LOG_TAIL_LINES,
    RESOURCES_STYLE,
    header_html,
    log_html,
    notices_html,
    outcome_html,
    percent,
    resources_html,
    settle_stage,
    stage_counts,
    status_line,
    summary_html,
    unreachable_text,
)
from linkis_magic.protocol import JobStatus

if TYPE_CHECKING:
    from linkis_magic.job import JobSnapshot
    from linkis_magic.protocol import Resources, StageProgress
    from linkis_magic.results import ResultSet


def _job_box_class() -> type[Any]:
    """Define the VBox subclass lazily so importing this module does not import ipywidgets."""
    global _JOB_BOX
    if _JOB_BOX is not None:
        return _JOB_BOX
    import ipywidgets as widgets

    class JobBox(widgets.VBox):  # type: ignore[misc]
        """VBox whose ``text/plain`` is the job's status line, not the nested widget repr.

        Frontends without a widget manager (jupyter console, nbconvert without widget state,
        untrusted notebooks) show that text instead of ``VBox(children=(HTML(...``.
        """

        def __init__(self, plain: Callable[[], str], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._plain = plain

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
            data: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
            if data is not None:
                data["text/plain"] = self._plain()
            return data

    _JOB_BOX = JobBox
    return JobBox


_JOB_BOX: type[Any] | None = None


class _StageRow:
    """One progressInfo entry: id label, task bar, counts. Reused across updates."""

    def __init__(self, stage_id: str) -> None:
        import ipywidgets as widgets

        self.label = widgets.Label(value=stage_id, layout=widgets.Layout(width="10em"))
        self.bar = widgets.IntProgress(value=0, min=0, max=1, bar_style="info")
        self.counts = widgets.Label(value="")
        self.last: StageProgress | None = None
        self.box = widgets.HBox([self.label, self.bar, self.counts])
        self.box.add_class("linkis-stage")

    def set(self, stage: StageProgress) -> None:
        self.last = stage
        total = max(int(stage.total), 1)
        self.bar.max = total
        self.bar.value = max(0, min(int(stage.succeeded), total))
        if stage.failed:
            self.bar.bar_style = "danger"
        elif stage.total and stage.succeeded >= stage.total:
            self.bar.bar_style = "success"
        else:
            self.bar.bar_style = "info"
        self.counts.value = stage_counts(stage)


_FINAL_BAR_STYLE = {
    JobStatus.SUCCEED: "success",
    JobStatus.CANCELLED: "warning",
    JobStatus.FAILED: "danger",
    JobStatus.TIMEOUT: "danger",
}


class WidgetDisplay(JobDisplay):
    """The live ipywidgets view of one job (see the module docstring).

    Children are created once in ``__init__``; renders only set trait values, and the stage
    box's ``children`` tuple is assigned whole when a new stage appears. With
    ``static_on_finish`` (the default) ``finish`` replaces the cell output, in place, by a
    static ``text/plain`` + ``text/html`` card so saved notebooks never show a dead widget.
    """

    def __init__(
        self,
        *,
        on_kill: Callable[[], None] | None = None,
        title: str = "",
        min_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], None]], None] | None = None,
        static_on_finish: bool = True,
    ) -> None:
        super().__init__(
            on_kill=on_kill, title=title, min_interval=min_interval, clock=clock, schedule=schedule
        )
        import ipywidgets as widgets

        self.static_on_finish = static_on_finish
        self._plain = f"{title or 'Linkis job'}: submitted"
        self._handle: Any = None
        self._stage_rows: dict[str, _StageRow] = {}
        self._resources: Resources | None = None

        self.header = widgets.HTML(value=header_html(None, title))
        self.header.add_class("linkis-state")
        self.notice = widgets.HTML(value="")
        self.notice.add_class("linkis-notice")
        self.overall = widgets.FloatProgress(
            value=0.0,
            min=0.0,
            max=1.0,
            description="0%",
            bar_style="info",
            style={"description_width": "initial"},
        )
        self.overall.add_class("linkis-progress")
        self.stages = widgets.VBox([])
        self.stages.add_class("linkis-stages")
        self.resources = widgets.HTML(value="")
        self.resources.add_class("linkis-resources")
        self.resources.layout.display = "none"  # no empty box while the job holds nothing
        self.log = widgets.HTML(value="")
        self.log.add_class("linkis-log")
        self.kill_button = widgets.Button(
            description="Kill",
            button_style="danger",
            icon="stop",
            tooltip="Kill this Linkis job",
            disabled=on_kill is None,
        )
        self.kill_button.add_class("linkis-kill")
        if on_kill is None:
            self.kill_button.layout.display = "none"
        self.kill_button.on_click(self._kill_clicked)
        self.summary = widgets.HTML(value="")
        self.summary.add_class("linkis-summary")
        self.errors = widgets.Output()
        self.errors.add_class("linkis-errors")
        self.widget = _job_box_class()(
            lambda: self._plain,
            children=(
                self.header,
                self.notice,
                widgets.HBox([self.overall, self.kill_button]),
                self.stages,
                self.resources,
                self.log,
                self.summary,
                self.errors,
            ),
        )
        self.widget.add_class("linkis-job")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.widget._repr_mimebundle_(**kwargs)
        return result

    def show(self) -> None:
        """Display the widget once; keep the display handle to swap in the final card."""
        with self._lock:
            if self._handle is not None:
                return
            from IPython import display as ipydisplay

            show: Callable[..., Any] = ipydisplay.display
            self._handle = show(self.widget, display_id=True)
            if self._handle is None:  # no InteractiveShell: display() printed the repr
                self._handle = False

    def _kill_clicked(self, _button: Any) -> None:
        # Runs on the kernel's main thread while the cell awaits: keep it short, no I/O here.
        self.kill_button.disabled = True
        self.kill_button.description = "Killing…"
        if self.on_kill is None:
            return
        try:
            self.on_kill()
        except Exception:
            self.errors.append_stderr(traceback.format_exc())

    def _render(self, snap: JobSnapshot) -> None:
        self._plain = status_line(snap, self.title)
        self.header.value = header_html(snap, self.title)
        state = snap.state
        fraction = 1.0 if state is JobStatus.SUCCEED else min(max(float(snap.progress), 0.0), 1.0)
        if not math.isfinite(fraction):
            fraction = 0.0
        self.overall.value = fraction
        self.overall.description = f"{percent(fraction)}%"
        rows_changed = False
        for stage in snap.stages:
            row = self._stage_rows.get(stage.id)
            if row is None:
                row = self._stage_rows[stage.id] = _StageRow(stage.id)
                rows_changed = True
            row.set(settle_stage(stage, state))
        # Rows the final snapshot no longer reports keep their last mid-run counts: settle
        # every row, so a finished job never shows running tasks (a no-op while it runs).
        for row in self._stage_rows.values():
            if row.last is not None:
                settled = settle_stage(row.last, state)
                if settled is not row.last:
                    row.set(settled)
        if rows_changed:
            self.stages.children = tuple(r.box for r in self._stage_rows.values())
        self._show_resources(snap.resources)
        tail = list(snap.log_tail)[-LOG_TAIL_LINES:]
        self.log.value = log_html(tail, snap.error_lines) if tail else ""
        notices = notices_html(snap.notices, unreachable_text(snap))
        if self.notice.value != notices:
            self.notice.value = notices

    def _show_resources(self, resources: Resources | None) -> None:
        """One line per YARN application; the last ones reported stay once the gateway stops
        reporting them (a finished job's progress may come without its metrics)."""
        if resources is None or not resources.apps or resources == self._resources:
            return
        self._resources = resources
        self.resources.value = f'<div style="{RESOURCES_STYLE}">{resources_html(resources)}</div>'
        self.resources.layout.display = ""

    def _finish(
        self,
        snap: JobSnapshot,
        results: Sequence[ResultSet] | None,
        error: BaseException | None,
    ) -> None:
        state = snap.state
        style = "warning" if state is None else _FINAL_BAR_STYLE.get(state, "warning")
        if error is not None and state is JobStatus.SUCCEED:
            style = "warning"  # the job ran but loading its results failed
        self.overall.bar_style = style
        self.kill_button.disabled = True
        if self.kill_button.description != "Kill":
            self.kill_button.description = "Kill"
        text = self.summary_text(snap, results, error)
        self._plain = text  # text/plain stays the complete one-line summary
        # the header already shows title, state, time and ids: the line below adds the rest
        self.summary.value = outcome_html(snap, results, error)
        if not self._handle:
            return
        if self.static_on_finish:
            self._handle.update(
                {
                    "text/plain": text,
                    "text/html": summary_html(
                        snap,
                        results,
                        error,
                        title=self.title,
                        stages=[r.last for r in self._stage_rows.values() if r.last is not None],
                        resources=self._resources,
                    ),
                },
                raw=True,
            )
        else:  # re-publish the widget so its text/plain fallback is the summary
            self._handle.update(self.widget)
