"""`/jobhistory/*`: the persisted task rows of the caller (docs/linkis-protocol.md §4).

Ids and dates are JSON numbers, `progress` is a string, and `totalPage` of list is the number
of matching rows, as in Linkis. A row of a job that still runs shows its live progress.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from linkis_magic.sandbox.auth import CurrentUser, authenticate
from linkis_magic.sandbox.errors import ApiError, backend_method, envelope
from linkis_magic.sandbox.jobs import TERMINAL, JobManager
from linkis_magic.sandbox.routes import query_int
from linkis_magic.sandbox.state import GatewayDep
from linkis_magic.sandbox.store import TaskRow

router = APIRouter()

_NOT_FOUND = (
    "The corresponding job was not found, or there may be no permission to view the job"
    "(没有找到对应的job，也可能是没有查看该job的权限)"
)


def _task_object(row: TaskRow, manager: JobManager) -> dict[str, Any]:
    task = row.to_task()
    job = manager.get(manager.exec_id_for(row.exec_id) if row.exec_id else "")
    if job is not None and job.state not in TERMINAL:
        with job.lock:
            task["progress"] = str(float(job.progress))
    return task


@router.get("/jobhistory/{task_id}/get")
def history_get(task_id: int, request: Request, gateway: GatewayDep) -> JSONResponse:
    # Authenticated here, not by the CurrentUser dependency: FastAPI runs dependencies
    # before it validates path parameters, and a non-numeric task_id has always been a 400
    # "invalid request parameters", logged in or not.
    user = authenticate(request, gateway)
    row = gateway.store.get(task_id)
    if row is None or row.submit_user != user:
        raise ApiError(1, _NOT_FOUND)
    return envelope(backend_method(request), 0, "OK", {"task": _task_object(row, gateway.manager)})


@router.get("/jobhistory/list")
def history_list(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    q = request.query_params
    start = query_int(q.get("startDate"), "startDate", 0)
    end = query_int(q.get("endDate"), "endDate", int(time.time() * 1000))
    if start == end:
        end += 86_400_000
    page = max(query_int(q.get("pageNow"), "pageNow", 1), 1)
    page_size = max(query_int(q.get("pageSize"), "pageSize", 20), 1)
    task_param = q.get("taskID")
    rows, total = gateway.store.list(
        user,
        filters={
            "engine_type": q.get("executeApplicationName"),
            "creator": q.get("creator"),
            "run_type": q.get("runType"),
            "instance": q.get("instance"),
        },
        statuses=(q.get("status") or "").split(","),
        start_ms=start,
        end_ms=end,
        task_id=query_int(task_param, "taskID", 0) if task_param else None,
        page=page,
        page_size=page_size,
    )
    tasks = [_task_object(r, gateway.manager) for r in rows]
    return envelope(backend_method(request), 0, "OK", {"tasks": tasks, "totalPage": total})
