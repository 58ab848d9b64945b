"""The sandbox's catalog as a Hive metastore would show it: databases, tables, columns.

What `routes/datasource.py` serves (docs/linkis-protocol.md §13.1-§13.4). Each engine with
tables is a `Source`: `duckdb.DuckDBSource` (DuckDB schemas as databases, `main` reported as
`default`) and, with `--spark-master`, `spark.SparkSource` (Spark's catalog, read only once
Spark runs). `Catalog` merges them: databases are the union; a table both know is reported
once, from the first source (DuckDB); owners and creation times come from `owners.Owners`.
Nothing is cached: each call reads the engines' catalogs, so a table a job just created is
listed by the next request. Names are lower case, as Hive stores them, and a requested name
must match exactly (§13.2: `Default` is not `default`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from linkis_magic.sandbox.catalog.owners import Owners


@dataclass(frozen=True)
class TableInfo:
    """A table or view as one source sees it."""

    name: str
    is_view: bool


@dataclass(frozen=True)
class ColumnInfo:
    """One column: `type` in Hive spelling (`types`), `partitioned` for partition keys."""

    name: str
    type: str
    comment: str | None
    partitioned: bool = False


@dataclass(frozen=True)
class TableEntry:
    """A table of the merged catalog with its owner: one item of `datasource/tables`."""

    name: str
    is_view: bool
    created_by: str
    created_at: int
    """Epoch seconds (§13.2)."""


class Source(Protocol):
    """One engine's catalog, in Hive names (lower case; DuckDB's `main` is `default`)."""

    def databases(self) -> list[str]: ...

    def tables(self, database: str) -> list[TableInfo]:
        """The database's tables and views; [] when the database does not exist."""
        ...

    def columns(self, database: str, table: str) -> list[ColumnInfo] | None:
        """Data columns in table order, then partition keys; None: no such table here."""
        ...


class Catalog:
    """The merged, uncached view of every source."""

    def __init__(self, sources: Sequence[Source], owners: Owners) -> None:
        self.sources = list(sources)
        self.owners = owners

    def databases(self) -> list[str]:
        """Every database, ascending by name (§13.1)."""
        names: set[str] = set()
        for source in self.sources:
            names.update(source.databases())
        return sorted(names)

    def tables(self, database: str) -> list[TableEntry]:
        """The tables of `database` sorted by name (§13.2); [] when it does not exist."""
        merged: dict[str, TableInfo] = {}
        for source in self.sources:
            for table in source.tables(database):
                merged.setdefault(table.name, table)
        if not merged:
            return []
        stamps = self.owners.stamp(database, merged)
        entries = []
        for name in sorted(merged):
            owner = stamps[name]
            entries.append(
                TableEntry(name, merged[name].is_view, owner.created_by, owner.created_at)
            )
        return entries

    def columns(self, database: str, table: str) -> list[ColumnInfo]:
        """The columns of `database`.`table` (§13.3); [] when there is no such table."""
        for source in self.sources:
            columns = source.columns(database, table)
            if columns is not None:
                return columns
        return []
