"""auth.py: every route but login/logout/publicKey needs a session or a token; sessions expire."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

NOT_LOGGED_IN = "You are not logged in, please login first(您尚未登录，请先登录)!"


class TestUnauthenticated:
    """Everything but login/logout/publicKey needs a session or a token."""

    def test_missing_auth_is_401_minus_one_with_uri_method(self, anonymous: Any) -> None:
        reply = anonymous.post(
            "/entrance/submit",
            {"executionContent": {"code": "select 1", "runType": "sql"}, "labels": {}},
        )
        assert reply.status_code == 401
        assert reply.json() == {
            "method": "/api/rest_j/v1/entrance/submit",
            "status": -1,
            "message": NOT_LOGGED_IN,
            "data": {},
        }

    def test_every_protected_endpoint_refuses(self, anonymous: Any) -> None:
        for endpoint in (
            "/jobhistory/list",
            "/jobhistory/1/get",
            "/entrance/exec_id018015linkis-cg-entrance127.0.0.1:1IDE_a_spark_1/status",
            "/filesystem/getDirFileTrees?path=file:///tmp",
            "/filesystem/openFile?path=file:///etc/passwd",
            "/filesystem/openLog?path=file:///etc/passwd",
        ):
            reply = anonymous.get(endpoint)
            assert reply.status_code == 401, endpoint
            assert reply.json()["status"] == -1

    def test_garbage_cookie_is_refused(self, sandbox: Any) -> None:
        reply = requests.get(
            sandbox.url + "/api/rest_j/v1/jobhistory/list",
            cookies={"linkis_user_session_ticket_id_v1": "forged"},
        )
        assert reply.status_code == 401

    def test_export_without_auth_is_refused_by_the_gateway(self, anonymous: Any) -> None:
        """The gateway's auth check runs before the export service: a 401 envelope
        (docs/linkis-protocol.md §2.1)."""
        reply = anonymous.get("/filesystem/resultsetToExcel", path="file:///etc/passwd")
        assert reply.status_code == 401
        assert reply.json()["status"] == -1


class TestTokenAuth:
    """Token-Code + Token-User on every request, no cookie issued (docs/linkis-protocol.md §2.4)."""

    def test_token_headers_authenticate_without_cookie(self, sandbox: Any) -> None:
        http = requests.Session()
        http.headers.update({"Token-Code": sandbox.token, "Token-User": "alice"})
        reply = http.post(
            sandbox.url + "/api/rest_j/v1/entrance/submit",
            json={
                "executionContent": {"code": "select 1", "runType": "sql"},
                "labels": {"engineType": "spark-3.2.1", "userCreator": "alice-IDE"},
            },
        )
        assert reply.status_code == 200, reply.text
        assert "set-cookie" not in reply.headers
        assert not http.cookies
        task_id = reply.json()["data"]["taskID"]
        task = http.get(sandbox.url + f"/api/rest_j/v1/jobhistory/{task_id}/get").json()
        assert task["data"]["task"]["umUser"] == "alice"

    def test_bad_token_is_401_and_not_echoed(self, sandbox: Any) -> None:
        reply = requests.get(
            sandbox.url + "/api/rest_j/v1/jobhistory/list",
            headers={"Token-Code": "BAD-SECRET-TOKEN", "Token-User": "alice"},
        )
        assert reply.status_code == 401
        assert reply.json()["status"] == -1
        assert "BAD-SECRET-TOKEN" not in reply.text

    def test_unknown_token_user_is_refused(self, sandbox: Any) -> None:
        reply = requests.get(
            sandbox.url + "/api/rest_j/v1/jobhistory/list",
            headers={"Token-Code": sandbox.token, "Token-User": "mallory"},
        )
        assert reply.status_code == 401

    def test_token_code_alone_is_not_enough(self, sandbox: Any) -> None:
        reply = requests.get(
            sandbox.url + "/api/rest_j/v1/jobhistory/list", headers={"Token-Code": sandbox.token}
        )
        assert reply.status_code == 401


class TestSessionExpiry:
    """An idle session expires after --session-timeout seconds and then gets 401."""

    def test_idle_session_expires(self, start_extra: Callable[..., Any]) -> None:
        """Idle time is what is tested, so the test idles; the timeout is long enough that
        the request right after the login cannot be late for it on a loaded machine."""
        box = start_extra("--session-timeout", "3")
        http = requests.Session()
        base = box.url + "/api/rest_j/v1"
        login = http.post(
            base + "/user/login", json={"userName": "alice", "password": "alice-secret"}
        )
        assert login.json()["data"]["sessionTimeOut"] == 3000
        assert http.get(base + "/jobhistory/list").status_code == 200
        time.sleep(3.5)
        expired = http.get(base + "/jobhistory/list")
        assert expired.status_code == 401
        assert expired.json()["status"] == -1
        assert "expired" in expired.json()["message"]
