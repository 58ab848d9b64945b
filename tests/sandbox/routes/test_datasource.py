"""routes/datasource.py: the Hive metadata routes over the sandbox's catalog
(docs/linkis-protocol.md §13.1-§13.4): shapes, key types, orders, the `default` database, tables
that jobs create, unknown names, authentication and the GET-only rule."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.sandbox import SandboxProcess

TABLE_KEYS = {"tableName", "isView", "databaseName", "createdBy", "createdAt", "lastAccessAt"}
COLUMN_KEYS = {"columnName", "columnType", "columnComment", "partitioned"}
EMP_COLUMNS = [
    ("empno", "int"),
    ("ename", "string"),
    ("job", "string"),
    ("mgr", "int"),
    ("hiredate", "date"),
    ("sal", "decimal(7,2)"),
    ("comm", "decimal(7,2)"),
    ("deptno", "int"),
    ("dept", "string"),
]
#: (column, declared in Spark SQL, reported in Hive spelling)
TYPED = [
    ("amount", "decimal(10,2)", "decimal(10,2)"),
    ("sold_on", "date", "date"),
    ("paid_at", "timestamp", "timestamp"),
    ("big", "bigint", "bigint"),
    ("name", "string", "string"),
    ("flag", "boolean", "boolean"),
    ("small", "smallint", "smallint"),
    ("tiny", "tinyint", "tinyint"),
    ("n", "int", "int"),
    ("ratio", "double", "double"),
    ("real_", "float", "float"),
    ("raw", "binary", "binary"),
    ("tags", "array<int>", "array<int>"),
    ("attrs", "map<string,int>", "map<string,int>"),
    ("point", "struct<x:int,label:string>", "struct<x:int,label:string>"),
    (
        "nested",
        "array<struct<k:string,v:array<bigint>>>",
        "array<struct<k:string,v:array<bigint>>>",
    ),
]


def ok(reply: requests.Response, route: str) -> dict[str, Any]:
    """The `data` of a successful envelope of `datasource/<route>` (§1.2, §13)."""
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == 0 and body["message"] == "OK", body
    assert body["method"] == f"/api/datasource/{route}"
    data: dict[str, Any] = body["data"]
    return data


def databases(api: Any) -> list[str]:
    return [db["dbName"] for db in ok(api.get("/datasource/dbs"), "dbs")["dbs"]]


def tables(api: Any, database: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(api.get("/datasource/tables", database=database), "tables")[
        "tables"
    ]
    return found


def columns(api: Any, database: str, table: str) -> list[dict[str, Any]]:
    reply = api.get("/datasource/columns", database=database, table=table)
    found: list[dict[str, Any]] = ok(reply, "columns")["columns"]
    return found


def run_ok(api: Any, code: str, **kwargs: Any) -> dict[str, Any]:
    job, state = api.run(code, **kwargs)
    assert state == "Succeed", api.log_all(job)
    return job


@pytest.fixture(scope="module")
def typed_db(alice: Any) -> str:
    """alice's database `ds_types`: a table of every Hive type, a CTAS table and a view."""
    declared = ", ".join(f"{name} {spark}" for name, spark, _ in TYPED)
    run_ok(
        alice,
        "create database if not exists ds_types;"
        f"create table ds_types.typed ({declared});"
        "create table ds_types.counted as select deptno, count(*) as n from emp group by deptno;"
        "create view ds_types.rich as select name, amount from ds_types.typed where amount > 100",
    )
    return "ds_types"


