"""routes/user.py: password login, logout, publicKey, userInfo and heartbeat."""

from __future__ import annotations

from typing import Any

import requests


class TestLogin:
    """Password login as the Linkis gateway does it (docs/linkis-protocol.md §2.2, §2.5)."""

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
