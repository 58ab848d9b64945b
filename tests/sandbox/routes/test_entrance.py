"""routes/entrance.py: submit (1.x and 0.x bodies, validation), log, kill, pause, ownership."""

from __future__ import annotations

import re
from typing import Any

EXEC_ID = re.compile(r"^exec_id018(\d{3})linkis-cg-entrance(.+)$")


def _err(reply: Any) -> int:
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["status"] == 1
    assert body["method"] == "/api/entrance/submit"
    code: int = body["data"]["errorMsg"]["errCode"]
    assert f"error code(错误码): {code}" in body["message"]
    return code


class TestSubmit:
    """Replies carry a Linkis execID (with the instance's `:`) and a numeric taskID."""

    def test_submit_reply_has_linkis_exec_id_and_numeric_task_id(self, alice: Any) -> None:
        job = alice.submit("select 1 as x")
        assert isinstance(job["taskID"], int)
        match = EXEC_ID.match(job["execID"])
        assert match, job["execID"]
        instance_len = int(match.group(1))
        instance, short = match.group(2)[:instance_len], match.group(2)[instance_len:]
        assert ":" in instance
        assert short == f"IDE_alice_spark_{job['taskID']}"
        assert alice.wait(job) == "Succeed"

    def test_legacy_execute_api(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/execute",
            {"executeApplicationName": "hive", "executionCode": "select 2 as two"},
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["method"] == "/api/entrance/execute"
        job = body["data"]
        assert alice.wait(job) == "Succeed"
        task = alice.task(job["taskID"])
        assert task["engineType"] == "hive" and task["runType"] == "sql"
        assert "engineType:hive-3.1.3" in task["labels"]


class TestParserErrors:
    """20007-20010 are raised before anything is stored."""

    def test_missing_code_key_is_20010(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/submit",
            {"executionContent": {"runType": "sql"}, "labels": {"engineType": "spark-3"}},
        )
        assert _err(reply) == 20010

    def test_blank_code_is_20007(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/submit",
            {"executionContent": {"code": "  ", "runType": "sql"}, "labels": {"engineType": "x-1"}},
        )
        assert _err(reply) == 20007

    def test_missing_labels_is_20008(self, alice: Any) -> None:
        reply = alice.post("/entrance/submit", {"executionContent": {"code": "select 1"}})
        assert _err(reply) == 20008

    def test_missing_run_type_is_20009(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/submit",
            {"executionContent": {"code": "select 1"}, "labels": {"engineType": "spark-3"}},
        )
        assert _err(reply) == 20009

    def test_code_type_label_replaces_run_type(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/submit",
            {
                "executionContent": {"code": "select 1"},
                "labels": {"engineType": "spark-3", "codeType": "sql"},
            },
        )
        assert reply.status_code == 200
        assert alice.wait(reply.json()["data"]) == "Succeed"

    def test_missing_engine_type_is_20009(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/submit",
            {"executionContent": {"code": "select 1", "runType": "sql"}, "labels": {"a": "b"}},
        )
        assert _err(reply) == 20009


class TestInterceptorErrors:
    """50079/50080 persist a Failed row but the reply carries no taskID."""

    def _failed_rows(self, api: Any) -> list[dict[str, Any]]:
        data = api.get("/jobhistory/list", status="Failed", pageSize=1000).json()["data"]
        return list(data["tasks"])

    def test_user_creator_for_another_user_is_50080(self, alice: Any) -> None:
        before = {t["taskID"] for t in self._failed_rows(alice)}
        reply = alice.post(
            "/entrance/submit",
            {
                "executionContent": {"code": "select 'impersonate'", "runType": "sql"},
                "labels": {"engineType": "spark-3.2.1", "userCreator": "bob-IDE"},
            },
        )
        assert _err(reply) == 50080
        assert "taskID" not in reply.json()["data"]
        new = [t for t in self._failed_rows(alice) if t["taskID"] not in before]
        assert len(new) == 1
        assert new[0]["errCode"] == 50080 and new[0]["status"] == "Failed"

    def test_malformed_user_creator_is_50079(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/submit",
            {
                "executionContent": {"code": "select 1", "runType": "sql"},
                "labels": {"engineType": "spark-3.2.1", "userCreator": "alice"},
            },
        )
        assert _err(reply) == 50079

    def test_legacy_execute_without_engine_is_50079(self, alice: Any) -> None:
        reply = alice.post("/entrance/execute", {"executionCode": "select 1"})
        assert reply.status_code == 400
        assert reply.json()["data"]["errorMsg"]["errCode"] == 50079

    def test_user_creator_case_insensitive(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/submit",
            {
                "executionContent": {"code": "select 1", "runType": "sql"},
                "labels": {"engineType": "spark-3.2.1", "userCreator": "ALICE-nb"},
            },
        )
        assert reply.status_code == 200
        job = reply.json()["data"]
        assert alice.wait(job) == "Succeed"
        assert alice.task(job["taskID"])["requestApplicationName"] == "nb"

    def test_unsupported_run_type_fails_the_job(self, alice: Any) -> None:
        job, state = alice.run("println(1)", "scala")
        assert state == "Failed"
        assert alice.task(job["taskID"])["errCode"] == 31002

    def test_creator_cannot_escape_the_result_directory(self, alice: Any) -> None:
        for creator in ("../../bob", "a/b", ".."):
            reply = alice.post(
                "/entrance/submit",
                {
                    "executionContent": {"code": "select 1", "runType": "sql"},
                    "labels": {"engineType": "spark-3.2.1", "userCreator": f"alice-{creator}"},
                },
            )
            assert _err(reply) == 50079, creator
        legacy = alice.post(
            "/entrance/execute",
            {
                "executeApplicationName": "spark",
                "requestApplicationName": "../x",
                "executionCode": "select 1",
            },
        )
        assert legacy.json()["data"]["errorMsg"]["errCode"] == 50079


class TestLog:
    """The log is the 4-slot array, paged with a 1-based fromLine (default size 100)."""

    def test_log_paging_is_one_based_and_echoes_from_line(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        everything = alice.log_all(job)
        first = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=2).json()["data"]
        assert first["fromLine"] == 3
        assert first["log"][3].split("\n") == everything[:2]
        rest = alice.get(f"/entrance/{job['execID']}/log", fromLine=3, size=100).json()["data"]
        assert rest["log"][3].split("\n") == everything[2:]
        assert rest["fromLine"] == len(everything) + 1
        again = alice.get(f"/entrance/{job['execID']}/log", fromLine=rest["fromLine"]).json()
        assert again["data"]["log"] == ["", "", "", ""]
        assert again["data"]["fromLine"] == rest["fromLine"]

    def test_default_log_size_is_100_and_negative_means_all(self, alice: Any) -> None:
        code = "; ".join(
            f"create or replace temp table logsize_{i} as select {i}" for i in range(60)
        )
        job, state = alice.run(code)
        assert state == "Succeed"
        default = alice.get(f"/entrance/{job['execID']}/log", fromLine=1).json()["data"]
        assert len(default["log"][3].split("\n")) == 100
        everything = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=-1).json()
        assert len(everything["data"]["log"][3].split("\n")) > 100

    def test_log_without_distinct_level_is_one_string(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        data = alice.get(
            f"/entrance/{job['execID']}/log", fromLine=1, size=-1, distinctLevel="false"
        ).json()["data"]
        assert isinstance(data["log"], str)
        assert data["log"].split("\n") == alice.log_all(job)


class TestProgressWithResource:
    """progressWithResource is progress plus a top-level yarnResource null (no YARN here,
    docs/linkis-protocol.md §14.1), with progress's errors."""

    def test_running_job_has_progress_and_no_yarn(self, alice: Any) -> None:
        job = alice.submit("select count(*) from range(100000000000) t(x) where x % 7 = 3")
        try:
            alice.wait_for_log(job, "Executing statement 1/1")
            reply = alice.get(f"/entrance/{job['execID']}/progressWithResource")
            assert reply.status_code == 200
            body = reply.json()
            assert body["method"] == f"/api/entrance/{job['execID']}/progressWithResource"
            data = body["data"]
            assert set(data) == {"progress", "progressInfo", "execID", "yarnResource"}
            assert data["yarnResource"] is None and "yarnMetrics" not in data
            assert data["execID"] == job["execID"]
            assert 0.0 <= data["progress"] < 1.0
            plain = alice.get(f"/entrance/{job['execID']}/progress").json()["data"]
            assert set(plain) == {"progress", "progressInfo", "execID"}
        finally:
            alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job) == "Cancelled"

    def test_finished_job(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        data = alice.get(f"/entrance/{job['execID']}/progressWithResource").json()["data"]
        assert data["progress"] == 1.0 and data["yarnResource"] is None

    def test_unknown_job_is_progress_error(self, alice: Any) -> None:
        exec_id = "exec_id018015linkis-cg-entrance127.0.0.1:1IDE_x_y_1"
        with_resource = alice.get(f"/entrance/{exec_id}/progressWithResource")
        plain = alice.get(f"/entrance/{exec_id}/progress")
        assert with_resource.status_code == plain.status_code == 400
        assert with_resource.json()["message"] == plain.json()["message"]
        assert with_resource.json()["message"].startswith("The job corresponding to the ID")


class TestKillAndPause:
    """kill by execID or by taskID, batch kill, and pause (a no-op success)."""

    def test_kill_without_task_id_for_unknown_exec_id(self, alice: Any) -> None:
        reply = alice.get("/entrance/exec_id018015linkis-cg-entrance127.0.0.1:1IDE_x_y_1/kill")
        assert reply.status_code == 400
        assert "kill failed" in reply.json()["message"]

    def test_kill_jobs_batch(self, alice: Any) -> None:
        jobs = [
            alice.submit("select count(*) from range(100000000000) t(x) where x % 7 = 3")
            for _ in range(2)
        ]
        reply = alice.post(
            f"/entrance/{jobs[0]['execID']}/killJobs",
            {"idList": [j["execID"] for j in jobs], "taskIDList": [j["taskID"] for j in jobs]},
        )
        assert reply.status_code == 200
        messages = reply.json()["data"]["messages"]
        assert [m["status"] for m in messages] == [0, 0]
        assert [alice.wait(j) for j in jobs] == ["Cancelled", "Cancelled"]

    def test_pause_is_a_no_op_success(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        reply = alice.get(f"/entrance/{job['execID']}/pause").json()
        assert reply["status"] == 0 and reply["data"] == {"execID": job["execID"]}


class TestJobOwnership:
    """The log and kill of another user's job are refused."""

    def test_log_of_other_user(self, alice: Any, bobs_job: Any) -> None:
        reply = alice.get(f"/entrance/{bobs_job['execID']}/log", fromLine=1)
        assert reply.status_code == 400
        assert "no permission" in reply.json()["message"]

    def test_kill_of_other_user(self, alice: Any, bob: Any) -> None:
        job = bob.submit("import time\ntime.sleep(20)", "python", "python-python3")
        try:
            reply = alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
            assert reply.status_code == 400
            assert "no permission to kill" in reply.json()["message"]
            forced = alice.get("/entrance/exec_id_bogus/kill", taskID=job["taskID"])
            assert forced.status_code == 400
            assert bob.get(f"/entrance/{job['execID']}/status").json()["data"]["status"] in {
                "Inited",
                "Scheduled",
                "Running",
            }
        finally:
            bob.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert bob.wait(job) == "Cancelled"
