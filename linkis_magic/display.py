"""Live job displays: an ipywidgets view, a plain-text fallback, and a silent one.

The magic picks a display with :func:`frontend_mode` / :func:`make_display` and feeds it
:class:`~linkis_magic.job.JobSnapshot` objects from ``Job.wait(on_update=...)``; a display reads
snapshots only and never talks to the gateway, so it can be driven (and tested) without one.

Why three displays:

- :class:`WidgetDisplay` is one composite ``VBox`` (children declared once, assigned whole, as
  in ipywidgets' ``widget_templates.py``): state badge, overall bar, one row per Linkis stage,
  a log tail with error lines in red, a Kill button and a summary. When the job ends the cell's
  output is replaced in place by a static HTML card of the final state, so a saved notebook
  shows that card in every frontend instead of "Error displaying widget: model not found".
- :class:`TextDisplay` prints compact progress lines for terminal IPython, ``jupyter console``
  overrides and headless runs, where a widget would only print its repr.
- :class:`NullDisplay` shows nothing (``-q``); the magic raises errors itself.

Updates come from the poll thread, Kill clicks from the kernel's main thread: renders are
serialised with a lock, throttled to a few per second, and never drop a state change or the
final state.
"""

from __future__ import annotations

import html
import math
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from linkis_magic.errors import ConfigurationError

if TYPE_CHECKING:
    from linkis_magic.job import JobSnapshot
    from linkis_magic.protocol import StageProgress
    from linkis_magic.results import ResultSet

__all__ = [
    "DISPLAY_ENV_VAR",
    "JobDisplay",
    "NullDisplay",
    "TextDisplay",
    "WidgetDisplay",
    "frontend_mode",
    "make_display",
    "summary_html",
    "summary_text",
]

DISPLAY_ENV_VAR = "LINKIS_DISPLAY"
"""Environment variable forcing the display: ``widget``, ``text`` or ``auto`` (the default)."""

FrontendMode = Literal["widget", "text"]
DisplayMode = Literal["widget", "text", "none"]

LOG_TAIL_LINES = 20
"""How many log lines the widget's log pane keeps (the job keeps every line itself)."""

_ERROR_RE = re.compile(r"\b(ERROR|FATAL)\b|Exception\b|Error:")
_SUCCESS = "Succeed"
_CANCELLED = "Cancelled"
_FAILURES = frozenset({"Failed", "Timeout"})
_BADGE_COLOURS = {
    "Submitted": "#757575",
    "Inited": "#757575",
    "WaitForRetry": "#757575",
    "Scheduled": "#757575",
    "Running": "#1565c0",
    "Succeed": "#2e7d32",
    "Failed": "#c62828",
    "Timeout": "#c62828",
    "Cancelled": "#ef6c00",
}
_ERROR_COLOUR = "#c62828"


# --------------------------------------------------------------------------- choosing a display


def frontend_mode(shell: Any = None, override: str | None = None) -> FrontendMode:
    """Decide between the widget and the text display.

    ``override`` (a magic option) wins, then ``$LINKIS_DISPLAY``; ``auto`` means: widgets only
    inside an ipykernel (``ZMQInteractiveShell``) with ipywidgets importable, the same test as
    ``tqdm.autonotebook``. Terminal IPython and plain Python get text. ``jupyter console`` is a
    kernel that cannot draw widgets and cannot be told apart from the kernel side: its users set
    ``LINKIS_DISPLAY=text`` (the widget's text repr is still a readable status line).
    """
    for source, raw in (("display override", override), (DISPLAY_ENV_VAR, _env_display())):
        if raw is None or not raw.strip():
            continue
        choice = raw.strip().lower()
        if choice == "widget" or choice == "text":
            return choice  # type: ignore[return-value]  # narrowed by the comparison
        if choice == "auto":
            break
        raise ConfigurationError(f"{source} must be 'widget', 'text' or 'auto', not {raw!r}")
    return "widget" if _widgets_usable(shell) else "text"


