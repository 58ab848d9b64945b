"""routes/jobhistory.py: the caller's task rows, newest first, and nobody else's."""

from __future__ import annotations

from typing import Any


class TestJobhistoryList:
    """jobhistory/list pages the caller's own tasks, newest first, totalPage = row count."""

    def test_newest_first_and_total_is_row_count(self, alice: Any) -> None:
        jobs = [alice.run(f"select {i}")[0] for i in range(3)]
        data = alice.get("/jobhistory/list", pageSize=2).json()["data"]
        assert len(data["tasks"]) == 2
        ids = [t["taskID"] for t in data["tasks"]]
        assert ids == sorted(ids, reverse=True)
        assert ids[0] >= jobs[-1]["taskID"]
        assert data["totalPage"] >= 3
        assert all(t["umUser"] == "alice" for t in data["tasks"])
        everything = alice.get("/jobhistory/list", pageSize=1000).json()["data"]
        assert len(everything["tasks"]) == everything["totalPage"]

    def test_status_filter(self, alice: Any) -> None:
        alice.run("select * from missing_for_filter")
        data = alice.get("/jobhistory/list", status="Failed", pageSize=1000).json()["data"]
        assert data["tasks"] and {t["status"] for t in data["tasks"]} == {"Failed"}


class TestJobOwnership:
    """Rows of other users can be neither read nor listed."""

    def test_jobhistory_get_of_other_user(self, alice: Any, bobs_job: Any) -> None:
        reply = alice.get(f"/jobhistory/{bobs_job['taskID']}/get")
        assert reply.status_code == 400
        assert "no permission" in reply.json()["message"]

    def test_jobhistory_list_excludes_other_users(self, alice: Any, bobs_job: Any) -> None:
        tasks = alice.get("/jobhistory/list", pageSize=1000).json()["data"]["tasks"]
        assert bobs_job["taskID"] not in {t["taskID"] for t in tasks}
        assert {t["umUser"] for t in tasks} <= {"alice"}
