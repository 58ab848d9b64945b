"""The Linkis wire format: envelopes, job states and small typed records (no I/O here).

Every Linkis JSON reply is an envelope ``{method, status, message, data}`` whatever the HTTP
code (errors are HTTP 400, not-logged-in 401, warnings 206, and some routing errors HTTP 200
with status 1), so the body is always read before the status is judged (REFERENCE §1, §10.1-2).
The records below turn Linkis names into Python names once, tolerating the quirks listed in
REFERENCE §10: numbers sent as strings and vice versa, epoch-millisecond dates, the 4-slot log
array that may also be a string or null, ``totalPage`` meaning nothing (openFile) or a row count
(jobhistory list), and JSON documents nested as JSON text (``paramsJson``).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from linkis_magic.errors import (
    GatewayError,
    LinkisWarning,
    NotLoggedInError,
    PermissionDeniedError,
    ProtocolError,
    RequestFailedError,
    ValidationFailedError,
)

__all__ = [
    "EXPORT_ERROR_PREFIX",
    "Column",
    "DirEntry",
    "Envelope",
    "FileInfo",
    "FilePage",
    "JobStatus",
    "LogChunk",
    "Progress",
    "StageProgress",
    "SubmitResult",
    "TaskInfo",
    "TaskPage",
    "check_export_error",
    "parse_dir_tree",
    "parse_envelope",
    "parse_file_info",
    "parse_file_page",
    "parse_log",
    "parse_open_log",
    "parse_progress",
    "parse_status",
    "parse_submit",
    "parse_task",
    "parse_task_page",
    "raise_for_envelope",
    "rebuild_exec_id",
    "redact",
    "result_index",
]

#: resultsetToExcel reports failures as a text/plain body with this prefix (REFERENCE §5.7).
EXPORT_ERROR_PREFIX = "error(错误):"
_EXCERPT_CHARS = 200
_ENTRANCE_APP = "linkis-cg-entrance"


class JobStatus(str, Enum):
    """The exact Linkis job states (REFERENCE §3.4); the values are Linkis's spellings."""

    INITED = "Inited"
    WAIT_FOR_RETRY = "WaitForRetry"
    SCHEDULED = "Scheduled"
    RUNNING = "Running"
    SUCCEED = "Succeed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    TIMEOUT = "Timeout"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True once the job can no longer change (Succeed, Failed, Cancelled, Timeout)."""
        return self in _TERMINAL

    @property
    def is_failure(self) -> bool:
        """True for Failed and Timeout (Cancelled is reported separately)."""
        return self in (JobStatus.FAILED, JobStatus.TIMEOUT)

    @classmethod
    def parse(cls, text: object) -> JobStatus:
        """Map a state name to the enum, ignoring case and surrounding blanks."""
        if isinstance(text, JobStatus):
            return text
        if isinstance(text, str):
            found = _STATUS_BY_LOWER.get(text.strip().lower())
            if found is not None:
                return found
        known = ", ".join(s.value for s in cls)
        raise ProtocolError(f"unknown Linkis job state {text!r}; expected one of {known}")


_TERMINAL = frozenset({JobStatus.SUCCEED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMEOUT})
_STATUS_BY_LOWER = {s.value.lower(): s for s in JobStatus}


# --------------------------------------------------------------------------- envelopes


@dataclass(frozen=True)
class Envelope:
    """One Linkis reply: ``status`` is the Linkis code (-1..4), ``http_status`` the HTTP one."""

    method: str | None
    status: int
    message: str
    data: Any
    http_status: int


def _excerpt(body: bytes) -> str:
    text = body[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else "")


def _not_envelope(
    why: str, http_status: int, content_type: str | None, body: bytes
) -> ProtocolError:
    excerpt = _excerpt(body)
    ctype = content_type or "no content type"
    return ProtocolError(
        f"the gateway's reply is not a Linkis envelope ({why}; HTTP {http_status}, {ctype}): "
        f"{excerpt!r}",
        http_status=http_status,
        content_type=content_type,
        body_excerpt=excerpt,
    )


