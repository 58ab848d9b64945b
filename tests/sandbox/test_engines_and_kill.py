"""Python and shell jobs, and kill really stopping DuckDB queries and subprocesses."""

from __future__ import annotations

import os
import time
from typing import Any

PY = "python-python3"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for_log(api: Any, job: dict[str, Any], needle: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = api.log_all(job)
        if any(needle in line for line in lines):
            return list(lines)
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} never appeared in the log")


class TestPythonJobs:
    """Python cells run in a subprocess; output and tables become result sets."""

    def test_print_and_linkis_show_become_ordered_result_sets(self, alice: Any) -> None:
        job, state = alice.run(
            "print('before 你好')\n"
            "linkis_show([{'id': 1, 'name': 'a'}, {'id': 2, 'name': None}])\n"
            "linkis_show([(1.5, True)], columns=['x', 'ok'])\n"
            "print('after')",
            "python",
            engine_type=PY,
        )
        assert state == "Succeed", alice.log_all(job)
        paths = alice.result_paths(job)
        assert [p.rsplit("/", 1)[1] for p in paths] == [f"_{i}.dolphin" for i in range(4)]
        text = alice.open_file(paths[0])
        assert text["type"] == "1" and text["fileContent"] == [["before 你好"]]
        table = alice.open_file(paths[1], nullValue="LINKIS_NULL")
        assert table["type"] == "2"
        assert [c["columnName"] for c in table["metadata"]] == ["id", "name"]
        assert table["fileContent"] == [["1", "a"], ["2", None]]
        assert alice.open_file(paths[2])["fileContent"] == [["1.5", "true"]]
        assert alice.open_file(paths[3])["fileContent"] == [["after"]]
        assert any(line.endswith("INFO before 你好") for line in alice.log_all(job))

    def test_pandas_dataframe(self, alice: Any) -> None:
        job, state = alice.run(
            "import pandas as pd\nlinkis_show(pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']}))",
            "python",
            engine_type=PY,
        )
        assert state == "Succeed", alice.log_all(job)
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["1", "x"], ["2", "y"]]

    def test_exception_fails_with_traceback_in_error_slot(self, alice: Any) -> None:
        job, state = alice.run("def f():\n    return 1 / 0\nf()", "python", engine_type=PY)
        assert state == "Failed"
        task = alice.task(job["taskID"])
        assert task["errCode"] == 43001
        assert task["errDesc"] == "ZeroDivisionError: division by zero"
        log = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=-1).json()["data"]
        assert "Traceback (most recent call last):" in log["log"][0]
        assert "ZeroDivisionError" in log["log"][0]

    def test_variables_are_substituted(self, alice: Any) -> None:
        job, state = alice.run(
            "print('${greeting}')", "python", engine_type=PY, variables={"greeting": "hi"}
        )
        assert state == "Succeed"
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["hi"]]


class TestShellJobs:
    """Shell cells run with bash; stdout is a text result, stderr lands in the error slot."""

    def test_stdout_is_a_text_result(self, alice: Any) -> None:
        job, state = alice.run("echo one; echo 'two 二'", "shell", engine_type="shell-1")
        assert state == "Succeed"
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["one"], ["two 二"]]

    def test_non_zero_exit_fails_and_stderr_is_an_error(self, alice: Any) -> None:
        job, state = alice.run("echo oops >&2; exit 3", "shell", engine_type="shell-1")
        assert state == "Failed"
        task = alice.task(job["taskID"])
        assert "exited with code 3" in task["errDesc"]
        log = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=-1).json()["data"]
        assert "oops" in log["log"][0]

    def test_unknown_variables_stay_for_the_shell(self, alice: Any) -> None:
        job, state = alice.run('X=5; echo "${X}"', "shell", engine_type="shell-1")
        assert state == "Succeed"
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["5"]]


