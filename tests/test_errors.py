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
