"""HTTP routes of the sandbox gateway under /api/rest_j/v1/ (REFERENCE §1-§5, §12).

Every JSON reply is a Linkis envelope `{method, status, message, data}` with the HTTP code
Linkis uses for that status (0->200, 1->400, -1->401, 2->412, 3->403, 4->206) — also for
FastAPI's own validation, 404 and 405 errors, which would otherwise be `{"detail": ...}`.
The one non-JSON endpoint, resultsetToExcel, streams bytes and reports failures as
`text/plain` `error(错误):...` with HTTP 200, exactly like Linkis, so clients are exercised
on that quirk too.

Security: everything but login/logout/publicKey needs a session cookie or Token-Code +
Token-User; filesystem paths must be `file://` URIs that resolve (symlinks followed) inside
the caller's own result or log directory; users cannot read, list or kill other users' jobs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import os
import queue
import re
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from linkis_magic.sandbox import dolphin
from linkis_magic.sandbox.jobs import TERMINAL, Job, JobManager, file_uri
from linkis_magic.sandbox.store import TaskStore

PREFIX = "/api/rest_j/v1"
COOKIE = "linkis_user_session_ticket_id_v1"
HTTP_FOR_STATUS = {-1: 401, 0: 200, 1: 400, 2: 412, 3: 403, 4: 206}
NOT_LOGGED_IN = "You are not logged in, please login first(您尚未登录，请先登录)!"
EXPIRED = "Login has expired, please log in again!(登录已过期，请重新登录！)"
MAX_PAGE_SIZE = 100_000
LOG_LIMIT = 30 * 1024 * 1024
OPENABLE_SUFFIXES = frozenset(
    {"dolphin", "sql", "scala", "py", "py3", "hql", "python", "out", "log", "text", "sh"}
    | {"jdbc", "ngql", "psql", "fql", "tsql", "txt", "aisql"}
)
_ERROR_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})? (?:SYSTEM-)?ERROR ")
_CREATOR = re.compile(r"[A-Za-z0-9_]{1,64}")  # it becomes a directory name: no / or ..
_WARN_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})? (?:SYSTEM-)?WARN ")


@dataclass
class SandboxConfig:
    """What the CLI configures; secrets are kept out of the repr."""

    data_dir: Path
    users: dict[str, str] = field(repr=False)
    tokens: frozenset[str] = field(default=frozenset(), repr=False)
    session_timeout: float = 3600.0
    workers: int = 4
    job_retention: float = 3600.0
    job_retention_count: int = 1000
    instance: str = "127.0.0.1:9001"
    demo_data: bool = True
    spark_master: str | None = None


class ApiError(Exception):
    """An envelope reply other than success; raised anywhere in a route."""

    def __init__(
        self,
        status: int,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        method: str | None = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data or {}
        self.method = method


def linkis_error(code: int, desc: str, *, status: int = 1, instance: str = "") -> ApiError:
    """A Linkis ErrorException/WarnException rendered as §1.3 describes."""
    host, _, port = instance.rpartition(":")
    if status == 4:
        message = f"Warning code(警告码): {code}, Warning message(警告信息): {desc}."
    else:
        message = f"error code(错误码): {code}, error message(错误信息): {desc}."
    error_msg = {
        "level": 1 if status == 4 else 2,
        "errCode": code,
        "desc": desc,
        "ip": host or "127.0.0.1",
        "port": int(port) if port.isdigit() else 0,
        "serviceKind": "linkis-sandbox",
    }
    return ApiError(status, message, {"errorMsg": error_msg})


def envelope(
    method: str | None, status: int, message: str, data: Any = None, **headers: str
) -> JSONResponse:
    body = {"method": method, "status": status, "message": message, "data": data or {}}
    return JSONResponse(body, status_code=HTTP_FOR_STATUS.get(status, 400), headers=headers)


def backend_method(request: Request) -> str:
    """`/api/<service path>` as Linkis backends fill `method`."""
    path = request.url.path
    return "/api" + path[len(PREFIX) :] if path.startswith(PREFIX) else path


class Sessions:
    """Server-side session tickets with an idle timeout (gateway restart drops them all)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._tickets: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def create(self, user: str) -> str:
        ticket = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            # forget idle tickets so repeated logins cannot grow the map without bound
            for stale in [t for t, e in self._tickets.items() if now - e[1] > self.timeout]:
                del self._tickets[stale]
            self._tickets[ticket] = [user, now]
        return ticket

    def drop(self, ticket: str | None) -> None:
        if ticket:
            with self._lock:
                self._tickets.pop(ticket, None)

    def user(self, ticket: str | None) -> tuple[str | None, bool]:
        """(user, expired): refreshes the idle clock of a valid ticket."""
        if not ticket:
            return None, False
        now = time.monotonic()
        with self._lock:
            entry = self._tickets.get(ticket)
            if entry is None:
                return None, False
            if now - entry[1] > self.timeout:
                del self._tickets[ticket]
                return None, True
            entry[1] = now
            return str(entry[0]), False


