"""Fixtures for the sandbox's own HTTP tests: logged-in raw `requests` sessions and extra
sandboxes started with special settings (session timeout, job retention) through the same
CLI as the session-wide `sandbox` fixture of tests/conftest.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

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

    def wait(self, job: dict[str, Any], timeout: float = 60.0) -> str:
        """Poll status until terminal (jobhistory fallback via taskID)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.get(f"/entrance/{job['execID']}/status", taskID=job["taskID"])
            state: str = reply.json()["data"]["status"]
            if state in TERMINAL:
                return state
            time.sleep(0.05)
        raise AssertionError(f"job {job} did not finish in {timeout}s")

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
def alice(sandbox: Any) -> Api:
    """A cookie session logged in as alice on the shared sandbox."""
    return Api(sandbox.url, "alice", sandbox.users["alice"])


@pytest.fixture(scope="session")
def bob(sandbox: Any) -> Api:
    """A cookie session logged in as bob on the shared sandbox."""
    return Api(sandbox.url, "bob", sandbox.users["bob"])


@pytest.fixture(scope="session")
def anonymous(sandbox: Any) -> Api:
    """A session that never logged in."""
    return Api(sandbox.url)


def _start_sandbox_function(config: pytest.Config) -> Callable[..., Any]:
    """tests/conftest.py's `start_sandbox`, found among the loaded conftest plugins (a plain
    `from conftest import ...` is unreliable under --import-mode=importlib)."""
    for plugin in config.pluginmanager.get_plugins():
        function = getattr(plugin, "start_sandbox", None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    raise RuntimeError("tests/conftest.py with start_sandbox is not loaded")


@pytest.fixture(scope="session")
def start_extra(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Any]]:
    """Start extra sandboxes with extra CLI arguments; all are stopped at session end."""
    start = _start_sandbox_function(request.config)
    started: list[Any] = []

    def launch(*extra: str) -> Any:
        data_dir: Path = tmp_path_factory.mktemp("extra-sandbox")
        box = start(data_dir, "--no-demo-data", *extra)
        started.append(box)
        return box

    yield launch
    for box in started:
        box.stop()


@pytest.fixture(scope="session")
def forgetful(start_extra: Callable[..., Any]) -> Any:
    """A sandbox that forgets finished jobs at once (entrance endpoints -> "job has ended")."""
    return start_extra("--job-retention", "0")
