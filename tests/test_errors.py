"""The exception tree: documented in one place, caught at the level a caller cares about."""

from __future__ import annotations

import warnings

import pytest

from linkis_magic import errors
from linkis_magic.errors import (
    GatewayError,
    JobCancelled,
    JobError,
    LinkisError,
    LinkisWarning,
    NotLoggedInError,
    RequestFailedError,
)
from linkis_magic.protocol import Envelope, raise_for_envelope


class TestTree:
    """Every exported class is drawn in the module docstring and sits under LinkisError."""

    @pytest.mark.parametrize("name", errors.__all__)
    def test_documented_and_rooted(self, name: str) -> None:
        cls = getattr(errors, name)
        assert name in (errors.__doc__ or "")
        if name == "LinkisWarning":
            assert issubclass(cls, UserWarning)
        else:
            assert issubclass(cls, LinkisError)
            assert cls.__doc__, f"{name} needs a one-line 'raised when' docstring"

    def test_gateway_error_shows_linkis_message_and_code(self) -> None:
        exc = RequestFailedError(
            "error code(错误码): 20009, error message(错误信息): runType missing.",
            status=1,
            err_code=20009,
            method="/api/entrance/submit",
            http_status=400,
        )
        assert str(exc) == (
            "error code(错误码): 20009, error message(错误信息): runType missing. "
            "(status 1, errCode 20009, HTTP 400, /api/entrance/submit)"
        )
        assert isinstance(exc, GatewayError)

    def test_job_error_carries_details(self) -> None:
        exc = JobCancelled("killed", exec_id="e", task_id=3, state="Cancelled", error_lines=("x",))
        assert isinstance(exc, JobError)
        assert (exc.task_id, exc.state, exc.error_lines) == (3, "Cancelled", ("x",))


class TestRaiseForEnvelope:
    """Status codes map to the documented classes; 4 only warns."""

    def test_minus_one(self) -> None:
        env = Envelope(method=None, status=-1, message="login first", data={}, http_status=401)
        with pytest.raises(NotLoggedInError):
            raise_for_envelope(env)

    def test_four_warns(self) -> None:
        env = Envelope(method=None, status=4, message="file is empty", data={}, http_status=206)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raise_for_envelope(env)
        assert [type(w.message) for w in caught] == [LinkisWarning]

    def test_secrets_are_redacted(self) -> None:
        env = Envelope(
            method=None,
            status=-1,
            message="Token Authentication Failed, token: ABC-123，tokenUser: alice, reason: x",
            data={},
            http_status=401,
        )
        with pytest.raises(NotLoggedInError) as info:
            raise_for_envelope(env)
        assert "ABC-123" not in str(info.value)
        assert "token: ***" in str(info.value)


class TestBrief:
    """GatewayError.brief: Linkis's message in one short line, errCode first."""

    @pytest.mark.parametrize(
        ("message", "code", "expected"),
        [
            (
                "GatewayErrorException: errCode: 11011 ,desc: Cannot route to the corresponding "
                "service ,ip: gw1 ,port: 9001 ,serviceKind: linkis-mg-gateway",
                11011,
                "errCode 11011: Cannot route to the corresponding service",
            ),
            (
                "error code(错误码): 20009, error message(错误信息): Label params invalid.",
                20009,
                "errCode 20009: Label params invalid",
            ),
            ("You have no permission to kill this job", None, "You have no permission to kill"),
        ],
    )
    def test_wrapping_is_dropped(self, message: str, code: int | None, expected: str) -> None:
        brief = RequestFailedError(message, status=1, err_code=code).brief
        assert brief.startswith(expected)
        assert "ip:" not in brief and "\n" not in brief

    def test_long_messages_are_cut(self) -> None:
        brief = RequestFailedError("x" * 500, status=1).brief
        assert len(brief) <= 120 and brief.endswith("…")
