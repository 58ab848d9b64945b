"""Pure formatting of job snapshots: status lines, summaries, HTML cards (no widgets, no I/O).

Both displays and the saved-notebook card use these functions, so a job reads the same in a
widget, in text mode and in a notebook opened later without a kernel.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from linkis_magic.errors import JobCancelled, JobFailed
from linkis_magic.protocol import JobStatus, ResultKind
from linkis_magic.protocol import is_error_line as _linkis_error_line

if TYPE_CHECKING:
    from linkis_magic.job import JobSnapshot
    from linkis_magic.protocol import Resources, StageProgress, YarnApp
    from linkis_magic.results import ResultSet

LOG_TAIL_LINES = 20
"""How many log lines the widget's log pane keeps (the job keeps every line itself)."""

#: The badge colour per state; None is "Submitted" (no status reply yet).
BADGE_COLOURS: dict[JobStatus | None, str] = {
    None: "#757575",
    JobStatus.INITED: "#757575",
    JobStatus.WAIT_FOR_RETRY: "#757575",
    JobStatus.SCHEDULED: "#757575",
    JobStatus.RUNNING: "#1565c0",
    JobStatus.SUCCEED: "#2e7d32",
    JobStatus.FAILED: "#c62828",
    JobStatus.TIMEOUT: "#c62828",
    JobStatus.CANCELLED: "#ef6c00",
}
ERROR_COLOUR = "#c62828"
NOTICE_COLOUR = "#8d6e00"
# A share bar's colour by the job's share of its queue, at Linkis's own coreRGB/memoryRGB
# thresholds (docs/linkis-protocol.md §14.1): calm up to half, amber up to 0.7, red beyond.
SHARE_COLOURS = ((0.5, "#78909c"), (0.7, "#ef6c00"))
SHARE_FULL_COLOUR = ERROR_COLOUR
RESOURCES_STYLE = "font-size:90%;color:#424242;margin:2px 0"


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


def state_name(snap: JobSnapshot) -> str:
    """Linkis's spelling of the state; "Submitted" before the first status reply."""
    return "Submitted" if snap.state is None else snap.state.value


def percent(fraction: float) -> int:
    if not math.isfinite(fraction):
        return 0
    return max(0, min(100, int(fraction * 100 + 1e-9)))


def ids_text(snap: JobSnapshot) -> str:
    parts = []
    if snap.task_id is not None:
        parts.append(f"taskID {snap.task_id}")
    if snap.exec_id:
        parts.append(f"execID {snap.exec_id}")
    return ", ".join(parts)


_EXEC_ID_HEAD = re.compile(r"exec_id(\d{3})(\d{3})")


def short_exec_id(exec_id: str) -> str:
    """The short job id inside a 1.x execID (``IDE_alice_spark_7``), else the execID itself.

    A full execID carries the entrance's application name and ``host:port`` before the short
    id (docs/linkis-protocol.md §3.1): too long for a header line, and the part a user recognises
    is the short id (jobhistory calls it ``execId``). Anything not in that layout (0.x execIDs,
    a length that does not fit) is returned whole rather than cut at a guess.
    """
    head = _EXEC_ID_HEAD.match(exec_id)
    if head is None:
        return exec_id
    start = head.end() + int(head.group(1)) + int(head.group(2))
    return exec_id[start:] if start < len(exec_id) else exec_id


def ids_html(snap: JobSnapshot) -> str:
    """taskID and the short execID for a header; the full execID is the hover ``title``."""
    parts = []
    if snap.task_id is not None:
        parts.append(f"taskID {esc(snap.task_id)}")
    if snap.exec_id:
        parts.append(
            f'<span class="linkis-exec-id" title="{esc(snap.exec_id)}">'
            f"execID {esc(short_exec_id(snap.exec_id))}</span>"
        )
    if not parts:
        return ""
    return (
        '<span class="linkis-ids" style="color:#757575;white-space:nowrap">'
        + " · ".join(parts)
        + "</span>"
    )


def settle_stage(stage: StageProgress, state: JobStatus | None) -> StageProgress:
    """A stage's counts as they must read once the job is in ``state``.

    A finished job has no running task, but its last progress read may predate the end (once
    the entrance lets go of a job its progress cannot be read, docs/linkis-protocol.md §3.6),
    so a finished view could show "78 succeeded / 22 running". On Succeed every task counts as
    done: succeeded becomes ``total - failed`` (never fewer than reported: a task that failed
    once and succeeded on retry can be in both counts); on Failed, Timeout or Cancelled nothing
    runs any more. Other states keep the counts as reported.
    """
    if state is JobStatus.SUCCEED:
        done = max(stage.succeeded, stage.total - stage.failed)
        if (done, stage.running) != (stage.succeeded, 0):
            return dataclasses.replace(stage, succeeded=done, running=0)
    elif state is not None and state.is_terminal and stage.running:
        return dataclasses.replace(stage, running=0)
    return stage