def _parse_int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(1, f"parameter {name} must be an integer, got {value!r}") from None


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() == "true"


def split_log(lines: Iterable[str], *, terminate: bool) -> list[str]:
    """The 4-slot log array: [error, warn, info, all] (REFERENCE §3.7/§5.5)."""
    slots: list[list[str]] = [[], [], [], []]
    for line in lines:
        if not line.strip():
            continue
        if _ERROR_LINE.search(line):
            slots[0].append(line)
        elif _WARN_LINE.search(line):
            slots[1].append(line)
        else:
            slots[2].append(line)
        slots[3].append(line)
    if terminate:
        return ["".join(x + "\n" for x in slot) for slot in slots]
    return ["\n".join(slot) for slot in slots]


def create_app(config: SandboxConfig) -> FastAPI:
    """Build the gateway (engines, job manager, routes) for one data directory."""
    from linkis_magic.sandbox.engines.duckdb import DuckDBEngine
    from linkis_magic.sandbox.engines.python import PythonEngine
    from linkis_magic.sandbox.engines.shell import ShellEngine

    data_dir = config.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "result").mkdir(exist_ok=True)
    (data_dir / "log").mkdir(exist_ok=True)
    tmp_dir = data_dir / "tmp"
    tmp_dir.mkdir(exist_ok=True)
    store = TaskStore(data_dir / "jobhistory.sqlite3")
    sql_engine = DuckDBEngine(data_dir / "sandbox.duckdb", demo_data=config.demo_data)
    engines: dict[str, Any] = {"sql": sql_engine, "python": PythonEngine(), "shell": ShellEngine()}
    spark_engine = None
    if config.spark_master:
        from linkis_magic.sandbox.engines.spark import SparkEngine

        spark_engine = engines["spark"] = SparkEngine(config.spark_master, data_dir / "spark")
    manager = JobManager(
        store,
        data_dir,
        config.instance,
        workers=config.workers,
        retention_seconds=config.job_retention,
        retention_count=config.job_retention_count,
        engines=engines,
    )
    sessions = Sessions(config.session_timeout)
    threading.Thread(target=_warm_up, args=(tmp_dir,), daemon=True).start()
    instance = config.instance

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        manager.shutdown()
        sql_engine.close()
        if spark_engine is not None:
            spark_engine.close()
        store.close()

    app = FastAPI(
        title="Linkis sandbox gateway",
        description="A local Apache Linkis 1.x compatible gateway (DuckDB, Python, shell).",
        lifespan=lifespan,
    )
    app.state.manager = manager
    app.state.config = config

    # -- error handling: envelopes always -----------------------------------------------

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> JSONResponse:
        method = backend_method(request) if exc.method == "" else exc.method
        return envelope(method, exc.status, exc.message, exc.data)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return envelope(backend_method(request), 1, f"invalid request parameters: {problems}")

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = f"{exc.status_code} {exc.detail}: {request.method} {request.url.path}"
        return envelope(backend_method(request), 1, reason)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        return envelope(
            backend_method(request), 1, f"operation failed(操作失败)s！the reason(原因)：{exc}"
        )

    # -- authentication -----------------------------------------------------------------

    def token_pair(request: Request) -> tuple[str | None, str | None]:
        code = request.headers.get("Token-Code") or request.cookies.get("Token-Code")
        user = request.headers.get("Token-User") or request.cookies.get("Token-User")
        return code, user

    def authenticate(request: Request) -> str:
        """The caller's user name, or ApiError -1 (HTTP 401, method = request URI)."""
        code, token_user = token_pair(request)
        uri = request.url.path
        if code and token_user:
            valid_token = any(hmac.compare_digest(code, t) for t in config.tokens)
            if not valid_token:
                reason = "Invalid Token(数据库中未配置的无效令牌)"
            elif token_user.lower() not in config.users:
                reason = f"Illegal TokenUser for Token(Token非法用户): {token_user}"
            else:
                return token_user.lower()
            # never echo the token itself: secrets stay out of replies and logs
            raise ApiError(
                -1,
                f"Token Authentication Failed, token: ******，tokenUser: {token_user}, "
                f"reason: {reason}",
                method=uri,
            )
        user, expired = sessions.user(request.cookies.get(COOKIE))
        if user is None:
            raise ApiError(-1, EXPIRED if expired else NOT_LOGGED_IN, method=uri)
        return user

    # -- /user ---------------------------------------------------------------------------

    def login_reply(status: int, message: str, data: dict[str, Any]) -> JSONResponse:
        return envelope(None, status, message, data)

    async def credentials(request: Request) -> tuple[str, str]:
        q = request.query_params
        name = q.get("userName")
        password = q.get("password") or q.get("passwdEncrypt")
        if name is None and password is None:
            raw = await request.body()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(1, "login body must be JSON {userName, password}") from None
                if isinstance(body, dict):
                    name = body.get("userName")
                    password = body.get("password") or body.get("passwdEncrypt")
        return str(name or "").strip(), str(password or "")

    async def user_endpoint(action: str, request: Request) -> Response:
        timeout_ms = int(config.session_timeout * 1000)
        if action == "login":
            current, _ = sessions.user(request.cookies.get(COOKIE))
            if current is not None:
                return login_reply(
                    0,
                    f"{current} already logged in, please log out before signing in"
                    "(已经登录，请先退出再进行登录)！",
                    {"userName": current},
                )
            name, password = await credentials(request)
            extra = {"sessionTimeOut": timeout_ms, "enableWatermark": False}
            if not name:
                return login_reply(1, "Username can not be empty(用户名不能为空)！", extra)
            if not password:
                return login_reply(1, "Password can not be blank(密码不能为空)！", extra)
            name = name.lower()
            expected = config.users.get(name)
            if expected is None or not hmac.compare_digest(
                expected.encode("utf-8"), password.encode("utf-8")
            ):
                return login_reply(1, "wrong user name or password(用户名或密码错误)！", extra)
            reply = login_reply(
                0,
                "login successful(登录成功)！",
                {"userName": name, "isAdmin": False, **extra},
            )
            reply.set_cookie(COOKIE, sessions.create(name), path="/", httponly=True)
            return reply
        if action == "logout":
            sessions.drop(request.cookies.get(COOKIE))
            reply = login_reply(0, "Logout successful(退出登录成功)！", {})
            reply.set_cookie(COOKIE, "", path="/", max_age=0)
            return reply
        if action == "publicKey":
            return login_reply(
                0, "Gain success(获取成功)！", {"enableSSL": False, "enableLoginEncrypt": False}
            )
        if action == "token-login":
            if request.method != "POST":
                return login_reply(1, "token-login only supports POST", {})
            code, token_user = token_pair(request)
            if not (code and token_user):
                raise ApiError(-1, "Token-Code and Token-User are required", method=None)
            user = authenticate(request)
            reply = login_reply(
                0, "login successful(登录成功)！", {"userName": user, "isAdmin": False}
            )
            reply.set_cookie(COOKIE, sessions.create(user), path="/", httponly=True)
            return reply
        if action == "userInfo":
            try:
                user = authenticate(request)
            except ApiError as exc:
                return login_reply(1, exc.message, {})
            return login_reply(0, "get user information succeed!", {"userName": user})
        if action == "heartbeat":
            try:
                authenticate(request)
            except ApiError as exc:
                return login_reply(-1, exc.message, {})
            return login_reply(0, "Maintain heartbeat success(维系心跳成功)", {})
        if action == "baseinfo":
            authenticate(request)
            return login_reply(
                0,
                "OK",
                {
                    "resultSetExportEnable": True,
                    "linkisClusterName": "sandbox",
                    "engineLogOnlyAdminEnable": False,
                },
            )
        return login_reply(1, f"unknown request URI {request.url.path}", {})

    # Linkis dispatches /user/* by the last segment whatever the method; one route per method
    # keeps the OpenAPI operation ids unique.
    for verb in ("GET", "POST", "PUT", "DELETE"):
        app.add_api_route(
            PREFIX + "/user/{action}",
            user_endpoint,
            methods=[verb],
            operation_id=f"user_{verb.lower()}",
        )

    # -- entrance ------------------------------------------------------------------------

    async def json_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise ApiError(1, "request body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(1, "request body must be a JSON object")
        return body

    def as_str_dict(value: Any) -> dict[str, Any]:
        return dict(value) if isinstance(value, dict) else {}

    def submit_job(user: str, body: dict[str, Any], *, legacy_route: bool) -> dict[str, Any]:
        """Parse a 1.x or 0.x body (REFERENCE §3.2/§3.3), run the interceptors, queue."""
        params = as_str_dict(body.get("params"))
        source = as_str_dict(body.get("source"))
        variables = as_str_dict(params.get("variable"))
        if "executionContent" in body:
            content = body.get("executionContent")
            if not isinstance(content, dict) or "code" not in content:
                raise linkis_error(
                    20010,
                    "Only code with runtype supported(仅支持带runtype的代码)",
                    instance=instance,
                )
            code = content.get("code")
            if not isinstance(code, str) or not code.strip():
                raise linkis_error(
                    20007,
                    "The execution code is empty, please check your code(执行代码为空)",
                    instance=instance,
                )
            labels = body.get("labels")
            if not isinstance(labels, dict) or not labels:
                raise linkis_error(
                    20008,
                    "params cannot be empty, labels is null(参数不能为空)",
                    instance=instance,
                )
            labels = {str(k): v for k, v in labels.items()}
            run_type = content.get("runType") or labels.get("codeType")
            engine_type = labels.get("engineType")
            if not run_type:
                raise linkis_error(
                    20009,
                    "Label params invalid You need to specify runType in execution content, "
                    "such as sql",
                    instance=instance,
                )
            if not engine_type:
                raise linkis_error(
                    20009,
                    "Label params invalid You need to specify engineType in labels, "
                    "such as spark-3.2.1",
                    instance=instance,
                )
            user_creator = labels.get("userCreator") or f"{user}-IDE"
        else:
            code = body.get("executionCode")
            if not isinstance(code, str) or (not code.strip() and not source.get("scriptPath")):
                raise linkis_error(
                    20007,
                    "The execution code is empty, please check your code(执行代码为空)",
                    instance=instance,
                )
            creator = str(body.get("requestApplicationName") or "IDE")
            run_type = body.get("runType") or "sql"
            app_name = body.get("executeApplicationName")
            labels = {str(k): v for k, v in as_str_dict(body.get("labels")).items()}
            engine_type = labels.get("engineType") or (
                f"{app_name}-{default_version(str(app_name))}" if app_name else None
            )
            user_creator = labels.get("userCreator") or f"{user}-{creator}"
            labels.setdefault("codeType", run_type)
        run_type = str(run_type).strip()
        label_list = [f"{k}:{v}" for k, v in labels.items() if k not in ("engineType",)]
        if engine_type:
            label_list.insert(0, f"engineType:{engine_type}")
        if not any(x.startswith("userCreator:") for x in label_list):
            label_list.append(f"userCreator:{user_creator}")
        if not any(x.startswith("codeType:") for x in label_list):
            label_list.append(f"codeType:{run_type}")
        # interceptors: the row is persisted Failed, the reply carries no taskID
        check_user, sep, creator = str(user_creator).partition("-")
        failure: tuple[int, str] | None = None
        if not engine_type:
            failure = (50079, "engineTypeLabel must be need to set(引擎类型标签必须设置)")
        elif not sep or not check_user or not _CREATOR.fullmatch(creator):
            failure = (
                50079,
                f"userCreator label {user_creator!r} is invalid: use <user>-<creator> with a "
                "creator of letters, digits and _, e.g. alice-IDE",
            )
        elif check_user.lower() != user.lower():
            failure = (
                50080,
                f"userCreator {user_creator} is not the execute user {user}"
                f"(提交用户{check_user}与执行用户{user}不一致)",
            )
        if failure is not None:
            manager.persist_rejected(
                user=user,
                creator=creator or "IDE",
                engine_type=str(engine_type) if engine_type else None,
                run_type=run_type,
                code=code,
                labels=label_list,
                params=params,
                source=source,
                err_code=failure[0],
                err_desc=failure[1],
            )
            raise linkis_error(failure[0], failure[1], instance=instance)
        engine, _, version = str(engine_type).partition("-")
        job = manager.submit(
            user=user,
            creator=creator,
            engine=engine.lower(),
            engine_version=version,
            run_type=run_type,
            code=code,
            variables={str(k): v for k, v in variables.items()},
            labels=label_list,
            params=params,
            source={**source, "requestIP": "127.0.0.1"},
        )
        return {"execID": job.exec_id, "taskID": job.task_id}

    @app.post(PREFIX + "/entrance/submit")
    async def submit(request: Request) -> JSONResponse:
        user = authenticate(request)
        body = await json_body(request)
        data = await run_sync(submit_job, user, body, legacy_route=False)
        return envelope("/api/entrance/submit", 0, "OK", data)

    @app.post(PREFIX + "/entrance/execute")
    async def execute(request: Request) -> JSONResponse:
        user = authenticate(request)
        body = await json_body(request)
        data = await run_sync(submit_job, user, body, legacy_route=True)
        return envelope("/api/entrance/execute", 0, "OK", data)

    def entrance_method(exec_id: str, action: str) -> str:
        return f"/api/entrance/{exec_id}/{action}"

    def require_owner(job: Job, user: str, what: str) -> None:
        if job.user != user:
            raise ApiError(
                1,
                f"You have no permission to {what} this job, excecute by user:{job.user}",
            )

    @app.get(PREFIX + "/entrance/{exec_id}/status")
    def status(exec_id: str, request: Request) -> JSONResponse:
        user = authenticate(request)
        method = entrance_method(exec_id, "status")
        job = manager.get(exec_id)
        if job is not None:
            return envelope(method, 0, "OK", {"status": job.state, "execID": exec_id})
        task_id = _parse_int(request.query_params.get("taskID"), "taskID", 0)
        if task_id > 0:
            row = store.get(task_id)
            state = row.status if row is not None and row.submit_user == user else "Cancelled"
            return envelope(method, 0, "OK", {"status": state, "execID": exec_id})
        raise ApiError(
            1,
            "Get job by ID error and cannot obtain the corresponding task status."
            "(获取job时发生异常，不能获取相应的任务状态)",
            method=method,
        )

    def progress_data(job: Job) -> dict[str, Any]:
        with job.lock:
            done = job.state == "Succeed"
            stages = [dict(s) for s in job.stages if s.get("totalTasks")]
            progress = 1.0 if done else job.progress
        return {"progress": abs(progress), "progressInfo": stages, "execID": job.exec_id}

    def held_job(exec_id: str, method: str, message: str) -> Job:
        job = manager.get(exec_id)
        if job is None:
            raise ApiError(1, message, method=method)
        return job

    progress_missing = (
        "The job corresponding to the ID is empty, and the corresponding task progress cannot "
        "be obtained.(ID 对应的job为空，不能获取相应的任务进度)"
    )

    @app.get(PREFIX + "/entrance/{exec_id}/progress")
    def progress(exec_id: str, request: Request) -> JSONResponse:
        authenticate(request)
        method = entrance_method(exec_id, "progress")
        job = held_job(exec_id, method, progress_missing)
        return envelope(method, 0, "OK", progress_data(job))

    @app.get(PREFIX + "/entrance/{exec_id}/progressWithResource")
    def progress_with_resource(exec_id: str, request: Request) -> JSONResponse:
        authenticate(request)
        method = entrance_method(exec_id, "progressWithResource")
        job = held_job(exec_id, method, progress_missing)
        return envelope(method, 0, "OK", {**progress_data(job), "yarnResource": None})

    @app.get(PREFIX + "/entrance/{exec_id}/log")
    def log(exec_id: str, request: Request) -> JSONResponse:
        user = authenticate(request)
        method = entrance_method(exec_id, "log")
        job = held_job(
            exec_id,
            method,
            "The job you just executed has ended. This interface no longer provides a query. "
            "It is recommended that you download the log file for viewing."
            "(您刚刚执行的job已经结束，本接口不再提供查询，建议您下载日志文件进行查看)",
        )
        require_owner(job, user, "view the log of")
        q = request.query_params
        from_line = max(_parse_int(q.get("fromLine"), "fromLine", 0), 0)
        size = _parse_int(q.get("size"), "size", 100)
        if size < 0:
            size = 10000
        lines = job.snapshot_lines()
        start = max(from_line, 1) - 1
        chunk = lines[start : start + size]
        data: dict[str, Any] = {"execID": exec_id, "fromLine": from_line + len(chunk)}
        if _bool(q.get("distinctLevel"), True):
            data["log"] = split_log(chunk, terminate=False)
        else:
            data["log"] = "\n".join(x for x in chunk if x.strip())
        return envelope(method, 0, "OK", data)

    @app.get(PREFIX + "/entrance/{exec_id}/kill")
    def kill(exec_id: str, request: Request) -> JSONResponse:
        user = authenticate(request)
        method = entrance_method(exec_id, "kill")
        return kill_one(user, exec_id, request.query_params.get("taskID"), method)

    def kill_one(user: str, exec_id: str, task_param: Any, method: str) -> JSONResponse:
        job = manager.get(exec_id)
        if job is not None:
            require_owner(job, user, "kill")
            manager.kill(job, user)
            return envelope(
                method, 0, "Successfully killed the job(成功kill了job)", {"execID": exec_id}
            )
        task_id = _parse_int(None if task_param is None else str(task_param), "taskID", 0)
        if task_id > 0:
            row = store.get(task_id)
            if row is not None and row.submit_user != user:
                raise ApiError(
                    1,
                    f"You have no permission to kill this job, excecute by user:{row.submit_user}",
                    method=method,
                )
            if row is not None:
                manager.force_kill(task_id)
            return envelope(method, 0, "Forced Kill task (强制杀死任务)", {"execID": exec_id})
        raise ApiError(
            1, "Get job by ID error, kill failed.(获取job时发生异常，kill失败)", method=method
        )

    @app.post(PREFIX + "/entrance/{exec_id}/killJobs")
    async def kill_jobs(exec_id: str, request: Request) -> JSONResponse:
        user = authenticate(request)
        body = await json_body(request)
        ids, task_ids = body.get("idList"), body.get("taskIDList")
        if not isinstance(ids, list) or not isinstance(task_ids, list) or len(ids) != len(task_ids):
            raise ApiError(1, "idList and taskIDList must be arrays of the same length")
        messages = []
        for one_exec, one_task in zip(ids, task_ids, strict=True):
            method = entrance_method(str(one_exec), "kill")
            reply = await run_sync(kill_one, user, str(one_exec), one_task, method)
            messages.append(json.loads(bytes(reply.body)))
        return envelope("/api/entrance/killJobs", 0, "success", {"messages": messages})

    @app.get(PREFIX + "/entrance/{exec_id}/pause")
    def pause(exec_id: str, request: Request) -> JSONResponse:
        authenticate(request)
        method = entrance_method(exec_id, "pause")
        held_job(
            exec_id, method, "Get job by ID error, pause failed.(获取job时发生异常，pause失败)"
        )
        return envelope(method, 0, "success to pause job (成功pause了job)", {"execID": exec_id})

    # -- jobhistory -----------------------------------------------------------------------

    def task_object(row: Any) -> dict[str, Any]:
        task: dict[str, Any] = row.to_task()
        job = manager.get(manager.exec_id_for(row.exec_id) if row.exec_id else "")
        if job is not None and job.state not in TERMINAL:
            with job.lock:
                task["progress"] = str(float(job.progress))
        return task

    not_found = (
        "The corresponding job was not found, or there may be no permission to view the job"
        "(没有找到对应的job，也可能是没有查看该job的权限)"
    )

    @app.get(PREFIX + "/jobhistory/{task_id}/get")
    def history_get(task_id: int, request: Request) -> JSONResponse:
        user = authenticate(request)
        row = store.get(task_id)
        if row is None or row.submit_user != user:
            raise ApiError(1, not_found)
        return envelope(backend_method(request), 0, "OK", {"task": task_object(row)})

    @app.get(PREFIX + "/jobhistory/list")
    def history_list(request: Request) -> JSONResponse:
        user = authenticate(request)
        q = request.query_params
        start = _parse_int(q.get("startDate"), "startDate", 0)
        end = _parse_int(q.get("endDate"), "endDate", int(time.time() * 1000))
        if start == end:
            end += 86_400_000
        page = max(_parse_int(q.get("pageNow"), "pageNow", 1), 1)
        page_size = max(_parse_int(q.get("pageSize"), "pageSize", 20), 1)
        task_param = q.get("taskID")
        rows, total = store.list(
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
            task_id=_parse_int(task_param, "taskID", 0) if task_param else None,
            page=page,
            page_size=page_size,
        )
        return envelope(
            backend_method(request),
            0,
            "OK",
            {"tasks": [task_object(r) for r in rows], "totalPage": total},
        )

    # -- filesystem -----------------------------------------------------------------------

    roots = (data_dir / "result", data_dir / "log")

    def user_path(raw: str | None, user: str) -> Path:
        """Resolve a `file://` URI and confine it to the user's result/log directories."""
        if raw is None or not raw.strip():
            raise linkis_error(80004, "path:(路径：)null is empty!(为空！)", instance=instance)
        denied = linkis_error(
            80010,
            f"The user: {user} has no permission to view the contents of the directory:{raw}"
            f"(用户{user}没有权限查看目录{raw}的内容)",
            instance=instance,
        )
        if not raw.startswith("file://"):
            if "://" in raw:
                raise denied
            raise linkis_error(
                80025, f"the path {raw} should contain a schema such as file://", instance=instance
            )
        local = raw[len("file://") :]
        if not local.startswith("/") or ".." in local.split("/"):
            raise denied
        resolved = Path(local).resolve()
        for root in roots:
            if resolved.is_relative_to(root):
                parts = resolved.relative_to(root).parts
                if len(parts) >= 3 and parts[2] == user:
                    return resolved
        raise denied

    def dir_entry(child: Path, parent_uri: str) -> dict[str, Any]:
        info = child.lstat()
        is_dir = child.is_dir() and not child.is_symlink()
        return {
            "name": child.name,
            "path": f"{parent_uri}/{child.name}",
            "properties": {}
            if is_dir
            else {"size": str(info.st_size), "modifytime": str(int(info.st_mtime * 1000))},
            "children": None,
            "isLeaf": not is_dir,
            "parentPath": parent_uri,
        }

    @app.get(PREFIX + "/filesystem/getDirFileTrees")
    def dir_file_trees(request: Request) -> JSONResponse:
        user = authenticate(request)
        path = user_path(request.query_params.get("path"), user)
        method = backend_method(request)
        if not path.is_dir():
            return envelope(method, 0, "OK", {"dirFileTrees": None})
        uri = file_uri(path)
        names = sorted(p.name for p in path.iterdir() if not dolphin.is_sidecar_name(p.name))
        children = [dir_entry(path / name, uri) for name in names]
        tree = {
            "name": path.name,
            "path": uri,
            "properties": None,
            "children": children,
            "isLeaf": False,
            "parentPath": None,
        }
        return envelope(method, 0, "OK", {"dirFileTrees": tree})

    def existing_file(request: Request, user: str) -> Path:
        raw = request.query_params.get("path")
        path = user_path(raw, user)
        if not path.is_file():
            raise linkis_error(80013, f"file does not exist(文件不存在): {raw}", instance=instance)
        return path

    @app.get(PREFIX + "/filesystem/openFile")
    def open_file(request: Request) -> JSONResponse:
        user = authenticate(request)
        path = existing_file(request, user)
        q = request.query_params
        page = max(_parse_int(q.get("page"), "page", 1), 1)
        page_size = _parse_int(q.get("pageSize"), "pageSize", 5000)
        if page_size > MAX_PAGE_SIZE:
            raise linkis_error(
                80034,
                f"The pageSize {page_size} exceeds the row limit {MAX_PAGE_SIZE}"
                f"(分页大小超过限制{MAX_PAGE_SIZE})",
                instance=instance,
            )
        if page_size < 1:
            raise ApiError(1, f"pageSize must be a positive number, got {page_size}")
        suffix = path.suffix.lstrip(".").lower()
        if suffix not in OPENABLE_SUFFIXES:
            raise linkis_error(
                52004, f"unsupported file type .{suffix}: {path.name}", instance=instance
            )
        raw_path = q.get("path")
        if path.stat().st_size == 0:
            raise linkis_error(51000, f"The file:{raw_path} is empty", status=4, instance=instance)
        method = backend_method(request)
        if suffix != "dolphin":
            text_lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            chunk = text_lines[(page - 1) * page_size : page * page_size]
            return envelope(
                method,
                0,
                "OK",
                {
                    "type": "script/text",
                    "metadata": [],
                    "fileContent": [[line] for line in chunk],
                    "page": page,
                    "totalPage": 0,
                    "totalLine": len(chunk),
                },
            )
        null_value = q.get("nullValue") or None
        type_code, header = dolphin.read_header(path)
        rows = dolphin.read_page(path, page, page_size, null_value)
        if isinstance(header, str):
            metadata: Any = header
            total_column = 1
        else:
            metadata = [
                {
                    "columnName": name,
                    "comment": comment if comment is not None else "NULL",
                    "dataType": data_type,
                }
                for name, data_type, comment in header
            ]
            total_column = len(metadata)
        return envelope(
            method,
            0,
            "OK",
            {
                "type": str(type_code),
                "metadata": metadata,
                "fileContent": rows,
                "page": page,
                "totalPage": 0,
                "totalLine": len(rows),
                "totalColumn": total_column,
            },
        )

    @app.get(PREFIX + "/filesystem/fileInfo")
    def file_info(request: Request) -> JSONResponse:
        user = authenticate(request)
        path = existing_file(request, user)
        page_size = _parse_int(request.query_params.get("pageSize"), "pageSize", 5000)
        if path.suffix == ".dolphin" and path.stat().st_size:
            _, header = dolphin.read_header(path)
            columns = 1 if isinstance(header, str) else len(header)
            rows = dolphin.count_rows(path)
        else:
            columns = 1
            rows = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
        if page_size >= 0:
            rows = min(rows, page_size)
        return envelope(
            backend_method(request),
            0,
            "OK",
            {"path": request.query_params.get("path"), "colNumber": columns, "rowNumber": rows},
        )

    @app.get(PREFIX + "/filesystem/openLog")
    def open_log(request: Request) -> JSONResponse:
        user = authenticate(request)
        path = existing_file(request, user)
        if path.stat().st_size > LOG_LIMIT:
            raise linkis_error(
                80033,
                f"The log file {path.name} is larger than 30M(日志文件超过30M)",
                instance=instance,
            )
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return envelope(backend_method(request), 0, "OK", {"log": split_log(lines, terminate=True)})

    @app.get(PREFIX + "/filesystem/resultsetToExcel")
    def resultset_to_excel(request: Request) -> Response:
        from linkis_magic.sandbox import export

        q = request.query_params
        tmp_name: str | None = None
        # The gateway refuses anonymous calls before any service runs: a 401 envelope here,
        # not the export's own text/plain error.
        user = authenticate(request)
        try:
            path = existing_file(request, user)
            file_type = q.get("outputFileType") or "csv"
            if file_type not in ("csv", "xlsx"):
                raise linkis_error(
                    80015,
                    f"unsupported export type(不支持的导出类型): {file_type}",
                    instance=instance,
                )
            separator = q.get("csvSeparator") or ","
            legacy = q.get("csvSeperator")
            if separator == "," and legacy:
                separator = legacy
            if separator == "t":
                separator = "\t"
            charset = q.get("charset") or "utf-8"
            null_value = q.get("nullValue") or "NULL"
            if null_value == "BLANK":
                null_value = ""
            limit = max(_parse_int(q.get("limit"), "limit", 0), 0)
            name = q.get("outputFileName") or "downloadResultset"
            if file_type == "csv":
                # Streamed: the export runs on a worker thread into a bounded queue while the
                # response sends what is ready, so a big download starts at once and the
                # client parses while the server still renders. A failure before the first
                # byte still becomes Linkis's text/plain error reply.
                stream = _CsvStream(
                    lambda out: export.export_csv(
                        path,
                        out,
                        separator=separator,
                        charset=charset,
                        null_value=null_value,
                        limit=limit,
                        quote_retouch=_bool(q.get("quoteRetouchEnable"), False),
                        keep_newline=_bool(q.get("keepNewline"), False),
                    )
                )
                first = stream.first_chunk()
                disposition = f"attachment;filename={name}.{file_type}"
                return StreamingResponse(
                    stream.chunks(first),
                    media_type=f"text/plain; charset={charset}",
                    headers={"Content-Disposition": disposition.encode("utf-8").decode("latin-1")},
                )
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, suffix="." + file_type)
            with os.fdopen(fd, "wb") as out:
                export.export_xlsx(
                    path,
                    out,
                    sheet_name=q.get("sheetName") or "result",
                    null_value=null_value,
                    limit=limit,
                    auto_format=_bool(q.get("autoFormat"), False),
                )
                media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        except Exception as exc:
            if tmp_name:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
            message = exc.message if isinstance(exc, ApiError) else export_error_text(exc)
            return PlainTextResponse(
                f"error(错误):{message}",
                status_code=200,
                media_type="text/plain; charset=utf-8",
            )
        disposition = f"attachment;filename={name}.{file_type}"
        return FileResponse(
            tmp_name,
            media_type=media,
            headers={"Content-Disposition": disposition.encode("utf-8").decode("latin-1")},
            background=BackgroundTask(os.unlink, tmp_name),
        )

    def export_error_text(exc: Exception) -> str:
        from linkis_magic.sandbox import export

        code = getattr(exc, "code", None) or getattr(exc, "err_code", None)
        if isinstance(exc, export.ExportError):
            code = code or 80024
        if code:
            return f"errCode: {code} ,desc: {exc} ,ip: 127.0.0.1 ,serviceKind: linkis-sandbox"
        return str(exc)

    return app


