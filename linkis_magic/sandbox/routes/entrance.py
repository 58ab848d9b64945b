"""`/entrance/*`: submit and execute, then status, progress, log, kill and pause of a job.

Submit bodies are Linkis 1.x (`executionContent` + `labels`) or 0.x (`executionCode` +
`executeApplicationName`, the /execute route; docs/linkis-protocol.md §3.2, §3.3). Parser
errors (20007-20010) store nothing; interceptor errors (50079/50080) store a Failed row but
the reply has no taskID. The other routes see only jobs the entrance still holds (see
`jobs.JobManager`): after that they answer "job has ended" errors, and status and kill fall
back to the job history when given `taskID` (§3.5-§3.10). Users cannot see or kill other
users' jobs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from linkis_magic.sandbox.auth import CurrentUser
from linkis_magic.sandbox.errors import ApiError, envelope, linkis_error
from linkis_magic.sandbox.jobs import Job
from linkis_magic.sandbox.routes import json_body, query_bool, query_int, split_log
from linkis_magic.sandbox.state import Gateway, GatewayDep

router = APIRouter()

_CREATOR = re.compile(r"[A-Za-z0-9_]{1,64}")  # it becomes a directory name: no / or ..
_EMPTY_CODE = (20007, "The execution code is empty, please check your code(执行代码为空)")
_PROGRESS_MISSING = (
    "The job corresponding to the ID is empty, and the corresponding task progress cannot "
    "be obtained.(ID 对应的job为空，不能获取相应的任务进度)"
)


# -- submit ----------------------------------------------------------------------------------


def default_version(engine: str) -> str:
    """Engine versions Linkis 1.4+ assumes when the 0.x API names only the engine."""
    return {
        "spark": "3.2.1",
        "hive": "3.1.3",
        "python": "python2",
        "shell": "1",
        "jdbc": "4",
    }.get(engine, "1")


@dataclass
class _Submission:
    """A submit body reduced to what both API versions have in common.

    `engine_type` and `user_creator` are label values as sent (not necessarily strings).
    """

    code: str
    run_type: str
    engine_type: Any
    labels: dict[str, Any]
    user_creator: Any


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _parse_v1(body: dict[str, Any], user: str, instance: str) -> _Submission:
    """`{executionContent: {code, runType}, labels: {engineType, userCreator, ...}}`."""
    content = body.get("executionContent")
    if not isinstance(content, dict) or "code" not in content:
        raise linkis_error(
            20010, "Only code with runtype supported(仅支持带runtype的代码)", instance=instance
        )
    code = content.get("code")
    if not isinstance(code, str) or not code.strip():
        raise linkis_error(*_EMPTY_CODE, instance=instance)
    raw_labels = body.get("labels")
    if not isinstance(raw_labels, dict) or not raw_labels:
        raise linkis_error(
            20008, "params cannot be empty, labels is null(参数不能为空)", instance=instance
        )
    labels = {str(k): v for k, v in raw_labels.items()}
    run_type = content.get("runType") or labels.get("codeType")
    engine_type = labels.get("engineType")
    if not run_type:
        raise linkis_error(
            20009,
            "Label params invalid You need to specify runType in execution content, such as sql",
            instance=instance,
        )
    if not engine_type:
        raise linkis_error(
            20009,
            "Label params invalid You need to specify engineType in labels, such as spark-3.2.1",
            instance=instance,
        )
    user_creator = labels.get("userCreator") or f"{user}-IDE"
    return _Submission(code, str(run_type), engine_type, labels, user_creator)


def _parse_v0(body: dict[str, Any], user: str, instance: str) -> _Submission:
    """`{executionCode, executeApplicationName, requestApplicationName, runType, labels}`."""
    code = body.get("executionCode")
    script = _as_dict(body.get("source")).get("scriptPath")
    if not isinstance(code, str) or (not code.strip() and not script):
        raise linkis_error(*_EMPTY_CODE, instance=instance)
    creator = str(body.get("requestApplicationName") or "IDE")
    run_type = body.get("runType") or "sql"
    app_name = body.get("executeApplicationName")
    labels = {str(k): v for k, v in _as_dict(body.get("labels")).items()}
    engine_type = labels.get("engineType") or (
        f"{app_name}-{default_version(str(app_name))}" if app_name else None
    )
    user_creator = labels.get("userCreator") or f"{user}-{creator}"
    labels.setdefault("codeType", run_type)
    return _Submission(code, str(run_type), engine_type, labels, user_creator)


def _label_list(req: _Submission, run_type: str) -> list[str]:
    """Labels as Linkis stores them: engineType first, userCreator and codeType always."""
    labels = [f"{k}:{v}" for k, v in req.labels.items() if k not in ("engineType",)]
    if req.engine_type:
        labels.insert(0, f"engineType:{req.engine_type}")
    if not any(x.startswith("userCreator:") for x in labels):
        labels.append(f"userCreator:{req.user_creator}")
    if not any(x.startswith("codeType:") for x in labels):
        labels.append(f"codeType:{run_type}")
    return labels


def _interceptor_failure(req: _Submission, user: str) -> tuple[int, str] | None:
    """What the entrance's interceptors refuse: (errCode, desc), or None."""
    check_user, sep, creator = str(req.user_creator).partition("-")
    if not req.engine_type:
        return 50079, "engineTypeLabel must be need to set(引擎类型标签必须设置)"
    if not sep or not check_user or not _CREATOR.fullmatch(creator):
        return (
            50079,
            f"userCreator label {req.user_creator!r} is invalid: use <user>-<creator> with a "
            "creator of letters, digits and _, e.g. alice-IDE",
        )
    if check_user.lower() != user.lower():
        return (
            50080,
            f"userCreator {req.user_creator} is not the execute user {user}"
            f"(提交用户{check_user}与执行用户{user}不一致)",
        )
    return None


