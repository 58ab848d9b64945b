"""errors.py: every failure, FastAPI's own included, is a Linkis envelope."""

from __future__ import annotations

from typing import Any


class TestEnvelopes:
    """Framework errors still come back as Linkis envelopes with the HTTP codes of
    docs/linkis-protocol.md §1.2."""

    def test_unknown_route(self, alice: Any) -> None:
        reply = alice.get("/no/such/endpoint")
        assert reply.status_code == 400
        body = reply.json()
        assert set(body) == {"method", "status", "message", "data"}
        assert body["status"] == 1 and "detail" not in body

    def test_wrong_method(self, alice: Any) -> None:
        reply = alice.post("/jobhistory/list", {})
        assert reply.status_code == 400
        assert reply.json()["status"] == 1

    def test_non_numeric_task_id(self, alice: Any) -> None:
        reply = alice.get("/jobhistory/abc/get")
        assert reply.status_code == 400
        body = reply.json()
        assert body["status"] == 1 and "detail" not in body

    def test_non_numeric_task_id_is_checked_before_login(self, anonymous: Any) -> None:
        reply = anonymous.get("/jobhistory/abc/get")
        assert reply.status_code == 400
        assert reply.json()["message"].startswith("invalid request parameters: path.task_id")

    def test_non_json_submit_body(self, alice: Any) -> None:
        reply = alice.http.post(alice.base + "/entrance/submit", data=b"not json")
        assert reply.status_code == 400 and reply.json()["status"] == 1

    def test_unknown_user_action(self, alice: Any) -> None:
        reply = alice.get("/user/whatever")
        assert reply.status_code == 400 and "unknown request URI" in reply.json()["message"]
