"""Job: follow one Linkis job from submit to its final state.

A :class:`Job` polls the entrance (status, progress, log) on one schedule, keeps every log line
it has seen, hands frozen :class:`JobSnapshot` records to displays, and knows how to carry on
when the entrance has forgotten the job (jobhistory for the state, ``openLog`` for the log).
It never prints: displays and magics decide what to show.

Why the schedule looks the way it does (REFERENCE §3, §7, §10):

* The first status call goes out ~5 ms after submit, the next ones every 10 ms for 50 ms
  (status only: log and progress wait until the job outlives that span or ends), and the
  interval then grows by 1.5x up to about one second: a ``select 1`` is seen finished almost
  at once, and a 30-second job costs about one status call per second.
* Once progress says every task is done while the job still runs (a Spark engine writing its
  result sets), the end is near: the interval drops back to FINISH_POLL and grows again, so a
  two-second job is not seen finished a second late. Jobs that report no progress (Python,
  shell) keep the plain schedule.
* Progress and log are fetched on the same ticks, never more than one of each per tick, and
  are skipped while they cannot have changed (progress before the job runs; progress/log back
  off while they keep coming back unchanged).
* The log is read with the 1-based ``fromLine`` cursor that the server echoes back, with a
  large ``size`` so a long log needs few calls; lines are never fetched twice.
* The entrance status can be ahead of jobhistory at completion; after a terminal state we read
  jobhistory until it agrees (briefly) before trusting ``resultLocation``/``errCode``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from linkis_magic.errors import (
    GatewayError,
    JobCancelled,
    JobError,
    JobFailed,
    JobWaitTimeout,
    LinkisError,
    NotLoggedInError,
    ProtocolError,
    TransportError,
)
from linkis_magic.protocol import JobStatus, LogChunk, Progress, StageProgress, TaskInfo

if TYPE_CHECKING:
    import pandas as pd

    from linkis_magic.client import LinkisClient
    from linkis_magic.results import ResultSet

__all__ = ["Job", "JobSnapshot"]

_log = logging.getLogger(__name__)

FIRST_POLL = 0.005  # seconds after submit for the first status call ...
EARLY_POLL = 0.01  # ... then this interval (status only) ...
EARLY_SPAN = 0.05  # ... for this long after it: a `select 1` on a healthy gateway ends here
BACKOFF = 1.5  # growth of the poll interval per tick
MAX_INTERVAL = 1.0  # cap of the poll interval while the job runs
FINISH_POLL = 0.1  # interval once progress reports every task done (then backs off again)
AUX_MAX_INTERVAL = 4.0  # cap for progress/log while they keep coming back unchanged
LOG_PAGE = 10000  # lines per log call (Linkis maps size=-1 to 10000 as well)
OPENLOG_INTERVAL = 5.0  # openLog re-reads the whole file: rarely while a forgotten job runs
LOG_TAIL = 50  # lines kept in JobSnapshot.log_tail
ERROR_TAIL = 20  # error lines kept in snapshots and exceptions
KILL_GRACE = 5.0  # how long an interrupted wait() waits for Cancelled before re-raising
HISTORY_LAG = 5.0  # how long to wait for jobhistory to agree with the entrance at completion
LOCATION_LAG = 0.3  # ... and for resultLocation once jobhistory says Succeed
KILL_RETRY = 5.0  # a cancel request re-sends kill this often while the job still runs
# How long wait()/results() ride out a gateway that cannot be reached (connection refused or
# reset, 502/503/504 after the adapter's own retries) before giving up with TransportError.
# A poll that fails once must not kill a healthy job; a gateway gone for good must not hang.
UNREACHABLE_GRACE = 30.0

# An error line per Linkis's LogReader: a timestamp followed by " ERROR " or " SYSTEM-ERROR ".
_ERROR_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})? (?:SYSTEM-)?ERROR ")
_WAITING = {JobStatus.INITED, JobStatus.SCHEDULED, JobStatus.WAIT_FOR_RETRY}


@dataclass(frozen=True)
class JobSnapshot:
    """What a display needs to draw one frame; frozen so it can cross threads safely."""

    exec_id: str | None
    task_id: int | None
    state: JobStatus | None
    elapsed: float
    progress: float
    stages: tuple[StageProgress, ...]
    new_log_lines: tuple[str, ...]
    log_tail: tuple[str, ...]
    error_lines: tuple[str, ...]
    err_code: int | None
    err_desc: str | None
    done: bool


def _is_blank(line: str) -> bool:
    return not line.strip()


class Job:
    """One Linkis job: poll it, wait for it, kill it, read its results.

    Built by :meth:`LinkisClient.submit` / :meth:`LinkisClient.execute` (fresh job) and
    :meth:`LinkisClient.job` (re-attach by taskID; ``exec_id`` may then be ``None`` or
    already forgotten by the entrance, and jobhistory + ``openLog`` take over).
    """

    def __init__(
        self,
        client: LinkisClient,
        exec_id: str | None,
        task_id: int | None,
        *,
        submitted_at: float | datetime | None = None,
    ) -> None:
        if exec_id is None and task_id is None:
            raise ValueError("Job needs an execID or a taskID (got neither)")
        self.client = client
        self.exec_id = exec_id
        self.task_id = task_id
        # monotonic float (fresh submit) or a wall-clock datetime (re-attach: createdTime)
        self._started_mono: float | None = None
        self._started_wall: datetime | None = None
        if isinstance(submitted_at, datetime):
            self._started_wall = (
                submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=timezone.utc)
            )
        else:
            self._started_mono = time.monotonic() if submitted_at is None else submitted_at
        self._lock = threading.RLock()
        self._state: JobStatus | None = None
        self._progress = 0.0
        self._stages: tuple[StageProgress, ...] = ()
        self._lines: list[str] = []
        self._errors: list[str] = []
        self._snap_cursor = 0
        self._from_line = 1
        self._entrance_gone = exec_id is None
        self._task: TaskInfo | None = None
        self._history_settled = False
        self._finished_elapsed: float | None = None
        self._last_openlog = float("-inf")
        self._results: dict[int | None, list[ResultSet]] = {}
        # distinctLevel=false sends each line once instead of twice (info + all slots); error
        # lines are then recognised by Linkis's own rule (_ERROR_LINE).
        self._log_options: dict[str, Any] = {"distinct_level": False}
        #: seconds wait()/results() keep retrying while the gateway is unreachable
        self.unreachable_grace = UNREACHABLE_GRACE

    def __repr__(self) -> str:
        state = self._state.value if self._state else "unknown"
        return f"<Job task_id={self.task_id} exec_id={self.exec_id!r} state={state}>"

    # ------------------------------------------------------------------ single calls

    def status(self) -> JobStatus:
        """Ask the gateway for the state once (entrance, or jobhistory once it forgot the job)."""
        state = self._fetch_status()
        with self._lock:
            self._set_state(state)
        return state

    def progress(self) -> Progress:
        """Ask for overall progress and the per-stage list once."""
        progress = self._fetch_progress()
        with self._lock:
            self._progress, self._stages = progress.progress, progress.stages
        return progress

    def kill(self) -> None:
        """Ask the gateway to kill the job (GET entrance/{execID}/kill?taskID=...).

        The taskID is always sent so that a job the entrance no longer holds is force-killed in
        the database (REFERENCE §3.8).
        """
        exec_id = self.exec_id
        if exec_id is None and self.task_id is not None:
            exec_id = self._history().exec_id
            self.exec_id = exec_id
        if exec_id is None:
            raise JobError(
                f"cannot kill task {self.task_id}: Linkis reports no execID for it",
                task_id=self.task_id,
            )
        self.client.kill(exec_id, task_id=self.task_id)

    @property
    def log_lines(self) -> list[str]:
        """Every log line seen so far (slot [3] of the Linkis log array), in order."""
        with self._lock:
            return list(self._lines)

    @property
    def state(self) -> JobStatus | None:
        """The last state seen (None before the first poll)."""
        return self._state

    def snapshot(self) -> JobSnapshot:
        """A frozen view for displays; ``new_log_lines`` are the lines since the last call."""
        with self._lock:
            new = tuple(self._lines[self._snap_cursor :])
            self._snap_cursor = len(self._lines)
            task = self._task
            failed = self._state is not None and self._state.is_terminal
            failed = failed and self._state is not JobStatus.SUCCEED
            return JobSnapshot(
                exec_id=self.exec_id,
                task_id=self.task_id,
                state=self._state,
                elapsed=self._elapsed(),
                progress=self._progress,
                stages=self._stages,
                new_log_lines=new,
                log_tail=tuple(self._lines[-LOG_TAIL:]),
                error_lines=tuple(self._errors[-ERROR_TAIL:]),
                err_code=task.err_code if task is not None and failed else None,
                err_desc=task.err_desc if task is not None and failed else None,
                done=self._state is not None and self._state.is_terminal,
            )

    # ------------------------------------------------------------------ waiting

    def wait(
        self,
        timeout: float | None = None,
        on_update: Callable[[JobSnapshot], object] | None = None,
        cancel: threading.Event | None = None,
    ) -> JobStatus:
        """Poll until the job ends; return ``Succeed`` or raise what happened.

        Raises :class:`JobFailed` (Failed/Timeout, with errCode/errDesc and the last error
        lines), :class:`JobCancelled` and :class:`JobWaitTimeout` (the job keeps running).
        ``on_update`` gets a :class:`JobSnapshot` after every tick that changed something.
        Setting ``cancel`` kills the job; wait() keeps polling until Cancelled. Any other
        exception inside wait() (KeyboardInterrupt from the kernel or from ``on_update``, a
        network error) kills the job, waits up to a few seconds for Cancelled and re-raises
        the original exception; a kill that fails is logged and attached, never raised instead.
        """
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout must be >= 0 seconds or None, got {timeout!r}")
        try:
            final = self._poll_until_done(timeout, on_update, cancel)
        except (JobWaitTimeout, JobFailed, JobCancelled):
            raise
        except BaseException as exc:
            self._abort(exc)
            raise
        return self._outcome(final)

    def _poll_until_done(
        self,
        timeout: float | None,
        on_update: Callable[[JobSnapshot], object] | None,
        cancel: threading.Event | None,
    ) -> JobStatus:
        begin = time.monotonic()
        deadline = None if timeout is None else begin + timeout
        interval = EARLY_POLL
        aux = _AuxSchedule()
        kill_sent_at: float | None = None
        failing_since: float | None = None
        finishing = False
        # First tick FIRST_POLL after submit (not after wait() was called).
        first_at = begin
        early_until = begin  # no status-only span for a job attached to or polled before
        if self._started_mono is not None and self._state is None:
            first_at = max(begin, self._started_mono + FIRST_POLL)
            early_until = self._started_mono + FIRST_POLL + EARLY_SPAN
        self._sleep(first_at - time.monotonic(), cancel, deadline)
        while True:
            if cancel is not None and cancel.is_set() and kill_sent_at is None:
                kill_sent_at = time.monotonic()
                self._try_kill()
                interval = 0.1
            try:
                changed, state = self._tick(aux, early=time.monotonic() < early_until)
            except (TransportError, ProtocolError) as exc:
                failing_since = self._ride_out(exc, failing_since)
                interval = min(max(interval, 0.2) * BACKOFF, MAX_INTERVAL)
                self._sleep(interval, cancel if kill_sent_at is None else None, deadline)
                if deadline is not None and time.monotonic() >= deadline:
                    last = self._state or JobStatus.INITED
                    raise self._error(
                        JobWaitTimeout,
                        f"Linkis job {self._name()} still {last.value} after {timeout:g} s, "
                        f"the gateway not answering ({exc}); it may keep running",
                        last,
                    ) from exc
                continue
            failing_since = None
            if on_update is not None and changed:
                on_update(self.snapshot())
            if state.is_terminal:
                return state
            now = time.monotonic()
            if kill_sent_at is not None and now - kill_sent_at > KILL_RETRY:
                kill_sent_at = now
                self._try_kill()
            if deadline is not None and now >= deadline:
                raise self._error(
                    JobWaitTimeout,
                    f"Linkis job {self._name()} still {state.value} after {timeout:g} s "
                    "(it keeps running; call wait() again or kill())",
                    state,
                )
            if not finishing and self._tasks_all_done():
                finishing = True
                # The next sleep is at most FINISH_POLL (never longer than planned anyway).
                interval = min(interval, FINISH_POLL / BACKOFF)
            if now >= early_until:
                interval = min(interval * BACKOFF, MAX_INTERVAL)
            self._sleep(interval, cancel if kill_sent_at is None else None, deadline)

    def _tasks_all_done(self) -> bool:
        """Progress is complete while the job still runs: only the engine's wrap-up is left."""
        with self._lock:
            stages = self._stages
            return self._progress >= 1.0 and all(
                st.succeeded + st.failed >= st.total for st in stages
            )

    def _ride_out(self, exc: LinkisError, since: float | None) -> float:
        """Swallow a transient failure of one poll; re-raise once the grace time has passed."""
        if not _transient(exc):
            raise exc
        now = time.monotonic()
        since = now if since is None else since
        if now - since >= self.unreachable_grace:
            raise TransportError(
                f"gave up on Linkis job {self._name()}: the gateway has been unreachable for "
                f"{now - since:.0f} s (the job may still run there; re-attach later with "
                f"client.job({self.task_id})): {exc}"
            ) from exc
        _log.info("poll of Linkis job %s failed (%s); retrying", self._name(), exc)
        return since

    @staticmethod
    def _sleep(seconds: float, cancel: threading.Event | None, deadline: float | None) -> None:
        if deadline is not None:
            seconds = min(seconds, deadline - time.monotonic())
        if seconds <= 0:
            return
        if cancel is not None:
            cancel.wait(seconds)  # wakes at once when cancel is set
        else:
            time.sleep(seconds)

    def _tick(self, aux: _AuxSchedule, early: bool = False) -> tuple[bool, JobStatus]:
        """One poll: status, then progress and log when due. Returns (changed, state).

        ``early`` ticks (the first EARLY_SPAN) ask for the status only, unless it is final: a
        job that ends within them costs no log/progress calls before its final log read.
        """
        previous = self._state
        state = self._fetch_status()
        now = time.monotonic()
        changed = state is not previous
        terminal = state.is_terminal
        if terminal:
            # The entrance can be ahead of jobhistory: settle it before reading errCode etc.
            self._settle_history(state)
        quiet = early and not terminal
        new_lines = 0
        if not quiet and (terminal or aux.log_due(now, changed)):
            new_lines = self._fetch_log(final=terminal)
            aux.log_done(now, new_lines > 0)
        progress_changed = False
        if terminal:
            progress_changed = self._final_progress(state)
        elif not quiet and state not in _WAITING and aux.progress_due(now, changed):
            old = (self._progress, self._stages)
            try:
                prog = self._fetch_progress()
            except GatewayError:
                prog = Progress(self._progress, self._stages)
            with self._lock:
                self._progress, self._stages = prog.progress, prog.stages
            progress_changed = (prog.progress, prog.stages) != old
            aux.progress_done(now, progress_changed)
        with self._lock:
            self._set_state(state)
        return changed or new_lines > 0 or progress_changed, state

    def _final_progress(self, state: JobStatus) -> bool:
        """Read progress once more at the end, so stage rows show their final task counts.

        The last regular poll may date from mid-run; without this the display would keep a
        stage at, say, 78/100 tasks next to a Succeed badge. Only asked when a stage we showed
        is incomplete, so a job that finished before any progress poll costs no extra call.
        """
        old = (self._progress, self._stages)
        final: Progress | None = None
        unfinished = any(st.succeeded + st.failed < st.total for st in self._stages)
        if unfinished and not self._entrance_gone and self.exec_id is not None:
            try:
                final = self._fetch_progress()
            except LinkisError:  # best effort: the state is already known
                final = None
        with self._lock:
            if final is not None and final.stages:
                self._stages = final.stages
            if state is JobStatus.SUCCEED:
                self._progress = 1.0
            elif final is not None:
                self._progress = final.progress
        return (self._progress, self._stages) != old

    # ------------------------------------------------------------------ aborting

    def _try_kill(self) -> BaseException | None:
        try:
            self.kill()
        except LinkisError as exc:  # already finished, no permission, network...
            _log.warning("kill of Linkis job %s failed: %s", self._name(), exc)
            return exc
        return None

    def _abort(self, exc: BaseException) -> None:
        """Kill after an interrupt/error in wait(); wait briefly for Cancelled; never raise."""
        if self._state is not None and self._state.is_terminal:
            return
        try:
            kill_error = self._try_kill()
            if kill_error is not None:
                _add_note(exc, f"linkis-magic: killing job {self._name()} failed: {kill_error}")
                return
            end = time.monotonic() + KILL_GRACE
            delay = 0.05
            while time.monotonic() < end:
                state = self.status()
                if state.is_terminal:
                    return
                time.sleep(min(delay, max(0.0, end - time.monotonic())))
                delay = min(delay * 2, 0.5)
            _add_note(exc, f"linkis-magic: job {self._name()} was killed but is not Cancelled yet")
        except Exception as late:  # the original exception must win
            _log.warning("while cancelling Linkis job %s: %s", self._name(), late)
            _add_note(exc, f"linkis-magic: while cancelling job {self._name()}: {late}")

    # ------------------------------------------------------------------ outcome

    def _outcome(self, state: JobStatus) -> JobStatus:
        if state is JobStatus.SUCCEED:
            return state
        if state is JobStatus.CANCELLED:
            raise self._error(JobCancelled, f"Linkis job {self._name()} was cancelled", state)
        task = self._task
        detail = ""
        if task is not None and (task.err_code or task.err_desc):
            detail = f": errCode {task.err_code}, {task.err_desc or ''}".rstrip(", ")
        message = f"Linkis job {self._name()} ended {state.value}{detail}"
        errors = self._errors[-5:]
        if errors:
            message += "\n" + "\n".join(errors)
        raise self._error(JobFailed, message, state)

    def _error(self, cls: type[JobError], message: str, state: JobStatus) -> JobError:
        task = self._task
        failed = state.is_failure if state.is_terminal else False
        return cls(
            message,
            exec_id=self.exec_id,
            task_id=self.task_id,
            state=state.value,
            err_code=task.err_code if task is not None and failed else None,
            err_desc=task.err_desc if task is not None and failed else None,
            error_lines=tuple(self._errors[-ERROR_TAIL:]),
        )

    def _name(self) -> str:
        return str(self.task_id) if self.task_id is not None else str(self.exec_id)

    def _elapsed(self) -> float:
        if self._finished_elapsed is not None:
            return self._finished_elapsed
        if self._started_wall is not None:
            return max(0.0, (datetime.now(timezone.utc) - self._started_wall).total_seconds())
        assert self._started_mono is not None
        return max(0.0, time.monotonic() - self._started_mono)

    def _set_state(self, state: JobStatus) -> None:
        if state.is_terminal and self._finished_elapsed is None:
            elapsed = self._elapsed()
            task = self._task
            if self._started_wall is not None and task is not None and task.cost_time_ms:
                elapsed = task.cost_time_ms / 1000.0  # a re-attached job: trust Linkis
            self._finished_elapsed = elapsed
        self._state = state

    # ------------------------------------------------------------------ results

    def results(self, limit: int | None = None) -> list[ResultSet]:
        """Every result set in numeric order (waits for the job first; raises if it failed)."""
        from linkis_magic.results import load_results  # results sits below job in the layers

        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0 rows or None, got {limit!r}")
        if self._state is None or not self._state.is_terminal:
            self.wait()
        else:
            self._outcome(self._state)
        if limit in self._results:
            return self._results[limit]
        since: float | None = None
        while True:
            try:
                location = self._result_location()
                loaded = (
                    [] if location is None else load_results(self.client, location, limit=limit)
                )
                break
            except (TransportError, ProtocolError) as exc:
                since = self._ride_out(exc, since)
                time.sleep(0.5)
        self._results[limit] = loaded
        return loaded

    def frames(self, limit: int | None = None) -> list[pd.DataFrame]:
        """The table result sets as typed DataFrames, in numeric result-set order."""
        return [rs.frame for rs in self.results(limit) if rs.frame is not None]

    def _result_location(self) -> str | None:
        if self.task_id is None:
            raise JobError(
                f"Linkis job {self.exec_id} has no taskID, so its results cannot be located",
                exec_id=self.exec_id,
            )
        task = self._task
        if task is None or task.result_location is None:
            task = self._history()
        return task.result_location

    # ------------------------------------------------------------------ fetching

    def _history(self) -> TaskInfo:
        if self.task_id is None:
            raise JobError(
                f"Linkis job {self.exec_id} is gone from the entrance and has no taskID",
                exec_id=self.exec_id,
            )
        task = self.client.task(self.task_id)
        with self._lock:
            self._task = task
        if self.exec_id is None and task.exec_id:
            self.exec_id = task.exec_id
        return task

    def _settle_history(self, state: JobStatus) -> None:
        """At completion, read jobhistory until it is terminal too (the DB can lag)."""
        if self._history_settled or self.task_id is None:
            return
        begin = time.monotonic()
        delay = 0.02
        while True:
            task = self._history()
            waited = time.monotonic() - begin
            if task.status.is_terminal and (
                state is not JobStatus.SUCCEED
                or task.result_location is not None
                or waited >= LOCATION_LAG  # a job without result sets (DDL) has none
            ):
                break
            if waited >= HISTORY_LAG:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        self._history_settled = True

    def _fetch_status(self) -> JobStatus:
        if not self._entrance_gone and self.exec_id is not None:
            try:
                return self.client.status(self.exec_id, task_id=self.task_id)
            except NotLoggedInError:
                raise
            except GatewayError as exc:
                if self.task_id is None:
                    raise
                _log.debug("entrance forgot job %s (%s); using jobhistory", self._name(), exc)
                self._entrance_gone = True
        return self._history().status

    def _fetch_progress(self) -> Progress:
        if not self._entrance_gone and self.exec_id is not None:
            try:
                return self.client.progress(self.exec_id)
            except NotLoggedInError:
                raise
            except GatewayError:
                if self.task_id is None:
                    raise
                self._entrance_gone = True
        task = self._task if self._task is not None else self._history()
        return Progress(task.progress, ())

    def _fetch_log(self, *, final: bool) -> int:
        """Fetch new log lines; on the final tick drain to the end. Returns lines added."""
        added = 0
        while not self._entrance_gone and self.exec_id is not None:
            try:
                chunk = self.client.log(
                    self.exec_id, from_line=self._from_line, size=LOG_PAGE, **self._log_options
                )
            except NotLoggedInError:
                raise
            except GatewayError as exc:
                if self.task_id is None:
                    raise
                _log.debug("entrance log gone for job %s (%s); using openLog", self._name(), exc)
                self._entrance_gone = True
                break
            advanced = chunk.from_line - self._from_line
            added += self._append(chunk.lines, chunk.error_lines)
            if chunk.from_line > self._from_line:
                self._from_line = chunk.from_line
            if advanced < LOG_PAGE:  # a short page: nothing more right now
                return added
        if self.task_id is None:
            return added
        now = time.monotonic()
        if not final and now - self._last_openlog < OPENLOG_INTERVAL:
            return added
        self._last_openlog = now
        task = self._task if self._task is not None else self._history()
        if not task.log_path:
            return added
        try:
            whole = self.client.open_log(task.log_path)
        except GatewayError as exc:
            _log.debug("openLog failed for job %s: %s", self._name(), exc)
            return added
        return added + self._append_whole(whole)

    def _append(self, lines: tuple[str, ...], error_lines: tuple[str, ...]) -> int:
        fresh = [line for line in lines if not _is_blank(line)]
        marked = set(error_lines)
        # slot [0] when the server sends it; the same rule (REFERENCE §3.7) when it does not
        errors = [line for line in fresh if line in marked or _ERROR_LINE.search(line)]
        with self._lock:
            self._lines.extend(fresh)
            self._errors.extend(errors)
        return len(fresh)

    def _append_whole(self, whole: LogChunk) -> int:
        """Add the part of a whole persisted log (openLog) that was not shown yet."""
        lines = [line for line in whole.lines if not _is_blank(line)]
        with self._lock:
            fresh = lines[len(self._lines) :]
            marked = set(whole.error_lines)
            self._lines.extend(fresh)
            self._errors.extend(x for x in fresh if x in marked or _ERROR_LINE.search(x))
        return len(fresh)


