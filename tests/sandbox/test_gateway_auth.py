"""Login, sessions, tokens and the envelope contract of the sandbox gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

NOT_LOGGED_IN = "You are not logged in, please login first(您尚未登录，请先登录)!"


def _envelope_keys(body: dict[str, Any]) -> set[str]:
    return set(body)


class TestLogin:
    """Password login as the Linkis gateway does it (REFERENCE §2.2, §2.5)."""

    def test_success_sets_session_cookie_and_reports_timeout(self, sandbox: Any) -> None:
        http = requests.Session()
        reply = http.post(
            sandbox.url + "/api/rest_j/v1/user/login",
            json={"userName": "alice", "password": sandbox.users["alice"]},
        )
        assert reply.status_code == 200
        body = reply.json()
        assert body["method"] is None and body["status"] == 0
        assert body["data"]["userName"] == "alice"
        assert body["data"]["isAdmin"] is False
        assert isinstance(body["data"]["sessionTimeOut"], int)
        assert "linkis_user_session_ticket_id_v1" in http.cookies
        again = http.post(
            sandbox.url + "/api/rest_j/v1/user/login",
            json={"userName": "alice", "password": sandbox.users["alice"]},
        )
        assert again.json()["status"] == 0 and "already logged in" in again.json()["message"]

    def test_query_parameters_are_accepted(self, sandbox: Any) -> None:
        reply = requests.post(
            sandbox.url + "/api/rest_j/v1/user/login",
            params={"userName": "bob", "password": sandbox.users["bob"]},
        )
        assert reply.status_code == 200 and reply.json()["data"]["userName"] == "bob"

    def test_wrong_password_is_400_status_1(self, sandbox: Any) -> None:
        reply = requests.post(
            sandbox.url + "/api/rest_j/v1/user/login",
            json={"userName": "alice", "password": "wrong"},
        )
        assert reply.status_code == 400
        body = reply.json()
        assert body["status"] == 1
        assert body["message"] == "wrong user name or password(用户名或密码错误)！"
        assert "wrong" not in str(body["data"])
        assert "linkis_user_session_ticket_id_v1" not in reply.cookies

    def test_blank_user_and_password(self, sandbox: Any) -> None:
        url = sandbox.url + "/api/rest_j/v1/user/login"
        blank_user = requests.post(url, json={"userName": "", "password": "x"}).json()
        assert blank_user["message"].startswith("Username can not be empty")
        blank_password = requests.post(url, json={"userName": "alice"}).json()
        assert blank_password["message"].startswith("Password can not be blank")

    def test_logout_invalidates_the_ticket(self, sandbox: Any) -> None:
        http = requests.Session()
        base = sandbox.url + "/api/rest_j/v1"
        http.post(base + "/user/login", json={"userName": "bob", "password": "bob-secret"})
        ticket = http.cookies["linkis_user_session_ticket_id_v1"]
        reply = http.get(base + "/user/logout")
        assert reply.json() == {
            "method": None,
            "status": 0,
            "message": "Logout successful(退出登录成功)！",
            "data": {},
        }
        stale = requests.get(
            base + "/jobhistory/list", cookies={"linkis_user_session_ticket_id_v1": ticket}
        )
        assert stale.status_code == 401

    def test_public_key_needs_no_login(self, anonymous: Any) -> None:
        body = anonymous.get("/user/publicKey").json()
        assert body["data"] == {"enableSSL": False, "enableLoginEncrypt": False}

    def test_user_info_and_heartbeat(self, alice: Any, anonymous: Any) -> None:
        assert alice.get("/user/userInfo").json()["data"]["userName"] == "alice"
        assert anonymous.get("/user/userInfo").status_code == 400
        assert alice.get("/user/heartbeat").json()["status"] == 0
        beat = anonymous.get("/user/heartbeat")
        assert beat.status_code == 401 and beat.json()["status"] == -1


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
        """The gateway's auth check runs before the export service: a 401 envelope (§2.1)."""
        reply = anonymous.get("/filesystem/resultsetToExcel", path="file:///etc/passwd")
        assert reply.status_code == 401
        assert reply.json()["status"] == -1


class TestTokenAuth:
    """Token-Code + Token-User on every request, no cookie issued (REFERENCE §2.4)."""

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
        box = start_extra("--session-timeout", "1")
        http = requests.Session()
        base = box.url + "/api/rest_j/v1"
        login = http.post(
            base + "/user/login", json={"userName": "alice", "password": "alice-secret"}
        )
        assert login.json()["data"]["sessionTimeOut"] == 1000
        assert http.get(base + "/jobhistory/list").status_code == 200
        time.sleep(1.5)
        expired = http.get(base + "/jobhistory/list")
        assert expired.status_code == 401
        assert expired.json()["status"] == -1
        assert "expired" in expired.json()["message"]


class TestEnvelopes:
    """Framework errors still come back as Linkis envelopes with §1.2 HTTP codes."""

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

    def test_non_json_submit_body(self, alice: Any) -> None:
        reply = alice.http.post(alice.base + "/entrance/submit", data=b"not json")
        assert reply.status_code == 400 and reply.json()["status"] == 1

    def test_unknown_user_action(self, alice: Any) -> None:
        reply = alice.get("/user/whatever")
        assert reply.status_code == 400 and "unknown request URI" in reply.json()["message"]

    def test_openapi_document(self, sandbox: Any) -> None:
        doc = requests.get(sandbox.url + "/openapi.json").json()
        assert "/api/rest_j/v1/entrance/submit" in doc["paths"]
