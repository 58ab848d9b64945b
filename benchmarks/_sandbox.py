"""The sandbox every benchmark measures against: a real CLI process on a free loopback port.

Shared so each script starts it the same way as the test suite (tests/conftest.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import start_sandbox

USER, PASSWORD = "alice", "alice-secret"


@contextmanager
def sandbox(*extra: str) -> Iterator[str]:
    """Yield the URL of a fresh sandbox (no demo data) with user alice; stop it after."""
    with tempfile.TemporaryDirectory() as data:
        box = start_sandbox(Path(data), "--no-demo-data", *extra)
        try:
            yield box.url
        finally:
            box.stop()
