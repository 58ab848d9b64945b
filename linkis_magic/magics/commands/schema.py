"""``%linkis databases | tables [DB] | columns [DB.]TABLE``: the gateway's Hive metadata.

Each returns a DataFrame (so it displays as a table and can be filtered like one) and reads
through the cached :class:`~linkis_magic.magics._catalog.Catalog` that completion uses too;
``--refresh`` drops that scope of the cache first. A gateway without a metadata service is a
short error saying so.
"""

from __future__ import annotations

import argparse
import fnmatch
from typing import TYPE_CHECKING

import pandas as pd

from linkis_magic._validate import check_name
from linkis_magic.magics._complete import DEFAULT_DATABASE
from linkis_magic.magics._parse import Parser, usage
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["commands"]

TABLE_COLUMNS = ["database", "table", "isView", "createdBy", "createdAt", "lastAccessAt"]
COLUMN_COLUMNS = ["column", "type", "comment", "partitioned"]


def _databases(session: Session, args: argparse.Namespace) -> pd.DataFrame:
    names = session.catalog().databases(refresh=args.refresh)
    frame: pd.DataFrame = pd.DataFrame({"database": pd.Series(names, dtype="string")})
    return frame


def _tables(session: Session, args: argparse.Namespace) -> pd.DataFrame:
    database = usage(lambda: check_name(args.database or DEFAULT_DATABASE, "database"))
    tables = session.catalog().tables(database, refresh=args.refresh)
    if args.like:
        tables = [t for t in tables if fnmatch.fnmatch(t.name.lower(), args.like.lower())]
    rows = [
        (t.database, t.name, t.is_view, t.created_by, t.created_at, t.last_access_at)
        for t in tables
    ]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    for column in ("createdAt", "lastAccessAt"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _columns(session: Session, args: argparse.Namespace) -> pd.DataFrame:
    database, _, table = args.table.rpartition(".")
    database = usage(lambda: check_name(database or DEFAULT_DATABASE, "database"))
    table = usage(lambda: check_name(table, "table"))
    columns = session.catalog().columns(database, table, refresh=args.refresh)
    rows = [(c.name, c.type, c.comment, c.partitioned) for c in columns]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=COLUMN_COLUMNS)
    return frame


def commands() -> list[Command]:
    """The schema commands."""
    databases = Parser("%linkis databases", "List the databases (Hive metadata) as a DataFrame.")
    databases.add_argument("--refresh", action="store_true", help="ask the gateway again")
    tables = Parser("%linkis tables", "List a database's tables and views as a DataFrame.")
    tables.add_argument("database", nargs="?", metavar="DB", help="default: default")
    tables.add_argument("--like", metavar="GLOB", help="only names matching, e.g. 'sales_*'")
    tables.add_argument("--refresh", action="store_true", help="ask the gateway again")
    columns = Parser("%linkis columns", "List a table's columns as a DataFrame.")
    columns.add_argument("table", metavar="[DB.]TABLE", help="the database defaults to default")
    columns.add_argument("--refresh", action="store_true", help="ask the gateway again")
    return [
        Command("databases", databases, _databases),
        Command("tables", tables, _tables),
        Command("columns", columns, _columns),
    ]
