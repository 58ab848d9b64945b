"""Hive metadata records: databases, tables and columns (§13 of docs/linkis-protocol.md).

Linkis's web IDE reads these routes to draw its database tree. The key names differ between
routes and between Linkis's code and its docs (``dbName`` in ``/dbs``, ``databaseName`` in
``/all``, ``name`` in the docs): every parser accepts each spelling. ``createdAt`` and
``lastAccessAt`` are epoch **seconds** (0 = never), ``isView`` a boolean, and ``columns`` may be
``null`` when the user may not see the table (§13.3): that reads as no columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from linkis_magic.protocol._values import need_dict, opt_int, opt_str

__all__ = [
    "ColumnInfo",
    "TableInfo",
    "parse_catalog",
    "parse_columns",
    "parse_databases",
    "parse_tables",
]


@dataclass(frozen=True)
class TableInfo:
    """One table or view of a Hive database."""

    database: str
    name: str
    is_view: bool = False
    created_by: str | None = None
    created_at: datetime | None = None
    last_access_at: datetime | None = None


@dataclass(frozen=True)
class ColumnInfo:
    """One column; partition keys come last with ``partitioned`` set."""

    name: str
    type: str
    comment: str | None = None
    partitioned: bool = False


def _first(doc: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if doc.get(key) is not None:
            return doc[key]
    return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _epoch_s(value: Any) -> datetime | None:
    seconds = opt_int(value)
    if not seconds:  # None or 0: Hive's "never"
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _items(doc: dict[str, Any], key: str) -> list[Any]:
    items = doc.get(key)
    return items if isinstance(items, list) else []


def parse_databases(data: Any) -> list[str]:
    """``datasource/dbs``: the database names, in the server's (ascending) order."""
    names = []
    for item in _items(need_dict(data, "the dbs reply"), "dbs"):
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = opt_str(_first(item, "dbName", "databaseName", "name"))
            if name:
                names.append(name)
    return names


def _table(item: Any, database: str) -> TableInfo | None:
    if not isinstance(item, dict):
        return None
    name = opt_str(_first(item, "tableName", "name"))
    if not name:
        return None
    return TableInfo(
        database=opt_str(_first(item, "databaseName", "database", "dbName")) or database,
        name=name,
        is_view=_bool(item.get("isView")),
        created_by=opt_str(item.get("createdBy")),
        created_at=_epoch_s(item.get("createdAt")),
        last_access_at=_epoch_s(item.get("lastAccessAt")),
    )


def parse_tables(data: Any, database: str) -> list[TableInfo]:
    """``datasource/tables``: the tables of ``database``, sorted by name by the server."""
    found = (
        _table(item, database) for item in _items(need_dict(data, "the tables reply"), "tables")
    )
    return [t for t in found if t is not None]


def parse_columns(data: Any) -> list[ColumnInfo]:
    """``datasource/columns``: data columns in table order, then partition keys; [] for null."""
    columns = []
    for item in _items(need_dict(data, "the columns reply"), "columns"):
        if not isinstance(item, dict):
            continue
        name = opt_str(_first(item, "columnName", "name"))
        if not name:
            continue
        columns.append(
            ColumnInfo(
                name=name,
                type=opt_str(_first(item, "columnType", "type")) or "string",
                comment=opt_str(_first(item, "columnComment", "comment")) or None,
                partitioned=_bool(item.get("partitioned")),
            )
        )
    return columns


def parse_catalog(data: Any) -> dict[str, list[TableInfo]]:
    """``datasource/all``: every database with its tables."""
    catalog: dict[str, list[TableInfo]] = {}
    for item in _items(need_dict(data, "the all reply"), "dbs"):
        if not isinstance(item, dict):
            continue
        name = opt_str(_first(item, "databaseName", "dbName", "name"))
        if not name:
            continue
        tables = (_table(t, name) for t in _items(item, "tables"))
        catalog[name] = [t for t in tables if t is not None]
    return catalog
