"""app.py: the routers are mounted under /api/rest_j/v1 and work together end to end."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import requests


class TestEndToEnd:
    """A SQL cell runs in DuckDB and every entrance/jobhistory/filesystem view agrees."""

    def test_full_flow(self, alice: Any) -> None:
        job, state = alice.run(
            "select dept, count(*) as n from emp group by dept order by dept; "
            "select ename from emp where empno = 7839"
        )
        assert state == "Succeed"
        status = alice.get(f"/entrance/{job['execID']}/status").json()
        assert status["data"] == {"status": "Succeed", "execID": job["execID"]}
        assert status["method"] == f"/api/entrance/{job['execID']}/status"

        progress = alice.get(f"/entrance/{job['execID']}/progress").json()["data"]
        assert progress["progress"] == 1.0
        assert [p["id"] for p in progress["progressInfo"]] == ["statement_1", "statement_2"]
        assert all(p["succeedTasks"] == p["totalTasks"] for p in progress["progressInfo"])

        lines = alice.log_all(job)
        assert "Your job completed with status Success." in lines[-1]
        assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z]+ ", x) for x in lines)

        task = alice.task(job["taskID"])
        assert task["status"] == "Succeed"
        assert task["progress"] == "1.0"
        assert task["errCode"] == 0 and task["errDesc"] == ""
        assert isinstance(task["createdTime"], int) and isinstance(task["updatedTime"], int)
        assert task["strongerExecId"] == job["execID"]
        assert task["umUser"] == task["executeUser"] == "alice"
        assert task["engineType"] == "spark" and task["runType"] == "sql"
        assert "engineType:spark-3.2.1" in task["labels"]
        assert isinstance(task["paramsJson"], str) and isinstance(task["sourceJson"], str)
        today = dt.date.today().isoformat()
        assert task["resultLocation"].endswith(f"/result/{today}/IDE/alice/{job['taskID']}")
        assert task["logPath"].endswith(f"/log/{today}/IDE/alice/{job['taskID']}.log")
        assert task["resultLocation"].startswith("file:///")

        paths = alice.result_paths(job)
        assert [p.rsplit("/", 1)[1] for p in paths] == ["_0.dolphin", "_1.dolphin"]
        first = alice.open_file(paths[0])
        assert first["type"] == "2"
        assert first["totalPage"] == 0 and first["totalLine"] == 3
        assert [c["columnName"] for c in first["metadata"]] == ["dept", "n"]
        assert first["metadata"][1]["dataType"] == "bigint"
        assert first["fileContent"] == [["ACCOUNTING", "3"], ["RESEARCH", "5"], ["SALES", "6"]]
        assert alice.open_file(paths[1])["fileContent"] == [["KING"]]


class TestOpenApi:
    """FastAPI's OpenAPI document lists the Linkis routes (the fuzzing tests use it)."""

    def test_openapi_document(self, sandbox: Any) -> None:
        doc = requests.get(sandbox.url + "/openapi.json").json()
        assert "/api/rest_j/v1/entrance/submit" in doc["paths"]
