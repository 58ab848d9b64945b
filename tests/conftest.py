"""Session fixtures shared by every test group: a real sandbox gateway process on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sandbox import TOKEN, USERS, SandboxProcess, start_sandbox

__all__ = ["TOKEN", "USERS", "SandboxProcess", "start_sandbox"]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox gateway for the whole session (users alice and bob, token SANDBOX-TOKEN-1)."""
    box = start_sandbox(tmp_path_factory.mktemp("sandbox-data"))
    yield box
    box.stop()