def _env_display() -> str | None:
    return os.environ.get(DISPLAY_ENV_VAR)


def _widgets_usable(shell: Any) -> bool:
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return False
        shell = get_ipython()
    if shell is None:
        return False
    if not any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__):
        return False
    if "ipykernel" not in sys.modules:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def make_display(
    mode: DisplayMode,
    *,
    on_kill: Callable[[], None] | None,
    title: str = "",
) -> JobDisplay:
    """Build the display for ``mode`` (``"widget"``, ``"text"`` or ``"none"``)."""
    if mode == "widget":
        return WidgetDisplay(on_kill=on_kill, title=title)
    if mode == "text":
        return TextDisplay(on_kill=on_kill, title=title)
    if mode == "none":
        return NullDisplay(on_kill=on_kill, title=title)
    raise ConfigurationError(f"display mode must be 'widget', 'text' or 'none', not {mode!r}")


# --------------------------------------------------------------------------- formatting


def format_elapsed(seconds: float) -> str:
    """Elapsed time as people read it: ``0.4s``, ``12.3s``, ``2m 05s``, ``1h 02m 03s``."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"


def _state_name(snap: JobSnapshot) -> str:
    """Linkis's spelling of the state; "Submitted" before the first status reply."""
    state = snap.state
    return "Submitted" if state is None else str(getattr(state, "value", state))


def _percent(fraction: float) -> int:
    if not math.isfinite(fraction):
        return 0
    return max(0, min(100, int(fraction * 100 + 1e-9)))


def _ids(snap: JobSnapshot) -> str:
    parts = []
    if snap.task_id is not None:
        parts.append(f"taskID {snap.task_id}")
    if snap.exec_id:
        parts.append(f"execID {snap.exec_id}")
    return ", ".join(parts)


def _stage_short(stage: StageProgress) -> str:
    text = f"{stage.id} {stage.succeeded}/{stage.total}"
    if stage.failed:
        text += f" ({stage.failed} failed)"
    return text


def _stage_counts(stage: StageProgress) -> str:
    return (
        f"{stage.succeeded} succeeded / {stage.running} running / "
        f"{stage.failed} failed / {stage.total} total"
    )


def status_line(snap: JobSnapshot, title: str = "") -> str:
    """One line describing a running job: title, state, %, stages, elapsed time, ids."""
    parts = [f"{title or 'Linkis job'}: {_state_name(snap)}"]
    if not snap.done:
        parts.append(f"{_percent(snap.progress)}%")
    if snap.stages:
        parts.append("stages " + ", ".join(_stage_short(s) for s in snap.stages))
    parts.append(format_elapsed(snap.elapsed))
    ids = _ids(snap)
    if ids:
        parts.append(ids)
    return " | ".join(parts)


def _result_text(result: ResultSet) -> str:
    if result.type == "2":
        text = f"{result.rows} rows × {len(result.columns)} columns"
    else:
        text = f"text, {result.rows} lines"
    if result.truncated:
        text += " (truncated)"
    return f"result {result.index}: {text}"


def _error_text(snap: JobSnapshot, error: BaseException | None) -> str:
    if snap.err_code is not None or snap.err_desc:
        code = f"errCode {snap.err_code}" if snap.err_code is not None else ""
        desc = (snap.err_desc or "").strip().splitlines()
        return ": ".join(p for p in (code, desc[0] if desc else "") if p)
    if error is not None:
        first = str(error).strip().splitlines()
        return f"{type(error).__name__}: {first[0]}" if first else type(error).__name__
    return ""


