"""LinkisClient: one method per Linkis REST endpoint, returning typed records.

Each method makes one call and maps one endpoint (docs/linkis-protocol.md §2-§5), so it is easy
to test alone. How a request travels (sessions, retries, envelopes, redaction) is
``_transport``; who the caller is (password login, tokens) is ``auth``; argument rules are
``_validate``. Polling and waiting live in :mod:`linkis_magic.job`: ``submit``, ``execute`` and
``job`` are the three doors into it and hand back a :class:`~linkis_magic.job.Job`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor

from linkis_magic import job as _job
from linkis_magic._transport import (
    API_PREFIX,
    BinaryWriter,
    Timeout,
    Transport,
    reason,
    save_download,
    sniff,
    transport_error,
)
from linkis_magic._validate import (
    check_base_url,
    check_creator,
    check_credentials,
    check_epoch_ms,
    check_exec_id,
    check_int,
    check_name,
    check_path,
    check_seconds,
    check_table_name,
    check_task_id,
    check_workspace_path,
)
from linkis_magic.auth import Auth, Secret, make_auth
from linkis_magic.errors import (
    ConfigurationError,
    GatewayError,
    LinkisError,
    MetadataUnavailable,
    NotLoggedInError,
    ProtocolError,
)
from linkis_magic.job import SubmitRequest
from linkis_magic.protocol import (
    ENGINE_APPLICATION,
    EXPORT_ERROR_PREFIX,
    ColumnInfo,
    DirEntry,
    EngineInfo,
    FileInfo,
    FilePage,
    JobStatus,
    LogChunk,
    Progress,
    SubmitResult,
    TableInfo,
    TaskInfo,
    TaskPage,
    check_export_error,
    parse_catalog,
    parse_columns,
    parse_databases,
    parse_dir_tree,
    parse_engines,
    parse_file_info,
    parse_file_page,
    parse_is_exist,
    parse_log,
    parse_open_log,
    parse_progress,
    parse_status,
    parse_submit,
    parse_tables,
    parse_task,
    parse_task_page,
    parse_user_root,
)

if TYPE_CHECKING:  # pandas and pyarrow load with the first push, not with the client
    import pandas as pd

    from linkis_magic._push import PushMode, PushPlan

__all__ = ["API_PREFIX", "LinkisClient", "ProgressCallback", "StagedPush"]

logger = logging.getLogger("linkis_magic.client")

ProgressCallback = Callable[[int, int], None]
"""``on_progress(bytes_sent, bytes_total)`` of an upload."""
_PROGRESS_STEP = 1 << 20  # an upload reports progress at most once per MiB

_CHUNK = 1 << 20  # download read size: big reads keep a 100 MB export cheap
_SNIFF = len(EXPORT_ERROR_PREFIX.encode("utf-8")) + 64


class LinkisClient:
    """A connection to one Linkis gateway, as one user.

    >>> with LinkisClient("http://gateway:9001", user="alice", password="...") as client:
    ...     job = client.submit("select 1", engine_type="spark-3.2.1")

    ``verify`` is True (check TLS certificates), False, or a CA bundle path. ``timeout`` is a
    ``(connect, read)`` pair in seconds (or one number for both); it is always finite.
    ``auth`` takes a ready scheme from :mod:`linkis_magic.auth` instead of password/token.
    ``gateway_outage_timeout`` (seconds, default 300) is how long a job's ``wait()`` rides out
    a gateway that cannot be reached (a gateway or entrance restart) before giving up.
    """

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: str | Secret | None = None,
        token: str | Secret | None = None,
        auth: Auth | None = None,
        creator: str = "IDE",
        timeout: Timeout = (5.0, 60.0),
        verify: bool | str = True,
        retries: int = 3,
        session: requests.Session | None = None,
        gateway_outage_timeout: float = _job.GATEWAY_OUTAGE_TIMEOUT,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.user = check_credentials(user, password, token)
        if auth is None:
            auth = make_auth(self.user, password, token)
        elif password is not None or token is not None:
            raise ConfigurationError("give either auth= or password=/token=, not both")
        self.auth = auth
        self.creator = check_creator(creator)
        self.gateway_outage_timeout = check_seconds(
            gateway_outage_timeout, "gateway_outage_timeout"
        )
        self._transport = Transport(
            self.base_url,
            auth=auth,
            timeout=timeout,
            verify=verify,
            retries=retries,
            session=session,
        )
        # whether this gateway answers progressWithResource (None until asked): a wire quirk
        # the client learns once and keeps to itself (see progress())
        self._resource_progress: bool | None = None
        self.timeout = self._transport.timeout
        self.verify = self._transport.verify
        self.retries = self._transport.retries

    def __repr__(self) -> str:
        return (
            f"LinkisClient(base_url={self.base_url!r}, user={self.user!r}, auth={self.auth.kind!r})"
        )

    __str__ = __repr__

    def __enter__(self) -> LinkisClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release connections (the server-side session is left alone; see logout())."""
        self._transport.close()

    # ------------------------------------------------------------------ authentication

    def login(self) -> None:
        """Log in with the password (RSA-encrypted when the gateway asks for it)."""
        if self.auth.kind == "token":
            raise ConfigurationError("token authentication never logs in; nothing to do")
        login = getattr(self.auth, "login", None)
        if login is None:
            raise ConfigurationError("login() needs user= and password=")
        login(self._transport)

    def logout(self) -> None:
        """End the server session (password auth); token auth has none."""
        logout = getattr(self.auth, "logout", None)
        if logout is not None:
            logout(self._transport)

    # ------------------------------------------------------------------ jobs

    def submit(
        self,
        code: str,
        *,
        run_type: str = "sql",
        engine_type: str,
        creator: str | None = None,
        variables: Mapping[str, Any] | None = None,
        runtime: Mapping[str, Any] | None = None,
        startup: Mapping[str, Any] | None = None,
        special: Mapping[str, Any] | None = None,
        source: Mapping[str, Any] | None = None,
        labels: Mapping[str, Any] | None = None,
        execute_user: str | None = None,
    ) -> _job.Job:
        """Submit code with the 1.x ``entrance/submit`` body; returns a Job (not waited on).

        The keywords are the fields of :class:`~linkis_magic.job.SubmitRequest`;
        ``execute_user`` runs the job as another user (``executeUser``; admin tokens only).
        """
        request = SubmitRequest(
            code=code,
            run_type=run_type,
            engine_type=engine_type,
            creator=creator,
            variables=variables,
            runtime=runtime,
            startup=startup,
            special=special,
            source=source,
            labels=labels,
            execute_user=execute_user,
        )
        return self.start(request)

    def execute(
        self,
        code: str,
        *,
        run_type: str = "sql",
        engine_type: str,
        creator: str | None = None,
        variables: Mapping[str, Any] | None = None,
        runtime: Mapping[str, Any] | None = None,
        startup: Mapping[str, Any] | None = None,
        special: Mapping[str, Any] | None = None,
        source: Mapping[str, Any] | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> _job.Job:
        """Submit with the 0.x ``entrance/execute`` body; ``engine_type`` may omit the version."""
        request = SubmitRequest(
            code=code,
            run_type=run_type,
            engine_type=engine_type,
            creator=creator,
            variables=variables,
            runtime=runtime,
            startup=startup,
            special=special,
            source=source,
            labels=labels,
        )
        return self.start(request, api="v0")

    def start(self, request: SubmitRequest, *, api: Literal["v1", "v0"] = "v1") -> _job.Job:
        """Submit a ready :class:`~linkis_magic.job.SubmitRequest` with the 1.x body (``v1``,
        like ``submit``) or the 0.x body (``v0``, like ``execute``); returns a Job."""
        if not isinstance(request, SubmitRequest):
            raise ConfigurationError("start() needs a SubmitRequest; use submit(code, ...)")
        if api == "v1":
            return _job.submit(self, request)
        if api == "v0":
            return _job.execute(self, request)
        raise ConfigurationError(f"api must be 'v1' or 'v0', got {api!r}")

    def job(self, task_id: int) -> _job.Job:
        """Re-attach to an earlier task by taskID (execID recovered from jobhistory)."""
        return _job.attach(self, task_id)

    # ------------------------------------------------------------------ entrance

    def submit_raw(self, body: Mapping[str, Any]) -> SubmitResult:
        """POST a ready-made body to ``entrance/submit``; never resent once it may have arrived."""
        if not isinstance(body, Mapping):
            raise ConfigurationError("submit_raw() needs the request body as a dict")
        env = self._transport.call("POST", "entrance/submit", json_body=dict(body), resend=False)
        return parse_submit(env.data)

    def execute_raw(self, body: Mapping[str, Any]) -> SubmitResult:
        """POST a ready-made 0.x body to ``entrance/execute``; never resent."""
        if not isinstance(body, Mapping):
            raise ConfigurationError("execute_raw() needs the request body as a dict")
        env = self._transport.call("POST", "entrance/execute", json_body=dict(body), resend=False)
        return parse_submit(env.data)

    @staticmethod
    def _exec_path(exec_id: str, action: str) -> str:
        # Verbatim: the gateway slices the raw segment by the embedded lengths (§3.1).
        return f"entrance/{check_exec_id(exec_id)}/{action}"

    def status(
        self, exec_id: str, *, task_id: int | None = None, timeout: float | None = None
    ) -> JobStatus:
        """``GET entrance/{execID}/status``; ``task_id`` enables the database fallback.

        ``timeout`` (seconds) bounds the call and turns its retries off.
        """
        params = {"taskID": None if task_id is None else check_task_id(task_id)}
        env = self._transport.call(
            "GET", self._exec_path(exec_id, "status"), params=params, timeout=timeout
        )
        return parse_status(env.data)

    def progress(self, exec_id: str, *, with_resources: bool = False) -> Progress:
        """``GET entrance/{execID}/progress``: overall fraction and per-stage task counts.

        ``with_resources`` asks ``progressWithResource`` (Linkis 1.1.1+, §14.1): the same, plus
        the job's YARN applications when it holds any. A gateway without that route (HTTP
        404/405, or a status-1 envelope before the route ever answered) is found out once per
        client: that call and every later one use ``progress``, so a Progress comes back either
        way.
        """
        if with_resources and self._resource_progress is not False:
            try:
                env = self._transport.call("GET", self._exec_path(exec_id, "progressWithResource"))
            except ProtocolError as exc:
                if exc.http_status not in (404, 405):
                    raise
                self._resource_progress = False  # an older gateway: no such route
            except NotLoggedInError:
                raise
            except GatewayError:
                if self._resource_progress:  # it answered before: the job is the problem
                    raise
                self._resource_progress = False  # never answered it: treat as an older one
            else:
                self._resource_progress = True
                return parse_progress(env.data)
        env = self._transport.call("GET", self._exec_path(exec_id, "progress"))
        return parse_progress(env.data)

    def log(
        self,
        exec_id: str,
        *,
        from_line: int = 1,
        size: int | None = None,
        distinct_level: bool = True,
    ) -> LogChunk:
        """``GET entrance/{execID}/log`` from the 1-based ``from_line``; size -1 means 10000.

        ``distinct_level=False`` asks for the log as one string: each line crosses the wire
        once instead of twice (info and all slots); error/warn lines are then classified
        client-side with Linkis's own rule.
        """
        check_int(from_line, "from_line", hint="1-based; start with 1")
        if size is not None and check_int(size, "size", minimum=-1) == 0:
            raise ConfigurationError("size must be a non-zero integer or None, got 0")
        params = {
            "fromLine": from_line,
            "size": size,
            "distinctLevel": None if distinct_level else "false",
        }
        env = self._transport.call("GET", self._exec_path(exec_id, "log"), params=params)
        return parse_log(env.data, requested_from=from_line)

    def kill(
        self, exec_id: str, *, task_id: int | None = None, timeout: float | None = None
    ) -> str:
        """``GET entrance/{execID}/kill`` (never resent); returns the gateway's message."""
        params = {"taskID": None if task_id is None else check_task_id(task_id)}
        env = self._transport.call(
            "GET", self._exec_path(exec_id, "kill"), params=params, resend=False, timeout=timeout
        )
        return env.message

    # ------------------------------------------------------------------ jobhistory

    def task(self, task_id: int, *, timeout: float | None = None) -> TaskInfo:
        """``GET jobhistory/{taskID}/get``: the database row of a task."""
        path = f"jobhistory/{check_task_id(task_id)}/get"
        env = self._transport.call("GET", path, timeout=timeout)
        data = env.data if isinstance(env.data, dict) else {}
        return parse_task(data.get("task"))

    def tasks(
        self,
        *,
        page: int = 1,
        page_size: int = 20,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
        creator: str | None = None,
        engine_type: str | None = None,
        start: datetime | int | None = None,
        end: datetime | int | None = None,
    ) -> TaskPage:
        """``GET jobhistory/list``, newest first; ``TaskPage.total`` counts matching rows."""
        states: str | None = None
        if status is not None:
            items = [status] if isinstance(status, str) else list(status)
            states = ",".join(JobStatus.parse(s).value for s in items)
        params = {
            "pageNow": check_int(page, "page", minimum=1),
            "pageSize": check_int(page_size, "page_size", minimum=1),
            "status": states,
            "creator": creator,
            "executeApplicationName": engine_type.split("-", 1)[0] if engine_type else None,
            "startDate": check_epoch_ms(start, "start"),
            "endDate": check_epoch_ms(end, "end"),
        }
        return parse_task_page(self._transport.call("GET", "jobhistory/list", params=params).data)

    # ------------------------------------------------------------------ engines

    def engines(self) -> list[EngineInfo]:
        """``GET linkisManager/listUserEngines``: the caller's engine connections (§14.2)."""
        return parse_engines(self._transport.call("GET", "linkisManager/listUserEngines").data)

    def kill_engine(self, instance: str) -> str:
        """``POST linkisManager/killEngineConn`` (never resent): stop one of the caller's
        engines; the gateway's message on success (§14.3). Another user's engine is refused
        (status 1). Success means the stop was asked for: ``engines()`` shows when it is gone.
        """
        body = {"applicationName": ENGINE_APPLICATION, "instance": check_name(instance, "instance")}
        env = self._transport.call(
            "POST", "linkisManager/killEngineConn", json_body=body, resend=False
        )
        return env.message

    # ------------------------------------------------------------------ Hive metadata

    def databases(self) -> list[str]:
        """``GET datasource/dbs``: the databases the user may see (§13.1)."""
        return parse_databases(self._metadata("datasource/dbs", {}))

    def tables(self, database: str) -> list[TableInfo]:
        """``GET datasource/tables``: the tables and views of ``database``, by name (§13.2).

        An unknown database (or one the user may not see) is an empty list, not an error.
        """
        database = check_name(database, "database")
        return parse_tables(self._metadata("datasource/tables", {"database": database}), database)

    def columns(self, database: str, table: str) -> list[ColumnInfo]:
        """``GET datasource/columns``: columns in table order, partition keys last (§13.3)."""
        params = {"database": check_name(database, "database"), "table": check_name(table, "table")}
        return parse_columns(self._metadata("datasource/columns", params))

    def catalog(self) -> dict[str, list[TableInfo]]:
        """``GET datasource/all``: every visible database with its tables, in one call (§13.4)."""
        return parse_catalog(self._metadata("datasource/all", {}))

    def _metadata(self, path: str, params: Mapping[str, Any]) -> Any:
        """A metadata call; MetadataUnavailable when the gateway has no such service."""
        try:
            return self._transport.call("GET", path, params=params).data
        except ProtocolError as exc:
            if exc.http_status in (404, 405):
                raise MetadataUnavailable(
                    f"this gateway has no metadata service ({path} answered HTTP {exc.http_status})"
                ) from exc
            raise
        except GatewayError as exc:
            if exc.http_status == 200:  # the gateway could not route it (§1.5.1)
                raise MetadataUnavailable(
                    f"this gateway has no metadata service ({path}: {exc.brief})"
                ) from exc
            raise

    # ------------------------------------------------------------------ filesystem

    def dir_tree(self, path: str) -> list[DirEntry] | None:
        """``getDirFileTrees``: children in server order, or None when the directory is missing."""
        params = {"path": check_path(path)}
        return parse_dir_tree(
            self._transport.call("GET", "filesystem/getDirFileTrees", params=params).data
        )

    def open_file(
        self,
        path: str,
        *,
        page: int = 1,
        page_size: int = 5000,
        null_value: str | None = "LINKIS_NULL",
    ) -> FilePage:
        """``openFile`` one page; with ``LINKIS_NULL`` SQL NULLs come back as None (1.5+)."""
        params = {
            "path": check_path(path),
            "page": check_int(page, "page", minimum=1),
            "pageSize": check_int(page_size, "page_size", minimum=1),
            "nullValue": null_value,
        }
        env = self._transport.call("GET", "filesystem/openFile", params=params)
        return parse_file_page(env.data, requested_page=page)

    def file_info(self, path: str, *, page_size: int = -1) -> FileInfo:
        """``fileInfo``: column and row counts (``page_size=-1`` counts every row)."""
        params = {"path": check_path(path), "pageSize": page_size}
        env = self._transport.call("GET", "filesystem/fileInfo", params=params)
        return parse_file_info(env.data)

    def open_log(self, path: str) -> LogChunk:
        """``openLog``: a persisted job log, whole (``from_line`` = number of lines)."""
        params = {"path": check_path(path)}
        return parse_open_log(self._transport.call("GET", "filesystem/openLog", params=params).data)

    def export_result(
        self,
        path: str,
        *,
        file_type: str = "csv",
        dest: str | os.PathLike[str] | BinaryWriter | None = None,
        limit: int = 0,
        null_value: str = "NULL",
        separator: str = ",",
        charset: str = "utf-8",
        keep_newline: bool = False,
        auto_format: bool = False,
    ) -> bytes | int:
        """Stream ``resultsetToExcel``; bytes when ``dest`` is None, else bytes written to dest.

        A path ``dest`` is written to a temporary file beside it and renamed only when the
        download is complete, so a failure never leaves a partial file. Linkis reports export
        failures as a text/plain ``error(错误):…`` body, usually with HTTP 200 (§5.7), so the
        first bytes are checked before anything is written.
        """
        if file_type not in ("csv", "xlsx"):
            raise ConfigurationError(f"file_type must be 'csv' or 'xlsx', got {file_type!r}")
        check_int(limit, "limit", hint="0 = the server's cap")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ConfigurationError(f"separator must be one character, got {separator!r}")
        params = {
            "path": check_path(path),
            "outputFileType": file_type,
            "charset": charset,
            "csvSeparator": "t" if separator == "\t" else separator,
            "nullValue": null_value,
            "limit": limit or None,
            # 1.7+ turns newlines inside values into spaces unless asked to keep them.
            "keepNewline": "true" if keep_newline else None,
            # xlsx: typed numeric/date cells instead of text everywhere.
            "autoFormat": "true" if auto_format else None,
        }
        resp = self._transport.download("filesystem/resultsetToExcel", params)
        try:
            chunks = resp.iter_content(chunk_size=_CHUNK)
            head = sniff(chunks, _SNIFF)
            if head.lstrip().startswith(EXPORT_ERROR_PREFIX.encode("utf-8")):
                body = head + b"".join(chunks)  # the whole (short) error text
                check_export_error(
                    resp.headers.get("Content-Type"), body, http_status=resp.status_code
                )
            if resp.status_code != 200:
                self._transport.raise_for(self._transport.envelope(resp, head + b"".join(chunks)))
            self.auth.touched()
            return save_download(head, chunks, dest)
        except requests.RequestException as exc:
            raise transport_error(
                f"the export download from {self.base_url} broke off: "
                f"{self._transport.redact(reason(exc))}",
                exc,
            ) from exc
        finally:
            resp.close()

    def _table_exists(self, database: str, table: str) -> bool | None:
        """Whether the metadata service lists the table (None when there is no such service)."""
        try:
            names = {t.name.lower() for t in self.tables(database)}
        except MetadataUnavailable:
            return None
        return table.lower() in names

    # ------------------------------------------------------------------ workspace (§15)

    def user_root(self, path_type: Literal["hdfs", "file"] = "hdfs") -> str:
        """``getUserRootPath``: the user's HDFS (``hdfs``) or local (``file``) workspace root,
        exactly as the gateway names it (build paths under it, never guess it)."""
        if path_type not in ("hdfs", "file"):
            raise ConfigurationError(f"path_type must be 'hdfs' or 'file', got {path_type!r}")
        env = self._transport.call(
            "GET", "filesystem/getUserRootPath", params={"pathType": path_type}
        )
        return parse_user_root(env.data)

    def files(self, path: str) -> list[DirEntry] | None:
        """``getDirFileTrees`` of a workspace directory: one level, or None when it is missing."""
        params = {"path": check_workspace_path(path)}
        return parse_dir_tree(
            self._transport.call("GET", "filesystem/getDirFileTrees", params=params).data
        )

    def exists(self, path: str) -> bool:
        """``isExist``: whether a workspace file or directory exists."""
        params = {"path": check_workspace_path(path)}
        return parse_is_exist(self._transport.call("GET", "filesystem/isExist", params=params).data)

    def mkdir(self, path: str) -> None:
        """``createNewDir`` (never resent); an existing directory is an error (80005)."""
        body = {"path": check_workspace_path(path)}
        self._transport.call("POST", "filesystem/createNewDir", json_body=body, resend=False)

    def delete(self, path: str) -> None:
        """``deleteDirOrFile``: a file, or a directory with everything in it (never resent)."""
        body = {"path": check_workspace_path(path)}
        self._transport.call("POST", "filesystem/deleteDirOrFile", json_body=body, resend=False)

    def upload(
        self,
        local: str | os.PathLike[str],
        directory: str,
        *,
        name: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> str:
        """``upload`` one local file into an existing workspace directory; its URI back.

        The body is a streamed multipart request (the file is never read into memory) with one
        part named ``file``; ``path`` (the directory) is a query parameter, as Linkis's Java
        client sends it. Uploading over an existing file fails on a local (``file://``)
        workspace and overwrites on HDFS, as on Linkis (§15.2). ``on_progress(sent, total)``
        is called as the bytes go out.
        """
        directory = check_workspace_path(directory, "directory")
        source = Path(local).expanduser()
        if not source.is_file():
            raise ConfigurationError(f"upload: {str(source)!r} is not a file")
        target = name or source.name
        if not target or "/" in target or "\\" in target or target in (".", ".."):
            raise ConfigurationError(f"upload: bad file name {target!r}")
        _upload_files(self._transport, directory, [(target, source)], on_progress)
        return directory.rstrip("/") + "/" + target

    def download(
        self,
        path: str,
        dest: str | os.PathLike[str] | BinaryWriter | None = None,
        *,
        charset: str = "utf-8",
    ) -> bytes | int:
        """``download`` a workspace file: its bytes (``dest`` None) or the bytes written.

        A path ``dest`` is written through a temporary file renamed when complete. Linkis
        answers a failed download with HTTP 200 and ``error(错误):…`` text (§15.1); that
        becomes a RequestFailedError with the gateway's message.
        """
        request = {"path": check_workspace_path(path), "charset": charset}
        resp = self._transport.download("filesystem/download", {}, method="POST", json_body=request)
        try:
            chunks = resp.iter_content(chunk_size=_CHUNK)
            head = sniff(chunks, _SNIFF)
            ctype = resp.headers.get("Content-Type") or ""
            textual = not ctype or ctype.lower().startswith("text/plain")
            if textual and head.lstrip().startswith(EXPORT_ERROR_PREFIX.encode("utf-8")):
                body = head + b"".join(chunks)  # the whole (short) error text
                check_export_error(
                    ctype, body, http_status=resp.status_code, method="/api/filesystem/download"
                )
            if resp.status_code != 200:
                self._transport.raise_for(self._transport.envelope(resp, head + b"".join(chunks)))
            self.auth.touched()
            return save_download(head, chunks, dest)
        except requests.RequestException as exc:
            raise transport_error(
                f"the download from {self.base_url} broke off: {reason(exc)}", exc
            ) from exc
        finally:
            resp.close()

    def push(
        self,
        frame: pd.DataFrame,
        table: str,
        *,
        mode: PushMode = "create",
        engine_type: str,
        partition: str | None = None,
        creator: str | None = None,
        on_progress: ProgressCallback | None = None,
        on_update: Callable[[_job.JobSnapshot], None] | None = None,
        timeout: float | None = None,
        part_bytes: int | None = None,
    ) -> _job.Job:
        """Make ``frame`` a table (``[db.]table``) on the gateway; returns the finished Job.

        As Linkis's web IDE imports a file: Parquet parts are uploaded to a fresh directory
        under the user's HDFS root, then one Spark SQL job creates (``mode="create"``, the
        table must not exist), replaces (``"replace"``) or appends to (``"append"``) the table
        from ``parquet.`<dir>` ``; ``partition="k=v"`` loads into that static partition. The
        directory is deleted afterwards, also when the upload or the job fails or is
        interrupted. ``on_progress(sent, total)`` follows the upload, ``on_update`` the job
        (as ``Job.wait``). JobFailed/JobCancelled are raised as by ``Job.wait``.
        ``part_bytes`` caps each uploaded Parquet part (default 128 MiB). The frame's index is
        not pushed (``reset_index()`` first to keep it).
        """
        with self.stage(
            frame,
            table,
            mode=mode,
            engine_type=engine_type,
            partition=partition,
            on_progress=on_progress,
            part_bytes=part_bytes,
        ) as staged:
            job = staged.submit(creator=creator)
            job.wait(timeout, on_update=on_update)
            return job

    def stage(
        self,
        frame: pd.DataFrame,
        table: str,
        *,
        mode: PushMode = "create",
        engine_type: str,
        partition: str | None = None,
        on_progress: ProgressCallback | None = None,
        part_bytes: int | None = None,
    ) -> StagedPush:
        """The first half of ``push``: check, then upload the parts. Use it as a context
        manager; leaving it deletes the upload directory. ``StagedPush.submit()`` starts the
        load job (whoever follows it must stay inside the block until it ends)."""
        return StagedPush.start(
            self,
            frame,
            table,
            mode=mode,
            engine_type=engine_type,
            partition=partition,
            on_progress=on_progress,
            part_bytes=part_bytes,
        )


def _upload_files(
    transport: Transport,
    directory: str,
    files: list[tuple[str, Path]],
    on_progress: ProgressCallback | None,
) -> int:
    """One streamed multipart request per file (one part named ``file``); the bytes sent.

    One request per file keeps every request below the gateway's multipart cap however many
    parts a push has. ``on_progress(sent, total)`` counts file bytes (not multipart framing):
    once at 0, then at most once per MiB, and once at the end.
    """
    total = sum(path.stat().st_size for _, path in files)
    last = [0]
    if on_progress is not None:
        on_progress(0, total)

    def report(sent: int) -> None:
        if on_progress is None or sent == last[0]:
            return
        if sent - last[0] >= _PROGRESS_STEP or sent == total:
            last[0] = sent
            on_progress(sent, total)

    base = 0
    for name, path in files:
        size = path.stat().st_size
        with open(path, "rb") as fh:

            def body(
                fh: BinaryIO = fh, name: str = name, size: int = size, start: int = base
            ) -> tuple[Any, str]:
                fh.seek(0)
                fields = [("file", (name, fh, "application/octet-stream"))]
                encoder = MultipartEncoder(fields=fields)
                if on_progress is None:
                    return encoder, encoder.content_type
                overhead = max(encoder.len - size, 0)

                def moved(monitor: MultipartEncoderMonitor) -> None:
                    report(start + max(min(monitor.bytes_read - overhead, size), 0))

                monitor = MultipartEncoderMonitor(encoder, moved)
                return monitor, monitor.content_type

            transport.upload("filesystem/upload", params={"path": directory}, body=body)
        base += size
        report(base)
    return base


@dataclass
class StagedPush:
    """A frame uploaded for ``LinkisClient.push``: the upload directory and the load job's SQL.

    A context manager: leaving the block deletes the directory (best effort, logged when the
    gateway refuses), whatever happened inside.
    """

    client: LinkisClient
    database: str | None
    table: str
    mode: PushMode
    engine_type: str
    partition: tuple[str, str] | None
    directory: str
    exists: bool | None
    plan: PushPlan | None = None
    cleaned: bool = False

    @classmethod
    def start(
        cls,
        client: LinkisClient,
        frame: pd.DataFrame,
        table: str,
        *,
        mode: PushMode,
        engine_type: str,
        partition: str | None,
        on_progress: ProgressCallback | None,
        part_bytes: int | None,
    ) -> StagedPush:
        """Check everything, make the directory, upload the parts (cleaning up on failure)."""
        from linkis_magic import _push

        if mode not in _push.MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(_push.MODES)}, got {mode!r}")
        engine = _push.check_push_engine(engine_type)
        database, name = check_table_name(table)
        static = _push.check_partition(partition)
        frame = _push.check_frame(frame, static)
        exists = client._table_exists(database or "default", name)
        if mode == "create" and exists:
            shown = f"{database}.{name}" if database else name
            raise ConfigurationError(
                f"table {shown} already exists; push with mode 'replace' or 'append' "
                "(--mode replace|append)"
            )
        root = client.user_root("hdfs")
        directory = f"{root.rstrip('/')}/linkis_magic_push_{uuid.uuid4().hex[:16]}"
        client.mkdir(directory)
        staged = cls(client, database, name, mode, engine, static, directory, exists)
        try:
            with tempfile.TemporaryDirectory(prefix="linkis-push-") as tmp:
                plan = _push.write_parts(
                    frame, Path(tmp), part_bytes=part_bytes or _push.PART_BYTES
                )
                files = [(p.name, p) for p in plan.parts]
                _upload_files(client._transport, directory, files, on_progress)
                staged.plan = plan
        except BaseException:
            staged.cleanup()
            raise
        return staged

    @property
    def sql(self) -> str:
        """The load job's Spark SQL."""
        from linkis_magic._push import push_sql

        return push_sql(
            self.database, self.table, self.mode, self.directory,
            exists=self.exists, partition=self.partition,
        )  # fmt: skip

    def submit(self, *, creator: str | None = None) -> _job.Job:
        """Start the load job (not waited on)."""
        return self.client.submit(
            self.sql, run_type="sql", engine_type=self.engine_type, creator=creator
        )

    def cleanup(self) -> None:
        """Delete the upload directory (once); a refusal is logged, not raised."""
        if self.cleaned:
            return
        self.cleaned = True
        try:
            self.client.delete(self.directory)
        except LinkisError as exc:
            logger.warning("could not delete the push upload %s: %s", self.directory, exc)

    def __enter__(self) -> StagedPush:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