class _AuxSchedule:
    """When progress/log are due: every tick while they change, backing off while they don't."""

    def __init__(self) -> None:
        self._log_next = 0.0
        self._log_gap = 0.0
        self._prog_next = 0.0
        self._prog_gap = 0.0

    def log_due(self, now: float, state_changed: bool) -> bool:
        return state_changed or now >= self._log_next

    def progress_due(self, now: float, state_changed: bool) -> bool:
        return state_changed or now >= self._prog_next

    def log_done(self, now: float, changed: bool) -> None:
        self._log_gap = _next_gap(self._log_gap, changed)
        self._log_next = now + self._log_gap

    def progress_done(self, now: float, changed: bool) -> None:
        self._prog_gap = _next_gap(self._prog_gap, changed)
        self._prog_next = now + self._prog_gap

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<_AuxSchedule log+{self._log_gap:g} progress+{self._prog_gap:g}>"


def _next_gap(gap: float, changed: bool) -> float:
    if changed:
        return 0.0  # due again on the next tick
    return min(max(gap * 2, 0.9), AUX_MAX_INTERVAL)


def _transient(exc: BaseException) -> bool:
    """A failure worth retrying later: no connection, or a proxy saying 502/503/504."""
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, ProtocolError) and exc.http_status in (502, 503, 504)


def _add_note(exc: BaseException, note: str) -> None:
    add_note: Any = getattr(exc, "add_note", None)  # Python 3.11+
    if add_note is not None:
        add_note(note)
