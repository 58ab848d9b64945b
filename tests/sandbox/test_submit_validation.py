"""Linkis's submit validation: parser errors (no row) and interceptor errors (Failed row)."""

from __future__ import annotations

from typing import Any


def _err(reply: Any) -> int:
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["status"] == 1
    assert body["method"] == "/api/entrance/submit"
    code: int = body["data"]["errorMsg"]["errCode"]
    assert f"error code(错误码): {code}" in body["message"]
    return code


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
