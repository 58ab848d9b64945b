"""`/filesystem/*`: list result directories, page through result sets, read logs, download.

Paths are `file://` URIs that must resolve (symlinks followed) inside the caller's own
result or log directory (`result|log/<date>/<creator>/<user>/...`); anything else is 80010
(docs/linkis-protocol.md §5.1). openFile pages `.dolphin` files with `totalPage` always 0
(§5.3); fileInfo counts rows (§5.4); openLog returns the 4-slot log (§5.5).

resultsetToExcel (§5.7) is the one non-JSON reply: it sends the bytes `export.export` writes,
and reports failures as `text/plain` `error(错误):...` with HTTP 200, exactly like Linkis, so
clients are exercised on that quirk too. A CSV download is streamed while it is rendered
(`_CsvStream`); an xlsx file is written to a temporary file first.
"""

from __future__ import annotations

import contextlib
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.background import BackgroundTask

from linkis_magic.sandbox import dolphin, export
from linkis_magic.sandbox.auth import CurrentUser
from linkis_magic.sandbox.errors import ApiError, backend_method, envelope, linkis_error
from linkis_magic.sandbox.routes import query_bool, query_int, split_log
from linkis_magic.sandbox.state import Gateway, GatewayDep
from linkis_magic.sandbox.workspace import SCHEMES

router = APIRouter()

MAX_PAGE_SIZE = 100_000
LOG_LIMIT = 30 * 1024 * 1024
OPENABLE_SUFFIXES = frozenset(
    {"dolphin", "sql", "scala", "py", "py3", "hql", "python", "out", "log", "text", "sh"}
    | {"jdbc", "ngql", "psql", "fql", "tsql", "txt", "aisql"}
)


# -- paths -----------------------------------------------------------------------------------


def user_path(gateway: Gateway, raw: str | None, user: str) -> Path:
    """Resolve a `file://` or `hdfs://` URI and confine it to the user's own directories: the
    job result/log directories and the two workspace roots (docs/linkis-protocol.md §15.3).

    Linkis's path validator answers first: no scheme is 80025, `../` is 80026; then anything
    outside the user's directories is 80010."""
    instance = gateway.instance
    if raw is None or not raw.strip():
        raise linkis_error(80004, f"The path:{raw} is empty(路径:{raw} 为空)!", instance=instance)
    if not any(scheme in raw for scheme in SCHEMES):
        raise linkis_error(80025, "the path should contain schema", instance=instance)
    if "../" in raw:
        raise linkis_error(80026, "Relative path not allowed", instance=instance)
    denied = linkis_error(
        80010,
        f"The user: {user} has no permission to view the contents of the directory:{raw}"
        f"(该用户:{user}无权限查看该目录:{raw}的内容).",
        instance=instance,
    )
    workspace = gateway.workspace
    local = workspace.local_path(raw)
    if local is None or ".." in local.parts:
        raise denied
    resolved = local.resolve()
    if workspace.owns(user, resolved):
        return resolved
    for root in gateway.user_roots:
        if resolved.is_relative_to(root):
            parts = resolved.relative_to(root).parts
            if len(parts) >= 3 and parts[2] == user:
                return resolved
    raise denied


def _existing_file(request: Request, gateway: Gateway, user: str) -> Path:
    raw = request.query_params.get("path")
    path = user_path(gateway, raw, user)
    if not path.is_file():
        raise linkis_error(
            80013, f"file does not exist(文件不存在): {raw}", instance=gateway.instance
        )
    return path


# -- listing, pages, logs --------------------------------------------------------------------


def _dir_entry(child: Path, parent_uri: str) -> dict[str, Any]:
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


