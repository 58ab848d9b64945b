"""catalog/owners.py: who created a table and when (docs/linkis-protocol.md §13.2), and which
statements create or drop one."""

from __future__ import annotations

from pathlib import Path

from linkis_magic.sandbox.catalog.owners import Ddl, Owners, ddl_targets, record


class TestOwners:
    def test_first_seen_gets_the_default_owner_and_keeps_its_time(self, tmp_path: Path) -> None:
        owners = Owners(tmp_path / "c.sqlite3", default_owner="svc")
        first = owners.stamp("default", ["emp"])["emp"]
        assert first.created_by == "svc" and 10**9 < first.created_at < 10**11
        owners.close()
        reopened = Owners(tmp_path / "c.sqlite3", default_owner="other")
        assert reopened.stamp("default", ["emp"])["emp"] == first
        reopened.close()

    def test_created_replaces_unless_if_not_exists(self, tmp_path: Path) -> None:
        owners = Owners(tmp_path / "c.sqlite3", default_owner="svc")
        owners.stamp("db", ["t"])
        owners.created("db", "t", "alice", replace=False)
        assert owners.stamp("db", ["t"])["t"].created_by == "svc"
        owners.created("db", "T", "alice")
        assert owners.stamp("db", ["t"])["t"].created_by == "alice"
        owners.dropped("db", "t")
        assert owners.stamp("db", ["t"])["t"].created_by == "svc"
        owners.close()

    def test_record_resolves_the_current_database(self, tmp_path: Path) -> None:
        owners = Owners(tmp_path / "c.sqlite3", default_owner="svc")
        targets = ddl_targets("create table x (a int)", "duckdb")
        targets += ddl_targets("create view main.v as select 1", "duckdb")
        record(
            owners,
            targets,
            current_db="main",
            user="bob",
            database=lambda d: "default" if d == "main" else d,
        )
        stamped = owners.stamp("default", ["x", "v"])
        assert {name: o.created_by for name, o in stamped.items()} == {"x": "bob", "v": "bob"}
        owners.close()


class TestDdlTargets:
    def test_creates_and_drops(self) -> None:
        assert ddl_targets("create table s.t (a int)", "spark") == [Ddl("create", "s", "t")]
        assert ddl_targets("CREATE OR REPLACE TABLE t AS SELECT 1", "duckdb") == [
            Ddl("create", None, "t")
        ]
        assert ddl_targets("create table if not exists t using parquet as select 1", "spark") == [
            Ddl("create-if-absent", None, "t")
        ]
        assert ddl_targets("create view v as select 1", "hive") == [Ddl("create", None, "v")]
        assert ddl_targets("drop table if exists a.t", "duckdb") == [Ddl("drop", "a", "t")]
        assert ddl_targets("drop view v", "spark") == [Ddl("drop", None, "v")]

    def test_everything_else_is_nothing(self) -> None:
        for sql in (
            "select 1",
            "create schema s",
            "create temporary view tv as select 1",
            "create temp table tt (a int)",
            "insert into t values (1)",
            "this is not sql at all (",
        ):
            assert ddl_targets(sql, "spark") == [], sql
