"""jobs.py: the job manager's queue and kill, and forgetting finished jobs after a while."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.sandbox import SandboxProcess
from tests.support.wait import wait_until

PY = "python-python3"


class TestQueue:
    """With one worker, jobs queue up; a queued job can be killed before it starts."""

    def test_kill_queued_job(
        self, start_extra: Callable[..., SandboxProcess], login: Callable[..., Any]
    ) -> None:
        api = login(start_extra("--workers", "1"), "alice")

        def state(job: dict[str, Any]) -> str:
            value: str = api.get(f"/entrance/{job['execID']}/status").json()["data"]["status"]
            return value

        blocker = api.submit("import time\ntime.sleep(60)", "python", PY)
        queued = api.submit("print('never runs')", "python", PY)
        wait_until(lambda: state(blocker) == "Running", what="the first job to run")
        assert state(queued) == "Inited"
        api.get(f"/entrance/{queued['execID']}/kill", taskID=queued["taskID"])
        assert state(queued) == "Cancelled"
        api.get(f"/entrance/{blocker['execID']}/kill", taskID=blocker["taskID"])
        wait_until(lambda: state(blocker) == "Cancelled", what="the running job to be killed")
        task = api.task(queued["taskID"])
        assert task["status"] == "Cancelled" and task["engineStartTime"] is None
        log = api.get(f"/entrance/{queued['execID']}/log", size=-1).json()
        assert "never runs" not in log["data"]["log"][3]


@pytest.fixture(scope="module")
def finished(forgetful: SandboxProcess, login: Callable[..., Any]) -> tuple[Any, dict[str, Any]]:
    """A job that already finished on a sandbox started with --job-retention 0."""
    api = login(forgetful, "alice")
    job = api.submit("select 'remembered' as r")
    wait_until(lambda: api.task(job["taskID"])["status"] == "Succeed", what="the job to succeed")
    return api, job


class TestForgottenJob:
    """The entrance endpoints answer like Linkis after the job left memory."""

    def test_log_says_job_has_ended(self, finished: Any) -> None:
        api, job = finished
        reply = api.get(f"/entrance/{job['execID']}/log", fromLine=1)
        assert reply.status_code == 400
        assert reply.json()["message"].startswith("The job you just executed has ended.")

    def test_status_needs_task_id_fallback(self, finished: Any) -> None:
        api, job = finished
        assert api.get(f"/entrance/{job['execID']}/status").status_code == 400
        reply = api.get(f"/entrance/{job['execID']}/status", taskID=job["taskID"])
        assert reply.status_code == 200
        assert reply.json()["data"] == {"status": "Succeed", "execID": job["execID"]}

    def test_progress_is_an_error(self, finished: Any) -> None:
        api, job = finished
        assert api.get(f"/entrance/{job['execID']}/progress").status_code == 400

    def test_open_log_still_has_everything(self, finished: Any) -> None:
        api, job = finished
        task = api.task(job["taskID"])
        log = api.get("/filesystem/openLog", path=task["logPath"]).json()["data"]["log"]
        assert "Your job completed with status Success." in log[3]
        assert "Your job is accepted" in log[2]

    def test_results_stay_readable(self, finished: Any) -> None:
        api, job = finished
        location = api.task(job["taskID"])["resultLocation"]
        tree = api.get("/filesystem/getDirFileTrees", path=location).json()["data"]
        (child,) = tree["dirFileTrees"]["children"]
        page = api.get("/filesystem/openFile", path=child["path"]).json()["data"]
        assert page["fileContent"] == [["remembered"]]

    def test_kill_with_task_id_is_a_forced_kill(self, finished: Any) -> None:
        api, job = finished
        reply = api.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert reply.status_code == 200
        assert reply.json()["message"] == "Forced Kill task (强制杀死任务)"
        assert api.task(job["taskID"])["status"] == "Succeed"  # finished rows stay as they are