def settled_stages(stages: Sequence[StageProgress], state: JobStatus | None) -> list[StageProgress]:
    return [settle_stage(s, state) for s in stages]


def stage_short(stage: StageProgress) -> str:
    text = f"{stage.id} {stage.succeeded}/{stage.total}"
    if stage.failed:
        text += f" ({stage.failed} failed)"
    return text


def stage_counts(stage: StageProgress) -> str:
    return (
        f"{stage.succeeded} succeeded / {stage.running} running / "
        f"{stage.failed} failed / {stage.total} total"
    )


def status_line(snap: JobSnapshot, title: str = "") -> str:
    """One line describing a running job: title, state, %, stages, elapsed time, ids."""
    parts = [f"{title or 'Linkis job'}: {state_name(snap)}"]
    if not snap.done:
        parts.append(f"{percent(snap.progress)}%")
    if snap.stages:
        stages = settled_stages(snap.stages, snap.state)
        parts.append("stages " + ", ".join(stage_short(s) for s in stages))
    parts.append(format_elapsed(snap.elapsed))
    ids = ids_text(snap)
    if ids:
        parts.append(ids)
    return " | ".join(parts)


def result_text(result: ResultSet) -> str:
    if result.kind is ResultKind.TABLE:
        text = f"{result.rows} rows × {len(result.columns)} columns"
    elif result.kind is ResultKind.TEXT:
        text = f"text, {result.rows} lines"
    elif result.kind is ResultKind.IO:
        text = "IO (engine file transfer, not shown)"
    else:  # HTML, PICTURE: shown as such below the job
        text = result.kind.label.upper() if result.kind is ResultKind.HTML else "picture"
    if result.truncated:
        text += " (truncated)"
    return f"result {result.index}: {text}"


def error_text(snap: JobSnapshot, error: BaseException | None) -> str:
    """The problem in one line: errCode/errDesc, else the exception ("" when there is none)."""
    if snap.err_code is not None or snap.err_desc:
        code = f"errCode {snap.err_code}" if snap.err_code is not None else ""
        desc = (snap.err_desc or "").strip().splitlines()
        return ": ".join(p for p in (code, desc[0] if desc else "") if p)
    if error is not None and not restates_state(snap, error):
        first = str(error).strip().splitlines()
        return f"{type(error).__name__}: {first[0]}" if first else type(error).__name__
    return ""


def restates_state(snap: JobSnapshot, error: BaseException) -> bool:
    """Whether ``error`` only says the job ended in the state the snapshot already shows.

    A kill ends the cell with ``JobCancelled("Linkis job 2 was cancelled")``; next to a
    "Cancelled" badge (or in "...: Cancelled in 2.3s") that says the state twice. A
    ``JobFailed`` without errCode or errDesc is the same. Anything with more to say stays.
    """
    return (
        isinstance(error, (JobCancelled, JobFailed))
        and snap.state is not None
        and error.state == snap.state.value
        and error.err_code is None
        and not error.err_desc
    )


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
    head = f"{name}: {state_name(snap)} in {format_elapsed(snap.elapsed)}"
    outcome = outcome_text(snap, results, error)
    return f"{head} | {outcome}" if outcome else head


def outcome_text(
    snap: JobSnapshot,
    results: Sequence[ResultSet] | None = None,
    error: BaseException | None = None,
) -> str:
    """What a finished job produced, without title, state or time: the result sets, "no
    result sets" or the error ("" when there is nothing to add).

    The widget and the static card put this under a header that already shows the title,
    state badge, time and ids, so the summary line says only what the header does not.
    """
    parts: list[str] = []
    if results:
        parts.extend(result_text(r) for r in results)
    elif snap.state is JobStatus.SUCCEED and results is not None:
        parts.append("no result sets")
    problem = error_text(snap, error)
    if problem:
        parts.append(problem)
    return " | ".join(parts)


def outcome_html(
    snap: JobSnapshot,
    results: Sequence[ResultSet] | None = None,
    error: BaseException | None = None,
) -> str:
    """:func:`outcome_text` as the content of the ``.linkis-summary`` line ("" when empty).

    Problems (an errCode, an exception) are bold in the state's colour; result sets are plain
    text: the badge already says how the job ended.
    """
    text = outcome_text(snap, results, error)
    if not text:
        return ""
    if error_text(snap, error):
        state = snap.state
        # a Succeed whose results failed to load is still a problem: red, not green
        colour = ERROR_COLOUR if state is JobStatus.SUCCEED else BADGE_COLOURS[state]
        return f'<b style="color:{colour}">{esc(text)}</b>'
    return esc(text)