@router.get("/filesystem/getDirFileTrees")
def dir_file_trees(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    raw = request.query_params.get("path")
    path = user_path(gateway, raw, user)
    method = backend_method(request)
    if not path.is_dir():
        return envelope(method, 0, "OK", {"dirFileTrees": None})
    uri = gateway.workspace.uri_for(path, raw or "")
    names = sorted(p.name for p in path.iterdir() if not dolphin.is_sidecar_name(p.name))
    tree = {
        "name": path.name,
        "path": uri,
        "properties": None,
        "children": [_dir_entry(path / name, uri) for name in names],
        "isLeaf": False,
        "parentPath": None,
    }
    return envelope(method, 0, "OK", {"dirFileTrees": tree})


def _text_page(path: Path, page: int, page_size: int) -> dict[str, Any]:
    """A page of a plain text file (script/text): one line per row."""
    text_lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    chunk = text_lines[(page - 1) * page_size : page * page_size]
    return {
        "type": "script/text",
        "metadata": [],
        "fileContent": [[line] for line in chunk],
        "page": page,
        "totalPage": 0,
        "totalLine": len(chunk),
    }


def _dolphin_page(path: Path, page: int, page_size: int, null_value: str | None) -> dict[str, Any]:
    """A page of a result set: table metadata objects or the text metadata string."""
    type_code, header = dolphin.read_header(path)
    rows = dolphin.read_page(path, page, page_size, null_value)
    metadata: Any
    if isinstance(header, str):
        metadata, total_column = header, 1
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
    return {
        "type": str(type_code),
        "metadata": metadata,
        "fileContent": rows,
        "page": page,
        "totalPage": 0,
        "totalLine": len(rows),
        "totalColumn": total_column,
    }


@router.get("/filesystem/openFile")
def open_file(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    instance = gateway.instance
    path = _existing_file(request, gateway, user)
    q = request.query_params
    page = max(query_int(q.get("page"), "page", 1), 1)
    page_size = query_int(q.get("pageSize"), "pageSize", 5000)
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
    if path.stat().st_size == 0:
        raise linkis_error(51000, f"The file:{q.get('path')} is empty", status=4, instance=instance)
    if suffix != "dolphin":
        data = _text_page(path, page, page_size)
    else:
        data = _dolphin_page(path, page, page_size, q.get("nullValue") or None)
    return envelope(backend_method(request), 0, "OK", data)


@router.get("/filesystem/fileInfo")
def file_info(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    path = _existing_file(request, gateway, user)
    page_size = query_int(request.query_params.get("pageSize"), "pageSize", 5000)
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


@router.get("/filesystem/openLog")
def open_log(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    path = _existing_file(request, gateway, user)
    if path.stat().st_size > LOG_LIMIT:
        raise linkis_error(
            80033,
            f"The log file {path.name} is larger than 30M(日志文件超过30M)",
            instance=gateway.instance,
        )
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return envelope(backend_method(request), 0, "OK", {"log": split_log(lines, terminate=True)})


# -- resultsetToExcel ------------------------------------------------------------------------


def _export_options(request: Request, gateway: Gateway) -> export.ExportOptions:
    """resultsetToExcel's query parameters; an unknown outputFileType is refused first."""
    q = request.query_params
    file_type = q.get("outputFileType") or "csv"
    if file_type not in export.OUTPUT_FILE_TYPES:
        raise linkis_error(
            80015,
            f"unsupported export type(不支持的导出类型): {file_type}",
            instance=gateway.instance,
        )
    separator = q.get("csvSeparator") or ","
    legacy = q.get("csvSeperator")  # Linkis's misspelled name wins over a default ","
    if separator == "," and legacy:
        separator = legacy
    return export.ExportOptions(
        output_file_type=file_type,
        separator=separator,
        charset=q.get("charset") or "utf-8",
        null_value=q.get("nullValue") or "NULL",
        limit=max(query_int(q.get("limit"), "limit", 0), 0),
        quote_retouch=query_bool(q.get("quoteRetouchEnable"), False),
        keep_newline=query_bool(q.get("keepNewline"), False),
        sheet_name=q.get("sheetName") or "result",
        auto_format=query_bool(q.get("autoFormat"), False),
    )


def _disposition(request: Request, file_type: str) -> str:
    """The UTF-8 bytes of the name sent as ISO-8859-1, as Linkis does."""
    name = request.query_params.get("outputFileName") or "downloadResultset"
    return f"attachment;filename={name}.{file_type}".encode().decode("latin-1")


def _error_text(exc: Exception) -> str:
    """What follows `error(错误):` in a failed download's body."""
    if isinstance(exc, ApiError):
        return exc.message
    code = getattr(exc, "code", None) or getattr(exc, "err_code", None)
    if isinstance(exc, export.ExportError):
        code = code or 80024
    if code:
        return f"errCode: {code} ,desc: {exc} ,ip: 127.0.0.1 ,serviceKind: linkis-sandbox"
    return str(exc)


@router.get("/filesystem/resultsetToExcel")
def resultset_to_excel(request: Request, user: CurrentUser, gateway: GatewayDep) -> Response:
    # The gateway refuses anonymous calls before any service runs (CurrentUser: a 401
    # envelope); from here on every failure is the export's own text/plain error.
    tmp_name: str | None = None
    try:
        path = _existing_file(request, gateway, user)
        options = _export_options(request, gateway)
        disposition = _disposition(request, options.output_file_type)
        if options.output_file_type == "csv":
            # Streamed: the export runs on a worker thread into a bounded queue while the
            # response sends what is ready, so a big download starts at once and the
            # client parses while the server still renders. A failure before the first
            # byte still becomes Linkis's text/plain error reply.
            stream = _CsvStream(lambda out: export.export(path, out, options))
            first = stream.first_chunk()
            return StreamingResponse(
                stream.chunks(first),
                media_type=f"{export.CSV_CONTENT_TYPE}; charset={options.charset}",
                headers={"Content-Disposition": disposition},
            )
        fd, tmp_name = tempfile.mkstemp(dir=gateway.tmp_dir, suffix="." + options.output_file_type)
        with os.fdopen(fd, "wb") as out:
            media = export.export(path, out, options)
    except Exception as exc:
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        return PlainTextResponse(
            f"error(错误):{_error_text(exc)}",
            status_code=200,
            media_type="text/plain; charset=utf-8",
        )
    return FileResponse(
        tmp_name,
        media_type=media,
        headers={"Content-Disposition": disposition},
        background=BackgroundTask(os.unlink, tmp_name),
    )


class _CsvStream:
    """Runs one export on a worker thread and hands its bytes over in ~1 MiB chunks.

    The queue is bounded so a slow client holds back the writer instead of buffering the
    whole file in memory.
    """

    _CHUNK = 1 << 20
    _DONE = object()

    def __init__(self, write: Callable[[Any], object]) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=8)
        self._buffer = bytearray()
        self._cancelled = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(write,), name="sandbox-export", daemon=True
        )
        self._thread.start()

    # the file-like side, used by the export on the worker thread
    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._cancelled.is_set():
            raise BrokenPipeError("the client went away")
        if not self._buffer and len(data) >= self._CHUNK:
            self._put(bytes(data))  # a big piece (a copied sidecar): one copy, not two
            return len(data)
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

    def _run(self, write: Callable[[Any], object]) -> None:
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
