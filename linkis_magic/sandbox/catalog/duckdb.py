"""DuckDB's schemas as Hive databases (docs/linkis-protocol.md §13).

DuckDB's `main` schema is Hive's `default`: the catalog reports it under that name, and the
DuckDB engine rewrites `default.` qualifiers to `main.` (`engines/duckdb.py`), so
`select * from default.emp` and `select * from emp` read the same table. The system schemas
(`information_schema`, `pg_catalog`) and the `temp` database are not shown. Views have
`isView` true. DuckDB has no partitions: every column has `partitioned` false.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import duckdb

from linkis_magic.sandbox.catalog import ColumnInfo, TableInfo
from linkis_magic.sandbox.catalog.types import from_duckdb

HIVE_DEFAULT = "default"
DUCKDB_MAIN = "main"
_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog"})

_SCHEMAS = (
    "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
    " ORDER BY schema_name"
)
_TABLES = (
    "SELECT table_name, false FROM duckdb_tables()"
    " WHERE database_name = current_database() AND schema_name = $schema AND NOT temporary"
    " UNION ALL SELECT view_name, true FROM duckdb_views()"
    " WHERE database_name = current_database() AND schema_name = $schema"
    " AND NOT internal AND NOT temporary"
)
_COLUMNS = (
    "SELECT column_name, data_type, comment FROM duckdb_columns()"
    " WHERE database_name = current_database() AND schema_name = $schema"
    " AND lower(table_name) = $table ORDER BY column_index"
)


def hive_database(schema: str) -> str:
    """The Hive name of a DuckDB schema (`main` -> `default`)."""
    name = schema.lower()
    return HIVE_DEFAULT if name == DUCKDB_MAIN else name


class DuckDBSource:
    """Reads DuckDB's catalog through fresh cursors of the engine's connection."""

    def __init__(self, cursor: Callable[[], duckdb.DuckDBPyConnection]) -> None:
        self._cursor = cursor

    @contextlib.contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._cursor()
        try:
            yield cur
        finally:
            cur.close()

    @staticmethod
    def _schemas(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
        """Hive database name -> DuckDB schema name."""
        found: dict[str, str] = {}
        for (schema,) in cur.execute(_SCHEMAS).fetchall():
            if schema.lower() in _SYSTEM_SCHEMAS:
                continue
            name = hive_database(schema)
            # a schema literally named "default" is shadowed by main, which owns the name
            if name not in found or schema == DUCKDB_MAIN:
                found[name] = schema
        return found

    def databases(self) -> list[str]:
        with self._open() as cur:
            return sorted(self._schemas(cur))

    def tables(self, database: str) -> list[TableInfo]:
        with self._open() as cur:
            schema = self._schemas(cur).get(database)
            if schema is None:
                return []
            rows = cur.execute(_TABLES, {"schema": schema}).fetchall()
        return [TableInfo(name.lower(), bool(is_view)) for name, is_view in rows]

    def columns(self, database: str, table: str) -> list[ColumnInfo] | None:
        with self._open() as cur:
            schema = self._schemas(cur).get(database)
            if schema is None:
                return None
            rows = cur.execute(_COLUMNS, {"schema": schema, "table": table}).fetchall()
            if not rows:
                return None
            return [
                ColumnInfo(name.lower(), _hive_type(cur, data_type), comment)
                for name, data_type, comment in rows
            ]


def _hive_type(cur: duckdb.DuckDBPyConnection, data_type: str) -> str:
    try:
        return from_duckdb(cur.type(data_type))
    except duckdb.Error:  # a type DuckDB's Python API cannot rebuild from its text
        return "string"
