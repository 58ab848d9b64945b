"""A job of bob's that the route tests try to reach as alice."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def bobs_job(bob: Any) -> dict[str, Any]:
    """bob's finished job: {execID, taskID, task (its jobhistory row), file (its result)}."""
    job, state = bob.run("select 'bob secret' as s")
    assert state == "Succeed"
    task = bob.task(job["taskID"])
    return {**job, "task": task, "file": bob.result_paths(job)[0]}
