"""Password, RSA and token authentication, session expiry, and keeping secrets out of sight.

Section numbers (§) refer to docs/linkis-protocol.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import ConfigurationError, NotLoggedInError, RequestFailedError
from linkis_magic.protocol import JobStatus
from tests.support.double import COOKIE, EXEC_ID, LinkisDouble, envelope

PASSWORD = "pa55-Wörd-secret"
TOKEN = "TOKEN-SECRET-42"
STATUS = f"entrance/{EXEC_ID}/status"


@pytest.fixture
def gw() -> Iterator[LinkisDouble]:
    with LinkisDouble(users={"alice": PASSWORD}, token=TOKEN) as double:
        double.on("GET", STATUS, {"status": "Running", "execID": EXEC_ID})
        yield double


class TestPasswordLogin:
    """Password auth logs in lazily with a JSON body and reuses the session cookie."""

    def test_logs_in_once_then_uses_the_cookie(self, gw: LinkisDouble) -> None:
        with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
            client.status(EXEC_ID)
            client.status(EXEC_ID)
        logins = gw.calls("POST", "user/login")
        assert len(logins) == 1
        assert logins[0].json() == {"userName": "alice", "password": PASSWORD}
        cookies = [r.header("Cookie") or "" for r in gw.calls("GET", STATUS)]
        assert all(c.startswith(f"{COOKIE}=") for c in cookies)

    def test_wrong_password_shows_linkis_message(self, gw: LinkisDouble) -> None:
        """docs/linkis-protocol.md §1.5.5: bad credentials are status 1 / HTTP 400, not -1."""
        with (
            LinkisClient(gw.url, user="alice", password="not-it") as client,
            pytest.raises(RequestFailedError, match="wrong user name or password") as info,
        ):
            client.login()
        assert info.value.http_status == 400
        assert "not-it" not in str(info.value)

    def test_rsa_login_when_the_gateway_asks(self) -> None:
        """The password is RSA PKCS#1 v1.5 encrypted and Base64 encoded with the given key."""
        with LinkisDouble(users={"alice": PASSWORD}, login_encrypt=True) as gw:
            gw.on("GET", STATUS, {"status": "Succeed"})
            with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
                assert client.status(EXEC_ID) is JobStatus.SUCCEED
            (login,) = gw.calls("POST", "user/login")
            sent = login.json()["password"]
            assert sent != PASSWORD
            assert PASSWORD.encode() not in login.body
            assert gw.login_passwords == [PASSWORD]

    def test_logout_clears_the_session(self, gw: LinkisDouble) -> None:
        with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
            client.status(EXEC_ID)
            client.logout()
            client.status(EXEC_ID)
        assert len(gw.calls("POST", "user/logout")) == 1
        assert len(gw.calls("POST", "user/login")) == 2


class TestReLogin:
    """§10.14: a 401 with password auth means log in again once and retry once."""

    def test_expired_session_is_renewed_and_the_call_retried(self, gw: LinkisDouble) -> None:
        with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
            client.status(EXEC_ID)
            gw.expire_sessions()  # gateway restart
            assert client.status(EXEC_ID) is JobStatus.RUNNING
        assert len(gw.calls("POST", "user/login")) == 2
        assert len(gw.calls("GET", STATUS)) == 3  # ok, 401, retried ok

    def test_a_second_401_is_raised_not_looped(self, gw: LinkisDouble) -> None:
        not_logged_in = envelope(
            status=-1, message="Login has expired, please log in again!(登录已过期，请重新登录！)"
        )
        gw.on("GET", f"entrance/{EXEC_ID}/progress", not_logged_in)
        with (
            LinkisClient(gw.url, user="alice", password=PASSWORD) as client,
            pytest.raises(NotLoggedInError, match="Login has expired") as info,
        ):
            client.progress(EXEC_ID)
        assert info.value.http_status == 401
        assert len(gw.calls("GET", f"entrance/{EXEC_ID}/progress")) == 2
        assert len(gw.calls("POST", "user/login")) == 2

    def test_submit_after_401_is_sent_again_once(self, gw: LinkisDouble) -> None:
        """A 401 means the gateway refused the POST, so resending it cannot run code twice."""
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": 9})
        with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
            client.login()
            gw.expire_sessions()
            assert client.submit_raw({"executionContent": {}}).task_id == 9
        submits = gw.calls("POST", "entrance/submit")
        assert len(submits) == 2  # the refused one and the accepted one

    def test_idle_session_is_renewed_before_the_request(self) -> None:
        """Past the server's sessionTimeOut the client logs in again without waiting for 401."""
        with LinkisDouble(users={"alice": PASSWORD}, session_timeout_ms=1) as gw:
            gw.on("GET", STATUS, {"status": "Running"})
            with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
                client.status(EXEC_ID)
                gw.expire_sessions()
                time.sleep(0.02)  # well past the 1 ms idle timeout: no 401 round trip needed
                client.status(EXEC_ID)
            assert len(gw.calls("POST", "user/login")) == 2
            assert len(gw.calls("GET", STATUS)) == 2


