"""Jobhistory records: one task row and list pages (§4 of docs/linkis-protocol.md).

Jobhistory is the database view of a job: it outlives the entrance, so it is where a client
finds ``resultLocation``, ``logPath``, ``errCode``/``errDesc`` and the execID of an old task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkis_magic.errors import ProtocolError
from linkis_magic.protocol._entrance import JobStatus
from linkis_magic.protocol._values import (
    epoch_ms,
    json_text,
    need_dict,
    opt_float,
    opt_int,
    opt_str,
    short,
)

_ENTRANCE_APP = "linkis-cg-entrance"


@dataclass(frozen=True)
class TaskInfo:
    """One jobhistory row (§4.1) with Python names and types; ``raw`` keeps it all."""

    task_id: int
    exec_id: str | None
    short_exec_id: str | None
    status: JobStatus
    progress: float
    log_path: str | None
    result_location: str | None
    err_code: int | None
    err_desc: str | None
    created_time: datetime | None
    updated_time: datetime | None
    cost_time_ms: int | None
    engine_type: str | None
    run_type: str | None
    creator: str | None
    submit_user: str | None
    execute_user: str | None
    instance: str | None
    labels: tuple[str, ...]
    execution_code: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    source: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def rebuild_exec_id(short_exec_id: str, instance: str, application: str = _ENTRANCE_APP) -> str:
    """Rebuild a full execID from jobhistory's ``execId`` and ``instance`` (§3.1)."""
    return f"exec_id{len(application):03d}{len(instance):03d}{application}{instance}{short_exec_id}"


def parse_task(task: Any) -> TaskInfo:
    """Read one jobhistory task object, tolerating string numbers and JSON-text fields."""
    doc = need_dict(task, "a jobhistory task")
    task_id = opt_int(doc.get("taskID"))
    if task_id is None:
        raise ProtocolError(f"a jobhistory task has no taskID: {short(doc)}")
    short_id = opt_str(doc.get("execId"))
    instance = opt_str(doc.get("instance"))
    exec_id = opt_str(doc.get("strongerExecId"))
    if not exec_id and short_id and instance and ";" not in instance:
        exec_id = rebuild_exec_id(short_id, instance)
    labels = doc.get("labels")
    if isinstance(labels, list):
        label_tuple = tuple(str(x) for x in labels)
    elif isinstance(labels, str) and labels:
        label_tuple = tuple(part for part in labels.split(",") if part)
    else:
        label_tuple = ()
    return TaskInfo(
        task_id=task_id,
        exec_id=exec_id or None,
        short_exec_id=short_id,
        status=JobStatus.parse(doc.get("status")),
        progress=min(abs(opt_float(doc.get("progress"))), 1.0),
        log_path=opt_str(doc.get("logPath")),
        result_location=opt_str(doc.get("resultLocation")) or None,
        err_code=opt_int(doc.get("errCode")),
        err_desc=opt_str(doc.get("errDesc")),
        created_time=epoch_ms(doc.get("createdTime")),
        updated_time=epoch_ms(doc.get("updatedTime")),
        cost_time_ms=opt_int(doc.get("costTime")),
        engine_type=opt_str(doc.get("engineType") or doc.get("executeApplicationName")),
        run_type=opt_str(doc.get("runType")),
        creator=opt_str(doc.get("requestApplicationName")),
        submit_user=opt_str(doc.get("umUser")),
        execute_user=opt_str(doc.get("executeUser")),
        instance=instance,
        labels=label_tuple,
        execution_code=opt_str(doc.get("executionCode")),
        raw=dict(doc),
        params=json_text(doc.get("paramsJson")),
        source=json_text(doc.get("sourceJson")),
    )


@dataclass(frozen=True)
class TaskPage:
    """A jobhistory list page; ``total`` is the number of matching rows (Linkis's totalPage)."""

    tasks: tuple[TaskInfo, ...]
    total: int


def parse_task_page(data: Any) -> TaskPage:
    """Read ``jobhistory/list``: ``totalPage`` is really the total row count (§4.2)."""
    doc = need_dict(data, "the jobhistory list reply")
    tasks = tuple(parse_task(t) for t in doc.get("tasks") or ())
    total = opt_int(doc.get("totalPage"))
    return TaskPage(tasks=tasks, total=len(tasks) if total is None else total)
