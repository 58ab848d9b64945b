"""Stopping a job is bounded: kill, re-send on schedule, give up after the grace, say why.

Driven by a virtual clock (tests/support/clock.py): the tests count kill and status calls per
virtual second instead of timing anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import (
    ConnectionFailed,
    KillUnconfirmed,
    RequestFailedError,
    TransportTimeout,
)
from linkis_magic.job import Job
from linkis_magic.job._stop import KILL_GRACE, StopAttempt, stop
from linkis_magic.protocol import JobStatus
from tests.support.clock import FakeClock
from tests.support.double import EXEC_ID, LinkisDouble, Reply, Request, routing_error
from tests.support.scripts import TASK_ID, task_doc

ROUTING = RequestFailedError(
    "Cannot route to the corresponding service", status=1, err_code=11011, http_status=200
)


class Script:
    """Kill and status calls as functions of the virtual time, recording each call."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        kill: Callable[[float], None] = lambda t: None,
        status: Callable[[float], JobStatus] = lambda t: JobStatus.RUNNING,
    ) -> None:
        self.clock = clock
        self._kill, self._status = kill, status
        self.kills: list[tuple[float, float]] = []  # (virtual time, timeout given)
        self.statuses: list[tuple[float, float]] = []

    def kill(self, left: float) -> None:
        self.kills.append((self.clock.elapsed(), left))
        self._kill(self.clock.elapsed())

    def status(self, left: float) -> JobStatus:
        self.statuses.append((self.clock.elapsed(), left))
        return self._status(self.clock.elapsed())


def raise_(exc: Exception) -> Callable[[float], None]:
    def fail(_t: float) -> None:
        raise exc

    return fail


class TestStop:
    """``stop()``: the final state when it comes, what was learned when it does not."""

    def test_confirmed_cancel(self) -> None:
        clock = FakeClock()
        script = Script(
            clock,
            status=lambda t: JobStatus.CANCELLED if t >= 0.3 else JobStatus.RUNNING,
        )
        assert stop(script.kill, script.status, clock) is JobStatus.CANCELLED
        assert len(script.kills) == 1
        assert clock.elapsed() < 1.0

    def test_undeliverable_kill_is_retried_each_second_and_given_up_at_the_grace(self) -> None:
        clock = FakeClock()
        script = Script(clock, kill=raise_(ROUTING))
        outcome = stop(script.kill, script.status, clock)
        assert isinstance(outcome, StopAttempt)
        assert not outcome.delivered
        assert "Cannot route" in outcome.reason(KILL_GRACE)
        assert [round(t) for t, _ in script.kills] == [0, 1, 2, 3, 4]
        assert clock.elapsed() == pytest.approx(KILL_GRACE)

    def test_delivered_kill_is_sent_once_within_the_grace(self) -> None:
        clock = FakeClock()
        script = Script(clock)
        outcome = stop(script.kill, script.status, clock)
        assert isinstance(outcome, StopAttempt)
        assert outcome.delivered and outcome.state is JobStatus.RUNNING
        assert "still Running after 5 s" in outcome.reason(KILL_GRACE)
        assert len(script.kills) == 1

    def test_every_call_gets_only_the_time_left(self) -> None:
        clock = FakeClock()
        script = Script(clock, kill=raise_(ROUTING))
        stop(script.kill, script.status, clock)
        for at, left in script.kills + script.statuses:
            assert 0 < left <= KILL_GRACE - at + 1e-9

    def test_silent_gateway_still_ends_at_the_grace(self) -> None:
        clock = FakeClock()

        def no_answer(_t: float) -> JobStatus:
            raise TransportTimeout("no reply")

        script = Script(clock, kill=raise_(TransportTimeout("no reply")), status=no_answer)
        outcome = stop(script.kill, script.status, clock)
        assert isinstance(outcome, StopAttempt) and outcome.state is None
        assert "could not be delivered (the gateway did not answer in time)" in outcome.reason(
            KILL_GRACE
        )
        assert clock.elapsed() == pytest.approx(KILL_GRACE)

    def test_refused_kill_is_told_by_type_not_by_message(self) -> None:
        """A refused connection whose text happens to say "timed out" is still unreachable."""
        clock = FakeClock()
        refused = ConnectionFailed("GET /api/rest_j/v1/entrance/timed out/kill: refused")
        script = Script(clock, kill=raise_(refused))
        outcome = stop(script.kill, script.status, clock)
        assert isinstance(outcome, StopAttempt)
        assert "(the gateway could not be reached)" in outcome.reason(KILL_GRACE)


class TestJobWithAnOfflineEntrance:
    """The gateway cannot route any entrance call (errCode 11011): the job is followed through
    jobhistory, the user is told once, and a cancel gives up after the grace saying why."""

    @pytest.fixture
    def offline(self, gw: LinkisDouble) -> LinkisDouble:
        for action in ("status", "progress", "log", "kill"):
            uri = f"/api/rest_j/v1/entrance/{EXEC_ID}/{action}"
            gw.on("GET", f"entrance/{EXEC_ID}/{action}", routing_error(uri))
        gw.on("GET", f"jobhistory/{TASK_ID}/get", task_doc("Running"))
        gw.on("GET", "filesystem/openLog", lambda _r: Reply.text("", status=404))
        return gw

    def test_cancel_gives_up_after_the_grace_with_the_gateway_reason(
        self, offline: LinkisDouble, client: LinkisClient
    ) -> None:
        clock = FakeClock()
        job = Job(client, EXEC_ID, TASK_ID, clock=clock)
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(KillUnconfirmed) as info:
            job.wait(cancel=cancel)
        assert "could not be delivered" in info.value.reason
        assert "11011" in info.value.reason or "Cannot route" in info.value.reason
        assert info.value.task_id == TASK_ID
        assert len(offline.calls("GET", f"entrance/{EXEC_ID}/kill")) == 5
        assert clock.elapsed() <= KILL_GRACE + 0.1

    def test_routing_error_becomes_one_notice_and_jobhistory_takes_over(
        self, offline: LinkisDouble, client: LinkisClient
    ) -> None:
        clock = FakeClock()
        rows = iter(["Running", "Running", "Running", "Succeed"])

        def history(_req: Request) -> Reply:
            from tests.support.double import envelope

            return envelope(task_doc(next(rows, "Succeed"), result_location=None))

        offline.on("GET", f"jobhistory/{TASK_ID}/get", history)
        seen: list[tuple[str, ...]] = []
        job = Job(client, EXEC_ID, TASK_ID, clock=clock)
        assert job.wait(on_update=lambda snap: seen.append(snap.notices)) is JobStatus.SUCCEED
        assert len(offline.calls("GET", f"entrance/{EXEC_ID}/status")) == 1  # then jobhistory
        (notice,) = seen[-1]
        assert "could not reach the job's entrance" in notice
        assert "11011" in notice and "jobhistory" in notice
        assert all(len(n) <= 1 for n in seen)
