"""Envelopes: every Linkis JSON reply is ``{method, status, message, data}``, any HTTP code.

Errors are HTTP 400, not-logged-in 401, warnings 206, and some routing errors HTTP 200 with
status 1, so the body is always read before the outcome is judged (§1, §10.1-§10.2 of
docs/linkis-protocol.md). resultsetToExcel, a download, reports failures as a text/plain
body instead (§5.7); it is recognised here too, so every caller sees the same exceptions.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
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
from linkis_magic.protocol._values import EXCERPT_CHARS, opt_int

#: Every REST path lives under this prefix on the gateway (docs/linkis-protocol.md §1.1).
API_PREFIX = "/api/rest_j/v1/"
#: resultsetToExcel reports failures as a text/plain body with this prefix (§5.7).
EXPORT_ERROR_PREFIX = "error(错误):"


@dataclass(frozen=True)
class Envelope:
    """One Linkis reply: ``status`` is the Linkis code (-1..4), ``http_status`` the HTTP one."""

    method: str | None
    status: int
    message: str
    data: Any
    http_status: int


def _excerpt(body: bytes) -> str:
    text = body[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


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
    status = opt_int(doc.get("status"))
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


def check_export_error(
    content_type: str | None,
    head: bytes,
    *,
    http_status: int = 200,
    method: str = "/api/filesystem/resultsetToExcel",
) -> None:
    """Raise RequestFailedError when a (download) body is Linkis's ``error(错误):…`` text."""
    if content_type and "spreadsheetml" in content_type:
        return
    prefix = EXPORT_ERROR_PREFIX.encode("utf-8")
    stripped = head.lstrip()
    if stripped.startswith(prefix):
        text = stripped[len(prefix) :].decode("utf-8", errors="replace").strip()
        raise RequestFailedError(
            text or f"{method.rsplit('/', 1)[-1]} failed without a message",
            status=1,
            err_code=err_code_from_text(text),
            method=method,
            http_status=http_status,
        )


_ERR_CODE_PATTERNS = (
    re.compile(r"error code\(错误码\):\s*(\d+)"),
    re.compile(r"Warning code\(警告码\):\s*(\d+)"),
    re.compile(r"errCode:\s*(\d+)"),
)
_TOKEN_ECHO = re.compile(r"(token\s*[:=]\s*)([^\s,，;]+)", re.IGNORECASE)


def err_code_from_text(text: str) -> int | None:
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
        err_code = opt_int(error_msg.get("errCode"))
    if err_code is None:
        err_code = err_code_from_text(message)
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
