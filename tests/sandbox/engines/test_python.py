"""engines/python.py: cells in a subprocess; prints and linkis_show become result sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PY = "python-python3"


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


class TestKill:
    """kill terminates the cell's process."""

    def test_kill_sleeping_python_kills_the_process(
        self, alice: Any, alive: Callable[[int], bool]
    ) -> None:
        job = alice.submit(
            "import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(60)",
            "python",
            engine_type=PY,
        )
        lines = alice.wait_for_log(job, "INFO pid ")
        pid = int(next(x for x in lines if "INFO pid " in x).rsplit(" ", 1)[1])
        assert alive(pid)
        alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job, timeout=30) == "Cancelled"
        assert not alive(pid)
