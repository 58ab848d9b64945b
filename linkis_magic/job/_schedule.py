"""When a job is polled: the status schedule, and when progress and log are worth asking for.

Why the schedule looks the way it does (docs/linkis-protocol.md §3, §7; official clients poll
every 1-5 s):

* The first status call goes out ~5 ms after submit, the next ones every 10 ms for 50 ms
  (status only: log and progress wait until the job outlives that span or ends; jobhistory is
  read beside the first HISTORY_TICKS calls, see ``Job._tick``, so the call that sees a quick
  job end also brings its resultLocation; not beside every call of the span, which doubled
  the requests a local gateway answers while a ~0.1 s job runs), and the interval then grows
  by 1.5x up to about one second: a ``select 1`` is seen finished almost at once, and a
  30-second job costs about one status call per second.
* Once progress says every task is done while the job still runs (a Spark engine writing its
  result sets), the end is near: the interval drops to FINISH_POLL and then stays at
  FINISH_SHARE of the time spent finishing, so the end is seen at most about a fifth of that
  wrap-up late (a result write of 0.5 s: ~0.1 s) instead of a third of the whole run; for the
  first FINISH_HISTORY seconds of it jobhistory is read beside the status too. Jobs that
  report no progress (Python, shell) keep the plain schedule.
* Later in a long job the cap grows with the job's age (LATE_SHARE of it, at most LATE_MAX):
  a job running for ten minutes is asked every ~30 s, so it costs a few hundred calls rather
  than a thousand, and its end is seen less than 5% of its age late. Jobs that report stages
  are not left waiting that long: from how fast their overall progress grows, a tick is
  planned for the moment it should reach 1.0 (``AuxSchedule.wake_at``), and the finishing
  beat takes it from there.
* Progress and log are fetched on the same ticks, never more than one of each per tick, and are
  skipped while they cannot have changed (progress before the job runs; both back off while they
  keep coming back unchanged, up to AUX_MAX_INTERVAL or AUX_LATE_SHARE of the job's age,
  whichever is longer); while they change they are read on every tick, but no more often
  than every AUX_BUSY_SHARE of the job's age (so the fast ticks of an old job's finishing
  beat ask for the status alone, and an old job's progress every other tick). Progress with
  stages backs off from a quarter of the job's age at most, so a sub-second query's "every
  task done" is seen in time for the finishing beat (a flat first step of 0.9 s would miss
  it); jobs without stages keep the flat step.
* A poll that fails for transport reasons is retried on a slower beat; only after
  ``gateway_outage_timeout`` seconds without an answer does waiting give up.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkis_magic.job._clock import Clock

__all__ = ["AuxSchedule", "PollSchedule"]

FIRST_POLL = 0.005  # seconds after submit for the first status call ...
EARLY_POLL = 0.01  # ... then this interval (status only) ...
EARLY_SPAN = 0.05  # ... for this long after it: a `select 1` on a healthy gateway ends here
HISTORY_TICKS = 3  # a fresh job's first status calls also read jobhistory
BACKOFF = 1.5  # growth of the poll interval per tick
MAX_INTERVAL = 1.0  # cap of the poll interval while the job runs ...
LATE_SHARE = 0.05  # ... until this share of the job's age is longer ...
LATE_MAX = 30.0  # ... up to this
FINISH_POLL = 0.02  # first interval once progress reports every task done ...
FINISH_SHARE = 0.2  # ... then this share of the time since (so at most ~20% of it late)
FINISH_HISTORY = 1.0  # seconds of finishing during which jobhistory is read beside the status
FAILED_POLL = 0.2  # smallest interval after a failed poll
AUX_MAX_INTERVAL = 6.0  # cap for progress/log while they keep coming back unchanged
AUX_FIRST_GAP = 0.9  # first back-off step for progress/log that did not change ...
AUX_AGE_SHARE = 0.25  # ... at most this share of the job's age, for progress with stages
AUX_LATE_SHARE = 0.1  # unchanged progress/log of an old job: up to this share of its age
AUX_BUSY_SHARE = {"log": 0.03, "progress": 0.07}  # changing: at most every this share of
# the job's age (progress less often than the status of an old job: wake_at plans the poll
# that matters, the one when every task should be done)
ETA_MIN = 0.25  # the earliest a progress poll is planned at the expected end of the tasks


@dataclass
class PollSchedule:
    """The status-call schedule of one ``wait()``: when the next tick is due, and why.

    Built once per wait; ``fresh`` is True for a job submitted through this process whose
    state nobody has asked for yet (it gets the quick first tick and the early span).
    """

    clock: Clock
    first_at: float
    early_until: float
    born: float  # when the job was submitted (or this wait began, when that is unknown)
    interval: float = EARLY_POLL
    finishing_since: float | None = None
    failing_since: float | None = None
    fresh: bool = False
    ticks: int = 0

    @classmethod
    def start(cls, clock: Clock, submitted_at: float | None, *, fresh: bool) -> PollSchedule:
        """The schedule for a wait that begins now."""
        now = clock.now()
        if fresh and submitted_at is not None:
            # the span runs from the first call: over a slow link the submit reply alone
            # may take longer than EARLY_SPAN
            first_at = max(now, submitted_at + FIRST_POLL)
            return cls(
                clock, first_at, early_until=first_at + EARLY_SPAN, born=submitted_at, fresh=True
            )
        born = now if submitted_at is None else min(now, submitted_at)
        return cls(clock, first_at=now, early_until=now, born=born)

    def until_first(self) -> float:
        """Seconds to sleep before the first tick."""
        return self.first_at - self.clock.now()

    def early(self) -> bool:
        """True during the status-only span right after submit."""
        return self.clock.now() < self.early_until

    def near_end(self) -> bool:
        """Whether the next tick may well see the end: right after submit (the first
        HISTORY_TICKS calls), or in the first FINISH_HISTORY seconds after every task is
        done (a longer wrap-up is not worth a jobhistory read per tick)."""
        if self.finishing_since is not None:
            return self.clock.now() - self.finishing_since < FINISH_HISTORY
        return self.fresh and self.ticks < HISTORY_TICKS

    def after_tick(self, *, tasks_all_done: bool) -> float:
        """A tick succeeded: the interval to sleep before the next one."""
        self.ticks += 1
        self.failing_since = None
        now = self.clock.now()
        if tasks_all_done:
            if self.finishing_since is None:
                self.finishing_since = now
            finishing_for = now - self.finishing_since
            self.interval = min(max(FINISH_POLL, FINISH_SHARE * finishing_for), MAX_INTERVAL)
            return self.interval
        self.finishing_since = None  # a new stage started: back to the plain schedule
        if not self.early():
            cap = max(MAX_INTERVAL, min(LATE_SHARE * (now - self.born), LATE_MAX))
            self.interval = min(self.interval * BACKOFF, cap)
        return self.interval

    def after_failure(self, grace: float) -> float | None:
        """A tick failed for transport reasons: the interval before retrying it, or None
        once the gateway has been unreachable for ``grace`` seconds."""
        now = self.clock.now()
        if self.failing_since is None:
            self.failing_since = now
        if now - self.failing_since >= grace:
            return None
        self.interval = min(max(self.interval, FAILED_POLL) * BACKOFF, MAX_INTERVAL)
        return self.interval

    @property
    def unreachable_for(self) -> float:
        """Seconds since the first failure of the current run of failed ticks."""
        if self.failing_since is None:
            return 0.0
        return self.clock.now() - self.failing_since


class AuxSchedule:
    """When progress/log are due: every tick while they change, backing off while they don't.

    ``born`` (the job's submit time on the clock, when known) lets the back-off of an old
    job's unchanged log and progress grow with its age.
    """

    def __init__(self, born: float | None = None) -> None:
        self._next = {"log": 0.0, "progress": 0.0}
        self._gap = {"log": 0.0, "progress": 0.0}
        self._born = born
        self._sample: tuple[float, float] | None = None  # (time, fraction) of the last change
        self._wake: float | None = None

    def due(self, what: str, now: float, state_changed: bool) -> bool:
        """Ask for ``what`` ("log" or "progress") on this tick?"""
        if what == "progress" and self._wake is not None and now >= self._wake:
            return True
        return state_changed or now >= self._next[what]

    def done(
        self,
        what: str,
        now: float,
        changed: bool,
        age: float | None = None,
        fraction: float | None = None,
    ) -> None:
        """Record that ``what`` was fetched and whether it brought anything new; ``age`` (the
        job's, in seconds) caps the first back-off step (see the module doc); ``fraction`` is
        the overall progress of a job with stages, which plans :meth:`wake_at`."""
        first = AUX_FIRST_GAP if age is None else min(AUX_FIRST_GAP, AUX_AGE_SHARE * age)
        cap, busy = AUX_MAX_INTERVAL, 0.0
        if self._born is not None:
            cap = max(cap, AUX_LATE_SHARE * (now - self._born))
            busy = AUX_BUSY_SHARE[what] * (now - self._born)
        gap = busy if changed else min(max(self._gap[what] * 2, first), cap)
        self._gap[what] = gap
        self._next[what] = now + gap
        if what == "progress":
            self._plan(now, fraction)

    def _plan(self, now: float, fraction: float | None) -> None:
        """Expect overall progress to reach 1.0 at the pace it grew since its last change,
        and plan a poll then (a job's stages all done: the finishing beat)."""
        if self._wake is not None and now >= self._wake:
            self._wake = None  # this was the planned poll
        if fraction is None or fraction >= 1.0:
            self._sample = self._wake = None
            return
        last = self._sample
        if last is not None and fraction == last[1]:
            return  # unchanged: the plan made at the last change stands
        self._sample = (now, fraction)
        if last is None or fraction < last[1] or now <= last[0]:
            self._wake = None  # the first figure, or a new stage: no pace yet
            return
        pace = (fraction - last[1]) / (now - last[0])
        self._wake = now + max(ETA_MIN, (1.0 - fraction) / pace)

    def wake_at(self) -> float | None:
        """When progress is expected to be complete (a tick is worth planning then), or None."""
        return self._wake