class TestKill:
    """kill stops the work and the job ends Cancelled (DuckDB interrupt, process group)."""

    def test_kill_long_duckdb_query(self, alice: Any) -> None:
        job = alice.submit("select count(*) from range(100000000000) t(x) where x % 7 = 3")
        _wait_for_log(alice, job, "Executing statement 1/1")
        reply = alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert reply.status_code == 200
        assert reply.json()["message"] == "Successfully killed the job(成功kill了job)"
        assert alice.wait(job, timeout=30) == "Cancelled"
        task = alice.task(job["taskID"])
        assert task["status"] == "Cancelled"
        assert alice.result_paths(job) == []
        assert "completed with a status Cancelled" in alice.log_all(job)[-1]
        # the worker is free again: a new query runs to the end
        assert alice.run("select 1")[1] == "Succeed"

    def test_kill_sleeping_python_kills_the_process(self, alice: Any) -> None:
        job = alice.submit(
            "import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(60)",
            "python",
            engine_type=PY,
        )
        lines = _wait_for_log(alice, job, "INFO pid ")
        pid = int(next(x for x in lines if "INFO pid " in x).rsplit(" ", 1)[1])
        assert _alive(pid)
        alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job, timeout=30) == "Cancelled"
        assert not _alive(pid)

    def test_kill_shell_kills_children(self, alice: Any) -> None:
        job = alice.submit("sleep 60 & echo child $!; wait", "shell", engine_type="shell-1")
        lines = _wait_for_log(alice, job, "INFO child ")
        child = int(next(x for x in lines if "INFO child " in x).rsplit(" ", 1)[1])
        alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job, timeout=30) == "Cancelled"
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)

    def test_progress_while_running(self, alice: Any) -> None:
        job = alice.submit("select count(*) from range(100000000000) t(x) where x % 7 = 3")
        try:
            deadline = time.monotonic() + 30
            info: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                data = alice.get(f"/entrance/{job['execID']}/progress").json()["data"]
                info = data["progressInfo"]
                if info and info[0]["runningTasks"] > 0:
                    break
                time.sleep(0.05)
            assert info and info[0]["id"] == "statement_1" and info[0]["totalTasks"] == 100
            assert 0.0 <= data["progress"] < 1.0
            task = alice.task(job["taskID"])
            assert task["status"] == "Running" and task["errCode"] is None
            assert isinstance(task["progress"], str)
        finally:
            alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job) == "Cancelled"

    def test_kill_without_task_id_for_unknown_exec_id(self, alice: Any) -> None:
        reply = alice.get("/entrance/exec_id018015linkis-cg-entrance127.0.0.1:1IDE_x_y_1/kill")
        assert reply.status_code == 400
        assert "kill failed" in reply.json()["message"]


class TestQueue:
    """With one worker, jobs queue up; a queued job can be killed before it starts."""

    def test_kill_queued_job(self, start_extra: Any) -> None:
        box = start_extra("--workers", "1")
        import requests

        base = box.url + "/api/rest_j/v1"
        http = requests.Session()
        http.headers.update({"Token-Code": box.token, "Token-User": "alice"})

        def submit(code: str) -> dict[str, Any]:
            body = {
                "executionContent": {"code": code, "runType": "python"},
                "labels": {"engineType": PY},
            }
            data: dict[str, Any] = http.post(base + "/entrance/submit", json=body).json()["data"]
            return data

        def state(job: dict[str, Any]) -> str:
            reply = http.get(f"{base}/entrance/{job['execID']}/status")
            value: str = reply.json()["data"]["status"]
            return value

        blocker = submit("import time\ntime.sleep(60)")
        queued = submit("print('never runs')")
        deadline = time.monotonic() + 30
        while state(blocker) != "Running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert state(queued) == "Inited"
        http.get(f"{base}/entrance/{queued['execID']}/kill", params={"taskID": queued["taskID"]})
        assert state(queued) == "Cancelled"
        http.get(f"{base}/entrance/{blocker['execID']}/kill", params={"taskID": blocker["taskID"]})
        while state(blocker) != "Cancelled":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        task = http.get(f"{base}/jobhistory/{queued['taskID']}/get").json()["data"]["task"]
        assert task["status"] == "Cancelled" and task["engineStartTime"] is None
        log = http.get(f"{base}/entrance/{queued['execID']}/log", params={"size": -1}).json()
        assert "never runs" not in log["data"]["log"][3]
