"""`/datasource/*`: the Hive metadata routes (docs/linkis-protocol.md §13.1-§13.4).

Databases, tables and columns of the sandbox's `catalog.Catalog`, in Linkis's shapes:
`dbs: [{dbName}]`; `tables: [{tableName, isView, databaseName, createdBy, createdAt,
lastAccessAt}]` sorted by name, with `databaseName` the request parameter echoed and times
in epoch seconds; `columns: [{columnName, columnType, columnComment, partitioned}]` in table
order; `/all` as `dbs: [{databaseName, tables}]`. An unknown database or table is not an
error: status 0 with an empty list. Permission control is off, as in a default installation
(§13.0): every user sees the whole catalog, and `dbs?permission=` is accepted and ignored
(the sandbox has no grants). The routes are GET only (§13): another verb, once the gateway
has let the caller in, gets Spring's 405 document, not an envelope.
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from linkis_magic.sandbox.auth import CurrentUser
from linkis_magic.sandbox.catalog import Catalog, TableEntry
from linkis_magic.sandbox.errors import ApiError, backend_method, envelope
from linkis_magic.sandbox.state import GatewayDep

router = APIRouter()

T = TypeVar("T")

FILTER_KEYWORD = "bak"
"""`wds.linkis.db.filter.keywords` at its default: `/all` drops databases whose name
contains it (§13.4), `/dbs` does not."""

_PATHS = ("/datasource/dbs", "/datasource/tables", "/datasource/columns", "/datasource/all")
_OTHER_VERBS = ["POST", "PUT", "PATCH", "DELETE"]


def _read(message: str, read: Callable[[], T]) -> T:
    """Run a catalog read; a failure is status 1 with `message` and `data.stack` (§13)."""
    try:
        return read()
    except Exception as exc:
        raise ApiError(1, message, {"stack": traceback.format_exc()}) from exc


def _table(entry: TableEntry, database: str) -> dict[str, Any]:
    """One table as §13.2 shapes it (`lastAccessAt` 0: Hive rarely updates it)."""
    return {
        "tableName": entry.name,
        "isView": entry.is_view,
        "databaseName": database,
        "createdBy": entry.created_by,
        "createdAt": entry.created_at,
        "lastAccessAt": 0,
    }


def _tables(catalog: Catalog, database: str) -> list[dict[str, Any]]:
    return [_table(entry, database) for entry in catalog.tables(database)]


@router.get("/datasource/dbs")
def databases(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    names = _read("Failed to get database(获取数据库失败)", gateway.catalog.databases)
    data = {"dbs": [{"dbName": name} for name in names]}
    return envelope(backend_method(request), 0, "OK", data)


@router.get("/datasource/tables")
def tables(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    database = request.query_params.get("database") or ""
    found = (
        _read("Failed to queryTables", lambda: _tables(gateway.catalog, database))
        if database
        else []
    )
    return envelope(backend_method(request), 0, "OK", {"tables": found})


@router.get("/datasource/columns")
def columns(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    q = request.query_params
    database, table = q.get("database") or "", q.get("table") or ""
    found = []
    if database and table:
        message = "Failed to get data table structure(获取数据表结构失败)"
        listed = _read(message, lambda: gateway.catalog.columns(database, table))
        found = [
            {
                "columnName": column.name,
                "columnType": column.type,
                "columnComment": column.comment,
                "partitioned": column.partitioned,
            }
            for column in listed
        ]
    return envelope(backend_method(request), 0, "OK", {"columns": found})


@router.get("/datasource/all")
def everything(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    catalog = gateway.catalog

    def read() -> list[dict[str, Any]]:
        names = [n for n in catalog.databases() if n.strip() and FILTER_KEYWORD not in n]
        return [{"databaseName": name, "tables": _tables(catalog, name)} for name in names]

    dbs = _read("Failed to queryDbsWithTables", read)
    return envelope(backend_method(request), 0, "OK", {"dbs": dbs})


def _method_not_allowed(request: Request, user: CurrentUser) -> JSONResponse:
    """Spring Boot's default error document for a verb the controller does not map (§13)."""
    body = {
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
        "status": 405,
        "error": "Method Not Allowed",
        "path": request.url.path,
    }
    return JSONResponse(body, status_code=405, headers={"Allow": "GET"})


for _path in _PATHS:
    router.add_api_route(_path, _method_not_allowed, methods=_OTHER_VERBS, include_in_schema=False)
