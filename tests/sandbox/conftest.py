"""Fixtures for the sandbox's own tests: raw HTTP sessions per user, and extra sandboxes.

Everything talks to a real gateway process over loopback with plain `requests` (no client
code): the session-wide `sandbox` of tests/conftest.py, or extra ones started with special
settings (session timeout, job retention, one worker) through tests.support.sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.sandbox.nodes import ENGINECONN, REUSED, STARTED, label
from tests.support.sandbox import SandboxProcess, start_sandbox
from tests.support.wait import wait_until

TERMINAL = {"Succeed", "Failed", "Cancelled", "Timeout"}


class Api:
    """A raw HTTP view of one sandbox for one user: thin helpers, no client-side code."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None) -> None:
        self.url = url
        self.base = url + "/api/rest_j/v1"
        self.http = requests.Session()
        self.user = user
        if user is not None:
            reply = self.http.post(
                self.base + "/user/login", json={"userName": user, "password": password}
            )
            assert reply.status_code == 200, reply.text

    def get(self, endpoint: str, **params: Any) -> requests.Response:
        return self.http.get(self.base + endpoint, params=params, timeout=30)

    def post(self, endpoint: str, body: Any) -> requests.Response:
        return self.http.post(self.base + endpoint, json=body, timeout=30)

    def submit(
        self,
        code: str,
        run_type: str = "sql",
        engine_type: str = "spark-3.2.1",
        variables: dict[str, str] | None = None,
        **labels: str,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "executionContent": {"code": code, "runType": run_type},
            "labels": {"engineType": engine_type, **labels},
            "params": {"variable": variables or {}},
        }
        reply = self.post("/entrance/submit", body)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()["data"]
        return data

    def status(self, job: dict[str, Any]) -> str:
        """The job's state from the entrance (jobhistory fallback via taskID)."""
        reply = self.get(f"/entrance/{job['execID']}/status", taskID=job["taskID"])
        state: str = reply.json()["data"]["status"]
        return state

    def wait(self, job: dict[str, Any], timeout: float = 60.0) -> str:
        """Poll status until the job is in a terminal state; returns that state."""

        def finished() -> str | None:
            state = self.status(job)
            return state if state in TERMINAL else None

        return wait_until(finished, timeout=timeout, what=f"job {job} to finish")

    def run(self, code: str, run_type: str = "sql", **kwargs: Any) -> tuple[dict[str, Any], str]:
        job = self.submit(code, run_type, **kwargs)
        return job, self.wait(job)

    def task(self, task_id: int) -> dict[str, Any]:
        reply = self.get(f"/jobhistory/{task_id}/get")
        assert reply.status_code == 200, reply.text
        task: dict[str, Any] = reply.json()["data"]["task"]
        return task

    def log_all(self, job: dict[str, Any]) -> list[str]:
        data = self.get(f"/entrance/{job['execID']}/log", fromLine=1, size=-1).json()["data"]
        return [line for line in data["log"][3].split("\n") if line]

    def wait_for_log(self, job: dict[str, Any], needle: str) -> list[str]:
        """The job's log lines once one of them contains `needle`."""

        def lines_with_needle() -> list[str]:
            lines = self.log_all(job)
            return lines if any(needle in line for line in lines) else []

        return wait_until(lines_with_needle, what=f"{needle!r} in the log of {job['execID']}")

    def engines(self, creator: str | None = None) -> list[dict[str, Any]]:
        """listUserEngines' items (docs/linkis-protocol.md §14.2), only those of `creator`
        when given (tests isolate their engines by creator)."""
        reply = self.get("/linkisManager/listUserEngines")
        assert reply.status_code == 200, reply.text
        items: list[dict[str, Any]] = reply.json()["data"]["engines"]
        if creator is None:
            return items
        wanted = f"{self.user}-{creator}"
        return [e for e in items if label(e, "userCreator")["stringValue"] == wanted]

    def kill_engine(self, instance: str, application_name: Any = ENGINECONN) -> requests.Response:
        """killEngineConn (§14.3) with the body the Java SDK sends."""
        body = {"applicationName": application_name, "instance": instance}
        return self.post("/linkisManager/killEngineConn", body)

    def engine_of(self, job: dict[str, Any]) -> tuple[str, bool]:
        """(instance, reused) from the job's log: "Starting engine I" or "reusing engine I"."""
        lines = self.wait_for_log(job, " engine ")
        for line in lines:
            for pattern, reused in ((STARTED, False), (REUSED, True)):
                match = pattern.search(line)
                if match:
                    return match.group(1), reused
        raise AssertionError(f"no engine line in the log of {job['execID']}: {lines}")

    def result_paths(self, job: dict[str, Any]) -> list[str]:
        location = self.task(job["taskID"])["resultLocation"]
        tree = self.get("/filesystem/getDirFileTrees", path=location).json()["data"]
        children = (tree["dirFileTrees"] or {}).get("children") or []
        return [child["path"] for child in children]

    def open_file(self, path: str, **params: Any) -> dict[str, Any]:
        reply = self.get("/filesystem/openFile", path=path, **params)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()["data"]
        return data


@pytest.fixture(scope="session")
def login() -> Callable[[SandboxProcess, str | None], Api]:
    """`login(box, "alice")`: a cookie session on any sandbox (None: never logged in)."""

    def make(box: SandboxProcess, user: str | None) -> Api:
        return Api(box.url, user, box.users[user] if user is not None else None)

    return make


@pytest.fixture(scope="session")
def alice(sandbox: SandboxProcess, login: Callable[..., Api]) -> Api:
    """A cookie session logged in as alice on the shared sandbox."""
    return login(sandbox, "alice")


@pytest.fixture(scope="session")
def bob(sandbox: SandboxProcess, login: Callable[..., Api]) -> Api:
    """A cookie session logged in as bob on the shared sandbox."""
    return login(sandbox, "bob")


@pytest.fixture(scope="session")
def anonymous(sandbox: SandboxProcess, login: Callable[..., Api]) -> Api:
    """A session that never logged in."""
    return login(sandbox, None)


@pytest.fixture(scope="session")
def alive() -> Callable[[int], bool]:
    """`alive(pid)`: whether a process with that pid still exists."""

    def check(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    return check


@pytest.fixture(scope="session")
def start_extra(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., SandboxProcess]]:
    """Start extra sandboxes (no demo data) with extra CLI arguments; all stop at session end."""
    started: list[SandboxProcess] = []

    def launch(*extra: str) -> SandboxProcess:
        box = start_sandbox(tmp_path_factory.mktemp("extra-sandbox"), "--no-demo-data", *extra)
        started.append(box)
        return box

    yield launch
    for box in started:
        box.stop()


@pytest.fixture(scope="session")
def forgetful(start_extra: Callable[..., SandboxProcess]) -> SandboxProcess:
    """A sandbox that forgets finished jobs at once (entrance endpoints -> "job has ended")."""
    return start_extra("--job-retention", "0")
