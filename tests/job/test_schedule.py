"""When a job is polled, on a virtual clock: quick after submit, then about once a second."""

from __future__ import annotations

import itertools
import math

import pytest

from linkis_magic.job._schedule import (
    AUX_AGE_SHARE,
    AUX_BUSY_SHARE,
    AUX_FIRST_GAP,
    AUX_MAX_INTERVAL,
    EARLY_POLL,
    FINISH_HISTORY,
    FINISH_POLL,
    FINISH_SHARE,
    FIRST_POLL,
    HISTORY_TICKS,
    LATE_MAX,
    LATE_SHARE,
    MAX_INTERVAL,
    AuxSchedule,
    PollSchedule,
)
from tests.support.clock import FakeClock


def ticks(poll: PollSchedule, clock: FakeClock, until: float, done_at: float = 1e9) -> list[float]:
    """Virtual times of the status calls a job running ``until`` seconds gets."""
    at: list[float] = []
    clock.sleep(poll.until_first())
    while clock.elapsed() < until:
        at.append(clock.elapsed())
        clock.sleep(poll.after_tick(tasks_all_done=clock.elapsed() >= done_at))
    return at


class TestPollSchedule:
    """Status calls: 5 ms after submit, every 10 ms for 50 ms, then growing to one a second."""

    def test_fresh_job(self) -> None:
        clock = FakeClock()
        poll = PollSchedule.start(clock, clock.now(), fresh=True)
        at = ticks(poll, clock, until=30.0)
        assert at[0] == pytest.approx(FIRST_POLL)
        early = [b - a for a, b in itertools.pairwise(at) if b <= FIRST_POLL + 0.05]
        assert early and all(gap == pytest.approx(EARLY_POLL) for gap in early)
        gaps = [b - a for a, b in itertools.pairwise(at)]
        young = [b - a for a, b in itertools.pairwise(at) if b <= MAX_INTERVAL / LATE_SHARE]
        assert max(young) == pytest.approx(MAX_INTERVAL)
        assert max(gaps) <= LATE_SHARE * 30.0 + 1e-9  # then a share of the job's age
        assert all(b >= a - 1e-9 for a, b in itertools.pairwise(gaps))  # never faster
        # A 30-second job costs about one status call per second, plus the quick start.
        assert 30 <= len(at) <= 45

    def test_attached_job_starts_at_once_without_the_early_span(self) -> None:
        clock = FakeClock()
        poll = PollSchedule.start(clock, None, fresh=False)
        assert poll.until_first() == 0
        assert not poll.early()
        assert poll.after_tick(tasks_all_done=False) > EARLY_POLL

    def test_all_tasks_done_polls_closely_again(self) -> None:
        clock = FakeClock()
        plain = ticks(PollSchedule.start(clock, clock.now(), fresh=True), clock, until=8.0)
        clock = FakeClock()
        poll = PollSchedule.start(clock, clock.now(), fresh=True)
        tight = ticks(poll, clock, until=8.0, done_at=5.0)
        after = [t for t in tight if 5.0 <= t < 6.5]
        assert len(after) >= 4  # the plain schedule polls about once a second by then
        assert len([t for t in plain if 5.0 <= t < 6.5]) <= 2
        assert min(b - a for a, b in itertools.pairwise(after)) <= FINISH_POLL + 1e-9

    @pytest.mark.parametrize("wrap_up", [0.01, 0.08, 0.4, 1.5, 6.0])
    def test_the_end_after_all_tasks_are_done_is_seen_soon(self, wrap_up: float) -> None:
        """A job whose tasks are all done by 0.7 s and that ends `wrap_up` seconds later
        (writing its result sets) is seen finished within FINISH_POLL or a fifth of the
        wrap-up, not a third of the whole run as on the plain schedule."""
        clock = FakeClock()
        poll = PollSchedule.start(clock, clock.now(), fresh=True)
        done_at = 0.7
        end = done_at + wrap_up
        at = ticks(poll, clock, until=end + 2 * MAX_INTERVAL, done_at=done_at)
        seen = min(t for t in at if t >= end)
        # the first tick of the finishing phase may have been planned before it started
        grace = max(FINISH_POLL, FINISH_SHARE * wrap_up) + 1e-9
        first_finishing_tick = min(t for t in at if t >= done_at)
        assert seen - end <= max(grace, first_finishing_tick - end)
        # 20 ms steps for 0.1 s, then each tick ~1.2x the time finishing: logarithmic
        calls = len([t for t in at if done_at <= t <= end])
        assert calls <= 6 + math.log(max(wrap_up, 0.1) / 0.1) / math.log(1 + FINISH_SHARE)

    def test_a_new_stage_returns_to_the_plain_schedule(self) -> None:
        clock = FakeClock()
        poll = PollSchedule.start(clock, None, fresh=False)
        for _ in range(20):
            clock.sleep(poll.after_tick(tasks_all_done=False))
        plain = poll.after_tick(tasks_all_done=False)
        assert poll.after_tick(tasks_all_done=True) == pytest.approx(FINISH_POLL)
        clock.sleep(0.5)
        assert poll.after_tick(tasks_all_done=True) == pytest.approx(FINISH_SHARE * 0.5)
        assert poll.after_tick(tasks_all_done=False) >= FINISH_SHARE * 0.5
        assert poll.finishing_since is None and plain <= MAX_INTERVAL

    def test_failures_back_off_then_give_up_after_the_grace(self) -> None:
        clock = FakeClock()
        poll = PollSchedule.start(clock, None, fresh=False)
        waits = []
        while (wait := poll.after_failure(grace=30.0)) is not None:
            waits.append(wait)
            clock.sleep(wait)
        assert clock.elapsed() >= 30.0
        assert all(0.2 <= w <= MAX_INTERVAL for w in waits)
        poll.after_tick(tasks_all_done=False)  # an answer resets the count
        assert poll.unreachable_for == 0.0


