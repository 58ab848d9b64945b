"""A virtual clock for Job tests: sleeping advances time at once, so a 30 s job takes none.

Pass it to ``Job(..., clock=clock)``; scripted gateway replies can read ``clock.now()`` to
decide what a job looks like at that moment. Tests then count requests per virtual second
instead of measuring wall-clock time.
"""

from __future__ import annotations

import threading

__all__ = ["FakeClock"]


class FakeClock:
    """Monotonic virtual time; ``sleep`` moves it forward (and records the sleeps)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self.start = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        """The virtual time."""
        with self._lock:
            return self._now

    def elapsed(self) -> float:
        """Virtual seconds since the clock was made."""
        return self.now() - self.start

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        """Advance by ``seconds`` (not at all when ``wake`` is already set)."""
        if seconds <= 0 or (wake is not None and wake.is_set()):
            return
        with self._lock:
            self._now += seconds
            self.sleeps.append(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward without a sleep (something else took that long)."""
        with self._lock:
            self._now += seconds