def submit_job(gateway: Gateway, user: str, body: dict[str, Any]) -> dict[str, Any]:
    """Parse a 1.x or 0.x body, run the interceptors, queue the job: {execID, taskID}."""
    params = _as_dict(body.get("params"))
    source = _as_dict(body.get("source"))
    variables = _as_dict(params.get("variable"))
    parse = _parse_v1 if "executionContent" in body else _parse_v0
    req = parse(body, user, gateway.instance)
    run_type = req.run_type.strip()
    labels = _label_list(req, run_type)
    creator = str(req.user_creator).partition("-")[2]
    failure = _interceptor_failure(req, user)
    if failure is not None:
        gateway.manager.persist_rejected(
            user=user,
            creator=creator or "IDE",
            engine_type=str(req.engine_type) if req.engine_type else None,
            run_type=run_type,
            code=req.code,
            labels=labels,
            params=params,
            source=source,
            err_code=failure[0],
            err_desc=failure[1],
        )
        raise linkis_error(*failure, instance=gateway.instance)
    engine, _, version = str(req.engine_type).partition("-")
    job = gateway.manager.submit(
        user=user,
        creator=creator,
        engine=engine.lower(),
        engine_version=version,
        run_type=run_type,
        code=req.code,
        variables={str(k): v for k, v in variables.items()},
        labels=labels,
        params=params,
        source={**source, "requestIP": "127.0.0.1"},
    )
    return {"execID": job.exec_id, "taskID": job.task_id}


