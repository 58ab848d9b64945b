"""Scripted gateway behaviours for the loopback double (tests/support/double.py): a job's
jobhistory row, its log with the 1-based cursor, result directories with pages and exports,
and a job that turns Cancelled once killed, the way docs/linkis-protocol.md §3-§5 describes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.double import EXEC_ID, LinkisDouble, Reply, Request, envelope, routing_error

TASK_ID = 7
RESULT_DIR = "file:///tmp/linkis/alice/result/7"
LOG_PATH = "file:///tmp/linkis/alice/log/7.log"
_ERROR = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})? (SYSTEM-)?ERROR ")


def task_doc(
    status: str,
    *,
    result_location: str | None = RESULT_DIR,
    err_code: int | None = None,
    err_desc: str | None = None,
    exec_id: str | None = EXEC_ID,
) -> dict[str, Any]:
    """A jobhistory/{id}/get payload with the keys of docs/linkis-protocol.md §4.1 that we read."""
    return {
        "task": {
            "taskID": TASK_ID,
            "instance": "host1:9104",
            "execId": "IDE_alice_spark_7",
            "strongerExecId": exec_id,
            "umUser": "alice",
            "executeUser": "alice",
            "status": status,
            "progress": "1.0" if status == "Succeed" else "0.5",
            "logPath": LOG_PATH,
            "resultLocation": result_location,
            "errCode": err_code,
            "errDesc": err_desc,
            "createdTime": 1704074400000,
            "updatedTime": 1704074460000,
            "costTime": 60000,
            "engineType": "spark",
            "runType": "sql",
            "labels": ["engineType:spark-3.2.1"],
            "paramsJson": "{}",
            "sourceJson": "{}",
        }
    }


@dataclass
class LogScript:
    """Serves entrance/{execID}/log from a list of lines with the 1-based fromLine cursor.

    ``reveal`` lines become available per call (the job is still writing); ``sizes`` and
    ``from_lines`` record what the client asked for.
    """

    lines: list[str]
    reveal: int = 10**9
    available: int = 0
    from_lines: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def __call__(self, req: Request) -> Reply:
        start = int(req.param("fromLine") or 0)
        size = int(req.param("size") or 100)
        size = 10000 if size < 0 else size
        self.from_lines.append(start)
        self.sizes.append(size)
        self.available = min(len(self.lines), self.available + self.reveal)
        first = max(start, 1)
        chunk = self.lines[first - 1 : min(self.available, first - 1 + size)]
        errors = [line for line in chunk if _ERROR.search(line)]
        data = {
            "execID": EXEC_ID,
            "fromLine": first + len(chunk) if chunk else start,
            "log": ["\n".join(errors), "", "\n".join(chunk), "\n".join(chunk)],
        }
        return envelope(data)

    def open_log(self, req: Request) -> Reply:
        """filesystem/openLog: the whole persisted file, each line ending in a newline."""
        text = "".join(line + "\n" for line in self.lines)
        errors = "".join(line + "\n" for line in self.lines if _ERROR.search(line))
        return envelope({"log": [errors, "", text, text]})


@dataclass
class ResultFile:
    name: str
    columns: list[tuple[str, str]]
    rows: list[list[str | None]]
    type: str = "2"
    legacy_null: bool = False  # a server before 1.5: NULL always comes back as "NULL"
    export_body: str | None = None  # override the CSV export (broken exports)
    size: int | None = None  # bytes the listing reports; None: about what Linkis would write

    def listed_size(self) -> int:
        if self.size is not None:
            return self.size
        # a .dolphin record is two 10-digit lengths, one "n," per field and the fields
        cells = sum(len(v or "NULL") + 3 for row in self.rows for v in row)
        return 17 + 20 * len(self.rows) + cells


class ResultServer:
    """Serves getDirFileTrees, openFile, fileInfo and resultsetToExcel for a result directory."""

    def __init__(self, gw: LinkisDouble, directory: str = RESULT_DIR) -> None:
        self.gw = gw
        self.directory = directory
        self.files: dict[str, ResultFile] = {}
        gw.on("GET", "filesystem/getDirFileTrees", self._tree)
        gw.on("GET", "filesystem/openFile", self._open)
        gw.on("GET", "filesystem/fileInfo", self._info)
        gw.on("GET", "filesystem/resultsetToExcel", self._export)

    def add(self, result: ResultFile) -> str:
        path = f"{self.directory}/{result.name}"
        self.files[path] = result
        return path

    def _tree(self, req: Request) -> Reply:
        if req.param("path") != self.directory:
            return envelope({"dirFileTrees": None})
        children = [
            {
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "properties": {
                    "size": str(self.files[path].listed_size()),
                    "modifytime": "1704074460000",
                },
                "children": None,
                "isLeaf": True,
                "parentPath": self.directory,
            }
            for path in sorted(self.files)  # lexicographic, as HDFS lists them
        ]
        tree = {"name": "7", "path": self.directory, "isLeaf": False, "children": children}
        return envelope({"dirFileTrees": tree})

    def _cell(self, result: ResultFile, value: str | None, null_value: str) -> str | None:
        if value is None:
            if result.legacy_null or null_value in ("", "BLANK"):
                return "NULL"
            return None if null_value == "LINKIS_NULL" else null_value
        return value

    def _open(self, req: Request) -> Reply:
        result = self.files[req.param("path") or ""]
        if not result.rows and result.type == "2" and not result.columns:
            return envelope(
                {"errorMsg": {"level": 1, "errCode": 51000}},
                status=4,
                message="Warning code(警告码): 51000, The file is empty.",
            )
        page = int(req.param("page") or 1)
        size = int(req.param("pageSize") or 5000)
        null_value = req.param("nullValue") or ""
        rows = result.rows[(page - 1) * size : page * size]
        content = [[self._cell(result, v, null_value) for v in row] for row in rows]
        if result.type == "2":
            metadata: Any = [
                {"columnName": n, "comment": "NULL", "dataType": t} for n, t in result.columns
            ]
        else:
            metadata = "NULL"
        data = {
            "type": result.type,
            "metadata": metadata,
            "fileContent": content,
            "page": page,
            "totalPage": 0,
            "totalLine": len(content),
        }
        return envelope(data)

    def _info(self, req: Request) -> Reply:
        result = self.files[req.param("path") or ""]
        cols = len(result.columns) if result.type == "2" else 1
        return envelope(
            {"path": req.param("path"), "colNumber": cols, "rowNumber": len(result.rows)}
        )

    def _export(self, req: Request) -> Reply:
        result = self.files[req.param("path") or ""]
        if result.export_body is not None:
            return Reply.text(result.export_body)
        sep = "\t" if req.param("csvSeparator") == "t" else (req.param("csvSeparator") or ",")
        null_value = req.param("nullValue") or "NULL"
        limit = int(req.param("limit") or 0) or 5000
        lines = [sep.join(n for n, _ in result.columns)]
        for row in result.rows[:limit]:
            lines.append(sep.join(null_value if v in (None, "") else v for v in row))
        return Reply.text("".join(line + "\n" for line in lines))


class StatusAfterKill:
    """entrance status: ``before`` until a kill request arrived, then Cancelled."""

    def __init__(self, gw: LinkisDouble, before: str = "Running") -> None:
        self.gw = gw
        self.before = before
        self.killed = threading.Event()

    def status(self, req: Request) -> Reply:
        state = "Cancelled" if self.killed.is_set() else self.before
        return envelope({"status": state, "execID": EXEC_ID})

    def kill(self, req: Request) -> Reply:
        self.killed.set()
        return envelope({"execID": EXEC_ID}, message="Successfully killed the job(成功kill了job)")

    def history(self, req: Request) -> Reply:
        return envelope(task_doc("Cancelled" if self.killed.is_set() else self.before))


StatusFn = Callable[[Request], Reply]


def offline_entrance(
    gw: LinkisDouble, *, log: Sequence[str] = ("2024-01-01 10:00:00.001 INFO job accepted",)
) -> None:
    """A gateway that took the submit but can no longer route to the job's entrance.

    Every entrance call for the job answers HTTP 200 with status 1 and errCode 11011 (the
    entrance instance went offline); jobhistory still says Running, and openLog has the log.
    So the job can be followed, but not killed.
    """
    gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": TASK_ID})
    for action in ("status", "progress", "log", "kill"):
        uri = f"/api/rest_j/v1/entrance/{EXEC_ID}/{action}"
        gw.on("GET", f"entrance/{EXEC_ID}/{action}", routing_error(uri))
    gw.on("GET", f"jobhistory/{TASK_ID}/get", envelope(task_doc("Running")))
    text = "".join(line + "\n" for line in log)
    gw.on("GET", "filesystem/openLog", envelope({"log": ["", "", text, text]}))


class MetadataServer:
    """Serves the Hive metadata routes (docs/linkis-protocol.md §13) from a dict.

    ``schema`` maps database -> table -> [(column, type)]; names ending in ``_v`` are views.
    ``gate`` (an Event), when given, holds every metadata reply until it is set: a gateway that
    is slow for exactly as long as a test wants. ``calls`` counts the requests per route.
    """

    def __init__(
        self,
        gw: LinkisDouble,
        schema: dict[str, dict[str, list[tuple[str, str]]]],
        *,
        gate: threading.Event | None = None,
        delay: float = 0.0,
        docs_keys: bool = False,
    ) -> None:
        self.schema = schema
        self.gate = gate
        self.delay = delay  # seconds every metadata reply takes (benchmarks)
        self.docs_keys = docs_keys  # the website's spelling (`name`) instead of the code's
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        for route, handler in (
            ("dbs", self._dbs),
            ("tables", self._tables),
            ("columns", self._columns),
            ("all", self._all),
        ):
            gw.on("GET", f"datasource/{route}", handler)

    def _hold(self, route: str) -> None:
        with self._lock:
            self.calls[route] = self.calls.get(route, 0) + 1
        if self.gate is not None:
            self.gate.wait(30)
        if self.delay:
            time.sleep(self.delay)

    def _table_doc(self, database: str, name: str) -> dict[str, Any]:
        key = "name" if self.docs_keys else "tableName"
        return {
            key: name,
            "isView": name.endswith("_v"),
            "databaseName": database,
            "createdBy": "alice",
            "createdAt": 1700000000,
            "lastAccessAt": 0,
        }

    def _dbs(self, req: Request) -> Reply:
        self._hold("dbs")
        key = "name" if self.docs_keys else "dbName"
        return envelope({"dbs": [{key: db} for db in sorted(self.schema)]})

    def _tables(self, req: Request) -> Reply:
        self._hold("tables")
        database = req.param("database") or ""
        names = sorted(self.schema.get(database, {}))
        return envelope({"tables": [self._table_doc(database, n) for n in names]})

    def _columns(self, req: Request) -> Reply:
        self._hold("columns")
        table = self.schema.get(req.param("database") or "", {}).get(req.param("table") or "")
        if table is None:
            return envelope({"columns": None})  # not visible or missing (§13.3)
        columns = [
            {"columnName": c, "columnType": t, "columnComment": None, "partitioned": False}
            for c, t in table
        ]
        return envelope({"columns": columns})

    def _all(self, req: Request) -> Reply:
        self._hold("all")
        dbs = [
            {"databaseName": db, "tables": [self._table_doc(db, t) for t in sorted(tables)]}
            for db, tables in sorted(self.schema.items())
        ]
        return envelope({"dbs": dbs})


DEMO_SCHEMA: dict[str, dict[str, list[tuple[str, str]]]] = {
    "default": {
        "emp": [("id", "int"), ("name", "string"), ("dept", "string"), ("salary", "decimal(10,2)")],
        "dept": [("dept", "string"), ("city", "string")],
        "emp_v": [("id", "int"), ("name", "string")],
    },
    "sales": {"orders": [("order_id", "bigint"), ("total", "double"), ("day", "date")]},
}


def yarn_progress(
    *apps: tuple[str, int, int], core_share: float = 0.06, memory_share: float = 0.3
) -> dict[str, Any]:
    """``data`` of progressWithResource (§14.1): one YARN app per (id, memory GiB, cores),
    or the top-level ``yarnResource: null`` without any; the shares are the job's fractions
    of its queue (``corePercent`` / ``memoryPercent``)."""
    data: dict[str, Any] = {
        "progress": 0.4,
        "execID": EXEC_ID,
        "progressInfo": [
            {"id": "jobId-1(linkis-spark-1)", "succeedTasks": 4, "failedTasks": 0,
             "runningTasks": 2, "totalTasks": 10}
        ],
    }  # fmt: skip
    if not apps:
        data["yarnResource"] = None
        return data
    data["yarnMetrics"] = {
        "yarnResource": [
            {"applicationId": app, "queueMemory": gib * 2**30, "queueCores": cores,
             "queueInstances": 2, "jobStatus": "RUNNING", "queue": "root.analytics"}
            for app, gib, cores in apps
        ],
        "corePercent": core_share,
        "memoryPercent": memory_share,
        "coreRGB": "green",
        "memoryRGB": "green",
    }  # fmt: skip
    return data


def engine_node(
    instance: str,
    *,
    engine_type: str = "spark-3.2.1",
    owner: str = "alice",
    status: str | None = "Unlock",
    application: str = "linkis-cg-engineconn",
) -> dict[str, Any]:
    """One ``listUserEngines`` item (§14.2), with labels and a DriverAndYarn resource."""
    used = {
        "loadInstanceResource": {"memory": 2 * 2**30, "cores": 1, "instances": 1, "instance": 1},
        "yarnResource": {"queueMemory": 4 * 2**30, "queueCores": 2, "queueInstances": 2,
                         "queueName": "default", "applicationId": "application_1_0001"},
    }  # fmt: skip
    return {
        "serviceInstance": {"applicationName": application, "instance": instance,
                            "registryTimestamp": 0, "mappingPorts": None, "mappingHost": None},
        "owner": owner,
        "nodeStatus": status,
        "labels": [
            {"labelKey": "engineType", "stringValue": engine_type, "feature": "CORE",
             "featureKey": "feature", "empty": False},
            {"labelKey": "userCreator", "stringValue": f"{owner}-IDE", "feature": "CORE",
             "featureKey": "feature", "empty": False, "user": owner, "creator": "IDE",
             "modifiable": True},
        ],
        "nodeResource": {"id": 7, "resourceType": "DriverAndYarn", "maxResource": used,
                         "minResource": used, "usedResource": used, "lockedResource": None,
                         "expectedResource": None, "leftResource": None,
                         "createTime": 1709279990000, "updateTime": 1709280030000},
        "startTime": 1709280000000,
        "updateTime": 1709280300000,
        "ticketId": "0c7d0a4e-1f0e-4c1b-9a55-7a1d2f3e4b5c",
        "mark": "process",
        "nodeTaskInfo": {"runningTasks": 0, "pendingTasks": 0, "succeedTasks": 2,
                         "failedTasks": 0, "tasks": 0},
        "emnode": {"serviceInstance": {"applicationName": "linkis-cg-engineconnmanager",
                                       "instance": "10.0.0.12:9102", "registryTimestamp": 0,
                                       "mappingPorts": "null", "mappingHost": "null"},
                   "owner": "hadoop"},
    }  # fmt: skip


class LongJob:
    """A job that runs ``duration`` seconds of a virtual clock (tests/support/clock.py) from
    the moment it is scripted: status, jobhistory, progress (both routes) and a log that
    grows by ``lines_per_s``; one one-row result set once it succeeded.

    With ``stages`` > 0 it reports Spark-like stages one after another (each listed once it
    has started, 100 tasks each), all tasks done ``wrap_up`` seconds before the end (the
    result write); with 0 it reports no stages, like a Python job. ``seen_end_at`` is the
    clock time of the first reply that told the client the job had ended.
    """

    def __init__(
        self,
        gw: LinkisDouble,
        clock: Any,
        *,
        duration: float,
        stages: int = 0,
        wrap_up: float = 0.0,
        lines_per_s: float = 3.0,
    ) -> None:
        self.clock = clock
        self.start = clock.now()
        self.duration, self.stages, self.wrap_up = duration, stages, wrap_up
        self.lines_per_s = lines_per_s
        self.seen_end_at: float | None = None
        self._lock = threading.Lock()
        base = f"entrance/{EXEC_ID}"
        gw.on("GET", f"{base}/status", self._status)
        gw.on("GET", f"{base}/progress", self._progress)
        gw.on("GET", f"{base}/progressWithResource", self._progress)
        gw.on("GET", f"{base}/log", self._log)
        gw.on("GET", f"jobhistory/{TASK_ID}/get", self._history)
        ResultServer(gw).add(ResultFile("_0.dolphin", [("x", "int")], [["1"]]))

    @property
    def ends_at(self) -> float:
        return self.start + self.duration

    def _elapsed(self) -> float:
        return self.clock.now() - self.start

    def _ended(self) -> bool:
        ended = self._elapsed() >= self.duration
        with self._lock:
            if ended and self.seen_end_at is None:
                self.seen_end_at = self.clock.now()
        return ended

    def _status(self, req: Request) -> Reply:
        state = "Succeed" if self._ended() else "Running"
        return envelope({"status": state, "execID": EXEC_ID})

    def _history(self, req: Request) -> Reply:
        if self._ended():
            return envelope(task_doc("Succeed"))
        return envelope(task_doc("Running", result_location=None))

    def _progress(self, req: Request) -> Reply:
        elapsed = self._elapsed()
        info: list[dict[str, Any]] = []
        fraction = 0.0
        if self.stages:
            tasks_end = self.duration - self.wrap_up
            span = tasks_end / self.stages
            fraction = min(1.0, elapsed / tasks_end)
            for i in range(self.stages):
                if elapsed < i * span:
                    break
                done = min(100, int((elapsed - i * span) * 100 / span + 1e-6))
                running = 0 if done == 100 else 4
                info.append({"id": f"jobId-{i + 1}", "succeedTasks": done, "failedTasks": 0,
                             "runningTasks": running, "totalTasks": 100})  # fmt: skip
        if elapsed >= self.duration:
            fraction = 1.0
        data = {"progress": fraction, "progressInfo": info, "execID": EXEC_ID}
        if req.route.endswith("progressWithResource"):
            data["yarnResource"] = None
        return envelope(data)

    def _log(self, req: Request) -> Reply:
        start = max(int(req.param("fromLine") or 1), 1)
        size = int(req.param("size") or 100)
        size = 10000 if size < 0 else size
        available = int(min(self._elapsed(), self.duration) * self.lines_per_s)
        stop = min(available, start - 1 + size)
        chunk = [f"2024-01-01 10:00:00.001 INFO line {i:06d}" for i in range(start, stop + 1)]
        text = "\n".join(chunk)
        data = {"execID": EXEC_ID, "fromLine": start + len(chunk), "log": ["", "", text, text]}
        return envelope(data)