def format_gib(memory: int) -> str:
    """Bytes as GiB with one decimal: ``2.0 GiB``, ``0.5 GiB``."""
    return f"{max(memory, 0) / 2**30:.1f} GiB"


def share_percent(share: float) -> str:
    """A share of the queue (a fraction, possibly above 1) as ``25%``; ``<1%`` for a sliver."""
    if not math.isfinite(share) or share <= 0:
        return "0%"
    whole = round(share * 100)
    return "<1%" if whole < 1 else f"{whole}%"


def app_text(app: YarnApp) -> str:
    """One YARN application: ``queue default · 4 cores · 8.0 GiB · application_..._0001``."""
    parts = [f"queue {app.queue}"] if app.queue else []
    parts += [f"{app.cores} cores", format_gib(app.memory)]
    if app.application_id:
        parts.append(app.application_id)
    return " · ".join(parts)


def shares_text(resources: Resources) -> str:
    """The job's share of its queue: ``25% of queue cores, 12% of memory`` ("" when unknown)."""
    cores, memory = resources.core_share, resources.memory_share
    if cores is not None and memory is not None:
        return f"{share_percent(cores)} of queue cores, {share_percent(memory)} of memory"
    if cores is not None:
        return f"{share_percent(cores)} of queue cores"
    if memory is not None:
        return f"{share_percent(memory)} of queue memory"
    return ""


def total_text(resources: Resources) -> str:
    """What all the job's applications hold together: ``total 6 cores · 12.0 GiB``."""
    cores = sum(app.cores for app in resources.apps)
    memory = sum(app.memory for app in resources.apps)
    return f"total {cores} cores · {format_gib(memory)}"


def resource_lines(resources: Resources | None) -> list[str]:
    """The resource lines of the text display, one per YARN application ([] without any).

    Linkis reports the queue shares for the whole job, not per application
    (docs/linkis-protocol.md §14.1): with one
    application they end its line; with several a last ``total`` line carries them.
    """
    if resources is None or not resources.apps:
        return []
    lines = [app_text(app) for app in resources.apps]
    shares = shares_text(resources)
    if len(lines) > 1:
        lines.append(total_text(resources))
    if shares:
        lines[-1] += f" · {shares}"
    return lines


def share_colour(share: float) -> str:
    for limit, colour in SHARE_COLOURS:
        if share <= limit:
            return colour
    return SHARE_FULL_COLOUR


def share_bar_html(kind: str, share: float | None) -> str:
    """A small labelled bar of the job's share of the queue's ``kind`` ("cores"/"memory")."""
    if share is None:
        return ""
    share = share if math.isfinite(share) and share > 0 else 0.0
    text = share_percent(share)
    width = min(share * 100, 100.0)
    title = f"{text} of the queue's {kind}"
    return (
        f'<span class="linkis-share linkis-share-{esc(kind)}" title="{esc(title)}" '
        f'style="white-space:nowrap;margin-left:0.8em">{esc(kind)} '
        '<span style="display:inline-block;width:5em;height:6px;background:#e0e0e0;'
        'vertical-align:middle">'
        f'<span class="linkis-share-bar" style="display:block;height:6px;width:{width:.1f}%;'
        f'background:{share_colour(share)}"></span></span> {esc(text)}</span>'
    )


def resources_html(resources: Resources | None) -> str:
    """The rows inside ``.linkis-resources``: one ``.linkis-yarn-app`` per YARN application.

    The queue's core and memory shares (the job's, §14.1) are two small bars at the end of
    the application's row, or of a ``.linkis-yarn-total`` row when there are several
    applications. "" without any application: no box, no heading.
    """
    if resources is None or not resources.apps:
        return ""
    rows = []
    for app in resources.apps:
        parts = [f"queue {esc(app.queue)}"] if app.queue else []
        parts += [f"{app.cores} cores", esc(format_gib(app.memory))]
        if app.application_id:
            parts.append(
                f'<span class="linkis-app-id" style="font-family:monospace">'
                f"{esc(app.application_id)}</span>"
            )
        rows.append((" · ".join(parts), "linkis-yarn-app"))
    if len(rows) > 1:
        rows.append((esc(total_text(resources)), "linkis-yarn-total"))
    bars = share_bar_html("cores", resources.core_share) + share_bar_html(
        "memory", resources.memory_share
    )
    last_text, last_css = rows[-1]
    rows[-1] = (last_text + bars, last_css)
    return "".join(f'<div class="{css}">{text}</div>' for text, css in rows)


def resources_block_html(resources: Resources | None) -> str:
    """:func:`resources_html` in its ``.linkis-resources`` box ("" without any application)."""
    rows = resources_html(resources)
    if not rows:
        return ""
    return f'<div class="linkis-resources" style="{RESOURCES_STYLE}">{rows}</div>'


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def badge_html(state: JobStatus | None) -> str:
    colour = BADGE_COLOURS[state]
    name = "Submitted" if state is None else state.value
    return (
        f'<span class="linkis-badge" style="background:{colour};color:#fff;'
        f'padding:1px 8px;border-radius:8px;font-weight:bold">{esc(name)}</span>'
    )


