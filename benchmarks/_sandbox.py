"""The sandbox every benchmark measures against: a real CLI process on a free loopback port.

Started by tests/support/sandbox.py, the same starter the test suite uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.sandbox import running_sandbox

USER, PASSWORD = "alice", "alice-secret"


@contextmanager
def sandbox(*extra: str) -> Iterator[str]:
    """Yield the URL of a fresh sandbox (no demo data) with user alice; stop it after."""
    with running_sandbox("--no-demo-data", *extra) as box:
        yield box.url
