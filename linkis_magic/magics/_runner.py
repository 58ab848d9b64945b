"""The one way a cell runs a job: blocking, awaited, in the background, or re-attached.

Every run has the same shape. The job is submitted (or attached) on the caller's thread; then
a worker thread does all the waiting and loading: ``Job.wait`` with the display as its
``on_update`` and the run's cancel event, then ``Job.results``. The caller's side only waits for
that worker, in short slices, and afterwards shows and binds what it produced:

* blocking (``run_cell_magic('linkis', ...)``, terminal IPython, nbconvert): slices of
  ``Future.result(timeout)``; Ctrl-C arrives there as KeyboardInterrupt;
* awaited (widget frontends on ipykernel >= 7.4, docs/kernel-notes.md §3): slices of
  ``asyncio.wait``, which keep the kernel free to deliver Kill clicks; an interrupt arrives as
  CancelledError;
* background: nobody waits; the worker also binds the result;
* attach: a blocking run of a Job built from a taskID.

Stopping a job belongs to the Job (``wait(cancel=...)``): the Kill button, ``%linkis kill`` and
an interrupt only set the run's cancel event. After an interrupt the caller waits at most the
job's kill grace plus BACKSTOP_MARGIN for the worker, so the cell ends within ~7 s by default
(5 + 2; the README promises 10 s) whatever the gateway does, and says in one line what became
of the job. Nothing is bound unless the job succeeded and its results were loaded.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import itertools
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from linkis_magic.display import JobDisplay, ResultFrames, show_result
from linkis_magic.errors import JobCancelled, JobError, KillUnconfirmed, LinkisError
from linkis_magic.job import Job
from linkis_magic.magics._render import LinkisInterrupted, ident, quiet, still_running_hint
from linkis_magic.protocol import JobStatus, ResultKind
from linkis_magic.results import ExportSummary, ResultSet

__all__ = ["BACKSTOP_MARGIN", "KEEP_RUNS", "SLICE", "JobRun", "Runner"]

KEEP_RUNS = 100  # finished runs kept for %linkis status|log|kill|attach (running ones: all)
SLICE = 0.2  # seconds between wake-ups of a waiting cell (docs/kernel-notes.md §4)
BACKSTOP_MARGIN = 2.0  # seconds past the job's kill grace before a cell stops waiting
_SHOWN_AS_MEDIA = frozenset({ResultKind.HTML, ResultKind.PICTURE, ResultKind.IO})


@dataclass(frozen=True)
class Outcome:
    """What a run's worker produced: loaded result sets (None: not loaded) and an export."""

    results: list[ResultSet] | None
    exported: ExportSummary | None


@dataclass(eq=False)
class JobRun:
    """A job started (or attached) from this shell: its display, options and outcome.

    ``future`` holds what the worker produced (the results, or the error) until the run is
    concluded; then it is released (:meth:`release`), so an old run keeps only what ``%linkis
    status|log|kill|attach`` need (ids, state, the Job without its loaded results). ``done`` is
    set once the worker has finished everything, binding included for a background run.
    """

    job: Job
    display: JobDisplay
    output: str | None = None
    quiet: bool = False
    limit: int | None = None
    timeout: float | None = None
    export: Path | None = None
    background: bool = False
    job_engine: str | None = None  # the engine label the cell asked for
    cancel: threading.Event = field(default_factory=threading.Event)
    future: concurrent.futures.Future[Outcome] = field(default_factory=concurrent.futures.Future)
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)
    cancel_at: float | None = None
    serial: int = 0  # start order in its Runner

    @property
    def name(self) -> str:
        """``taskID 7`` (or the execID)."""
        return ident(self.job.task_id, self.job.exec_id)

    def release(self) -> None:
        """Drop what the run produced (frames, errors and their tracebacks): once shown and
        bound, the user's own name is the only thing that keeps a result alive."""
        released: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        released.set_result(Outcome(None, None))
        self.future = released
        self.job.forget_results()

    def request_cancel(self) -> None:
        """Ask the job to stop (Kill button, %linkis kill, interrupt); the Job does the rest."""
        if self.cancel_at is None:
            self.cancel_at = time.monotonic()
        self.cancel.set()


def _display(value: Any) -> None:
    """Show a bound value as the cell's output would (rich HTML in a notebook)."""
    from IPython.display import display

    display(value)  # type: ignore[no-untyped-call]  # IPython is untyped here


