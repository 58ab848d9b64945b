"""Job history of the sandbox in SQLite (the `linkis_ps_job_history_group_history` stand-in).

The taskID is SQLite's autoincrement rowid so ids stay unique and increasing across restarts
of the same data directory, like Linkis's MySQL auto-increment. One connection guarded by a
lock: the sandbox's write rate is tiny, and a lock is simpler and safer than a pool with
SQLite's per-connection threading rules. Section numbers (§) refer to
docs/linkis-protocol.md.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exec_id TEXT,
    instance TEXT NOT NULL,
    submit_user TEXT NOT NULL,
    execute_user TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    log_path TEXT,
    result_location TEXT,
    err_code INTEGER,
    err_desc TEXT,
    created_time INTEGER NOT NULL,
    updated_time INTEGER NOT NULL,
    engine_start_time INTEGER,
    end_time INTEGER,
    engine_type TEXT,
    run_type TEXT,
    creator TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    execution_code TEXT,
    params_json TEXT NOT NULL DEFAULT '{}',
    source_json TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    engine_instance TEXT,
    ecm_instance TEXT,
    ticket_id TEXT,
    is_reuse INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_user ON tasks (submit_user, created_time);
"""

_ADDED = {
    "engine_instance": "TEXT",
    "ecm_instance": "TEXT",
    "ticket_id": "TEXT",
    "is_reuse": "INTEGER",
}
"""The engine a job ran on (§4.1 engineInstance, ecmInstance, ticketId, isReuse): columns newer
than the first schema, added to an older history file of the data directory when it opens."""

_COLUMNS = (
    "exec_id",
    "instance",
    "submit_user",
    "execute_user",
    "status",
    "progress",
    "log_path",
    "result_location",
    "err_code",
    "err_desc",
    "created_time",
    "updated_time",
    "engine_start_time",
    "end_time",
    "engine_type",
    "run_type",
    "creator",
    "labels",
    "execution_code",
    "params_json",
    "source_json",
    "metrics",
    *_ADDED,
)


APP_NAME = "linkis-cg-entrance"
"""The entrance service name that execIDs embed."""


def exec_id_for(instance: str, short: str) -> str:
    """The full execID (`exec_id` + lengths + service + instance + short id; §3.1)."""
    return f"exec_id{len(APP_NAME):03d}{len(instance):03d}{APP_NAME}{instance}{short}"


