"""`wait_until`: the one polling helper for tests that wait for something real to happen.

Tests never assert on how long something took; this helper only bounds how long a test
waits before it fails with a message that says what never happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold within the guard time."""


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str | Callable[[], str] = "the condition",
) -> T:
    """Call ``condition`` until it returns something truthy and return that value.

    Fails the test (WaitTimeout, an AssertionError) after ``timeout`` seconds, naming
    ``what`` (a string, or a callable evaluated at failure time for a fresh description).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise WaitTimeout(f"gave up after {timeout:g} s waiting for {described}")
        time.sleep(interval)


async def await_until(
    condition: Callable[[], T],
    *,
    timeout: float = 60.0,
    interval: float = 0.05,
    what: str | Callable[[], str] = "the condition",
) -> T:
    """``wait_until`` for coroutines (nbclient tests): the condition runs in a worker thread,
    so a blocking check does not stall the loop that reads the kernel's replies."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(condition)
        if value:
            return value
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise WaitTimeout(f"gave up after {timeout:g} s waiting for {described}")
        await asyncio.sleep(interval)
