"""engines/duckdb.py: dialect translation, variables, NULLs, errors, progress and kill."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from linkis_magic.sandbox.engines import EngineError
from linkis_magic.sandbox.engines.duckdb import split_statements
from tests.support.wait import wait_until


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


class TestDefaultDatabase:
    """Hive's `default` database is DuckDB's `main` schema (docs/linkis-protocol.md §13)."""

    @pytest.mark.parametrize("dialect", ["spark", "hive", "presto", "duckdb"])
    def test_default_qualifiers_name_main(self, dialect: str) -> None:
        assert split_statements(
            "select e.ename, default.dept.dname from default.emp e join default.dept"
            " on e.deptno = dept.deptno",
            dialect,
        ) == [
            "SELECT e.ename, main.dept.dname FROM main.emp AS e JOIN main.dept"
            " ON e.deptno = dept.deptno"
        ]

    def test_databases_are_schemas(self) -> None:
        assert split_statements(
            "use default; create database if not exists sales_db; drop database sales_db",
            "hive",
        ) == ["USE main", "CREATE SCHEMA IF NOT EXISTS sales_db", "DROP SCHEMA sales_db"]

    def test_duckdb_cells_it_parses_are_left_alone(self) -> None:
        cell = "select 'default.x' as s; select * from \"default\".t; FROM emp SELECT 1"
        assert split_statements(cell, "duckdb") == [
            "select 'default.x' as s;",
            'select * from "default".t;',
            "FROM emp SELECT 1",
        ]


#: a result whose write takes a noticeable while (~0.4 s for 3M rows here)
BIG_RESULT = "select * from range(3000000)"
_ROUTES = ("progress", "progressWithResource")


def _while_writing(api: Any, job: dict[str, Any], statement: int) -> Any:
    """The progress and progressWithResource data if both were read while statement
    `statement`'s stage was complete but its result set not yet written (its "returned" log
    line, written after the file, is read after them), ("ended", state) once the job is over
    without that, else None (keep polling)."""
    exec_id = job["execID"]
    replies = [api.get(f"/entrance/{exec_id}/{route}").json()["data"] for route in _ROUTES]
    written = any(f"Statement {statement} returned" in line for line in api.log_all(job))
    state = api.status(job)
    if state in ("Succeed", "Failed", "Cancelled", "Timeout"):
        return ("ended", state)
    if written or any(data is None for data in replies):
        return None
    stages = [{s["id"]: s for s in data["progressInfo"]} for data in replies]
    stage_id = f"statement_{statement}"
    if all(
        stage_id in by_id
        and by_id[stage_id]["succeedTasks"] == by_id[stage_id]["totalTasks"]
        and by_id[stage_id]["runningTasks"] == 0
        for by_id in stages
    ):
        assert state == "Running"
        return ("writing", replies)
    return None


class TestProgressAndKill:
    """A running statement reports progress; kill interrupts it at once."""

    def test_stage_is_done_while_the_result_is_written(self, alice: Any) -> None:
        """Once the query has its rows, its stage has every task succeeded and the job's
        progress is 1.0 while the job still runs to write them (as a Spark engine's stage)."""
        job = alice.submit(BIG_RESULT)
        seen, replies = wait_until(
            lambda: _while_writing(alice, job, 1), interval=0.01, what="the result write"
        )
        assert seen == "writing", f"the job ended ({replies}) before its stage was seen done"
        for data in replies:
            assert data["progress"] == 1.0
            (stage,) = data["progressInfo"]
            assert stage == {
                "id": "statement_1",
                "succeedTasks": 100,
                "failedTasks": 0,
                "runningTasks": 0,
                "totalTasks": 100,
            }
        assert alice.wait(job) == "Succeed"
        assert any("returned 3000000 row(s)" in line for line in alice.log_all(job))

    def test_progress_reaches_one_only_with_the_last_statement(self, alice: Any) -> None:
        """While the first of two statements writes its result, its stage is done and the
        job is half way; 1.0 comes with the last statement's stage."""
        job = alice.submit(f"{BIG_RESULT}; {BIG_RESULT}")
        seen, replies = wait_until(
            lambda: _while_writing(alice, job, 1), interval=0.01, what="the first result write"
        )
        assert seen == "writing", f"the job ended ({replies}) before its first stage was done"
        for data in replies:
            assert data["progress"] == 0.5
            first, second = data["progressInfo"]
            assert (first["succeedTasks"], first["runningTasks"]) == (100, 0)
            assert (second["succeedTasks"], second["runningTasks"]) == (0, 0)
        seen, replies = wait_until(
            lambda: _while_writing(alice, job, 2), interval=0.01, what="the second result write"
        )
        assert seen == "writing", f"the job ended ({replies}) before its last stage was done"
        for data in replies:
            assert data["progress"] == 1.0
            assert all(s["succeedTasks"] == 100 for s in data["progressInfo"])
        assert alice.wait(job) == "Succeed"
        assert len(alice.result_paths(job)) == 2

    def test_progress_while_running(self, alice: Any) -> None:
        job = alice.submit("select count(*) from range(100000000000) t(x) where x % 7 = 3")

        def running() -> dict[str, Any] | None:
            data: dict[str, Any] = alice.get(f"/entrance/{job['execID']}/progress").json()["data"]
            info = data["progressInfo"]
            return data if info and info[0]["runningTasks"] > 0 else None

        try:
            data = wait_until(running, what="a running statement in progressInfo")
            info = data["progressInfo"]
            assert info and info[0]["id"] == "statement_1" and info[0]["totalTasks"] == 100
            assert 0.0 <= data["progress"] < 1.0
            task = alice.task(job["taskID"])
            assert task["status"] == "Running" and task["errCode"] is None
            assert isinstance(task["progress"], str)
        finally:
            alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job) == "Cancelled"

    def test_kill_long_duckdb_query(self, alice: Any) -> None:
        job = alice.submit("select count(*) from range(100000000000) t(x) where x % 7 = 3")
        alice.wait_for_log(job, "Executing statement 1/1")
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