class TestShapes:
    """The four routes answer Linkis's shapes, key names and JSON types."""

    def test_dbs(self, alice: Any) -> None:
        data = ok(alice.get("/datasource/dbs"), "dbs")
        assert all(set(db) == {"dbName"} for db in data["dbs"])
        names = databases(alice)
        assert "default" in names and names == sorted(names)
        assert not {"main", "information_schema", "pg_catalog", "temp"} & set(names)

    def test_tables_of_default(self, alice: Any) -> None:
        found = tables(alice, "default")
        names = [t["tableName"] for t in found]
        assert {"emp", "dept", "sales"} <= set(names)
        assert names == sorted(names)
        for table in found:
            assert set(table) == TABLE_KEYS
            assert table["databaseName"] == "default"
            assert table["isView"] is False or table["isView"] is True
            assert isinstance(table["createdBy"], str) and table["createdBy"]
            assert type(table["createdAt"]) is int and type(table["lastAccessAt"]) is int
            assert 10**9 < table["createdAt"] < 10**11, "epoch seconds, not milliseconds"
            assert table["lastAccessAt"] == 0
        emp = next(t for t in found if t["tableName"] == "emp")
        assert emp["isView"] is False
        assert emp["createdBy"] not in ("alice", "bob")  # the demo data is nobody's job

    def test_created_at_is_stable(self, alice: Any) -> None:
        first = {t["tableName"]: t["createdAt"] for t in tables(alice, "default")}
        again = {t["tableName"]: t["createdAt"] for t in tables(alice, "default")}
        assert {k: again[k] for k in ("emp", "dept", "sales")} == {
            k: first[k] for k in ("emp", "dept", "sales")
        }

    def test_columns_in_table_order(self, alice: Any) -> None:
        found = columns(alice, "default", "emp")
        assert all(set(c) == COLUMN_KEYS for c in found)
        assert [(c["columnName"], c["columnType"]) for c in found] == EMP_COLUMNS
        assert all(c["partitioned"] is False and c["columnComment"] is None for c in found)

    def test_all(self, alice: Any) -> None:
        data = ok(alice.get("/datasource/all"), "all")
        assert all(set(db) == {"databaseName", "tables"} for db in data["dbs"])
        names = [db["databaseName"] for db in data["dbs"]]
        assert names == sorted(names) and "default" in names
        default = next(db for db in data["dbs"] if db["databaseName"] == "default")
        assert default["tables"] == tables(alice, "default")

    def test_all_drops_bak_databases_but_dbs_keeps_them(self, alice: Any) -> None:
        run_ok(alice, "create database if not exists ds_old_bak")
        assert "ds_old_bak" in databases(alice)
        listed = ok(alice.get("/datasource/all"), "all")["dbs"]
        assert "ds_old_bak" not in {db["databaseName"] for db in listed}


class TestDefaultDatabase:
    """DuckDB's `main` schema is Hive's `default`: both spellings reach the demo tables."""

    @pytest.mark.parametrize("engine_type", ["spark-3.2.1", "hive-2.3.3", "jdbc-4"])
    def test_qualified_and_bare_names_read_the_same_table(
        self, alice: Any, engine_type: str
    ) -> None:
        job = run_ok(
            alice,
            "select count(*) from default.emp; select count(*) from emp;"
            "select default.emp.ename from default.emp where empno = 7839",
            engine_type=engine_type,
        )
        paths = alice.result_paths(job)
        cells = [alice.open_file(path)["fileContent"] for path in paths]
        assert cells == [[["14"]], [["14"]], [["KING"]]]

    def test_use_default(self, alice: Any) -> None:
        job = run_ok(alice, "use default; select count(*) from dept")
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["4"]]


class TestJobCreatedTables:
    """What a job creates is listed by the next request, with its owner, columns and types."""

    def test_database_and_tables_appear(self, alice: Any, typed_db: str) -> None:
        assert typed_db in databases(alice)
        found = {t["tableName"]: t for t in tables(alice, typed_db)}
        assert list(found) == ["counted", "rich", "typed"]
        assert {name: t["isView"] for name, t in found.items()} == {
            "counted": False,
            "rich": True,
            "typed": False,
        }
        assert {t["createdBy"] for t in found.values()} == {"alice"}
        assert {t["databaseName"] for t in found.values()} == {typed_db}

    def test_columns_in_order_with_hive_types(self, alice: Any, typed_db: str) -> None:
        found = columns(alice, typed_db, "typed")
        assert [(c["columnName"], c["columnType"]) for c in found] == [
            (name, hive) for name, _, hive in TYPED
        ]
        assert [
            (c["columnName"], c["columnType"]) for c in columns(alice, typed_db, "counted")
        ] == [
            ("deptno", "int"),
            ("n", "bigint"),
        ]

    def test_view_has_columns(self, alice: Any, typed_db: str) -> None:
        found = columns(alice, typed_db, "rich")
        assert [(c["columnName"], c["columnType"]) for c in found] == [
            ("name", "string"),
            ("amount", "decimal(10,2)"),
        ]

    def test_table_in_default_appears_and_dropped_table_goes(self, alice: Any) -> None:
        run_ok(alice, "create table default.ds_scratch as select 1 as one, 'x' as s")
        assert "ds_scratch" in {t["tableName"] for t in tables(alice, "default")}
        assert [c["columnType"] for c in columns(alice, "default", "ds_scratch")] == [
            "int",
            "string",
        ]
        run_ok(alice, "drop table ds_scratch")
        assert "ds_scratch" not in {t["tableName"] for t in tables(alice, "default")}
        assert columns(alice, "default", "ds_scratch") == []

    def test_duckdb_only_types_in_hive_spelling(self, alice: Any) -> None:
        run_ok(
            alice,
            "create or replace table ds_native (h hugeint, u ubigint, ut utinyint, t text,"
            " j json, id uuid, tz timestamptz, fixed integer[3], un union(n int, s varchar))",
            engine_type="jdbc-4",
        )
        assert [c["columnType"] for c in columns(alice, "default", "ds_native")] == [
            "decimal(38,0)",
            "decimal(20,0)",
            "smallint",
            "string",
            "string",
            "string",
            "timestamp",
            "array<int>",
            "uniontype<int,string>",
        ]

    def test_other_users_see_the_whole_catalog(self, bob: Any, typed_db: str) -> None:
        """No permission control, as in a default installation (§13.0)."""
        assert typed_db in databases(bob)
        assert [t["tableName"] for t in tables(bob, typed_db)] == ["counted", "rich", "typed"]
        assert len(columns(bob, typed_db, "typed")) == len(TYPED)


