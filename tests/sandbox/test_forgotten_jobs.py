"""Once the entrance forgets a finished job, clients fall back to jobhistory and openLog."""

from __future__ import annotations

import time
from typing import Any

import pytest


@pytest.fixture(scope="module")
def finished(forgetful: Any) -> tuple[Any, dict[str, Any]]:
    """A job that already finished on a sandbox started with --job-retention 0."""
    from_conftest = forgetful
    api = _login(from_conftest.url)
    job = api.submit("select 'remembered' as r")
    deadline = time.monotonic() + 30
    while api.task(job["taskID"])["status"] != "Succeed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return api, job


def _login(url: str) -> Any:
    import requests

    class _Api:
        base = url + "/api/rest_j/v1"
        http = requests.Session()

        def get(self, endpoint: str, **params: Any) -> Any:
            return self.http.get(self.base + endpoint, params=params, timeout=30)

        def submit(self, code: str) -> dict[str, Any]:
            body = {
                "executionContent": {"code": code, "runType": "sql"},
                "labels": {"engineType": "spark-3.2.1"},
            }
            reply = self.http.post(self.base + "/entrance/submit", json=body, timeout=30)
            data: dict[str, Any] = reply.json()["data"]
            return data

        def task(self, task_id: int) -> dict[str, Any]:
            task: dict[str, Any] = self.get(f"/jobhistory/{task_id}/get").json()["data"]["task"]
            return task

    api = _Api()
    api.http.post(api.base + "/user/login", json={"userName": "alice", "password": "alice-secret"})
    return api


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