def header_html(snap: JobSnapshot | None, title: str) -> str:
    label = f"<b>{esc(title)}</b> " if title else ""
    if snap is None:
        return f'<div class="linkis-header">{label}{badge_html(None)}</div>'
    ids = ids_html(snap)
    return (
        f'<div class="linkis-header">{label}{badge_html(snap.state)} '
        f"{esc(format_elapsed(snap.elapsed))}{' ' + ids if ids else ''}</div>"
    )


def is_error_line(line: str, errors: frozenset[str]) -> bool:
    """An error line: one the job reported as such (Linkis's error slot, ``errors``) or one
    that matches Linkis's own rule (``protocol.is_error_line``), the rule the job uses."""
    return line in errors or _linkis_error_line(line)


def log_html(lines: Sequence[str], error_lines: Sequence[str] = ()) -> str:
    """An escaped ``<pre>`` of log lines; error lines are wrapped in a red span."""
    errors = frozenset(error_lines)
    rendered = []
    for line in lines:
        text = esc(line)
        if is_error_line(line, errors):
            text = f'<span class="linkis-log-error" style="color:{ERROR_COLOUR}">{text}</span>'
        rendered.append(text)
    return (
        '<pre class="linkis-log-pre" style="margin:0;max-height:22em;overflow:auto;'
        'white-space:pre-wrap;font-size:85%">' + "\n".join(rendered) + "</pre>"
    )


def unreachable_text(snap: JobSnapshot | None) -> str:
    """``gateway unreachable since HH:MM:SS, retrying`` while the job's polls get no answer
    ("" while the gateway answers)."""
    since = None if snap is None else snap.unreachable_since
    if since is None:
        return ""
    return f"gateway unreachable since {since:%H:%M:%S}, retrying"


def notices_html(notices: Sequence[str], unreachable: str = "") -> str:
    """The notices of a job (gateway trouble the user should know about), one line each;
    ``unreachable`` (:func:`unreachable_text`) is a last line of its own."""
    if not notices and not unreachable:
        return ""
    lines = "".join(f"<div>{esc(n)}</div>" for n in notices)
    if unreachable:
        lines += f'<div class="linkis-unreachable">{esc(unreachable)}</div>'
    return f'<div class="linkis-notices" style="color:{NOTICE_COLOUR};font-size:90%">{lines}</div>'


def summary_html(
    snap: JobSnapshot,
    results: Sequence[ResultSet] | None = None,
    error: BaseException | None = None,
    *,
    title: str = "",
    stages: Sequence[StageProgress] | None = None,
    resources: Resources | None = None,
) -> str:
    """A static HTML card of the final state: what a saved notebook keeps instead of a widget.

    Uses the same CSS classes as the widget so browser tests can read either. ``stages``
    replaces ``snap.stages`` (the gateway may report none once a job has ended); a finished
    job's stages never show running tasks (:func:`settle_stage`). ``resources`` likewise
    replaces ``snap.resources`` (the YARN applications last reported; none, no line). The
    header carries title, state, time and ids; the ``.linkis-summary`` line only the outcome
    (the complete one-line summary is the output's ``text/plain``).
    """
    state = snap.state
    stages = settled_stages(snap.stages if stages is None else stages, state)
    pct = 100 if state is JobStatus.SUCCEED else percent(snap.progress)
    colour = BADGE_COLOURS[state]
    parts = [
        '<div class="linkis-job linkis-static">',
        header_html(snap, title),
        notices_html(snap.notices),
        f'<div style="background:#e0e0e0;height:6px;margin:4px 0;max-width:40em">'
        f'<div style="background:{colour};height:6px;width:{pct}%"></div></div>',
    ]
    if stages:
        rows = "".join(
            f'<tr class="linkis-stage"><td>{esc(s.id)}</td><td>{esc(stage_counts(s))}</td></tr>'
            for s in stages
        )
        parts.append(f'<table style="font-size:90%">{rows}</table>')
    parts.append(resources_block_html(snap.resources if resources is None else resources))
    tail = list(snap.log_tail)[-LOG_TAIL_LINES:]
    if tail:
        opened = " open" if state is not JobStatus.SUCCEED else ""
        parts.append(
            f'<details class="linkis-log"{opened}><summary>log (last {len(tail)} lines)'
            f"</summary>{log_html(tail, snap.error_lines)}</details>"
        )
    outcome = outcome_html(snap, results, error)
    if outcome:
        parts.append(f'<div class="linkis-summary">{outcome}</div>')
    parts.append("</div>")
    return "".join(parts)