class TestLongJobs:
    """Later in a long job the status is asked by a share of its age: few calls, the end
    still seen a small share of the job's age late."""

    def test_a_ten_minute_job_costs_about_a_hundred_status_calls(self) -> None:
        clock = FakeClock()
        poll = PollSchedule.start(clock, clock.now(), fresh=True)
        at = ticks(poll, clock, until=650.0)
        assert len([t for t in at if t < 600.0]) <= 130  # about 600 on the one-a-second schedule
        for a, b in itertools.pairwise(at):
            assert b - a <= max(MAX_INTERVAL, min(LATE_SHARE * a, LATE_MAX)) + 1e-9
        # wherever in the run the job ends, the next call is less than 5% of its age later
        for end in (25.0, 61.0, 133.3, 299.0, 599.9):
            seen = min(t for t in at if t >= end)
            assert seen - end <= 0.05 * end

    def test_an_hour_long_job_is_still_asked_at_least_every_late_max(self) -> None:
        clock = FakeClock()
        poll = PollSchedule.start(clock, clock.now(), fresh=True)
        at = ticks(poll, clock, until=3600.0)
        assert max(b - a for a, b in itertools.pairwise(at)) == pytest.approx(LATE_MAX)

    def test_all_tasks_done_in_a_long_job_polls_closely(self) -> None:
        clock = FakeClock()
        poll = PollSchedule.start(clock, clock.now(), fresh=True)
        at = ticks(poll, clock, until=650.0, done_at=590.0)
        seen_done = min(t for t in at if t >= 590.0)  # the first tick that saw every task done
        assert max(b - a for a, b in itertools.pairwise(at) if a >= seen_done) <= MAX_INTERVAL
        old = PollSchedule.start(clock, clock.now() - 600.0, fresh=False)
        assert not old.near_end()
        old.after_tick(tasks_all_done=True)
        assert old.near_end()  # jobhistory beside the status in the first finishing second
        clock.sleep(FINISH_HISTORY)
        assert not old.near_end()

    def test_a_fresh_job_reads_jobhistory_beside_its_first_calls_only(self) -> None:
        """The first HISTORY_TICKS status calls of a fresh job also read jobhistory (a quick
        job's end comes with its resultLocation); the rest of the early span asks for the
        status alone, so a job that runs ~0.1 s does not pay two requests every 10 ms."""
        clock = FakeClock()
        poll = PollSchedule.start(clock, clock.now(), fresh=True)
        clock.sleep(poll.until_first())
        paired = []
        while poll.early():
            paired.append(poll.near_end())
            clock.sleep(poll.after_tick(tasks_all_done=False))
        assert paired[:HISTORY_TICKS] == [True] * HISTORY_TICKS
        assert len(paired) > HISTORY_TICKS and not any(paired[HISTORY_TICKS:])
        attached = PollSchedule.start(clock, None, fresh=False)
        assert not attached.near_end()  # an attached job is not expected to end at once


