"""The metadata routes with --spark-master: Spark's catalog is merged with DuckDB's
(docs/linkis-protocol.md §13), and a metadata request never starts Spark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.sandbox import SandboxProcess

pytestmark = pytest.mark.spark

ENGINE = "spark-3.5.0"


def data(api: Any, route: str, **params: str) -> dict[str, Any]:
    reply = api.get(f"/datasource/{route}", **params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == 0, body
    result: dict[str, Any] = body["data"]
    return result


@pytest.fixture(scope="module")
def spark_alice(spark_sandbox: SandboxProcess, login: Callable[..., Any]) -> Any:
    return login(spark_sandbox, "alice")


@pytest.fixture(scope="module")
def spark_tables(spark_alice: Any) -> None:
    """A partitioned Spark table and a view in `default`, a CTAS table in a new database."""
    job, state = spark_alice.run(
        "create table sp_orders (id bigint comment 'key', amount decimal(10,2),"
        " tags array<string>, ds string) using parquet partitioned by (ds);"
        "create view sp_recent as select id, amount from sp_orders;"
        "create database if not exists sp_db;"
        "create table sp_db.sp_counts using parquet as select 1 as n, 'x' as label",
        engine_type=ENGINE,
    )
    assert state == "Succeed", spark_alice.log_all(job)


class TestSparkCatalog:
    def test_spark_tables_are_listed_with_duckdb_ones(
        self, spark_alice: Any, spark_tables: None
    ) -> None:
        tables = {
            t["tableName"]: t for t in data(spark_alice, "tables", database="default")["tables"]
        }
        assert {"sp_orders", "sp_recent", "emp", "dept", "sales"} <= set(tables)
        assert list(tables) == sorted(tables)
        assert tables["sp_orders"]["isView"] is False and tables["sp_recent"]["isView"] is True
        assert tables["sp_orders"]["createdBy"] == "alice"
        assert type(tables["sp_orders"]["createdAt"]) is int

    def test_spark_databases(self, spark_alice: Any, spark_tables: None) -> None:
        names = [db["dbName"] for db in data(spark_alice, "dbs")["dbs"]]
        assert names.count("default") == 1 and "sp_db" in names
        tables = data(spark_alice, "tables", database="sp_db")["tables"]
        assert [(t["tableName"], t["databaseName"]) for t in tables] == [("sp_counts", "sp_db")]
        everything = {db["databaseName"]: db["tables"] for db in data(spark_alice, "all")["dbs"]}
        assert [t["tableName"] for t in everything["sp_db"]] == ["sp_counts"]

    def test_columns_with_partition_keys_last(self, spark_alice: Any, spark_tables: None) -> None:
        columns = data(spark_alice, "columns", database="default", table="sp_orders")["columns"]
        assert columns == [
            {"columnName": "id", "columnType": "bigint", "columnComment": "key",
             "partitioned": False},
            {"columnName": "amount", "columnType": "decimal(10,2)", "columnComment": None,
             "partitioned": False},
            {"columnName": "tags", "columnType": "array<string>", "columnComment": None,
             "partitioned": False},
            {"columnName": "ds", "columnType": "string", "columnComment": None,
             "partitioned": True},
        ]  # fmt: skip
        counts = data(spark_alice, "columns", database="sp_db", table="sp_counts")["columns"]
        assert [(c["columnName"], c["columnType"]) for c in counts] == [
            ("n", "int"),
            ("label", "string"),
        ]


def test_metadata_calls_do_not_start_spark(
    start_extra: Callable[..., SandboxProcess], login: Callable[..., Any]
) -> None:
    box = start_extra("--spark-master", "local[1]")
    api = login(box, "alice")
    assert data(api, "dbs")["dbs"] == [{"dbName": "default"}]
    assert data(api, "tables", database="default")["tables"] == []
    assert data(api, "columns", database="default", table="x")["columns"] == []
    assert data(api, "all")["dbs"] == [{"databaseName": "default", "tables": []}]
    assert not (box.data_dir / "spark").exists(), "a metadata call started the SparkSession"
