"""Many concurrent clients against one sandbox: every job succeeds with its own result."""

from __future__ import annotations

import pytest

from benchmarks.load_clients import run_load
from tests.support.sandbox import SandboxProcess


class TestConcurrentClients:
    """Jobs from concurrent clients (alice and bob, own sessions) all succeed, none mixed up."""

    @pytest.mark.parametrize(
        ("jobs", "clients"),
        [(40, 8), pytest.param(200, 20, marks=pytest.mark.slow)],
        ids=["small", "full"],
    )
    def test_zero_errors(self, sandbox: SandboxProcess, jobs: int, clients: int) -> None:
        result = run_load(sandbox.url, jobs=jobs, clients=clients)
        assert result.errors == []
        assert len(result.latencies) == jobs