class TestSparkFileSources:
    """Spark's ``parquet.`path` `` sources and INSERT forms, as DuckDB runs them (push jobs)."""

    def test_parquet_sources_read_the_local_copy(self) -> None:
        cell = (
            "CREATE TABLE db.t USING parquet AS SELECT * FROM parquet.`hdfs:///tmp/linkis/a/x`;"
            "select * from parquet.`file:///data/one.parquet` p"
        )
        assert split_statements(cell, "spark", Path("/data/hdfs")) == [
            "CREATE TABLE db.t AS SELECT * FROM"
            " READ_PARQUET('/data/hdfs/tmp/linkis/a/x/*.parquet')",
            "SELECT * FROM READ_PARQUET('/data/one.parquet') AS p",
        ]

    def test_other_filesystems_fail_the_job(self) -> None:
        with pytest.raises(EngineError, match="no such filesystem"):
            split_statements("select * from parquet.`s3://bucket/x`", "spark", Path("/h"))

    def test_insert_overwrite_and_static_partitions(self) -> None:
        cell = (
            "INSERT OVERWRITE TABLE t SELECT * FROM s;"
            "INSERT INTO default.t PARTITION (ds='a') SELECT * FROM s;"
            "INSERT OVERWRITE TABLE t PARTITION (ds='b') SELECT x FROM s"
        )
        assert split_statements(cell, "spark", Path("/h")) == [
            "DELETE FROM t",
            "INSERT INTO t SELECT * FROM s",
            "INSERT INTO main.t SELECT *, 'a' AS ds FROM s",
            "DELETE FROM t WHERE ds = 'b'",
            "INSERT INTO t SELECT x, 'b' AS ds FROM s",
        ]