class _CsvStream:
    """Runs one export on a worker thread and hands its bytes over in ~1 MiB chunks.

    The queue is bounded so a slow client holds back the writer instead of buffering the
    whole file in memory.
    """

    _CHUNK = 1 << 20
    _DONE = object()

    def __init__(self, write: Callable[[Any], None]) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=8)
        self._buffer = bytearray()
        self._cancelled = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(write,), name="sandbox-export", daemon=True
        )
        self._thread.start()

    # the file-like side, used by export_csv on the worker thread
    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._cancelled.is_set():
            raise BrokenPipeError("the client went away")
        self._buffer += data
        if len(self._buffer) >= self._CHUNK:
            self._put(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def _put(self, item: Any) -> None:
        while not self._cancelled.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _run(self, write: Callable[[Any], None]) -> None:
        try:
            write(self)
            if self._buffer:
                self._put(bytes(self._buffer))
            self._put(self._DONE)
        except BaseException as exc:  # handed to the response side
            self._put(exc)

    # the response side
    def first_chunk(self) -> bytes:
        """Wait for the first bytes (or the error that came instead)."""
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return b"" if item is self._DONE else bytes(item)

    def chunks(self, first: bytes) -> Iterator[bytes]:
        try:
            if first:
                yield first
            else:
                return
            while True:
                item = self._queue.get()
                if item is self._DONE:
                    return
                if isinstance(item, BaseException):
                    raise item  # mid-stream: the connection breaks, the client sees it
                yield item
        finally:
            self._cancelled.set()


def _warm_up(tmp_dir: Path) -> None:
    """Write and read a tiny result set once so the first job does not pay pyarrow's
    kernel initialisation (a few hundred ms) on its latency."""
    import pyarrow as pa

    path = tmp_dir / "_warm_up.dolphin"
    try:
        dolphin.write_arrow(path, pa.table({"x": [1], "s": ["a"], "d": [1.5]}))
        dolphin.read_page(path, 1, 10, None)
    except Exception:  # best effort only
        return
    finally:
        for leftover in tmp_dir.glob("*_warm_up.dolphin*"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def default_version(engine: str) -> str:
    """Engine versions Linkis 1.4+ assumes when the 0.x API names only the engine."""
    return {
        "spark": "3.2.1",
        "hive": "3.1.3",
        "python": "python2",
        "shell": "1",
        "jdbc": "4",
    }.get(engine, "1")


async def run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run blocking work (SQLite, file I/O) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args, **kwargs)


def today() -> str:
    return dt.date.today().isoformat()
