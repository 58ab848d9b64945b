"""The sandbox under hostile requests: fuzzing from its OpenAPI document, escapes, other users.

The routes read most query parameters from the raw request (as Linkis's Spring handlers do),
so /openapi.json lists paths, methods and path parameters only; the fuzzer adds the query
parameters Linkis defines (§3-§5) with hostile values, with and without auth. Section numbers
(§) refer to docs/linkis-protocol.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkis_magic.client import LinkisClient
from linkis_magic.errors import GatewayError, NotLoggedInError
from linkis_magic.protocol import JobStatus
from tests.support.sandbox import SandboxProcess, start_sandbox
from tests.support.wait import wait_until

PREFIX = "/api/rest_j/v1"
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"
SQL = "spark-3.2.1"
QUERY_NAMES = [
    "path", "page", "pageSize", "pageNow", "fromLine", "size", "taskID", "status", "creator",
    "startDate", "endDate", "outputFileType", "limit", "nullValue", "csvSeparator", "charset",
    "distinctLevel", "executeApplicationName", "keepNewline", "isForce",
]  # fmt: skip
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "", " ", "-1", "0", "99999999999999999999999", "1e309", "NaN", "true", "null",
            "file:///etc/passwd", "file:///../../etc", "../../etc/passwd", "hdfs:///tmp",
            "file://", "%00", "\u202e", "x" * 3000, "t", "xlsx", "csv",
        ]
    ),
)  # fmt: skip
ENVELOPE_KEYS = {"method", "status", "message", "data"}


@pytest.fixture(scope="module")
def routes(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    doc = requests.get(sandbox.url + "/openapi.json", timeout=10).json()
    found = [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops]
    assert len(found) >= 17
    return found


def fill(template: str, value: str) -> str:
    out = template
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + quote(value, safe="") + out[end + 1 :]
    return out


def check_reply(resp: requests.Response, what: str) -> None:
    assert resp.status_code != 500, f"{what}: HTTP 500 {resp.text[:300]}"
    ctype = resp.headers.get("Content-Type", "")
    if "json" in ctype:
        body = resp.json()
        assert isinstance(body, dict) and body.keys() >= ENVELOPE_KEYS, f"{what}: {body!r:.300}"
        if body["status"] != 0:
            assert isinstance(body["message"], str) and body["message"], what
    else:  # only the export and the download stream a file (or Linkis's text/plain error)
        streams = ("resultsetToExcel", "filesystem/download")
        assert any(route in what for route in streams), f"{what}: {ctype} {resp.text[:200]}"


class TestFuzzEveryRoute:
    """Every route answers hostile input with an envelope, never a 500."""

    @settings(
        max_examples=int(os.environ.get("LINKIS_FUZZ_EXAMPLES", "120")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def test_routes(
        self, sandbox: SandboxProcess, routes: list[tuple[str, str]], data: Any
    ) -> None:
        method, template = data.draw(st.sampled_from(routes))
        path = fill(template, data.draw(HOSTILE))
        params = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), HOSTILE, max_size=4))
        auth = data.draw(st.sampled_from(["none", "token", "bad-token"]))
        headers = {}
        if auth != "none":
            headers = {"Token-User": "alice", "Token-Code": sandbox.token}
            if auth == "bad-token":
                headers["Token-Code"] = "nope"
        body = None
        if method in ("POST", "PUT"):
            body = data.draw(
                st.one_of(
                    st.none(),
                    st.dictionaries(st.text(max_size=10), HOSTILE, max_size=3),
                    st.fixed_dictionaries(
                        {"executionContent": st.dictionaries(st.text(max_size=8), HOSTILE)}
                    ),
                )
            )
        resp = requests.request(
            method, sandbox.url + path, params=params, json=body, headers=headers, timeout=30
        )
        check_reply(resp, f"{method} {path} {params} {auth}")
        if auth != "token" and "/user/" not in template:
            if "resultsetToExcel" in template and "json" not in resp.headers["Content-Type"]:
                # the sandbox answers the export route's way (see test_unauthenticated_export)
                assert resp.text.startswith("error(错误):")
                assert "not logged in" in resp.text or "Token Authentication Failed" in resp.text
            else:
                assert resp.status_code in (401, 404, 400), f"{method} {path}: {resp.status_code}"

    @pytest.mark.parametrize(
        "raw",
        [b"{", b"[]", b"null", b'{"executionContent": "x"}', "{\"é\": 1}".encode("latin-1"),
         b"\xff\xfe", b'{"labels": [], "executionContent": {"code": 1}}'],
    )  # fmt: skip
    def test_malformed_submit_bodies(self, sandbox: SandboxProcess, raw: bytes) -> None:
        for route in ("entrance/submit", "entrance/execute", "user/login"):
            resp = requests.post(
                f"{sandbox.url}{PREFIX}/{route}",
                data=raw,
                headers={"Content-Type": "application/json", "Token-User": "alice",
                         "Token-Code": sandbox.token},
                timeout=30,
            )  # fmt: skip
            check_reply(resp, f"POST {route} {raw!r}")
            assert resp.json()["status"] != 0


@pytest.fixture(scope="module")
def clients(sandbox: SandboxProcess) -> Iterator[tuple[LinkisClient, LinkisClient]]:
    with (
        LinkisClient(sandbox.url, user="alice", password=sandbox.users["alice"]) as alice,
        LinkisClient(sandbox.url, user="bob", password=sandbox.users["bob"]) as bob,
    ):
        yield alice, bob


@pytest.fixture(scope="module")
def alice_result(clients: tuple[LinkisClient, LinkisClient]) -> str:
    alice, _ = clients
    job = alice.submit("select 'alice-private' as s", engine_type=SQL)
    job.wait(timeout=60)
    location = alice.task(job.task_id or 0).result_location
    assert location is not None
    return location


def refused(exc: GatewayError) -> None:
    """Linkis refuses with status 1 errCode 80010 for filesystem permission (§5);
    ownership checks answer status 1 "not found, or no permission"; auth is status -1."""
    assert exc.status in (1, 3, -1), exc
    assert exc.http_status != 500


class TestEscapes:
    """Paths outside the user's own directories are refused, however they are spelled."""

    @pytest.mark.parametrize(
        "path",
        [
            "file:///etc/passwd",
            "file:///../../../../etc/passwd",
            "file:///tmp/../etc/passwd",
            "file://etc/passwd",
            "hdfs:///etc/passwd",
            "/etc/passwd",
            "file:///%2e%2e/etc/passwd",
            "file:///etc/passwd\x00.dolphin",
        ],
    )
    def test_traversal(self, clients: tuple[LinkisClient, LinkisClient], path: str) -> None:
        alice, _ = clients
        for call in (alice.open_file, alice.file_info, alice.open_log, alice.dir_tree):
            with pytest.raises(GatewayError) as info:
                call(path)
            refused(info.value)

    def test_dotdot_out_of_own_result_dir(
        self, clients: tuple[LinkisClient, LinkisClient], alice_result: str
    ) -> None:
        alice, _ = clients
        with pytest.raises(GatewayError) as info:
            alice.open_file(alice_result + "/../../../../../../../etc/passwd")
        refused(info.value)
        assert info.value.err_code == 80026  # Linkis's path validator: "../" is refused first

    def test_symlink_escape(
        self, clients: tuple[LinkisClient, LinkisClient], alice_result: str
    ) -> None:
        alice, _ = clients
        local = Path(alice_result.removeprefix("file://"))
        (local / "_90.dolphin").symlink_to("/etc/passwd")
        (local / "escape").symlink_to("/etc", target_is_directory=True)
        for path in (f"{alice_result}/_90.dolphin", f"{alice_result}/escape/passwd"):
            with pytest.raises(GatewayError) as info:
                alice.open_file(path)
            refused(info.value)
            assert "root:" not in str(info.value)
        with pytest.raises(GatewayError) as info:
            alice.dir_tree(f"{alice_result}/escape")
        refused(info.value)


