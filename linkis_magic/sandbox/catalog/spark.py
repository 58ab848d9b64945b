"""Spark's catalog as Hive databases (docs/linkis-protocol.md §13), with `--spark-master`.

Tables that spark-* jobs create live in the shared SparkSession's catalog, not in DuckDB.
This source reads that catalog only while the session exists: a metadata request never
starts Spark (seconds of JVM start-up) just to learn there is nothing to list. Temporary
views are session state, not metastore tables, and are left out. Columns come back as the
metastore orders them: data columns, then partition keys with `partitioned` true (§13.3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linkis_magic.sandbox.catalog import ColumnInfo, TableInfo
from linkis_magic.sandbox.catalog.types import from_spark


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkSource:
    """Reads the catalog of the Spark engine's session, if it has one yet."""

    def __init__(self, session: Callable[[], Any | None]) -> None:
        self._session = session

    def databases(self) -> list[str]:
        spark = self._session()
        if spark is None:
            return []
        return sorted({db.name.lower() for db in spark.catalog.listDatabases()})

    def _tables(self, spark: Any, database: str) -> list[Any]:
        if database not in {db.name.lower() for db in spark.catalog.listDatabases()}:
            return []
        return [t for t in spark.catalog.listTables(database) if not t.isTemporary]

    def tables(self, database: str) -> list[TableInfo]:
        spark = self._session()
        if spark is None:
            return []
        return [
            TableInfo(t.name.lower(), t.tableType == "VIEW") for t in self._tables(spark, database)
        ]

    def columns(self, database: str, table: str) -> list[ColumnInfo] | None:
        spark = self._session()
        if spark is None:
            return None
        names = {t.name.lower(): t.name for t in self._tables(spark, database)}
        if table not in names:
            return None
        qualified = f"{_quote(database)}.{_quote(names[table])}"
        listed = spark.catalog.listColumns(qualified)
        try:
            fields = {f.name: f for f in spark.table(qualified).schema.fields}
        except Exception:  # a view Spark cannot analyse any more: keep the listed types
            fields = {}
        ordered = [c for c in listed if not c.isPartition] + [c for c in listed if c.isPartition]
        columns = []
        for column in ordered:
            field = fields.get(column.name)
            kind = from_spark(field.dataType, field.metadata) if field else column.dataType
            columns.append(
                ColumnInfo(column.name.lower(), kind, column.description, column.isPartition)
            )
        return columns
