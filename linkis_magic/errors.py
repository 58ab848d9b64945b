"""Everything linkis-magic raises, in one tree, so callers can catch at the level they care about.

Our exception hierarchy::

    LinkisError                   base of everything we raise
    ├── ConfigurationError        bad settings, client arguments or magic options; nothing was sent
    ├── TransportError            could not talk to the gateway (connect, reset, timeout, TLS)
    │   ├── TransportTimeout      no connection or no reply within the timeout
    │   └── ConnectionFailed      connection refused, reset or broken off, DNS or TLS failure
    ├── MetadataUnavailable       the gateway has no Hive metadata service (routes missing or
    │                             unroutable); schema browsing and completion do without it
    ├── ProtocolError             the reply is not a Linkis envelope or has an unexpected shape
    │                             (HTML page, Spring error JSON, ...); quotes the body's start
    ├── GatewayError              a Linkis envelope with status != 0; shows Linkis's own message
    │   ├── NotLoggedInError      status -1 (HTTP 401): no or expired session, rejected token
    │   ├── RequestFailedError    status 1 (HTTP 400, or HTTP 200 gateway routing errors), and
    │   │                         resultsetToExcel's text/plain ``error(错误):...`` body
    │   ├── ValidationFailedError status 2 (HTTP 412)
    │   └── PermissionDeniedError status 3 (HTTP 403)
    └── JobError                  a job did not succeed, or we stopped following it
        ├── JobFailed             the job ended Failed or Timeout
        ├── JobCancelled          the job ended Cancelled (kill, interrupt)
        ├── KillUnconfirmed       a kill was asked for, but Cancelled was not confirmed in time
        │                         (the kill could not be delivered, or the gateway stayed silent);
        │                         the job may still run
        └── JobWaitTimeout        wait(timeout=...) expired; the job keeps running

    LinkisWarning (UserWarning)   status 4 / HTTP 206, issued with ``warnings.warn``, not raised

Foreign exceptions (``requests``, JSON decoding) are translated once, where they happen, with
``raise ... from exc``. No exception message ever contains a password or a token.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "ConfigurationError",
    "ConnectionFailed",
    "GatewayError",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobWaitTimeout",
    "KillUnconfirmed",
    "LinkisError",
    "LinkisWarning",
    "MetadataUnavailable",
    "NotLoggedInError",
    "PermissionDeniedError",
    "ProtocolError",
    "RequestFailedError",
    "TransportError",
    "TransportTimeout",
    "ValidationFailedError",
]


_BRIEF_CHARS = 120
_LINKIS_WRAPPING = re.compile(
    r"^(?:[\w.]+(?:Exception|Error):\s*)?"
    r"(?:errCode:\s*\d+\s*,\s*desc:\s*"
    r"|error code\(错误码\):\s*\d+,\s*error message\(错误信息\):\s*)?"
)
_LINKIS_TRAILER = re.compile(r"\s*,\s*ip:.*$")


class LinkisError(Exception):
    """Base class of every exception raised by linkis-magic."""


class ConfigurationError(LinkisError):
    """Raised for bad settings or arguments, before anything is sent to the gateway.

    The one error type for a bad argument anywhere (client, job, results, settings, magics):
    its message says what was wrong and what to write instead.
    """


class TransportError(LinkisError):
    """Raised when the gateway could not be reached or the connection broke mid-request."""


class TransportTimeout(TransportError):
    """Raised when connecting or waiting for the reply took longer than the timeout."""


class ConnectionFailed(TransportError):
    """Raised when the connection was refused, reset or broke off, or DNS or TLS failed."""


class MetadataUnavailable(LinkisError):
    """Raised when the gateway has no Hive metadata service: its ``datasource/...`` routes
    answer 404, or the gateway cannot route them (status 1 with HTTP 200)."""


class ProtocolError(LinkisError):
    """Raised when a reply is not a Linkis envelope (HTML, Spring error JSON, truncated body).

    The message quotes the start of the body because that is usually the only clue (a proxy's
    HTML error page, a Spring ``{timestamp, status, error, path}`` document, ...).
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        content_type: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.content_type = content_type
        self.body_excerpt = body_excerpt


class GatewayError(LinkisError):
    """Raised for a Linkis envelope whose ``status`` is not 0 (or 4, which only warns).

    ``message`` is Linkis's own (often bilingual) text; ``err_code`` comes from
    ``data.errorMsg.errCode`` or from the ``error code(错误码): N`` prefix of the message.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        err_code: int | None = None,
        method: str | None = None,
        http_status: int | None = None,
        data: Any = None,
        stack: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.err_code = err_code
        self.method = method
        self.http_status = http_status
        self.data = data
        self.stack = stack
        super().__init__(self._describe())

    @property
    def brief(self) -> str:
        """Linkis's message in one short line, for places that have room for one line.

        Drops what Linkis wraps around the description (the exception class, ``errCode: N
        ,desc:`` or ``error code(错误码): N, error message(错误信息):``, the ``,ip: ...
        ,serviceKind: ...`` trailer) and leads with the errCode when there is one.
        """
        text = (self.message or "").strip().splitlines()[0] if self.message else ""
        text = _LINKIS_WRAPPING.sub("", text)
        text = _LINKIS_TRAILER.sub("", text).strip(" .,")
        if len(text) > _BRIEF_CHARS:
            text = text[: _BRIEF_CHARS - 1].rstrip() + "…"
        if self.err_code is not None:
            text = f"errCode {self.err_code}: {text}" if text else f"errCode {self.err_code}"
        return text or "no message"

    def _describe(self) -> str:
        details = [f"status {self.status}"]
        if self.err_code is not None:
            details.append(f"errCode {self.err_code}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.method:
            details.append(self.method)
        return (
            f"{self.message or 'Linkis returned an error without a message'} ({', '.join(details)})"
        )


class NotLoggedInError(GatewayError):
    """Raised for status -1 (HTTP 401): no session, an expired session or a rejected token."""


class RequestFailedError(GatewayError):
    """Raised for status 1 (HTTP 400, or HTTP 200 routing errors) and export error bodies."""


class ValidationFailedError(GatewayError):
    """Raised for status 2 (HTTP 412)."""


class PermissionDeniedError(GatewayError):
    """Raised for status 3 (HTTP 403)."""


class JobError(LinkisError):
    """Raised when a job did not succeed; carries what Linkis said about why."""

    def __init__(
        self,
        message: str,
        *,
        exec_id: str | None = None,
        task_id: int | None = None,
        state: str | None = None,
        err_code: int | None = None,
        err_desc: str | None = None,
        error_lines: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exec_id = exec_id
        self.task_id = task_id
        self.state = state
        self.err_code = err_code
        self.err_desc = err_desc
        self.error_lines = tuple(error_lines)


class JobFailed(JobError):
    """Raised when a job ended Failed or Timeout."""


class JobCancelled(JobError):
    """Raised when a job ended Cancelled (killed by us, by a user or by an interrupt)."""


class KillUnconfirmed(JobError):
    """Raised when a kill was asked for but Cancelled was not confirmed within the grace time.

    ``reason`` says why in a few words: the gateway's message when the kill could not be
    delivered (for example a routing error), or that the job still ran when the grace ended.
    The job may still be running; killing it again later or checking the job history is up to
    the caller.
    """

    def __init__(self, message: str, *, reason: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.reason = reason


class JobWaitTimeout(JobError):
    """Raised when ``wait(timeout=...)`` expired; the job itself keeps running."""


class LinkisWarning(UserWarning):
    """Issued (``warnings.warn``) for status 4 / HTTP 206 replies, e.g. "the file is empty"."""