def parse_envelope(http_status: int, content_type: str | None, body: bytes) -> Envelope:
    """Read a reply as an envelope whatever its HTTP code; ProtocolError when it is not one.

    resultsetToExcel's text/plain ``error(错误):…`` body is recognised and raised as
    RequestFailedError, because it is Linkis reporting a failure, not a broken reply.
    """
    check_export_error(content_type, body, http_status=http_status)
    if not body.strip():
        raise _not_envelope("empty body", http_status, content_type, body)
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _not_envelope("not JSON", http_status, content_type, body) from exc
    if not isinstance(doc, dict) or "status" not in doc:
        raise _not_envelope("no 'status' key", http_status, content_type, body)
    if "data" not in doc and "message" not in doc:
        # Spring Boot's default error document: {timestamp, status, error, path}.
        raise _not_envelope("a Spring error document", http_status, content_type, body)
    status = _opt_int(doc.get("status"))
    if status is None or not -1 <= status <= 4:
        # The gateway's Spring error handler puts the HTTP code (e.g. 500) in `status`.
        raise _not_envelope(
            f"status {doc.get('status')!r} is not a Linkis code", http_status, content_type, body
        )
    data = doc.get("data")
    if data is None:
        data = {}
    if not isinstance(data, (dict, list)):
        raise _not_envelope("'data' is not an object", http_status, content_type, body)
    method = doc.get("method")
    message = doc.get("message")
    return Envelope(
        method=method if isinstance(method, str) else None,
        status=status,
        message=message if isinstance(message, str) else "",
        data=data,
        http_status=http_status,
    )


def check_export_error(content_type: str | None, head: bytes, *, http_status: int = 200) -> None:
    """Raise RequestFailedError when a (download) body is Linkis's ``error(错误):…`` text."""
    if content_type and "spreadsheetml" in content_type:
        return
    prefix = EXPORT_ERROR_PREFIX.encode("utf-8")
    stripped = head.lstrip()
    if stripped.startswith(prefix):
        text = stripped[len(prefix) :].decode("utf-8", errors="replace").strip()
        raise RequestFailedError(
            text or "resultsetToExcel failed without a message",
            status=1,
            err_code=_err_code_from_text(text),
            method="/api/filesystem/resultsetToExcel",
            http_status=http_status,
        )


_ERR_CODE_PATTERNS = (
    re.compile(r"error code\(错误码\):\s*(\d+)"),
    re.compile(r"Warning code\(警告码\):\s*(\d+)"),
    re.compile(r"errCode:\s*(\d+)"),
)
_TOKEN_ECHO = re.compile(r"(token\s*[:=]\s*)([^\s,，;]+)", re.IGNORECASE)


def _err_code_from_text(text: str) -> int | None:
    for pattern in _ERR_CODE_PATTERNS:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove secrets from text we are about to show: known values and echoed ``token: X``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN_ECHO.sub(r"\1***", text)


_ERRORS_BY_STATUS: dict[int, type[GatewayError]] = {
    -1: NotLoggedInError,
    1: RequestFailedError,
    2: ValidationFailedError,
    3: PermissionDeniedError,
}


def raise_for_envelope(env: Envelope, *, secrets: tuple[str, ...] = ()) -> None:
    """Raise the GatewayError subclass for a failed envelope; warn (LinkisWarning) on status 4."""
    if env.status == 0:
        return
    message = redact(env.message, secrets)
    if env.status == 4:
        warnings.warn(LinkisWarning(message), stacklevel=3)
        return
    data = env.data if isinstance(env.data, dict) else {}
    err_code: int | None = None
    error_msg = data.get("errorMsg")
    if isinstance(error_msg, dict):
        err_code = _opt_int(error_msg.get("errCode"))
    if err_code is None:
        err_code = _err_code_from_text(message)
    stack = data.get("stack")
    cls = _ERRORS_BY_STATUS.get(env.status, GatewayError)
    raise cls(
        message,
        status=env.status,
        err_code=err_code,
        method=env.method,
        http_status=env.http_status,
        data=env.data,
        stack=stack if isinstance(stack, str) else None,
    )