class TestUnknownNames:
    """An unknown database or table is status 0 with an empty list, never an error (§13.2)."""

    def test_unknown_database(self, alice: Any) -> None:
        assert tables(alice, "no_such_db") == []
        assert columns(alice, "no_such_db", "emp") == []

    def test_unknown_table(self, alice: Any) -> None:
        assert columns(alice, "default", "no_such_table") == []

    def test_names_match_exactly(self, alice: Any) -> None:
        assert tables(alice, "Default") == []
        assert columns(alice, "default", "EMP") == []

    def test_missing_parameters(self, alice: Any) -> None:
        assert ok(alice.get("/datasource/tables"), "tables")["tables"] == []
        assert ok(alice.get("/datasource/columns", database="default"), "columns")["columns"] == []

    def test_permission_parameter_is_accepted(self, alice: Any) -> None:
        reply = alice.get("/datasource/dbs", permission="write")
        assert "default" in [db["dbName"] for db in ok(reply, "dbs")["dbs"]]


ROUTES = [
    ("dbs", {}),
    ("tables", {"database": "default"}),
    ("columns", {"database": "default", "table": "emp"}),
    ("all", {}),
]


class TestAccess:
    """Authentication as everywhere (§2); GET only (§13)."""

    @pytest.mark.parametrize(("route", "params"), ROUTES)
    def test_401_without_auth(self, anonymous: Any, route: str, params: dict[str, str]) -> None:
        reply = anonymous.get(f"/datasource/{route}", **params)
        assert reply.status_code == 401
        body = reply.json()
        assert body["status"] == -1 and body["data"] == {}
        assert body["method"] == f"/api/rest_j/v1/datasource/{route}"

    def test_token_auth(self, sandbox: SandboxProcess) -> None:
        reply = requests.get(
            f"{sandbox.url}/api/rest_j/v1/datasource/tables",
            params={"database": "default"},
            headers={"Token-Code": str(sandbox.token), "Token-User": "bob"},
            timeout=30,
        )
        assert "emp" in {t["tableName"] for t in ok(reply, "tables")["tables"]}

    @pytest.mark.parametrize(("route", "params"), ROUTES)
    def test_other_verbs_are_not_an_envelope(
        self, alice: Any, route: str, params: dict[str, str]
    ) -> None:
        reply = alice.http.post(f"{alice.base}/datasource/{route}", params=params, timeout=30)
        assert reply.status_code == 405
        body = reply.json()
        assert "method" not in body and body["status"] == 405
        assert body["path"] == f"/api/rest_j/v1/datasource/{route}"
        assert reply.headers["Allow"] == "GET"

    def test_other_verbs_need_auth_first(self, anonymous: Any) -> None:
        reply = anonymous.http.delete(f"{anonymous.base}/datasource/dbs", timeout=30)
        assert reply.status_code == 401 and reply.json()["status"] == -1
