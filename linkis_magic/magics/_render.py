"""How a failed or interrupted cell reads: a few lines with Linkis's own words, no traceback.

IPython shows an exception's ``_render_traceback_()`` lines instead of a traceback; library
errors get one here, so a failed job reads as its state, errCode, errDesc and the last error
log lines, and a kill that could not be confirmed says what to do about it.
"""

from __future__ import annotations

from linkis_magic.errors import JobError, JobWaitTimeout, KillUnconfirmed

__all__ = ["LinkisInterrupted", "ident", "job_message", "quiet", "still_running_hint"]

ERROR_TAIL = 5  # error log lines quoted in a failed cell's message


class LinkisInterrupted(KeyboardInterrupt):
    """A kernel interrupt stopped a %%linkis cell; the message says what became of the job."""

    def _render_traceback_(self) -> list[str]:
        return [f"LinkisInterrupted: {self}"]


def ident(task_id: int | None, exec_id: str | None) -> str:
    """How a cell names a job: ``taskID 7``, or ``execID …`` without a taskID."""
    return f"taskID {task_id}" if task_id is not None else f"execID {exec_id}"


def still_running_hint(task_id: int | None, exec_id: str | None) -> str:
    """What to do about a job whose kill was not confirmed."""
    ref = task_id if task_id is not None else exec_id
    return f"kill it later with %linkis kill {ref}, or check %linkis history"


def job_message(exc: JobError) -> list[str]:
    """Short lines for a job that did not succeed: state, errCode, errDesc, error log tail."""
    name = ident(exc.task_id, exc.exec_id)
    if isinstance(exc, KillUnconfirmed):
        hint = still_running_hint(exc.task_id, exc.exec_id)
        return [f"KillUnconfirmed: Linkis job {name} may still be running: {exc.reason}; {hint}"]
    if isinstance(exc, JobWaitTimeout):  # the job did not end: say so, and how to stop it
        lines = [f"JobWaitTimeout: {exc} (stop it with %linkis kill)"]
    else:
        lines = [f"{type(exc).__name__}: Linkis job {name} ended {exc.state}"]
    if exc.err_code is not None or exc.err_desc:
        lines.append(f"errCode {exc.err_code}: {exc.err_desc or ''}".rstrip())
    tail = [ln for ln in exc.error_lines if ln.strip()][-ERROR_TAIL:]
    if tail:
        lines.append("last error log lines:")
        lines.extend(f"  {ln}" for ln in tail)
    return lines


def quiet(exc: BaseException) -> BaseException:
    """Give a library error a short rendering: IPython shows these lines, no traceback."""
    lines = job_message(exc) if isinstance(exc, JobError) else [f"{type(exc).__name__}: {exc}"]
    exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
    return exc