def summary_text(
    snap: JobSnapshot,
    results: Sequence[ResultSet] | None = None,
    error: BaseException | None = None,
    *,
    title: str = "",
) -> str:
    """The one-line summary of a finished job (also the saved notebook's ``text/plain``).

    ``Linkis job 17: Succeed in 3.2s | result 1: 10 rows × 3 columns`` or, for failures,
    the error code/description (or the exception raised while waiting or loading results).
    """
    name = title or (f"Linkis job {snap.task_id}" if snap.task_id is not None else "Linkis job")
    parts = [f"{name}: {_state_name(snap)} in {format_elapsed(snap.elapsed)}"]
    if results:
        parts.extend(_result_text(r) for r in results)
    elif _state_name(snap) == _SUCCESS and results is not None:
        parts.append("no result sets")
    problem = _error_text(snap, error)
    if problem:
        parts.append(problem)
    return " | ".join(parts)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge_html(state: str) -> str:
    colour = _BADGE_COLOURS.get(state, "#757575")
    return (
        f'<span class="linkis-badge" style="background:{colour};color:#fff;'
        f'padding:1px 8px;border-radius:8px;font-weight:bold">{_esc(state)}</span>'
    )


def _header_html(snap: JobSnapshot | None, title: str) -> str:
    label = f"<b>{_esc(title)}</b> " if title else ""
    if snap is None:
        return f'<div class="linkis-header">{label}{_badge_html("Submitted")}</div>'
    ids = _ids(snap)
    ids_html = f' <span style="color:#757575">{_esc(ids)}</span>' if ids else ""
    return (
        f'<div class="linkis-header">{label}{_badge_html(_state_name(snap))} '
        f"{_esc(format_elapsed(snap.elapsed))}{ids_html}</div>"
    )


def _is_error_line(line: str, errors: frozenset[str]) -> bool:
    return line in errors or bool(_ERROR_RE.search(line))


def log_html(lines: Sequence[str], error_lines: Sequence[str] = ()) -> str:
    """An escaped ``<pre>`` of log lines; error lines are wrapped in a red span."""
    errors = frozenset(error_lines)
    rendered = []
    for line in lines:
        text = _esc(line)
        if _is_error_line(line, errors):
            text = f'<span class="linkis-log-error" style="color:{_ERROR_COLOUR}">{text}</span>'
        rendered.append(text)
    return (
        '<pre class="linkis-log-pre" style="margin:0;max-height:22em;overflow:auto;'
        'white-space:pre-wrap;font-size:85%">' + "\n".join(rendered) + "</pre>"
    )


def summary_html(
    snap: JobSnapshot,
    results: Sequence[ResultSet] | None = None,
    error: BaseException | None = None,
    *,
    title: str = "",
    stages: Sequence[StageProgress] | None = None,
) -> str:
    """A static HTML card of the final state: what a saved notebook keeps instead of a widget.

    Uses the same CSS classes as the widget so browser tests can read either. ``stages``
    replaces ``snap.stages`` (the gateway may report none once a job has ended).
    """
    stages = snap.stages if stages is None else stages
    state = _state_name(snap)
    pct = 100 if state == _SUCCESS else _percent(snap.progress)
    colour = _BADGE_COLOURS.get(state, "#757575")
    parts = [
        '<div class="linkis-job linkis-static">',
        _header_html(snap, title),
        f'<div style="background:#e0e0e0;height:6px;margin:4px 0;max-width:40em">'
        f'<div style="background:{colour};height:6px;width:{pct}%"></div></div>',
    ]
    if stages:
        rows = "".join(
            f'<tr class="linkis-stage"><td>{_esc(s.id)}</td><td>{_esc(_stage_counts(s))}</td></tr>'
            for s in stages
        )
        parts.append(f'<table style="font-size:90%">{rows}</table>')
    tail = list(snap.log_tail)[-LOG_TAIL_LINES:]
    if tail:
        opened = " open" if state != _SUCCESS else ""
        parts.append(
            f'<details class="linkis-log"{opened}><summary>log (last {len(tail)} lines)'
            f"</summary>{log_html(tail, snap.error_lines)}</details>"
        )
    parts.append(
        '<div class="linkis-summary" style="font-weight:bold">'
        f"{_esc(summary_text(snap, results, error, title=title))}"
        "</div></div>"
    )
    return "".join(parts)


