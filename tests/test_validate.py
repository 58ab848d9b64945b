"""A corpus of bad inputs: each gives a clear error; the usage errors send no request at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import (
    ConfigurationError,
    GatewayError,
    JobFailed,
    NotLoggedInError,
    RequestFailedError,
)
from tests.support.proxy import FaultProxy
from tests.support.sandbox import SandboxProcess

SQL = "spark-3.2.1"
EXEC = "exec_id018015linkis-cg-entrance127.0.0.1:9104IDE_alice_spark_1"

ClientCall = Callable[[LinkisClient], object]


@pytest.fixture(scope="module")
def proxy(sandbox: SandboxProcess) -> Iterator[FaultProxy]:
    """A counting proxy in front of the session sandbox."""
    with FaultProxy(sandbox.url) as box:
        yield box


def new(url: str = "http://127.0.0.1:1", **kw: Any) -> LinkisClient:
    return LinkisClient(url, **kw)


CONSTRUCTOR_CASES: list[tuple[str, Callable[[], object], str]] = [
    ("empty url", lambda: new(""), "base_url must look like"),
    ("no scheme", lambda: new("gateway:9001"), "base_url must look like"),
    ("ftp scheme", lambda: new("ftp://gateway"), "base_url must look like"),
    ("scheme only", lambda: new("http://"), "base_url must look like"),
    ("space in host", lambda: new("http:// gateway"), "base_url must look like"),
    ("url not a string", lambda: new(42), "base_url must look like"),  # type: ignore[arg-type]
    ("control char url", lambda: new("http://\x00host"), "base_url"),
    ("empty user", lambda: new(user="", password="pw"), "user must be a non-empty"),
    ("password and token", lambda: new(user="a", password="p", token="t"), "not both"),
    ("blank token", lambda: new(user="a", token="   "), "token must be a non-empty"),
    ("password without user", lambda: new(password="p"), "user= is required"),
    ("token not a string", lambda: new(user="a", token=5), "token must be"),
    ("zero timeout", lambda: new(timeout=0), "timeout must be a positive"),
    ("one-element timeout", lambda: new(timeout=(1.0,)), "timeout must be"),
    ("infinite timeout", lambda: new(timeout=float("inf")), "timeout must be"),
    ("string timeout", lambda: new(timeout="5"), "timeout must be"),
    ("negative retries", lambda: new(retries=-1), "retries must be an integer"),
    ("bool retries", lambda: new(retries=True), "retries must be an integer"),
    ("missing CA bundle", lambda: new(verify="/no/such/ca.pem"), "does not exist"),
    ("verify a float", lambda: new(verify=1.5), "verify must be"),
    ("creator with dash", lambda: new(creator="my-app"), "creator must be"),
    ("creator with NUL", lambda: new(creator="IDE\x00"), "creator must be"),
    ("unicode creator", lambda: new(creator="IDÉ"), "creator must be"),
]

USAGE_CASES: list[tuple[str, ClientCall, str]] = [
    ("empty code", lambda c: c.submit("", engine_type=SQL), "code must be a non-blank"),
    ("whitespace code", lambda c: c.submit(" \n\t", engine_type=SQL), "code must be a non-blank"),
    ("code not a string", lambda c: c.submit(None, engine_type=SQL), "code must be"),  # type: ignore[arg-type]
    ("runType with space", lambda c: c.submit("x", run_type="sq l", engine_type=SQL), "run_type"),
    ("empty runType", lambda c: c.submit("x", run_type="", engine_type=SQL), "run_type"),
    ("engine without version", lambda c: c.submit("x", engine_type="spark"), "engine_type must"),
    ("empty engine", lambda c: c.submit("x", engine_type=""), "engine_type must"),
    ("engine a number", lambda c: c.submit("x", engine_type=3), "engine_type must"),  # type: ignore[arg-type]
    ("engine with newline", lambda c: c.submit("x", engine_type=SQL + "\n"), "engine_type must"),
    ("unicode engine", lambda c: c.submit("x", engine_type="spärk-3.2.1"), "engine_type must"),
    ("blank variable name", lambda c: c.submit("x", engine_type=SQL, variables={"": "v"}), "keys"),
    (
        "list variable value",
        lambda c: c.submit("x", engine_type=SQL, variables={"k": [1, 2]}),
        "must be a string or number",
    ),
    (
        "variables as text",
        lambda c: c.submit("x", engine_type=SQL, variables="k=v"),  # type: ignore[arg-type]
        "must be a mapping",
    ),
    (
        "reserved label",
        lambda c: c.submit("x", engine_type=SQL, labels={"engineType": "hive-2"}),
        "must not set 'engineType'",
    ),
    ("creator with space", lambda c: c.submit("x", engine_type=SQL, creator="a b"), "creator"),
    (
        "non-string startup key",
        lambda c: c.submit("x", engine_type=SQL, startup={1: "x"}),  # type: ignore[dict-item]
        "keys must be non-empty strings",
    ),
    ("execID with slash", lambda c: c.status("a/b"), "exec_id must be a Linkis execID"),
    ("empty execID", lambda c: c.status(""), "exec_id must be"),
    ("execID with unicode space", lambda c: c.status("exec\u2028id"), "exec_id must be"),
    ("negative fromLine", lambda c: c.log(EXEC, from_line=-1), "from_line must be"),
    ("zero log size", lambda c: c.log(EXEC, size=0), "size must be a non-zero"),
    ("taskID zero", lambda c: c.task(0), "task_id must be a positive"),
    ("taskID bool", lambda c: c.task(True), "task_id must be a positive"),
    ("taskID text", lambda c: c.task("7"), "task_id must be a positive"),  # type: ignore[arg-type]
    ("history page 0", lambda c: c.tasks(page=0), "page must be an integer"),
    ("history start text", lambda c: c.tasks(start="yesterday"), "start must be"),  # type: ignore[arg-type]
    ("empty path", lambda c: c.open_file(""), "path must be a non-empty"),
    ("page size 0", lambda c: c.open_file("file:///x", page_size=0), "page_size must"),
    ("export to pdf", lambda c: c.export_result("file:///x", file_type="pdf"), "file_type"),
    ("two-char separator", lambda c: c.export_result("file:///x", separator=",,"), "separator"),
    ("negative limit", lambda c: c.export_result("file:///x", limit=-5), "limit must be"),
]


class TestUsageErrorsSendNothing:
    """Bad arguments raise ConfigurationError naming what to fix, before any request."""

    @pytest.mark.parametrize(
        ("build", "needle"),
        [pytest.param(b, n, id=i) for i, b, n in CONSTRUCTOR_CASES],
    )
    def test_constructor(self, build: Callable[[], object], needle: str) -> None:
        with pytest.raises(ConfigurationError, match=needle.replace("=", "=")):
            build()

    @pytest.mark.parametrize(
        ("call", "needle"), [pytest.param(c, n, id=i) for i, c, n in USAGE_CASES]
    )
    def test_call(self, proxy: FaultProxy, call: ClientCall, needle: str) -> None:
        before = len(proxy.seen)
        with (
            LinkisClient(proxy.url, user="alice", password="alice-secret") as client,
            pytest.raises(ConfigurationError) as info,
        ):
            call(client)
        assert needle in str(info.value)
        assert len(proxy.seen) == before  # not even a login

    def test_closed_client(self, proxy: FaultProxy) -> None:
        client = LinkisClient(proxy.url, user="alice", password="alice-secret")
        client.close()
        before = len(proxy.seen)
        with pytest.raises(ConfigurationError, match="closed"):
            client.submit("select 1", engine_type=SQL)
        assert len(proxy.seen) == before


class TestGatewayRefusals:
    """Input only the gateway can judge comes back as a clear Linkis error, never a crash."""

    # Linkis answers a failed login with status 1 / HTTP 400 (docs/linkis-protocol.md §2.2), not -1.
    def test_wrong_password(self, sandbox: SandboxProcess) -> None:
        with (
            LinkisClient(sandbox.url, user="alice", password="not-her-password") as client,
            pytest.raises(RequestFailedError, match="wrong user name or password") as info,
        ):
            client.submit("select 1", engine_type=SQL)
        assert "not-her-password" not in str(info.value)
        assert info.value.http_status == 400

    def test_unknown_user(self, sandbox: SandboxProcess) -> None:
        with (
            LinkisClient(sandbox.url, user="mallory", password="x") as client,
            pytest.raises(RequestFailedError, match="wrong user name or password"),
        ):
            client.tasks()

    def test_expired_token(self, sandbox: SandboxProcess) -> None:
        with (
            LinkisClient(sandbox.url, user="alice", token="EXPIRED-TOKEN-0") as client,
            pytest.raises(NotLoggedInError) as info,
        ):
            client.tasks()
        assert "EXPIRED-TOKEN-0" not in str(info.value)

    def test_huge_task_id(self, sandbox: SandboxProcess) -> None:
        with LinkisClient(sandbox.url, user="alice", token=sandbox.token) as client:
            with pytest.raises(GatewayError) as info:
                client.task(10**30)
            assert info.value.http_status != 500

    def test_unknown_engine(self, sandbox: SandboxProcess) -> None:
        with LinkisClient(sandbox.url, user="alice", token=sandbox.token) as client:
            try:
                job = client.submit("select 1", engine_type="nosuchengine-1.0")
            except GatewayError as exc:
                assert "nosuchengine" in str(exc).lower()
                return
            with pytest.raises(JobFailed) as info:
                job.wait(timeout=30)
            assert "nosuchengine" in str(info.value).lower()

    def test_unknown_run_type(self, sandbox: SandboxProcess) -> None:
        with LinkisClient(sandbox.url, user="alice", token=sandbox.token) as client:
            try:
                job = client.submit("PROCEDURE DIVISION.", run_type="cobol", engine_type=SQL)
            except GatewayError as exc:
                assert "cobol" in str(exc).lower()
                return
            with pytest.raises(JobFailed) as info:
                job.wait(timeout=30)
            assert "cobol" in str(info.value).lower()

    def test_unicode_control_and_blank_cells_round_trip(self, sandbox: SandboxProcess) -> None:
        code = (
            "select '' as empty, '   ' as blank, '日本語 ✓' as uni, "
            "'tab\there' as tab, null as nothing"
        )
        with LinkisClient(sandbox.url, user="alice", token=sandbox.token) as client:
            (frame,) = client.submit(code, engine_type=SQL).frames()
        row = frame.iloc[0]
        assert row["empty"] == ""
        assert row["blank"] == "   "
        assert row["uni"] == "日本語 ✓"
        assert row["tab"] == "tab\there"
        assert frame["nothing"].isna().all()

    def test_huge_code_is_refused_or_run_never_crashes(self, sandbox: SandboxProcess) -> None:
        code = "select 1 as x -- " + "x" * 5_000_000
        with LinkisClient(sandbox.url, user="alice", token=sandbox.token) as client:
            try:
                frames = client.submit(code, engine_type=SQL).frames()
            except (GatewayError, JobFailed) as exc:
                assert "500" not in str(getattr(exc, "http_status", ""))
            else:
                assert frames[0]["x"].tolist() == [1]