class TestToken:
    """§10.11: Token-Code + Token-User exactly spelled on every request, no login."""

    def test_headers_on_every_request_and_no_login(self, gw: LinkisDouble) -> None:
        gw.on("GET", "jobhistory/list", {"totalPage": 0, "tasks": []})
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": 3})
        with LinkisClient(gw.url, user="alice", token=TOKEN) as client:
            client.status(EXEC_ID)
            client.tasks()
            client.submit_raw({"executionContent": {"code": "x", "runType": "sql"}})
        assert gw.calls("POST", "user/login") == []
        assert gw.calls("GET", "user/publicKey") == []
        assert len(gw.requests) == 3
        for req in gw.requests:
            assert req.header("Token-Code") == TOKEN
            assert req.header("Token-User") == "alice"
            assert req.header("Cookie") is None

    def test_rejected_token_is_not_echoed(self, gw: LinkisDouble) -> None:
        """The gateway's message repeats the token; ours must not."""
        with (
            LinkisClient(gw.url, user="alice", token="WRONG-TOKEN-77") as client,
            pytest.raises(NotLoggedInError, match="Token Authentication Failed") as info,
        ):
            client.status(EXEC_ID)
        assert "WRONG-TOKEN-77" not in str(info.value)
        assert "WRONG-TOKEN-77" not in info.value.message
        assert len(gw.requests) == 1  # token auth never tries to log in

    def test_login_is_refused_with_a_token(self, gw: LinkisDouble) -> None:
        with (
            LinkisClient(gw.url, user="alice", token=TOKEN) as client,
            pytest.raises(ConfigurationError, match="token"),
        ):
            client.login()


class TestSecrets:
    """Passwords and tokens never show up in repr, exceptions or log records."""

    def test_repr_shows_auth_kind_only(self) -> None:
        with LinkisClient("http://gw:9001", user="alice", password=PASSWORD) as c1:
            assert (
                repr(c1) == "LinkisClient(base_url='http://gw:9001', user='alice', auth='password')"
            )
        with LinkisClient("http://gw:9001/", user="alice", token=TOKEN) as c2:
            assert TOKEN not in repr(c2) and TOKEN not in str(c2)
            assert "auth='token'" in repr(c2)

    def test_logs_and_errors_hold_no_secret(
        self, gw: LinkisDouble, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        gw.on("GET", f"entrance/{EXEC_ID}/log", envelope(status=1, message=f"echo {PASSWORD}"))
        with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
            client.status(EXEC_ID)
            gw.expire_sessions()
            client.status(EXEC_ID)
            with pytest.raises(RequestFailedError) as info:
                client.log(EXEC_ID)
        assert PASSWORD not in str(info.value)
        assert caplog.records, "the client should log its requests at DEBUG"
        for record in caplog.records:
            assert PASSWORD not in record.getMessage()

    def test_password_needs_a_user(self) -> None:
        with pytest.raises(ConfigurationError, match="user=") as info:
            LinkisClient("http://gw:9001", password=PASSWORD)
        assert PASSWORD not in str(info.value)


class TestExportAuth:
    """The streamed export also renews an expired session once."""

    def test_export_after_expiry(self, gw: LinkisDouble) -> None:
        from tests.support.double import Reply

        gw.on(
            "GET", "filesystem/resultsetToExcel", Reply(body=b"x\n1\n", content_type="text/plain")
        )
        with LinkisClient(gw.url, user="alice", password=PASSWORD) as client:
            client.login()
            gw.expire_sessions()
            assert client.export_result("hdfs:///tmp/linkis/alice/_0.dolphin") == b"x\n1\n"
        assert len(gw.calls("POST", "user/login")) == 2
        assert len(gw.calls("GET", "filesystem/resultsetToExcel")) == 2


class TestSecretCopies:
    """Copying a Secret (traitlets deep-copies configs) gives the same masked secret."""

    def test_copy_and_deepcopy_are_the_secret_itself(self) -> None:
        import copy

        from linkis_magic.auth import Secret

        secret = Secret("s3cret-value")
        assert copy.copy(secret) is secret and copy.deepcopy({"p": secret})["p"] is secret
        assert "s3cret-value" not in repr(copy.deepcopy(secret))
