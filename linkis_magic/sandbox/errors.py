"""Linkis envelopes for every JSON reply, and the error routes raise to produce one.

Every JSON reply is `{method, status, message, data}` with the HTTP code Linkis uses for that
status (0->200, 1->400, -1->401, 2->412, 3->403, 4->206; docs/linkis-protocol.md §1.2) —
also for FastAPI's own validation, 404 and 405 errors, which would otherwise be
`{"detail": ...}`, and for crashes. Routes raise `ApiError` (or `linkis_error(...)` for a
Linkis ErrorException with its code, §1.3) anywhere; `install_handlers` turns them into
envelopes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PREFIX = "/api/rest_j/v1"
"""Where every Linkis REST route lives (§1.1)."""
HTTP_FOR_STATUS = {-1: 401, 0: 200, 1: 400, 2: 412, 3: 403, 4: 206}


class ApiError(Exception):
    """An envelope reply other than success; raised anywhere in a route.

    `method` "" means "the backend method of the request URI" (`backend_method`).
    """

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
    """A Linkis ErrorException/WarnException (status 4) rendered as §1.3 describes."""
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


def operation_failed(reason: str, *, instance: str = "") -> ApiError:
    """Any other exception of a backend controller (§1.3): status 1, errorMsg errCode 0."""
    data = linkis_error(0, reason, instance=instance).data
    return ApiError(1, f"operation failed(操作失败)s！the reason(原因)：{reason}", data)


def envelope(
    method: str | None, status: int, message: str, data: Any = None, **headers: str
) -> JSONResponse:
    body = {"method": method, "status": status, "message": message, "data": data or {}}
    return JSONResponse(body, status_code=HTTP_FOR_STATUS.get(status, 400), headers=headers)


def backend_method(request: Request) -> str:
    """`/api/<service path>` as Linkis backends fill `method`."""
    path = request.url.path
    return "/api" + path[len(PREFIX) :] if path.startswith(PREFIX) else path


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    method = backend_method(request) if exc.method == "" else exc.method
    return envelope(method, exc.status, exc.message, exc.data)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
    )
    return envelope(backend_method(request), 1, f"invalid request parameters: {problems}")


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason = f"{exc.status_code} {exc.detail}: {request.method} {request.url.path}"
    return envelope(backend_method(request), 1, reason)


async def _on_crash(request: Request, exc: Exception) -> JSONResponse:
    return envelope(
        backend_method(request), 1, f"operation failed(操作失败)s！the reason(原因)：{exc}"
    )


def install_handlers(app: FastAPI) -> None:
    """Answer every error with an envelope (never FastAPI's `{"detail": ...}`)."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_crash)