# --------------------------------------------------------------------------- displays


class JobDisplay:
    """Base display: shows nothing, knows the summary and the throttling rule.

    ``update`` may be called from the poll thread at every tick; subclasses render at most
    once per ``min_interval`` seconds except for state changes and the final snapshot, which
    are always rendered. A snapshot skipped by the throttle is drawn later by a deferred
    flush (``trailing``), because ``Job.wait`` only reports changes: without it a job that
    stalls right after a skipped tick would keep showing stale progress. ``clock`` and
    ``schedule`` (``schedule(delay, fn)``, a daemon ``threading.Timer`` by default) are
    injectable so tests need no sleeping.
    """

    min_interval: float = 0.25
    trailing: bool = True

    def __init__(
        self,
        *,
        on_kill: Callable[[], None] | None = None,
        title: str = "",
        min_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], None]], None] | None = None,
    ) -> None:
        self.on_kill = on_kill
        self.title = title
        if min_interval is not None:
            self.min_interval = min_interval
        self._clock = clock
        self._schedule = schedule or _start_timer
        self._flush_pending = False
        self._rendered: JobSnapshot | None = None
        self._lock = threading.RLock()
        self._last_render: float | None = None
        self._last_state: str | None = None
        self.last_snapshot: JobSnapshot | None = None
        self.renders = 0
        self.finished = False

    def show(self) -> None:
        """Display the (empty) view once, before the first snapshot arrives."""

    def update(self, snap: JobSnapshot) -> None:
        """Take a snapshot; render it unless the last render was too recent."""
        with self._lock:
            if self.finished:
                return
            self.last_snapshot = snap
            state = _state_name(snap)
            now = self._clock()
            due = (
                self._last_render is None
                or state != self._last_state
                or snap.done
                or now - self._last_render >= self.min_interval
            )
            self._observe(snap)
            if due:
                self._draw(snap, now)
            elif self.trailing and not self._flush_pending:
                self._flush_pending = True
                assert self._last_render is not None
                delay = max(self.min_interval - (now - self._last_render), 0.0)
                self._schedule(delay, self._flush)

    def _flush(self) -> None:
        """Draw the newest snapshot if the throttle skipped it and nothing drew it since."""
        with self._lock:
            self._flush_pending = False
            snap = self.last_snapshot
            if self.finished or snap is None or snap is self._rendered:
                return
            self._draw(snap, self._clock())

    def _draw(self, snap: JobSnapshot, now: float) -> None:
        self._last_render = now
        self._last_state = _state_name(snap)
        self._rendered = snap
        self.renders += 1
        self._render(snap)

    def finish(
        self,
        snap: JobSnapshot,
        results: Sequence[ResultSet] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Render the final state (never throttled) and the one-line summary; disable Kill."""
        with self._lock:
            if self.finished:
                return
            self.last_snapshot = snap
            self._observe(snap)
            self._draw(snap, self._clock())
            self.finished = True
            self._finish(snap, results, error)

    def summary_text(
        self,
        snap: JobSnapshot,
        results: Sequence[ResultSet] | None = None,
        error: BaseException | None = None,
    ) -> str:
        """The one-line summary for this display's title (see module-level summary_text)."""
        return summary_text(snap, results, error, title=self.title)

    # hooks
    def _observe(self, snap: JobSnapshot) -> None:
        """See every snapshot, rendered or not (the text display prints new error lines)."""

    def _render(self, snap: JobSnapshot) -> None:
        """Draw a snapshot."""

    def _finish(
        self,
        snap: JobSnapshot,
        results: Sequence[ResultSet] | None,
        error: BaseException | None,
    ) -> None:
        """Draw the final summary."""


def _start_timer(delay: float, fn: Callable[[], None]) -> None:
    timer = threading.Timer(delay, fn)
    timer.daemon = True
    timer.start()


class NullDisplay(JobDisplay):
    """Shows nothing (``-q``): the magic raises errors and returns results itself."""


class TextDisplay(JobDisplay):
    """Plain progress lines on ``sys.stdout`` for frontends without widgets.

    Prints a line on every state change and at most every ``min_interval`` seconds while the
    progress moves, every new log error line as it arrives, and the final summary.
    """

    min_interval = 5.0
    trailing = False  # a late line from a timer thread could land in another cell

    def __init__(
        self,
        *,
        on_kill: Callable[[], None] | None = None,
        title: str = "",
        min_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(on_kill=on_kill, title=title, min_interval=min_interval, clock=clock)
        self._last_key: tuple[object, ...] | None = None

    def _write(self, line: str) -> None:
        # Look sys.stdout up at each call: IPython and pytest swap it.
        print(line, file=sys.stdout, flush=True)

    def _observe(self, snap: JobSnapshot) -> None:
        errors = frozenset(snap.error_lines)
        for line in snap.new_log_lines:
            if _is_error_line(line, errors):
                self._write(f"  ! {line}")

    def _render(self, snap: JobSnapshot) -> None:
        if snap.done:
            return  # finish() prints the summary instead
        # Only print when something besides the clock moved.
        key = (_state_name(snap), _percent(snap.progress), tuple(map(_stage_short, snap.stages)))
        if key == self._last_key:
            return
        self._last_key = key
        self._write(status_line(snap, self.title))

    def _finish(
        self,
        snap: JobSnapshot,
        results: Sequence[ResultSet] | None,
        error: BaseException | None,
    ) -> None:
        self._write(self.summary_text(snap, results, error))


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
        self.counts.value = _stage_counts(stage)


_FINAL_BAR_STYLE = {_SUCCESS: "success", _CANCELLED: "warning", "Failed": "danger"}


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

        self.header = widgets.HTML(value=_header_html(None, title))
        self.header.add_class("linkis-state")
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
                widgets.HBox([self.overall, self.kill_button]),
                self.stages,
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
        self.header.value = _header_html(snap, self.title)
        state = _state_name(snap)
        fraction = 1.0 if state == _SUCCESS else min(max(float(snap.progress), 0.0), 1.0)
        if not math.isfinite(fraction):
            fraction = 0.0
        self.overall.value = fraction
        self.overall.description = f"{_percent(fraction)}%"
        rows_changed = False
        for stage in snap.stages:
            row = self._stage_rows.get(stage.id)
            if row is None:
                row = self._stage_rows[stage.id] = _StageRow(stage.id)
                rows_changed = True
            row.set(stage)
        if rows_changed:
            self.stages.children = tuple(r.box for r in self._stage_rows.values())
        tail = list(snap.log_tail)[-LOG_TAIL_LINES:]
        self.log.value = log_html(tail, snap.error_lines) if tail else ""

    def _finish(
        self,
        snap: JobSnapshot,
        results: Sequence[ResultSet] | None,
        error: BaseException | None,
    ) -> None:
        state = _state_name(snap)
        style = _FINAL_BAR_STYLE.get(state, "danger" if state in _FAILURES else "warning")
        if error is not None and state == _SUCCESS:
            style = "warning"  # the job ran but loading its results failed
        self.overall.bar_style = style
        self.kill_button.disabled = True
        if self.kill_button.description != "Kill":
            self.kill_button.description = "Kill"
        text = self.summary_text(snap, results, error)
        self._plain = text
        colour = _BADGE_COLOURS.get(state, "#757575")
        self.summary.value = f'<b style="color:{colour}">{_esc(text)}</b>'
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
                    ),
                },
                raw=True,
            )
        else:  # re-publish the widget so its text/plain fallback is the summary
            self._handle.update(self.widget)