class TestAuxSchedule:
    """Progress and log: every tick while they change, backing off while they do not."""

    def test_due_every_tick_while_changing(self) -> None:
        aux = AuxSchedule()
        for now in (0.0, 0.1, 0.2):
            assert aux.due("log", now, state_changed=False)
            aux.done("log", now, changed=True)

    def test_backs_off_while_unchanged_up_to_the_cap(self) -> None:
        aux = AuxSchedule()
        now, gaps = 0.0, []
        for _ in range(6):
            aux.done("progress", now, changed=False)
            gap = 0.0
            while not aux.due("progress", now + gap, state_changed=False):
                gap += 0.05
            gaps.append(round(gap, 2))
            now += gap
        assert gaps[0] == pytest.approx(AUX_FIRST_GAP, abs=0.05)
        assert gaps[-1] == pytest.approx(AUX_MAX_INTERVAL, abs=0.05)
        assert gaps == sorted(gaps)

    def test_progress_of_a_young_staged_job_backs_off_from_a_share_of_its_age(self) -> None:
        """A query 0.1 s old whose progress did not change is asked again 25 ms later, not
        0.9 s: its stages may all be done before the first second is out."""
        aux = AuxSchedule()
        aux.done("progress", 0.1, changed=False, age=0.1)
        assert not aux.due("progress", 0.12, state_changed=False)
        assert aux.due("progress", 0.1 + AUX_AGE_SHARE * 0.1, state_changed=False)
        aux.done("progress", 0.2, changed=False, age=0.2)  # then doubles as before
        assert not aux.due("progress", 0.2 + AUX_AGE_SHARE * 0.1 * 2 - 0.01, state_changed=False)
        old = AuxSchedule()
        old.done("progress", 30.0, changed=False, age=30.0)  # an old job: the flat first step
        assert not old.due("progress", 30.0 + AUX_FIRST_GAP - 0.01, state_changed=False)

    def test_a_steady_job_plans_a_poll_when_its_tasks_should_be_done(self) -> None:
        """Overall progress growing 7% a second, at 0.9 at 100 s: the poll is planned for
        when it reaches 1.0, before the regular gap (7% of the job's age) is over."""
        aux = AuxSchedule(born=0.0)
        aux.done("progress", 90.0, changed=True, fraction=0.2)
        assert aux.wake_at() is None  # one figure: no pace yet
        aux.done("progress", 100.0, changed=True, fraction=0.9)
        wake = aux.wake_at()
        assert wake == pytest.approx(100.0 + 0.1 / 0.07)
        assert not aux.due("progress", 101.0, state_changed=False)
        assert aux.due("progress", wake, state_changed=False)
        assert wake < 100.0 + AUX_BUSY_SHARE["progress"] * 100.0
        aux.done("progress", wake, changed=True, fraction=1.0)
        assert aux.wake_at() is None

    def test_old_changing_log_is_not_read_on_every_fast_tick(self) -> None:
        aux = AuxSchedule(born=0.0)
        aux.done("log", 500.0, changed=True)
        assert not aux.due("log", 501.0, state_changed=False)
        assert aux.due("log", 500.0 + AUX_BUSY_SHARE["log"] * 500.0, state_changed=False)
        young = AuxSchedule(born=0.0)
        young.done("log", 10.0, changed=True)
        assert young.due("log", 11.0, state_changed=False)

    def test_a_state_change_makes_both_due(self) -> None:
        aux = AuxSchedule()
        aux.done("log", 0.0, changed=False)
        aux.done("progress", 0.0, changed=False)
        assert not aux.due("log", 0.1, state_changed=False)
        assert aux.due("log", 0.1, state_changed=True)
        assert aux.due("progress", 0.1, state_changed=True)
