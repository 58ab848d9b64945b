"""Job: follow one Linkis job from submit to its final state, and stop it when asked.

A :class:`Job` polls the entrance (status, progress, log) on the schedule of ``_schedule``,
keeps every log line it has seen (``_log``), hands frozen :class:`JobSnapshot` records to
displays, and carries on through jobhistory when the entrance cannot answer (``_route``). It
never prints: displays and magics decide what to show.

The Job is the one owner of stopping a job. ``wait(cancel=event)`` turns a set event (the Kill
button, Ctrl-C in a notebook) into the protocol of ``_stop``: kill once (re-sent on a schedule),
wait up to ``kill_grace`` seconds for a final state, then give up with
:class:`KillUnconfirmed`. Every gateway call in that phase carries the remaining time as its
timeout and is never retried, so the whole phase is bounded. An interrupt that lands inside
``wait()`` itself (Ctrl-C in a plain script) goes through the same steps before it is re-raised.

Where each call goes (entrance, or jobhistory once the entrance cannot answer) and how
jobhistory is brought in line at completion is the route's business (``_route``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from linkis_magic._transport import aside
from linkis_magic._validate import check_int, check_seconds
from linkis_magic.errors import (
    GatewayError,
    JobCancelled,
    JobError,
    JobFailed,
    JobWaitTimeout,
    KillUnconfirmed,
    LinkisError,
    ProtocolError,
    TransportError,
)
from linkis_magic.job._clock import SYSTEM_CLOCK, Clock
from linkis_magic.job._gateway import JobGateway
from linkis_magic.job._log import LogCursor
from linkis_magic.job._route import Route
from linkis_magic.job._schedule import AuxSchedule, PollSchedule
from linkis_magic.job._snapshot import JobSnapshot
from linkis_magic.job._stop import KILL_GRACE, StopAttempt, stop
from linkis_magic.protocol import DirEntry, JobStatus, Progress, Resources, StageProgress

if TYPE_CHECKING:
    import pandas as pd

    from linkis_magic.results import ExportSummary, ResultSet

__all__ = ["GATEWAY_OUTAGE_TIMEOUT", "Job"]

_log = logging.getLogger("linkis_magic.job")

LOG_TAIL = 50  # lines kept in JobSnapshot.log_tail
ERROR_TAIL = 20  # error lines kept in snapshots and exceptions
RESULT_RETRY = 0.5  # interval between attempts to list results while the gateway is unreachable
# How long wait()/results() ride out a gateway that cannot be reached (connection refused or
# reset, 502/503/504 after the adapter's own retries) before giving up with TransportError.
# A Linkis gateway or entrance restart takes minutes, so a restart must be ridden out; a
# gateway gone for good must still not hang the caller. LinkisClient(gateway_outage_timeout=)
# and Job/wait(gateway_outage_timeout=) change it.
GATEWAY_OUTAGE_TIMEOUT = 300.0

T = TypeVar("T")

_WAITING = {JobStatus.INITED, JobStatus.SCHEDULED, JobStatus.WAIT_FOR_RETRY}


def _transient(exc: BaseException) -> bool:
    """A failure worth retrying later: no connection, or a proxy saying 502/503/504."""
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, ProtocolError) and exc.http_status in (502, 503, 504)


def _add_note(exc: BaseException, note: str) -> None:
    add_note: Any = getattr(exc, "add_note", None)  # Python 3.11+
    if add_note is not None:
        add_note(note)


class Job:
    """One Linkis job: poll it, wait for it, kill it, read its results.

    Built by ``LinkisClient.submit`` / ``execute`` (fresh job) and ``LinkisClient.job``
    (re-attach by taskID; ``exec_id`` may then be ``None`` or already forgotten by the entrance,
    and jobhistory + ``openLog`` take over). ``clock`` is injectable for tests.
    ``gateway_outage_timeout`` (seconds) is how long waiting rides out a gateway that cannot be
    reached; by default the client's (``LinkisClient(gateway_outage_timeout=...)``).
    """

    def __init__(
        self,
        client: JobGateway,
        exec_id: str | None,
        task_id: int | None,
        *,
        submitted_at: float | datetime | None = None,
        clock: Clock = SYSTEM_CLOCK,
        gateway_outage_timeout: float | None = None,
    ) -> None:
        self.client = client
        self._clock = clock
        self._route = Route(client, exec_id, task_id)
        self._log = LogCursor(self._route, clock)
        # monotonic float (fresh submit) or a wall-clock datetime (re-attach: createdTime)
        self._started_mono: float | None = None
        self._started_wall: datetime | None = None
        if isinstance(submitted_at, datetime):
            wall = submitted_at
            self._started_wall = wall if wall.tzinfo else wall.replace(tzinfo=timezone.utc)
        else:
            self._started_mono = clock.now() if submitted_at is None else submitted_at
        self._lock = threading.RLock()
        self._state: JobStatus | None = None
        self._progress = 0.0
        self._stages: tuple[StageProgress, ...] = ()
        self._progress_asked = False  # a mid-run progress poll went out (see _final_progress)
        self._resources: Resources | None = None
        self._finished_elapsed: float | None = None
        self._results: dict[int | None, list[ResultSet]] = {}
        if gateway_outage_timeout is None:
            gateway_outage_timeout = client.gateway_outage_timeout
        # the last log lines and stage counts, read on helper threads once the end is seen
        self._end_lock = threading.Lock()
        self._end_log: Future[int] | None = None
        self._end_progress: Future[bool] | None = None
        # the result directory, listed as soon as a success was settled (resultLocation, list)
        self._listing: tuple[str, Future[list[DirEntry] | None]] | None = None
        #: seconds wait()/results() keep retrying while the gateway is unreachable
        self.gateway_outage_timeout = check_seconds(
            gateway_outage_timeout, "gateway_outage_timeout"
        )
        #: wall-clock time the gateway stopped answering (None while it answers)
        self._unreachable_since: datetime | None = None
        #: seconds a cancel waits for a final state before giving up (KillUnconfirmed)
        self.kill_grace = KILL_GRACE

    def __repr__(self) -> str:
        state = self._state.value if self._state else "unknown"
        return f"<Job task_id={self.task_id} exec_id={self.exec_id!r} state={state}>"

    @property
    def exec_id(self) -> str | None:
        """The runtime execID (learned from jobhistory for a re-attached job)."""
        return self._route.exec_id

    @property
    def task_id(self) -> int | None:
        """The database taskID."""
        return self._route.task_id

    @property
    def state(self) -> JobStatus | None:
        """The last state seen (None before the first poll)."""
        return self._state

    @property
    def log_lines(self) -> list[str]:
        """Every log line seen so far (slot [3] of the Linkis log array), in order."""
        self._join_end_reads()
        return list(self._log.lines)

    # ------------------------------------------------------------------ single calls

    def status(self) -> JobStatus:
        """Ask the gateway for the state once (entrance, or jobhistory once it cannot answer)."""
        state = self._route.status()
        with self._lock:
            self._set_state(state)
        return state

    def progress(self) -> Progress:
        """Ask for overall progress, the per-stage list and the job's YARN use."""
        progress = self._route.progress()
        with self._lock:
            self._keep_progress(progress)
        return progress

    def _keep_progress(self, progress: Progress) -> None:
        self._progress, self._stages = progress.progress, progress.stages
        if progress.resources is not None or not progress.stages:
            self._resources = progress.resources

    def kill(self, *, timeout: float | None = None) -> None:
        """Ask the gateway to kill the job once (GET entrance/{execID}/kill?taskID=...).

        The taskID is always sent so that a job the entrance no longer holds is force-killed in
        the database (docs/linkis-protocol.md §3.8). ``timeout`` bounds the call (no retries).
        """
        exec_id = self.exec_id
        if exec_id is None and self.task_id is not None:
            exec_id = self._route.history(timeout=timeout).exec_id
        if exec_id is None:
            raise JobError(
                f"cannot kill task {self.task_id}: Linkis reports no execID for it",
                task_id=self.task_id,
            )
        self.client.kill(exec_id, task_id=self.task_id, timeout=timeout)

    def read_log(self) -> list[str]:
        """The whole log as far as it exists now (entrance, or the persisted file)."""
        self._join_end_reads()
        if self._state is None or not self._state.is_terminal or not self._log.lines:
            self._log.fetch(final=True)
        return self.log_lines

    def snapshot(self, since: int = 0) -> JobSnapshot:
        """A frozen view for displays; ``new_log_lines`` are the lines after ``since``."""
        self._join_end_reads()
        view = self._log.view(since, LOG_TAIL, ERROR_TAIL)
        with self._lock:
            task = self._route.task
            failed = self._state is not None and self._state.is_failure
            return JobSnapshot(
                exec_id=self.exec_id,
                task_id=self.task_id,
                state=self._state,
                elapsed=self._elapsed(),
                progress=self._progress,
                stages=self._stages,
                new_log_lines=view.new,
                log_tail=view.tail,
                error_lines=view.errors,
                err_code=task.err_code if task is not None and failed else None,
                err_desc=task.err_desc if task is not None and failed else None,
                done=self._state is not None and self._state.is_terminal,
                log_count=view.total,
                notices=self._route.notices,
                resources=self._resources,
                unreachable_since=self._unreachable_since,
            )

    # ------------------------------------------------------------------ waiting

    def wait(
        self,
        timeout: float | None = None,
        on_update: Callable[[JobSnapshot], object] | None = None,
        cancel: threading.Event | None = None,
        *,
        gateway_outage_timeout: float | None = None,
    ) -> JobStatus:
        """Poll until the job ends; return ``Succeed`` or raise what happened.

        Raises :class:`JobFailed` (Failed/Timeout, with errCode/errDesc and the last error
        lines), :class:`JobCancelled` and :class:`JobWaitTimeout` (the job keeps running).
        ``on_update`` gets a :class:`JobSnapshot` after every tick that changed something.
        Setting ``cancel`` stops the job (see the module docstring): the result is Cancelled
        (JobCancelled), whatever final state came first, or :class:`KillUnconfirmed`. Any other
        exception inside wait() (KeyboardInterrupt from the kernel or from ``on_update``, a
        network error) stops the job the same way and is re-raised with a note saying how that
        went; a kill that fails is noted, never raised instead.

        While the gateway cannot be reached the job is polled on a slower beat, and snapshots
        carry ``unreachable_since`` (one update when it stops answering, one when it answers
        again); after ``gateway_outage_timeout`` seconds (this call's, else the job's) of no
        answer, TransportError names the taskID to re-attach to later.
        """
        return self._wait(timeout, on_update, cancel, gateway_outage_timeout=gateway_outage_timeout)

    def _wait(
        self,
        timeout: float | None,
        on_update: Callable[[JobSnapshot], object] | None,
        cancel: threading.Event | None,
        *,
        join: bool = True,
        gateway_outage_timeout: float | None = None,
    ) -> JobStatus:
        """``wait()``; with ``join=False`` a success returns before the last log lines and
        stage counts are in (results() lists the result sets meanwhile, then joins them)."""
        if timeout is not None:
            timeout = check_seconds(timeout, "timeout", allow_zero=True)
        outage = self.gateway_outage_timeout
        if gateway_outage_timeout is not None:
            outage = check_seconds(gateway_outage_timeout, "gateway_outage_timeout")
        try:
            final = self._follow(timeout, on_update, cancel, outage)
            if join:
                self._join_end_reads()
        except JobError:
            raise
        except BaseException as exc:
            self._abort(exc)
            raise
        return self._outcome(final)

    def _follow(
        self,
        timeout: float | None,
        on_update: Callable[[JobSnapshot], object] | None,
        cancel: threading.Event | None,
        outage: float,
    ) -> JobStatus:
        clock = self._clock
        poll = PollSchedule.start(clock, self._started_mono, fresh=self._state is None)
        deadline = None if timeout is None else clock.now() + timeout
        aux = AuxSchedule(self._started_mono)
        shown = 0  # log lines already handed to on_update

        def report() -> None:
            nonlocal shown
            if on_update is not None:
                snap = self.snapshot(shown)
                shown = snap.log_count
                on_update(snap)

        pause = poll.until_first()
        while True:
            if deadline is not None:
                pause = min(pause, deadline - clock.now())
            clock.sleep(pause, cancel)
            if cancel is not None and cancel.is_set():
                return self._cancel(report)
            try:
                changed, state = self._tick(aux, early=poll.early(), near_end=poll.near_end())
            except (TransportError, ProtocolError) as exc:
                retry_in = self._ride_out(exc, poll, outage)
                if self._unreachable_since is None:
                    with self._lock:
                        self._unreachable_since = datetime.now().astimezone()
                    report()
                if deadline is not None and clock.now() >= deadline:
                    last = self._state or JobStatus.INITED
                    raise self._wait_timeout(timeout, last, unanswered=exc) from exc
                pause = retry_in
                continue
            if self._unreachable_since is not None:
                with self._lock:
                    self._unreachable_since = None
                changed = True
            if changed:
                report()
            if state.is_terminal:
                return state
            if deadline is not None and clock.now() >= deadline:
                raise self._wait_timeout(timeout, state)
            pause = poll.after_tick(tasks_all_done=self._tasks_all_done())
            wake = aux.wake_at()  # when the stages should all be done: worth a tick then
            if wake is not None and wake > clock.now():
                pause = min(pause, wake - clock.now())

    def _ride_out(self, exc: LinkisError, poll: PollSchedule, outage: float) -> float:
        """Swallow a transient failure of one poll; re-raise once ``outage`` seconds passed."""
        if not _transient(exc):
            raise exc
        retry_in = poll.after_failure(outage)
        if retry_in is None:
            if self.task_id is not None:
                again = (
                    f"re-attach later with %linkis attach {self.task_id} "
                    f"or client.job({self.task_id})"
                )
            else:
                again = "it has no taskID to re-attach to"
            gave_up = type(exc) if isinstance(exc, TransportError) else TransportError
            raise gave_up(
                f"gave up on Linkis job {self._route.name}: the gateway has been unreachable "
                f"for {poll.unreachable_for:.0f} s (gateway_outage_timeout is {outage:g} s); "
                f"the job may still run there, {again}: {exc}"
            ) from exc
        _log.info("poll of Linkis job %s failed (%s); retrying", self._route.name, exc)
        return retry_in

    def _wait_timeout(
        self, timeout: float | None, state: JobStatus, unanswered: LinkisError | None = None
    ) -> JobError:
        name = self._route.name
        if unanswered is not None:
            message = (
                f"Linkis job {name} still {state.value} after {timeout:g} s, the gateway not "
                f"answering ({unanswered}); it may keep running"
            )
        else:
            message = (
                f"Linkis job {name} still {state.value} after {timeout:g} s "
                "(it keeps running; call wait() again or kill())"
            )
        return self._error(JobWaitTimeout, message, state)

    def _tasks_all_done(self) -> bool:
        """Progress is complete while the job still runs: only the engine's wrap-up is left."""
        with self._lock:
            return self._progress >= 1.0 and all(
                st.succeeded + st.failed >= st.total for st in self._stages
            )

    def _tick(
        self, aux: AuxSchedule, early: bool = False, near_end: bool = False
    ) -> tuple[bool, JobStatus]:
        """One poll: status, then progress and log when due. Returns (changed, state).

        ``early`` ticks (right after submit) ask for the status only, unless it is final: a
        job that ends within them costs no log/progress calls before its final log read.
        ``near_end`` ticks (early ones, and once every task is done) also read jobhistory
        beside the status: when the status says the job ended, that row usually already
        carries the final state and resultLocation, so seeing the end costs one round trip.
        """
        previous = self._state
        notices = len(self._route.notices)
        row = self._route.history_aside() if near_end else None
        state = self._route.status()
        seen = self._route.take_aside(row)
        now = self._clock.now()
        changed = state is not previous
        if state.is_terminal:
            # The entrance can be ahead of jobhistory: settle it before reading errCode etc.
            # The last log lines and stage counts are read on the side meanwhile and joined
            # when someone looks (snapshot, log_lines, the outcome, results), so they cost
            # no round trip of their own before results are listed.
            self._start_end_reads(state)
            self._route.settle(state, self._clock, seen)
            self._list_results(state)
            with self._lock:
                self._set_state(state)
            return True, state
        quiet = early
        new_lines = 0
        if not quiet and aux.due("log", now, changed):
            new_lines = self._log.fetch(final=False)
            aux.done("log", now, new_lines > 0)
        if not quiet and state not in _WAITING and aux.due("progress", now, changed):
            polled = self._poll_progress()
            progress_changed = polled
            with self._lock:
                staged = bool(self._stages)
                fraction = self._progress if staged else None
            age = now - self._started_mono if staged and self._started_mono is not None else None
            aux.done("progress", now, polled, age, fraction)
        else:
            progress_changed = False
        with self._lock:
            self._set_state(state)
        noticed = len(self._route.notices) > notices
        return changed or new_lines > 0 or progress_changed or noticed, state

    def _start_end_reads(self, state: JobStatus) -> None:
        """Start the final log and progress reads, unless a tick that failed after seeing the
        end (and is being retried) started them already: one log cursor, one reader."""
        with self._end_lock:
            if self._end_log is None:
                self._end_log = aside(lambda: self._log.fetch(final=True))
            if self._end_progress is None:
                self._end_progress = aside(lambda: self._final_progress(state))

    def _list_results(self, state: JobStatus) -> None:
        """Start listing the result directory of a success beside the final log read: the
        results are nearly always read next (the magic reads them after wait() returns), and
        then the listing is no round trip of its own."""
        task = self._route.task
        if state is not JobStatus.SUCCEED or task is None or not task.result_location:
            return
        location, client = task.result_location, self.client
        if self._listing is None:
            self._listing = (location, aside(lambda: client.dir_tree(location)))

    def _take_listing(self, location: str) -> list[DirEntry] | None:
        """The children listed by ``_list_results`` (once), or None: list them again."""
        listing, self._listing = self._listing, None
        if listing is None or listing[0] != location:
            return None
        try:
            return listing[1].result() or []
        except LinkisError as exc:  # read it again in the caller's own ride-out
            _log.debug("listing %s beside the final log failed: %s", location, exc)
            return None

    def _join_end_reads(self) -> None:
        """Wait for the reads started when the end was seen. A final log read that failed
        for transport reasons is read again, riding out the gateway as a poll would."""
        with self._end_lock:
            log, progress = self._end_log, self._end_progress
            self._end_log = self._end_progress = None
            if progress is not None:
                progress.result()  # _final_progress handles gateway errors itself
            poll: PollSchedule | None = None
            while log is not None:
                try:
                    log.result()
                    return
                except (TransportError, ProtocolError) as exc:
                    poll = poll or PollSchedule.start(self._clock, None, fresh=False)
                    self._clock.sleep(self._ride_out(exc, poll, self.gateway_outage_timeout))
                    log = aside(lambda: self._log.fetch(final=True))

    def _poll_progress(self) -> bool:
        """Whether progress changed (a gateway error counts as no change)."""
        old = (self._progress, self._stages, self._resources)
        self._progress_asked = True
        try:
            prog = self._route.progress()
        except GatewayError:
            return False
        with self._lock:
            self._keep_progress(prog)
        return (self._progress, self._stages, self._resources) != old

    def _final_progress(self, state: JobStatus) -> bool:
        """Read progress once more at the end, so stage rows show their final task counts.

        The last regular poll may date from mid-run; without this the display would keep a
        stage at, say, 78/100 tasks next to a Succeed badge, or miss the stages (Spark jobs)
        that started after it, or all of them when the one poll came before the first. Only
        asked when progress was polled during the run, so a job that finished within the
        status-only span after submit costs no extra call.
        """
        old = (self._progress, self._stages)
        final: Progress | None = None
        if (self._stages or self._progress_asked) and not self._route.gone:
            try:
                final = self._route.progress()
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

    # ------------------------------------------------------------------ stopping

    def _cancel(self, report: Callable[[], None]) -> JobStatus:
        """Stop the job (``_stop``): the final state, or KillUnconfirmed when none came."""
        outcome = stop(
            lambda left: self.kill(timeout=left),
            self._status_within,
            self._clock,
            self.kill_grace,
            self._route.name,
        )
        if isinstance(outcome, StopAttempt):
            reason = outcome.reason(self.kill_grace)
            raise self._error(
                KillUnconfirmed,
                f"Linkis job {self._route.name} may still be running: {reason}",
                outcome.state or self._state or JobStatus.RUNNING,
                reason=reason,
            )
        report()
        return outcome

    def _status_within(self, left: float) -> JobStatus:
        state = self._route.status(timeout=left)
        with self._lock:
            self._set_state(state)
        return state

    def _abort(self, exc: BaseException) -> None:
        """Stop the job after an interrupt/error inside wait(); note how it went; never raise."""
        if self._state is not None and self._state.is_terminal:
            return
        try:
            state = self._cancel(lambda: None)
            _add_note(exc, f"linkis-magic: job {self._route.name} was stopped ({state.value})")
        except KillUnconfirmed as late:
            _add_note(exc, f"linkis-magic: {late}")
        except Exception as late:  # the original exception must win
            _log.warning("while cancelling Linkis job %s: %s", self._route.name, late)
            _add_note(exc, f"linkis-magic: while cancelling job {self._route.name}: {late}")

    # ------------------------------------------------------------------ outcome

    def _outcome(self, state: JobStatus) -> JobStatus:
        if state is JobStatus.SUCCEED:
            return state
        self._join_end_reads()  # the error lines
        name = self._route.name
        if state is JobStatus.CANCELLED:
            raise self._error(JobCancelled, f"Linkis job {name} was cancelled", state)
        task = self._route.task
        detail = ""
        if task is not None and (task.err_code or task.err_desc):
            detail = f": errCode {task.err_code}, {task.err_desc or ''}".rstrip(", ")
        message = f"Linkis job {name} ended {state.value}{detail}"
        errors = self._log.errors[-5:]
        if errors:
            message += "\n" + "\n".join(errors)
        raise self._error(JobFailed, message, state)

    def _error(self, cls: type[JobError], message: str, state: JobStatus, **extra: Any) -> JobError:
        self._join_end_reads()
        task = self._route.task
        failed = state.is_failure
        return cls(
            message,
            exec_id=self.exec_id,
            task_id=self.task_id,
            state=state.value,
            err_code=task.err_code if task is not None and failed else None,
            err_desc=task.err_desc if task is not None and failed else None,
            error_lines=tuple(self._log.errors[-ERROR_TAIL:]),
            **extra,
        )

    def _elapsed(self) -> float:
        if self._finished_elapsed is not None:
            return self._finished_elapsed
        if self._started_wall is not None:
            return max(0.0, (datetime.now(timezone.utc) - self._started_wall).total_seconds())
        assert self._started_mono is not None
        return max(0.0, self._clock.now() - self._started_mono)

    def _set_state(self, state: JobStatus) -> None:
        if state.is_terminal and self._finished_elapsed is None:
            elapsed = self._elapsed()
            task = self._route.task
            if self._started_wall is not None and task is not None and task.cost_time_ms:
                elapsed = task.cost_time_ms / 1000.0  # a re-attached job: trust Linkis
            self._finished_elapsed = elapsed
        self._state = state

    # ------------------------------------------------------------------ results

    def results(self, limit: int | None = None) -> list[ResultSet]:
        """Every result set in numeric order (waits for the job first; raises if it failed)."""
        from linkis_magic.results import load_results  # pandas only when results are read

        if limit is not None:
            limit = check_int(limit, "limit", hint="rows per result set; None loads everything")
        if limit not in self._results:
            self._results[limit] = self._read_results(
                lambda location, listing: load_results(
                    self.client, location, limit=limit, listing=listing
                ),
                [],
            )
        return self._results[limit]

    def forget_results(self) -> None:
        """Drop the loaded result sets this Job keeps for repeated ``results()`` calls (the
        magic does once a cell has bound them: its old Jobs must not pin their frames)."""
        self._results.clear()

    def frames(self, limit: int | None = None) -> list[pd.DataFrame]:
        """The table result sets as typed DataFrames, in numeric result-set order."""
        return [rs.frame for rs in self.results(limit) if rs.frame is not None]

    def export(self, path: str | os.PathLike[str], *, limit: int | None = None) -> ExportSummary:
        """Write every table result set to ``path`` (``.csv``/``.xlsx``) straight from the
        gateway, without loading it: one table to ``path``, several to ``path_1``, ``path_2``,
        ...; all files or none (see ``linkis_magic.results``). Waits for the job first."""
        from linkis_magic.results import ExportSummary, export_tables, table_files

        if limit is not None:
            limit = check_int(limit, "limit", minimum=1, hint="rows per result set")
        return self._read_results(
            lambda location, listing: export_tables(
                self.client, table_files(self.client, location, listing), path, limit=limit
            ),
            ExportSummary(),
        )

    def _read_results(self, read: Callable[[str, list[DirEntry] | None], T], none: T) -> T:
        """Wait for success, then ``read(resultLocation)``, riding out an unreachable gateway
        (``none`` when the job made no result sets)."""
        if self._state is None or not self._state.is_terminal:
            self._wait(None, None, None, join=False)
        else:
            self._outcome(self._state)
        poll = PollSchedule.start(self._clock, None, fresh=False)
        while True:
            try:
                location = self._result_location()
                listing = None if location is None else self._take_listing(location)
                found = none if location is None else read(location, listing)
            except (TransportError, ProtocolError) as exc:
                self._ride_out(exc, poll, self.gateway_outage_timeout)
                self._clock.sleep(RESULT_RETRY)
            else:
                self._join_end_reads()
                return found

    def _result_location(self) -> str | None:
        if self.task_id is None:
            raise JobError(
                f"Linkis job {self.exec_id} has no taskID, so its results cannot be located",
                exec_id=self.exec_id,
            )
        task = self._route.task
        if task is None or task.result_location is None:
            task = self._route.history()
        return task.result_location