class Runner:
    """Starts the worker of a run, waits for it in slices, finishes or fails the cell."""

    def __init__(
        self,
        namespace: Callable[[], dict[str, Any]],
        keep: int = KEEP_RUNS,
        show: Callable[[Any], None] | None = None,
    ) -> None:
        self._namespace = namespace
        self._show = show or _display
        self._runs: collections.deque[JobRun] = collections.deque(maxlen=keep)
        self._active: set[JobRun] = set()  # started and not done: never forgotten
        self._lock = threading.Lock()
        self._serials = itertools.count(1)

    @property
    def runs(self) -> list[JobRun]:
        """The runs %linkis status|log|kill|attach can name: the last ``keep`` ones plus every
        run still going, oldest first."""
        with self._lock:
            kept = list(self._runs)
            kept_ids = {id(run) for run in kept}
            older = [run for run in self._active if id(run) not in kept_ids]
        return sorted(older, key=lambda run: run.serial) + kept

    def clear(self) -> None:
        """Forget every run that has finished (running ones stay: they must be stoppable)."""
        with self._lock:
            self._runs.clear()

    def running(self) -> list[JobRun]:
        """Runs whose worker has not finished (a kernel exit kills their jobs)."""
        with self._lock:
            return sorted(
                (run for run in self._active if not run.done.is_set()),
                key=lambda run: run.serial,
            )

    # ------------------------------------------------------------------ starting

    def start(self, run: JobRun) -> JobRun:
        """Register the run, show its display and start its worker thread."""
        with self._lock:
            run.serial = next(self._serials)
            self._runs.append(run)
            self._active.add(run)
        run.display.show()

        future = run.future  # a run released meanwhile (interrupt) gets a new one

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                run.job.wait(run.timeout, on_update=run.display.update, cancel=run.cancel)
                outcome = self._outputs(run)
            except BaseException as exc:  # handed to whoever waits for the run
                future.set_exception(exc)
            else:
                future.set_result(outcome)
            if run.background:
                self._settle_background(run)
            run.done.set()
            with self._lock:
                self._active.discard(run)

        run.thread = threading.Thread(target=work, name=f"linkis-{run.job.task_id}", daemon=True)
        run.thread.start()
        return run

    @staticmethod
    def _outputs(run: JobRun) -> Outcome:
        """Export (straight from the gateway) and/or load what the run asked for.

        ``--export`` without ``-o`` loads nothing into pandas: a result larger than memory is
        written to disk all the same.
        """
        exported = None
        if run.export is not None:
            exported = run.job.export(run.export, limit=run.limit)
        load = run.export is None or run.output is not None
        return Outcome(run.job.results(limit=run.limit) if load else None, exported)

    def _settle_background(self, run: JobRun) -> None:
        # nobody waits: the display shows the outcome, error included
        with contextlib.suppress(BaseException):
            self.conclude(run)

    # ------------------------------------------------------------------ waiting

    def block(self, run: JobRun) -> Any:
        """Wait for the run on this thread (Ctrl-C -> LinkisInterrupted), then conclude."""
        try:
            while not run.future.done():
                concurrent.futures.wait((run.future,), timeout=SLICE)
                self._check_backstop(run)
        except KeyboardInterrupt:
            raise self.interrupted(run) from None
        return self.conclude(run)

    async def block_async(self, run: JobRun) -> Any:
        """Await the run in short slices (the kernel stays free for Kill clicks), then conclude."""
        awaited = asyncio.wrap_future(run.future)
        try:
            while not run.future.done():
                await asyncio.wait({awaited}, timeout=SLICE)
                self._check_backstop(run)
        except asyncio.CancelledError:
            raise self.interrupted(run) from None
        return self.conclude(run)

    def _check_backstop(self, run: JobRun) -> None:
        """After a Kill click, stop waiting once the job's grace (plus a margin) is over."""
        if run.cancel_at is None or run.future.done():
            return
        if time.monotonic() - run.cancel_at < run.job.kill_grace + BACKSTOP_MARGIN:
            return
        reason = f"no answer from the gateway within {run.job.kill_grace + BACKSTOP_MARGIN:g} s"
        self.fail(run, self._unconfirmed(run, reason))

    def _unconfirmed(self, run: JobRun, reason: str) -> KillUnconfirmed:
        return KillUnconfirmed(
            f"Linkis job {run.name} may still be running: {reason}",
            reason=reason,
            exec_id=run.job.exec_id,
            task_id=run.job.task_id,
            state=run.job.state.value if run.job.state else None,
        )

    # ------------------------------------------------------------------ interrupts

    def interrupted(self, run: JobRun) -> LinkisInterrupted:
        """Ctrl-C while waiting: stop the job, wait a bounded time, say what became of it."""
        finished = run.job.state is not None and run.job.state.is_terminal
        if finished:
            message = self._interrupted_after_end(run)
        else:
            run.request_cancel()
            message = self._interrupted_while_running(run)
        error = LinkisInterrupted(message)
        self.settle(run, error)
        return error

    def _interrupted_after_end(self, run: JobRun) -> str:
        state = run.job.state.value if run.job.state else "ended"
        if run.job.state is JobStatus.SUCCEED:
            ref = run.job.task_id if run.job.task_id is not None else run.job.exec_id
            return (
                f"Interrupted while loading the results of Linkis job {run.name} (it Succeed); "
                f"nothing was bound: load them later with %linkis attach {ref}"
            )
        return f"Interrupted: Linkis job {run.name} had already ended ({state}); nothing was bound"

    def _interrupted_while_running(self, run: JobRun) -> str:
        wait = run.job.kill_grace + BACKSTOP_MARGIN
        hint = still_running_hint(run.job.task_id, run.job.exec_id)
        try:
            run.future.result(timeout=wait)
        except JobCancelled:
            return f"Interrupted: Linkis job {run.name} killed (Cancelled)"
        except KillUnconfirmed as exc:
            return f"Interrupted: Linkis job {run.name} may still be running: {exc.reason}; {hint}"
        except JobError as exc:
            state = exc.state or "ended"
            return f"Interrupted: Linkis job {run.name} had already ended ({state})"
        except concurrent.futures.TimeoutError:
            reason = f"no answer from the gateway within {wait:g} s"
            return f"Interrupted: Linkis job {run.name} may still be running: {reason}; {hint}"
        except KeyboardInterrupt:
            return (
                f"Interrupted again before Linkis job {run.name} was confirmed killed; it may "
                f"still be running: {hint}"
            )
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return f"Interrupted: Linkis job {run.name} may still be running ({first}); {hint}"
        state = run.job.state.value if run.job.state else "ended"
        return f"Interrupted: Linkis job {run.name} had already ended ({state}); nothing was bound"

    # ------------------------------------------------------------------ concluding

    def conclude(self, run: JobRun) -> Any:
        """The worker is done: fail the cell with its error, or show and bind its results."""
        try:
            try:
                outcome = run.future.result()
            except LinkisError as exc:
                self.fail(run, exc)
            # bound before the display says the job ended: a background run's variable is
            # there as soon as the user can see that it should be
            value = None if outcome.results is None else self._bind(run, outcome.results)
            run.display.finish(run.job.snapshot(), results=outcome.results)
            if outcome.results is None:  # exported, not loaded: the summary is the cell's value
                return outcome.exported
            if outcome.exported is not None and not run.quiet:
                print(outcome.exported)
            return self._report(run, outcome.results, value)
        finally:
            run.release()

    def fail(self, run: JobRun, exc: LinkisError) -> NoReturn:
        """Show the error in the display and raise it with a short rendering."""
        self.settle(run, exc)
        raise quiet(exc) from None

    def settle(self, run: JobRun, error: BaseException) -> None:
        """Finish the display with an error (never hides the error itself), then release
        the run (a worker still going keeps its outcome to itself)."""
        # the display must never hide the job's own outcome
        with contextlib.suppress(Exception):
            run.display.finish(run.job.snapshot(), error=error)
        run.release()

    def _bind(self, run: JobRun, results: list[ResultSet]) -> Any:
        """The run's frames (one, a list of them, or None), bound to ``-o NAME`` if any."""
        tables = ResultFrames.of(results)  # a list that displays as titled tables
        value: Any = tables[0] if len(tables) == 1 else (tables or None)
        if run.output and value is not None:
            self._namespace()[run.output] = value
        return value

    def _report(self, run: JobRun, results: list[ResultSet], value: Any) -> Any:
        """Show the result sets that are not tables and notes; returns the cell's value.

        Text is printed, HTML and pictures are displayed as such (``display/_media``). When a
        job mixes tables with HTML, pictures or IO, every result set is displayed here in
        result-set order (a Python job's ``show(df)`` and its chart read top to bottom) and the
        cell has no value, so the tables are not shown twice; ``-o`` binds them all the same.
        """
        in_order = value is not None and any(rs.kind in _SHOWN_AS_MEDIA for rs in results)
        if not run.quiet:
            for rs in results:
                if rs.frame is not None:
                    if in_order and not run.background:
                        self._show(ResultFrames([rs.frame], [rs.index]))
                elif rs.kind is ResultKind.TEXT:
                    if rs.text:
                        print(rs.text.rstrip("\n"))
                else:
                    show_result(rs)
                if rs.truncated:
                    print(
                        f"result set {rs.index}: only the first {run.limit} rows were loaded "
                        f"(--limit {run.limit})",
                        file=sys.stderr,
                    )
        if run.output:
            if value is None:
                if not run.quiet:
                    print(f"no table result set: {run.output} is not bound", file=sys.stderr)
            else:
                if not run.quiet and not run.background and not in_order:
                    self._show(value)
                # The name is the one handle: as the cell's value, IPython's output history
                # (Out, _) would pin every re-run's frames for the rest of the session.
                return None
        return None if in_order and not run.quiet else value

    # ------------------------------------------------------------------ lookup

    def find(self, ref: int | str | None) -> JobRun | None:
        """The run a taskID/execID names (the last run for None)."""
        runs = self.runs
        if ref is None:
            return runs[-1] if runs else None
        for run in reversed(runs):
            if ref == run.job.exec_id or ref == run.job.task_id:
                return run
        return None
