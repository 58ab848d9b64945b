"""JobDisplay, the base of every display: snapshots in, throttled renders out.

The magic feeds a display :class:`~linkis_magic.job.JobSnapshot` objects from
``Job.wait(on_update=...)``; a display reads snapshots only and never talks to the gateway, so
it can be driven (and tested) without one. Updates come from the poll thread, Kill clicks from
the kernel's main thread: renders are serialised with a lock, throttled to a few per second,
and never drop a state change or the final state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from linkis_magic.display._format import summary_text

if TYPE_CHECKING:
    from linkis_magic.job import JobSnapshot
    from linkis_magic.protocol import JobStatus
    from linkis_magic.results import ResultSet


class JobDisplay:
    """Base display: shows nothing, knows the summary and the throttling rule.

    ``update`` may be called from the poll thread at every tick; subclasses render at most
    once per ``min_interval`` seconds except for state changes, a gateway that stops or starts
    answering and the final snapshot, which are always rendered. A snapshot skipped by the
    throttle is drawn later by a deferred flush (``trailing``), because ``Job.wait`` only
    reports changes: without it a job that stalls right after a skipped tick would keep
    showing stale progress. ``clock`` and
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
        self._last_state: JobStatus | None = None
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
            state = snap.state
            now = self._clock()
            rendered = self._rendered
            due = (
                self._last_render is None
                or state != self._last_state
                or (rendered is not None and snap.unreachable_since != rendered.unreachable_since)
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
        self._last_state = snap.state
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
