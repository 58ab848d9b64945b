"""Stopping a job within a bounded time: kill, re-send on schedule, wait for a final state.

Kept apart from :class:`~linkis_magic.job.Job` so the protocol reads in one place and can be
driven by any clock: ``stop()`` gets the kill and status calls as functions that take the time
left (each call is bounded by it and never retried), and returns either the final state or,
when the grace ran out first, what it learned on the way (was the kill ever delivered, and
what did the gateway say), so the caller can tell the user exactly why the job may still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from linkis_magic.errors import GatewayError, LinkisError, TransportError, TransportTimeout
from linkis_magic.job._clock import Clock
from linkis_magic.protocol import JobStatus

__all__ = ["KILL_GRACE", "KILL_REDELIVER", "KILL_RETRY", "StopAttempt", "stop"]

_log = logging.getLogger("linkis_magic.job")

KILL_GRACE = 5.0  # seconds a stop waits for a final state after the first kill
KILL_RETRY = 5.0  # a delivered kill is re-sent this often while the job still runs
KILL_REDELIVER = 1.0  # ... and a kill that could not be delivered is retried this often
FIRST_CHECK = 0.1  # first status interval while waiting for the final state (then backs off)
LAST_CHECK = 0.5  # cap of that interval


def brief(exc: LinkisError) -> str:
    """Why a call failed, in a few words fit for a one-line message."""
    if isinstance(exc, GatewayError):
        return exc.brief
    if isinstance(exc, TransportTimeout):
        return "the gateway did not answer in time"
    if isinstance(exc, TransportError):
        return "the gateway could not be reached"
    return str(exc).splitlines()[0][:120]


@dataclass
class StopAttempt:
    """What a stop that ran out of time learned: the kill's fate and the last state seen."""

    delivered: bool = False
    problem: str = ""  # the gateway's answer to the last kill that failed
    state: JobStatus | None = None
    kills: int = 0

    def reason(self, grace: float) -> str:
        """Why the job may still run, in a few words."""
        if not self.delivered:
            return f"the kill could not be delivered ({self.problem or 'no answer'})"
        seen = self.state.value if self.state is not None else "unknown"
        return f"the gateway took the kill but the job was still {seen} after {grace:g} s"


def stop(
    kill: Callable[[float], object],
    status: Callable[[float], JobStatus],
    clock: Clock,
    grace: float = KILL_GRACE,
    name: str = "",
) -> JobStatus | StopAttempt:
    """Kill and wait up to ``grace`` seconds; the final state, or what was learned."""
    end = clock.now() + grace
    attempt = StopAttempt()
    next_kill = clock.now()
    interval = FIRST_CHECK
    while True:
        now = clock.now()
        if next_kill <= now < end:
            attempt.kills += 1
            try:
                kill(end - now)
                attempt.delivered, attempt.problem = True, ""
                next_kill = now + KILL_RETRY
            except LinkisError as exc:
                attempt.problem = brief(exc)
                next_kill = now + KILL_REDELIVER
                _log.warning("kill of Linkis job %s failed: %s", name, exc)
        left = end - clock.now()
        if left > 0:
            try:
                attempt.state = status(left)
            except LinkisError as exc:
                _log.info("status of Linkis job %s while stopping it: %s", name, exc)
            if attempt.state is not None and attempt.state.is_terminal:
                return attempt.state
        left = end - clock.now()
        if left <= 0:
            return attempt
        clock.sleep(min(interval, left))
        interval = min(interval * 1.5, LAST_CHECK)