class TestOtherUsers:
    """Bob can neither read, list nor kill alice's work."""

    def test_read_and_list(
        self, clients: tuple[LinkisClient, LinkisClient], alice_result: str
    ) -> None:
        alice, bob = clients
        first = (alice.dir_tree(alice_result) or [])[0].path
        assert alice.open_file(first).rows  # alice can
        for call in (
            lambda: bob.open_file(first),
            lambda: bob.file_info(first),
            lambda: bob.dir_tree(alice_result),
            lambda: bob.export_result(first),
        ):
            with pytest.raises(GatewayError) as info:
                call()
            refused(info.value)
            assert "alice-private" not in str(info.value)

    def test_task_status_and_kill(self, clients: tuple[LinkisClient, LinkisClient]) -> None:
        alice, bob = clients
        job = alice.submit(LONG_QUERY, engine_type=SQL)
        try:
            assert job.exec_id is not None and job.task_id is not None
            for call in (
                lambda: bob.task(job.task_id or 0),
                lambda: bob.log(job.exec_id or ""),
                lambda: bob.kill(job.exec_id or "", task_id=job.task_id),
            ):
                with pytest.raises(GatewayError) as info:
                    call()
                refused(info.value)
            assert job.task_id not in [t.task_id for t in bob.tasks(page_size=100).tasks]
            # Linkis's entrance status route has no ownership check (§3.5): bob may
            # read the state, nothing more. The sandbox follows Linkis.
            assert bob.status(job.exec_id, task_id=job.task_id) is not None
            # a kill is logged before it interrupts anything: no such line, no kill under way
            assert not [line for line in job.read_log() if "is killed by user" in line]
            assert job.status() in (JobStatus.RUNNING, JobStatus.SCHEDULED, JobStatus.INITED)
        finally:
            job.kill()

    def test_unauthenticated(self, sandbox: SandboxProcess, alice_result: str) -> None:
        anonymous = LinkisClient(sandbox.url)
        for call in (
            lambda: anonymous.tasks(),
            lambda: anonymous.task(1),
            lambda: anonymous.open_file(f"{alice_result}/_0.dolphin"),
            lambda: anonymous.dir_tree(alice_result),
            lambda: anonymous.submit("select 1", engine_type=SQL),
            lambda: anonymous.status("exec_id018015linkis-cg-entrance127.0.0.1:1IDE_alice_x_1"),
        ):
            with pytest.raises(NotLoggedInError) as info:
                call()
            assert info.value.status == -1 and info.value.http_status == 401

    def test_unauthenticated_export(self, sandbox: SandboxProcess, alice_result: str) -> None:
        resp = requests.get(
            f"{sandbox.url}{PREFIX}/filesystem/resultsetToExcel",
            params={"path": f"{alice_result}/_0.dolphin"},
            timeout=10,
        )
        assert resp.status_code == 401
        assert resp.json()["status"] == -1


class TestBinding:
    """The sandbox binds loopback by default and warns loudly when told otherwise."""

    def test_default_is_loopback(self, sandbox: SandboxProcess) -> None:
        assert sandbox.url.startswith("http://127.0.0.1:")
        assert not any("WARNING" in line for line in sandbox.output)

    def test_all_interfaces_warns(self, tmp_path: Path) -> None:
        box = start_sandbox(tmp_path, "--host", "0.0.0.0")
        try:
            warning = wait_until(
                lambda: next((x for x in box.output if "WARNING" in x), None),
                timeout=10,
                what="the sandbox's warning line",
            )
            assert "0.0.0.0" in warning and "reachable from other machines" in warning
        finally:
            box.stop()
