"""The clock a job waits by: injectable, so tests run a 30-second job in no time.

Everything in ``linkis_magic.job`` that reads the time or sleeps goes through a :class:`Clock`.
The system clock is ``time.monotonic`` plus ``Event.wait``/``time.sleep``; a test clock can
advance virtual time on every sleep and count what happened on which tick.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(Protocol):
    """Monotonic time and an interruptible sleep."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        """Sleep ``seconds`` (nothing when <= 0); return early once ``wake`` is set."""


class SystemClock:
    """Real time: ``time.monotonic`` and a sleep that a set event cuts short."""

    def now(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        """Sleep, or wait on ``wake`` so a cancel request is seen at once."""
        if seconds <= 0:
            return
        if wake is not None:
            wake.wait(seconds)
        else:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