# --------------------------------------------------------------------------- tolerant readers


def _opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or text.upper() == "NULL":
            return None
        try:
            return int(text)
        except ValueError:
            try:
                return int(float(text))
            except ValueError:
                return None
    return None


def _float(value: Any, default: float = 0.0) -> float:
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return default
    return default


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _epoch_ms(value: Any) -> datetime | None:
    millis = _opt_int(value)
    if millis is None:
        if isinstance(value, str) and value.strip():
            try:  # the website's "2019-01-01 00:00:00" layout, should a gateway send it
                return datetime.fromisoformat(value.strip())
            except ValueError:
                return None
        return None
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def _json_text(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _need_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError(f"expected an object for {what}, got {type(data).__name__}")
    return data


# --------------------------------------------------------------------------- entrance records


@dataclass(frozen=True)
class SubmitResult:
    """What submit/execute hand back: the runtime execID and the database taskID."""

    exec_id: str
    task_id: int | None


def parse_submit(data: Any) -> SubmitResult:
    """Read ``{execID, taskID}``; taskID may be a number or a numeric string."""
    doc = _need_dict(data, "the submit reply")
    exec_id = doc.get("execID")
    if not isinstance(exec_id, str) or not exec_id:
        raise ProtocolError(f"the submit reply has no execID: {_short(doc)}")
    return SubmitResult(exec_id=exec_id, task_id=_opt_int(doc.get("taskID")))


def parse_status(data: Any) -> JobStatus:
    """Read ``data.status`` of ``entrance/{execID}/status``."""
    return JobStatus.parse(_need_dict(data, "the status reply").get("status"))


@dataclass(frozen=True)
class StageProgress:
    """One ``progressInfo`` entry (e.g. one Spark job) with its task counts."""

    id: str
    succeeded: int
    failed: int
    running: int
    total: int

    @property
    def fraction(self) -> float:
        """Share of tasks done (0.0 when the total is unknown)."""
        return min(1.0, self.succeeded / self.total) if self.total > 0 else 0.0


@dataclass(frozen=True)
class Progress:
    """Overall progress (0.0-1.0) plus one entry per stage."""

    progress: float
    stages: tuple[StageProgress, ...] = ()


def parse_progress(data: Any) -> Progress:
    """Read ``{progress, progressInfo}``; progress may be a number or a string."""
    doc = _need_dict(data, "the progress reply")
    stages = []
    for item in doc.get("progressInfo") or ():
        if isinstance(item, dict):
            stages.append(
                StageProgress(
                    id=str(item.get("id", "")),
                    succeeded=_opt_int(item.get("succeedTasks")) or 0,
                    failed=_opt_int(item.get("failedTasks")) or 0,
                    running=_opt_int(item.get("runningTasks")) or 0,
                    total=_opt_int(item.get("totalTasks")) or 0,
                )
            )
    value = abs(_float(doc.get("progress")))
    return Progress(progress=min(value, 1.0), stages=tuple(stages))


@dataclass(frozen=True)
class LogChunk:
    """New log lines; ``from_line`` is the 1-based cursor to send next time."""

    from_line: int
    lines: tuple[str, ...]
    error_lines: tuple[str, ...] = ()
    warn_lines: tuple[str, ...] = ()


def _split_lines(text: Any) -> tuple[str, ...]:
    if not isinstance(text, str) or text == "":
        return ()
    if text.endswith("\n"):
        text = text[:-1]
    return tuple(text.replace("\r\n", "\n").split("\n"))


def _log_slots(log: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(all, error, warn) lines from a 4-slot array, a single string, or null."""
    if isinstance(log, list):
        slots = [*log, "", "", "", ""][:4]
        return _split_lines(slots[3]), _split_lines(slots[0]), _split_lines(slots[1])
    return _split_lines(log), (), ()


def parse_log(data: Any, *, requested_from: int = 1) -> LogChunk:
    """Read ``entrance/{execID}/log``: display slot [3]; keep the echoed ``fromLine`` cursor."""
    doc = _need_dict(data, "the log reply")
    lines, errors, warns = _log_slots(doc.get("log"))
    from_line = _opt_int(doc.get("fromLine"))
    return LogChunk(
        from_line=requested_from if from_line is None else from_line,
        lines=lines,
        error_lines=errors,
        warn_lines=warns,
    )


def parse_open_log(data: Any) -> LogChunk:
    """Read ``filesystem/openLog`` (whole file; ``from_line`` = number of lines)."""
    doc = _need_dict(data, "the openLog reply")
    lines, errors, warns = _log_slots(doc.get("log"))
    return LogChunk(from_line=len(lines), lines=lines, error_lines=errors, warn_lines=warns)


# --------------------------------------------------------------------------- jobhistory


@dataclass(frozen=True)
class TaskInfo:
    """One jobhistory row (REFERENCE §4.1) with Python names and types; ``raw`` keeps it all."""

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
    """Rebuild a full execID from jobhistory's ``execId`` and ``instance`` (REFERENCE §3.1)."""
    return f"exec_id{len(application):03d}{len(instance):03d}{application}{instance}{short_exec_id}"


def parse_task(task: Any) -> TaskInfo:
    """Read one jobhistory task object, tolerating string numbers and JSON-text fields."""
    doc = _need_dict(task, "a jobhistory task")
    task_id = _opt_int(doc.get("taskID"))
    if task_id is None:
        raise ProtocolError(f"a jobhistory task has no taskID: {_short(doc)}")
    short = _opt_str(doc.get("execId"))
    instance = _opt_str(doc.get("instance"))
    exec_id = _opt_str(doc.get("strongerExecId"))
    if not exec_id and short and instance and ";" not in instance:
        exec_id = rebuild_exec_id(short, instance)
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
        short_exec_id=short,
        status=JobStatus.parse(doc.get("status")),
        progress=min(abs(_float(doc.get("progress"))), 1.0),
        log_path=_opt_str(doc.get("logPath")),
        result_location=_opt_str(doc.get("resultLocation")) or None,
        err_code=_opt_int(doc.get("errCode")),
        err_desc=_opt_str(doc.get("errDesc")),
        created_time=_epoch_ms(doc.get("createdTime")),
        updated_time=_epoch_ms(doc.get("updatedTime")),
        cost_time_ms=_opt_int(doc.get("costTime")),
        engine_type=_opt_str(doc.get("engineType") or doc.get("executeApplicationName")),
        run_type=_opt_str(doc.get("runType")),
        creator=_opt_str(doc.get("requestApplicationName")),
        submit_user=_opt_str(doc.get("umUser")),
        execute_user=_opt_str(doc.get("executeUser")),
        instance=instance,
        labels=label_tuple,
        execution_code=_opt_str(doc.get("executionCode")),
        raw=dict(doc),
        params=_json_text(doc.get("paramsJson")),
        source=_json_text(doc.get("sourceJson")),
    )


@dataclass(frozen=True)
class TaskPage:
    """A jobhistory list page; ``total`` is the number of matching rows (Linkis's totalPage)."""

    tasks: tuple[TaskInfo, ...]
    total: int


def parse_task_page(data: Any) -> TaskPage:
    """Read ``jobhistory/list``: ``totalPage`` is really the total row count (REFERENCE §4.2)."""
    doc = _need_dict(data, "the jobhistory list reply")
    tasks = tuple(parse_task(t) for t in doc.get("tasks") or ())
    total = _opt_int(doc.get("totalPage"))
    return TaskPage(tasks=tasks, total=len(tasks) if total is None else total)


# --------------------------------------------------------------------------- filesystem


@dataclass(frozen=True)
class DirEntry:
    """One child of ``getDirFileTrees`` (one level only)."""

    name: str
    path: str
    is_leaf: bool
    size: int | None
    modify_time: datetime | None


def parse_dir_tree(data: Any) -> list[DirEntry] | None:
    """Children of the listed directory in server order, or None if it does not exist."""
    doc = _need_dict(data, "the getDirFileTrees reply")
    tree = doc.get("dirFileTrees")
    if tree is None:
        return None
    tree = _need_dict(tree, "dirFileTrees")
    entries = []
    for child in tree.get("children") or ():
        if not isinstance(child, dict):
            continue
        props = child.get("properties") if isinstance(child.get("properties"), dict) else {}
        assert isinstance(props, dict)
        entries.append(
            DirEntry(
                name=str(child.get("name", "")),
                path=str(child.get("path", "")),
                is_leaf=bool(child.get("isLeaf")),
                size=_opt_int(props.get("size")),
                modify_time=_epoch_ms(props.get("modifytime")),
            )
        )
    return entries


_RESULT_NAME = re.compile(r"_(\d+)\.dolphin$")


def result_index(name: str) -> int | None:
    """Number of a result file (``_10.dolphin`` -> 10, ``alias_3.dolphin`` -> 3), else None.

    Linkis lists result files lexicographically (``_10`` before ``_2``); sort with this key.
    """
    match = _RESULT_NAME.search(name.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Column:
    """A table result column: name, Linkis data type, comment (None when Linkis says "NULL")."""

    name: str
    data_type: str
    comment: str | None


@dataclass(frozen=True)
class FilePage:
    """One openFile page. ``total_line`` counts rows in this page only (totalPage is always 0).

    Cells are kept exactly as sent (strings, or None with ``nullValue=LINKIS_NULL``); the string
    ``"NULL"`` is not turned into None here because only the column type can say what it means.
    Text results come back as one-element rows.
    """

    type: str
    columns: tuple[Column, ...]
    rows: list[list[str | None]]
    page: int
    total_line: int


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_file_page(data: Any, *, requested_page: int = 1) -> FilePage:
    """Read ``filesystem/openFile`` for table (metadata list) and text (metadata "NULL") files."""
    doc = _need_dict(data, "the openFile reply")
    metadata = doc.get("metadata")
    columns: tuple[Column, ...] = ()
    if isinstance(metadata, list):
        cols = []
        for item in metadata:
            if isinstance(item, dict):
                comment = _opt_str(item.get("comment"))
                cols.append(
                    Column(
                        name=str(item.get("columnName", "")),
                        data_type=str(item.get("dataType") or "string"),
                        comment=None if comment in (None, "", "NULL") else comment,
                    )
                )
        columns = tuple(cols)
    rows: list[list[str | None]] = []
    for row in doc.get("fileContent") or ():
        if isinstance(row, list):
            rows.append([_cell(v) for v in row])
        else:
            rows.append([_cell(row)])
    page = _opt_int(doc.get("page"))
    total_line = _opt_int(doc.get("totalLine"))
    return FilePage(
        type=str(doc.get("type") or ""),
        columns=columns,
        rows=rows,
        page=requested_page if page is None else page,
        total_line=len(rows) if total_line is None else total_line,
    )


@dataclass(frozen=True)
class FileInfo:
    """``filesystem/fileInfo``: column count and row count (all rows with pageSize=-1)."""

    path: str
    col_number: int
    row_number: int


def parse_file_info(data: Any) -> FileInfo:
    """Read ``{path, colNumber, rowNumber}`` (numbers or numeric strings)."""
    doc = _need_dict(data, "the fileInfo reply")
    return FileInfo(
        path=str(doc.get("path") or ""),
        col_number=_opt_int(doc.get("colNumber")) or 0,
        row_number=_opt_int(doc.get("rowNumber")) or 0,
    )


def _short(doc: Mapping[str, Any]) -> str:
    text = json.dumps(doc, ensure_ascii=False, default=str)
    return text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else "")
