"""Helpers for the engine tests."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest


@pytest.fixture(scope="session")
def alive() -> Callable[[int], bool]:
    """`alive(pid)`: whether a process with that pid still exists."""

    def check(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    return check