def now_ms() -> int:
    """Epoch milliseconds, the unit of every jobhistory date (docs/linkis-protocol.md §1.4)."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class TaskRow:
    """One persisted task, as stored (converted to the shape of docs/linkis-protocol.md §4.1 by
    `to_task`)."""

    id: int
    exec_id: str | None
    instance: str
    submit_user: str
    execute_user: str
    status: str
    progress: float
    log_path: str | None
    result_location: str | None
    err_code: int | None
    err_desc: str | None
    created_time: int
    updated_time: int
    engine_start_time: int | None
    end_time: int | None
    engine_type: str | None
    run_type: str | None
    creator: str | None
    labels: str
    execution_code: str | None
    params_json: str
    source_json: str
    metrics: str
    engine_instance: str | None = None
    ecm_instance: str | None = None
    ticket_id: str | None = None
    is_reuse: int | None = None

    def to_task(self) -> dict[str, Any]:
        """The jobhistory task object with every §4.1 key (numbers for ids and dates)."""
        instance = self.instance
        stronger = exec_id_for(instance, self.exec_id) if self.exec_id else None
        end = self.end_time
        cost = (end - self.created_time) if end is not None else None
        spend = (end - self.engine_start_time) if end and self.engine_start_time else None
        source = json.loads(self.source_json or "{}")
        failed = self.status == "Failed"
        return {
            "taskID": self.id,
            "instance": instance,
            "execId": self.exec_id,
            "strongerExecId": stronger,
            "umUser": self.submit_user,
            "submitUser": self.submit_user,
            "executeUser": self.execute_user,
            "status": self.status,
            "progress": str(float(self.progress)),
            "logPath": self.log_path,
            "resultLocation": self.result_location,
            "errCode": self.err_code,
            "errDesc": self.err_desc,
            "createdTime": self.created_time,
            "updatedTime": self.updated_time,
            "engineStartTime": self.engine_start_time,
            "requestStartTime": self.created_time,
            "requestEndTime": end,
            "costTime": cost,
            "requestSpendTime": spend,
            "engineType": self.engine_type,
            "executeApplicationName": self.engine_type,
            "requestApplicationName": self.creator,
            "runType": self.run_type,
            "labels": json.loads(self.labels or "[]"),
            "executionCode": self.execution_code,
            "paramsJson": self.params_json,
            "sourceJson": self.source_json,
            "sourceTailor": "-".join(str(v) for v in source.values()),
            "metrics": self.metrics,
            "canRetry": failed and self.engine_start_time is None,
            "isReuse": None if self.is_reuse is None else bool(self.is_reuse),
            "engineInstance": self.engine_instance,
            "ecmInstance": self.ecm_instance,
            "ticketId": self.ticket_id,
            "engineLogPath": None,
            "observeInfo": None,
            "subJobs": None,
        }


class TaskStore:
    """Thread-safe SQLite job history: create, update and query task rows."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A job's row is written a handful of times on its way to the end (each state, the
        # progress, the result location), all on the job's critical path: in WAL mode
        # NORMAL syncs at checkpoints, not on every commit, and still never corrupts the
        # file; a power cut may forget the last updates of a local history, which is fine.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(tasks)")}
        for column, kind in _ADDED.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE tasks ADD COLUMN {column} {kind}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, **fields: Any) -> int:
        """Insert a task row and return its taskID."""
        now = now_ms()
        fields.setdefault("created_time", now)
        fields.setdefault("updated_time", now)
        names = [k for k in fields if k in _COLUMNS]
        if len(names) != len(fields):
            raise KeyError(f"unknown task columns: {sorted(set(fields) - set(names))}")
        sql = f"INSERT INTO tasks ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        with self._lock:
            cur = self._db.execute(sql, [fields[n] for n in names])
            rowid = cur.lastrowid
        assert rowid is not None
        return int(rowid)

    def update(self, task_id: int, **fields: Any) -> None:
        """Update columns of one task; `updated_time` is refreshed automatically."""
        fields.setdefault("updated_time", now_ms())
        bad = set(fields) - set(_COLUMNS)
        if bad:
            raise KeyError(f"unknown task columns: {sorted(bad)}")
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self._lock:
            self._db.execute(
                f"UPDATE tasks SET {assignments} WHERE id = ?", [*fields.values(), task_id]
            )

    def get(self, task_id: int) -> TaskRow | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
        return TaskRow(*row) if row else None

    def list(
        self,
        user: str,
        *,
        filters: Mapping[str, str | None] | None = None,
        statuses: Iterable[str] = (),
        start_ms: int = 0,
        end_ms: int | None = None,
        task_id: int | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> tuple[list[TaskRow], int]:
        """One page of the user's tasks, newest first, and the total matching row count."""
        where = ["submit_user = ?", "created_time >= ?"]
        args: list[Any] = [user, start_ms]
        if end_ms is not None:
            where.append("created_time <= ?")
            args.append(end_ms)
        states = [s for s in statuses if s]
        if states:
            where.append(f"status IN ({', '.join('?' * len(states))})")
            args.extend(states)
        if task_id is not None:
            where.append("id = ?")
            args.append(task_id)
        for column, value in (filters or {}).items():
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        clause = " AND ".join(where)
        offset = max(page - 1, 0) * page_size
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM tasks WHERE {clause}", args).fetchone()
            rows = self._db.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM tasks WHERE {clause} "
                "ORDER BY created_time DESC, id DESC LIMIT ? OFFSET ?",
                [*args, page_size, offset],
            ).fetchall()
        return [TaskRow(*r) for r in rows], int(total[0])