@router.post("/entrance/submit")
async def submit(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    body = await json_body(request)
    data = await run_in_threadpool(submit_job, gateway, user, body)
    return envelope("/api/entrance/submit", 0, "OK", data)


@router.post("/entrance/execute")
async def execute(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    body = await json_body(request)
    data = await run_in_threadpool(submit_job, gateway, user, body)
    return envelope("/api/entrance/execute", 0, "OK", data)


# -- one job ---------------------------------------------------------------------------------


def _method(exec_id: str, action: str) -> str:
    return f"/api/entrance/{exec_id}/{action}"


def _require_owner(job: Job, user: str, what: str) -> None:
    if job.user != user:
        raise ApiError(1, f"You have no permission to {what} this job, excecute by user:{job.user}")


def _held_job(gateway: Gateway, exec_id: str, method: str, message: str) -> Job:
    """The job if the entrance still holds it, else ApiError with `message`."""
    job = gateway.manager.get(exec_id)
    if job is None:
        raise ApiError(1, message, method=method)
    return job


def _progress_data(job: Job) -> dict[str, Any]:
    with job.lock:
        done = job.state == "Succeed"
        stages = [dict(s) for s in job.stages if s.get("totalTasks")]
        progress = 1.0 if done else job.progress
    return {"progress": abs(progress), "progressInfo": stages, "execID": job.exec_id}


@router.get("/entrance/{exec_id}/status")
def status(exec_id: str, request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    method = _method(exec_id, "status")
    job = gateway.manager.get(exec_id)
    if job is not None:
        return envelope(method, 0, "OK", {"status": job.state, "execID": exec_id})
    task_id = query_int(request.query_params.get("taskID"), "taskID", 0)
    if task_id > 0:
        row = gateway.store.get(task_id)
        state = row.status if row is not None and row.submit_user == user else "Cancelled"
        return envelope(method, 0, "OK", {"status": state, "execID": exec_id})
    raise ApiError(
        1,
        "Get job by ID error and cannot obtain the corresponding task status."
        "(获取job时发生异常，不能获取相应的任务状态)",
        method=method,
    )


@router.get("/entrance/{exec_id}/progress")
def progress(exec_id: str, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    method = _method(exec_id, "progress")
    job = _held_job(gateway, exec_id, method, _PROGRESS_MISSING)
    return envelope(method, 0, "OK", _progress_data(job))


@router.get("/entrance/{exec_id}/progressWithResource")
def progress_with_resource(exec_id: str, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    method = _method(exec_id, "progressWithResource")
    job = _held_job(gateway, exec_id, method, _PROGRESS_MISSING)
    return envelope(method, 0, "OK", {**_progress_data(job), "yarnResource": None})


@router.get("/entrance/{exec_id}/log")
def log(exec_id: str, request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    method = _method(exec_id, "log")
    job = _held_job(
        gateway,
        exec_id,
        method,
        "The job you just executed has ended. This interface no longer provides a query. "
        "It is recommended that you download the log file for viewing."
        "(您刚刚执行的job已经结束，本接口不再提供查询，建议您下载日志文件进行查看)",
    )
    _require_owner(job, user, "view the log of")
    q = request.query_params
    from_line = max(query_int(q.get("fromLine"), "fromLine", 0), 0)
    size = query_int(q.get("size"), "size", 100)
    if size < 0:
        size = 10000
    lines = job.snapshot_lines()
    start = max(from_line, 1) - 1
    chunk = lines[start : start + size]
    data: dict[str, Any] = {"execID": exec_id, "fromLine": from_line + len(chunk)}
    if query_bool(q.get("distinctLevel"), True):
        data["log"] = split_log(chunk, terminate=False)
    else:
        data["log"] = "\n".join(x for x in chunk if x.strip())
    return envelope(method, 0, "OK", data)


def kill_one(gateway: Gateway, user: str, exec_id: str, task_param: Any) -> JSONResponse:
    """Kill a held job, or force-kill its history row by taskID (§3.8)."""
    method = _method(exec_id, "kill")
    job = gateway.manager.get(exec_id)
    if job is not None:
        _require_owner(job, user, "kill")
        gateway.manager.kill(job, user)
        return envelope(
            method, 0, "Successfully killed the job(成功kill了job)", {"execID": exec_id}
        )
    task_id = query_int(None if task_param is None else str(task_param), "taskID", 0)
    if task_id > 0:
        row = gateway.store.get(task_id)
        if row is not None and row.submit_user != user:
            raise ApiError(
                1,
                f"You have no permission to kill this job, excecute by user:{row.submit_user}",
                method=method,
            )
        if row is not None:
            gateway.manager.force_kill(task_id)
        return envelope(method, 0, "Forced Kill task (强制杀死任务)", {"execID": exec_id})
    raise ApiError(
        1, "Get job by ID error, kill failed.(获取job时发生异常，kill失败)", method=method
    )


@router.get("/entrance/{exec_id}/kill")
def kill(exec_id: str, request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    return kill_one(gateway, user, exec_id, request.query_params.get("taskID"))


@router.post("/entrance/{exec_id}/killJobs")
async def kill_jobs(
    exec_id: str, request: Request, user: CurrentUser, gateway: GatewayDep
) -> JSONResponse:
    body = await json_body(request)
    ids, task_ids = body.get("idList"), body.get("taskIDList")
    if not isinstance(ids, list) or not isinstance(task_ids, list) or len(ids) != len(task_ids):
        raise ApiError(1, "idList and taskIDList must be arrays of the same length")
    messages = []
    for one_exec, one_task in zip(ids, task_ids, strict=True):
        reply = await run_in_threadpool(kill_one, gateway, user, str(one_exec), one_task)
        messages.append(json.loads(bytes(reply.body)))
    return envelope("/api/entrance/killJobs", 0, "success", {"messages": messages})


@router.get("/entrance/{exec_id}/pause")
def pause(exec_id: str, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    method = _method(exec_id, "pause")
    _held_job(
        gateway, exec_id, method, "Get job by ID error, pause failed.(获取job时发生异常，pause失败)"
    )
    return envelope(method, 0, "success to pause job (成功pause了job)", {"execID": exec_id})
