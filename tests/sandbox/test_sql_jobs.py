"""SQL jobs end to end over raw HTTP: submit, status, log, progress, jobhistory, results."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

EXEC_ID = re.compile(r"^exec_id018(\d{3})linkis-cg-entrance(.+)$")


class TestSqlEndToEnd:
    """A SQL cell runs in DuckDB and every entrance/jobhistory/filesystem view agrees."""

    def test_submit_reply_has_linkis_exec_id_and_numeric_task_id(self, alice: Any) -> None:
        job = alice.submit("select 1 as x")
        assert isinstance(job["taskID"], int)
        match = EXEC_ID.match(job["execID"])
        assert match, job["execID"]
        instance_len = int(match.group(1))
        instance, short = match.group(2)[:instance_len], match.group(2)[instance_len:]
        assert ":" in instance
        assert short == f"IDE_alice_spark_{job['taskID']}"
        assert alice.wait(job) == "Succeed"

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

    def test_log_paging_is_one_based_and_echoes_from_line(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        everything = alice.log_all(job)
        first = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=2).json()["data"]
        assert first["fromLine"] == 3
        assert first["log"][3].split("\n") == everything[:2]
        rest = alice.get(f"/entrance/{job['execID']}/log", fromLine=3, size=100).json()["data"]
        assert rest["log"][3].split("\n") == everything[2:]
        assert rest["fromLine"] == len(everything) + 1
        again = alice.get(f"/entrance/{job['execID']}/log", fromLine=rest["fromLine"]).json()
        assert again["data"]["log"] == ["", "", "", ""]
        assert again["data"]["fromLine"] == rest["fromLine"]

    def test_default_log_size_is_100_and_negative_means_all(self, alice: Any) -> None:
        code = "; ".join(
            f"create or replace temp table logsize_{i} as select {i}" for i in range(60)
        )
        job, state = alice.run(code)
        assert state == "Succeed"
        default = alice.get(f"/entrance/{job['execID']}/log", fromLine=1).json()["data"]
        assert len(default["log"][3].split("\n")) == 100
        everything = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=-1).json()
        assert len(everything["data"]["log"][3].split("\n")) > 100

    def test_paging_open_file(self, alice: Any) -> None:
        job, _ = alice.run("select * from range(25) t(i) order by i")
        (path,) = alice.result_paths(job)
        pages = [alice.open_file(path, page=p, pageSize=10) for p in (1, 2, 3, 4)]
        assert [p["totalLine"] for p in pages] == [10, 10, 5, 0]
        assert [p["page"] for p in pages] == [1, 2, 3, 4]
        assert pages[2]["fileContent"][-1] == ["24"]
        assert pages[3]["fileContent"] == []
        info = alice.get("/filesystem/fileInfo", path=path, pageSize=-1).json()["data"]
        assert info == {"path": path, "colNumber": 1, "rowNumber": 25}
        capped = alice.get("/filesystem/fileInfo", path=path, pageSize=7).json()["data"]
        assert capped["rowNumber"] == 7

    def test_page_size_above_limit_is_80034(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        (path,) = alice.result_paths(job)
        reply = alice.get("/filesystem/openFile", path=path, pageSize=100001)
        assert reply.status_code == 400
        assert reply.json()["data"]["errorMsg"]["errCode"] == 80034

    def test_eleven_result_sets_list_lexicographically(self, alice: Any) -> None:
        job, state = alice.run("; ".join(f"select {i} as v" for i in range(12)))
        assert state == "Succeed"
        names = [p.rsplit("/", 1)[1] for p in alice.result_paths(job)]
        assert len(names) == 12
        assert names == sorted(names)
        assert names[:4] == ["_0.dolphin", "_1.dolphin", "_10.dolphin", "_11.dolphin"]
        by_index = {p.rsplit("/", 1)[1]: p for p in alice.result_paths(job)}
        assert alice.open_file(by_index["_10.dolphin"])["fileContent"] == [["10"]]

    def test_open_log_after_finish(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        task = alice.task(job["taskID"])
        data = alice.get("/filesystem/openLog", path=task["logPath"]).json()["data"]
        assert len(data["log"]) == 4
        assert data["log"][3].endswith("Your job completed with status Success.\n")
        assert data["log"][0] == ""

    def test_legacy_execute_api(self, alice: Any) -> None:
        reply = alice.post(
            "/entrance/execute",
            {"executeApplicationName": "hive", "executionCode": "select 2 as two"},
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["method"] == "/api/entrance/execute"
        job = body["data"]
        assert alice.wait(job) == "Succeed"
        task = alice.task(job["taskID"])
        assert task["engineType"] == "hive" and task["runType"] == "sql"
        assert "engineType:hive-3.1.3" in task["labels"]


class TestSqlSemantics:
    """What runs: dialect translation, variables, NULLs, non-ASCII, persistence, errors."""

    def test_spark_functions_are_translated(self, alice: Any) -> None:
        job, state = alice.run("select nvl(null, 7) as a, concat_ws('-', 'x', 'y') as b")
        assert state == "Succeed", alice.log_all(job)
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["7", "x-y"]]

    def test_variables_and_run_date(self, alice: Any) -> None:
        job, state = alice.run(
            "select '${dt}' as dt, '${run_date}' as rd, '${run_date_std}' as rds",
            variables={"dt": "2024-01-01"},
        )
        assert state == "Succeed"
        (path,) = alice.result_paths(job)
        yesterday = dt.date.today() - dt.timedelta(days=1)
        assert alice.open_file(path)["fileContent"] == [
            ["2024-01-01", yesterday.strftime("%Y%m%d"), yesterday.isoformat()]
        ]

    def test_undefined_variable_fails_with_91001(self, alice: Any) -> None:
        job, state = alice.run("select ${nope}")
        assert state == "Failed"
        task = alice.task(job["taskID"])
        assert task["errCode"] == 91001
        assert "nope" in task["errDesc"]

    def test_null_versus_null_value(self, alice: Any) -> None:
        job, _ = alice.run("select cast(null as int) as n, '' as e, 'NULL' as s, 'x' as x")
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["NULL", "", "NULL", "x"]]
        sdk = alice.open_file(path, nullValue="LINKIS_NULL")["fileContent"]
        assert sdk == [[None, "", "NULL", "x"]]

    def test_non_ascii_round_trip(self, alice: Any) -> None:
        job, _ = alice.run("select '华东 ünïcødé 🚀' as 名字")
        (path,) = alice.result_paths(job)
        data = alice.open_file(path)
        assert data["metadata"][0]["columnName"] == "名字"
        assert data["fileContent"] == [["华东 ünïcødé 🚀"]]

    def test_tables_persist_across_jobs(self, alice: Any) -> None:
        _, state = alice.run("create or replace table persisted_t as select 41 + 1 as answer")
        assert state == "Succeed"
        job, state = alice.run("select answer from persisted_t")
        assert state == "Succeed"
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["42"]]

    def test_demo_sales_table_exists(self, alice: Any) -> None:
        job, _ = alice.run("select count(*) from sales")
        (path,) = alice.result_paths(job)
        assert int(alice.open_file(path)["fileContent"][0][0]) >= 100_000

    def test_missing_table_fails_with_41002_and_error_lines(self, alice: Any) -> None:
        job, state = alice.run("select * from no_such_table")
        assert state == "Failed"
        task = alice.task(job["taskID"])
        assert task["errCode"] == 41002
        assert "no_such_table" in task["errDesc"]
        log = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=-1).json()["data"]
        assert "no_such_table" in log["log"][0]
        assert "Sorry. Your job completed with a status Failed." in log["log"][3]
        assert alice.result_paths(job) == []

    def test_syntax_error_fails_with_42xxx(self, alice: Any) -> None:
        job, state = alice.run("selec 1 frm")
        assert state == "Failed"
        assert 42000 <= alice.task(job["taskID"])["errCode"] < 43000

    def test_comment_only_cell_fails_with_30010(self, alice: Any) -> None:
        job, state = alice.run("-- nothing to run")
        assert state == "Failed"
        assert alice.task(job["taskID"])["errCode"] == 30010


class TestJobhistoryList:
    """jobhistory/list pages the caller's own tasks, newest first, totalPage = row count."""

    def test_newest_first_and_total_is_row_count(self, alice: Any) -> None:
        jobs = [alice.run(f"select {i}")[0] for i in range(3)]
        data = alice.get("/jobhistory/list", pageSize=2).json()["data"]
        assert len(data["tasks"]) == 2
        ids = [t["taskID"] for t in data["tasks"]]
        assert ids == sorted(ids, reverse=True)
        assert ids[0] >= jobs[-1]["taskID"]
        assert data["totalPage"] >= 3
        assert all(t["umUser"] == "alice" for t in data["tasks"])
        everything = alice.get("/jobhistory/list", pageSize=1000).json()["data"]
        assert len(everything["tasks"]) == everything["totalPage"]

    def test_status_filter(self, alice: Any) -> None:
        alice.run("select * from missing_for_filter")
        data = alice.get("/jobhistory/list", status="Failed", pageSize=1000).json()["data"]
        assert data["tasks"] and {t["status"] for t in data["tasks"]} == {"Failed"}


class TestEntranceExtras:
    """Less common entrance calls: undistinguished log text, pause, batch kill."""

    def test_log_without_distinct_level_is_one_string(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        data = alice.get(
            f"/entrance/{job['execID']}/log", fromLine=1, size=-1, distinctLevel="false"
        ).json()["data"]
        assert isinstance(data["log"], str)
        assert data["log"].split("\n") == alice.log_all(job)

    def test_pause_is_a_no_op_success(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        reply = alice.get(f"/entrance/{job['execID']}/pause").json()
        assert reply["status"] == 0 and reply["data"] == {"execID": job["execID"]}

    def test_kill_jobs_batch(self, alice: Any) -> None:
        jobs = [
            alice.submit("select count(*) from range(100000000000) t(x) where x % 7 = 3")
            for _ in range(2)
        ]
        reply = alice.post(
            f"/entrance/{jobs[0]['execID']}/killJobs",
            {"idList": [j["execID"] for j in jobs], "taskIDList": [j["taskID"] for j in jobs]},
        )
        assert reply.status_code == 200
        messages = reply.json()["data"]["messages"]
        assert [m["status"] for m in messages] == [0, 0]
        assert [alice.wait(j) for j in jobs] == ["Cancelled", "Cancelled"]
