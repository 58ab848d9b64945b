"""Who created each table and when: the `createdBy`/`createdAt` of `datasource/tables`.

Neither DuckDB nor Spark's in-memory catalog keeps an owner or a creation time, so the sandbox
keeps them itself, in `catalog.sqlite3` of the data directory (docs/linkis-protocol.md §13.2:
`createdBy` is the owner, `createdAt` epoch seconds). The engines call `created`/`dropped`
after a job's CREATE/DROP TABLE/VIEW statement succeeds, with the job's user; a table first
seen any other way (the demo tables, a DataFrame saved from Python) gets `default_owner` and
the time it was first listed. Either way the numbers stay the same for the table's life.
"""

from __future__ import annotations

import getpass
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlglot
import sqlglot.errors
from sqlglot import exp


def os_user() -> str:
    """The user the sandbox runs as: the owner of tables no job created."""
    try:
        return getpass.getuser() or "sandbox"
    except Exception:  # no passwd entry (containers): any fixed name will do
        return "sandbox"


@dataclass(frozen=True)
class Owner:
    created_by: str
    created_at: int
    """Epoch seconds."""


class Owners:
    """(database, table) -> Owner, persisted; names are the catalog's (Hive) names."""

    def __init__(self, path: Path, default_owner: str | None = None) -> None:
        self.default_owner = default_owner or os_user()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS owners (db TEXT NOT NULL, name TEXT NOT NULL,"
            " created_by TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (db, name))"
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def created(self, db: str, name: str, user: str, *, replace: bool = True) -> None:
        """A job of `user` created the table (`replace` False: CREATE ... IF NOT EXISTS,
        which leaves an existing table, and its owner, alone)."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self._lock:
            self._db.execute(
                f"{verb} INTO owners VALUES (?, ?, ?, ?)",
                (db.lower(), name.lower(), user, int(time.time())),
            )

    def dropped(self, db: str, name: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM owners WHERE db = ? AND name = ?", (db.lower(), name.lower())
            )

    def stamp(self, db: str, names: Iterable[str]) -> dict[str, Owner]:
        """The owners of these tables of `db`; tables not seen before get the default owner
        and the current time, kept from now on."""
        wanted = [name.lower() for name in names]
        db = db.lower()
        with self._lock:
            known = self._known(db)
            missing = [name for name in wanted if name not in known]
            if missing:
                now = int(time.time())
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR IGNORE INTO owners VALUES (?, ?, ?, ?)",
                    [(db, name, self.default_owner, now) for name in missing],
                )
                self._db.execute("COMMIT")
                known = self._known(db)
        return {name: known[name] for name in wanted if name in known}

    def _known(self, db: str) -> dict[str, Owner]:
        rows = self._db.execute(
            "SELECT name, created_by, created_at FROM owners WHERE db = ?", (db,)
        ).fetchall()
        return {name: Owner(by, at) for name, by, at in rows}


@dataclass(frozen=True)
class Ddl:
    """A CREATE or DROP of a table or view, as `ddl_targets` finds it in one statement."""

    action: str
    """"create", "create-if-absent" (IF NOT EXISTS) or "drop"."""
    db: str | None
    """The qualifier as written; None: the job's current database."""
    name: str


def ddl_targets(sql: str, dialect: str) -> list[Ddl]:
    """The tables/views one statement creates or drops (temporary ones excluded); [] for any
    other statement or one sqlglot cannot parse."""
    try:
        statement = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return []
    kind = str(statement.args.get("kind") or "").upper()
    if kind not in ("TABLE", "VIEW"):
        return []
    if isinstance(statement, exp.Create):
        properties = statement.args.get("properties")
        if properties and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions):
            return []
        target = statement.this
        table = target.this if isinstance(target, exp.Schema) else target
        if not isinstance(table, exp.Table):
            return []
        action = "create-if-absent" if statement.args.get("exists") else "create"
        return [Ddl(action, table.db or None, table.name)]
    if isinstance(statement, exp.Drop) and not statement.args.get("temporary"):
        tables = statement.args.get("tables") or []
        return [Ddl("drop", t.db or None, t.name) for t in tables if isinstance(t, exp.Table)]
    return []


def record(
    owners: Owners | None,
    ddl: Iterable[Ddl],
    *,
    current_db: str,
    user: str,
    database: Callable[[str], str] = str.lower,
) -> None:
    """Apply a finished statement's `ddl_targets` (db None -> `current_db`); `database`
    turns an engine's database name into the catalog's."""
    if owners is None:
        return
    for item in ddl:
        db = database(item.db or current_db)
        if item.action == "drop":
            owners.dropped(db, item.name.lower())
        else:
            owners.created(db, item.name, user, replace=item.action == "create")
