"""Sessions, retries, envelopes and redaction: how one request reaches the gateway and back.

Retries are policy in mounted adapters (urllib3 ``Retry``), not loops. Three sessions share one
cookie jar (the Linkis session ticket):

* ``resend``: idempotent GETs, retried on connection errors and 502/503/504 with back-off;
* ``once``: submit/execute (POST) and kill (a GET with side effects); only a failure to
  *connect* is retried, so a request that may have reached the server is never sent twice;
* ``bounded``: any call made against a deadline (a caller passes ``timeout=``); no retries, so
  the call returns or fails within that time, which is how a kill after Ctrl-C stays bounded.

Every reply is read as an envelope whatever its HTTP code (docs/linkis-protocol.md §1.2, §10.1);
messages are redacted of the credentials before anyone sees them. Authentication is a pluggable
:class:`AuthScheme` (``linkis_magic.auth``): it adds headers, logs in when needed and decides
whether a rejected request (HTTP 401) is worth one retry.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from linkis_magic._validate import check_int, check_timeout, check_verify
from linkis_magic.errors import (
    ConfigurationError,
    ConnectionFailed,
    ProtocolError,
    TransportError,
    TransportTimeout,
)
from linkis_magic.protocol import (
    API_PREFIX,
    Envelope,
    parse_envelope,
    raise_for_envelope,
    redact,
)

__all__ = [
    "API_PREFIX",
    "AuthScheme",
    "BinaryWriter",
    "Timeout",
    "Transport",
    "aside",
    "save_download",
    "sniff",
    "transport_error",
]

logger = logging.getLogger("linkis_magic.client")

_RETRY_STATUSES = (502, 503, 504)
UPLOAD_READ_TIMEOUT = 300.0
"""Seconds an upload waits for the gateway's reply after its last byte (at least)."""
_REASON_CHARS = 300

Timeout = float | tuple[float, float]


class AuthScheme(Protocol):
    """What the transport needs from an authentication scheme (see ``linkis_magic.auth``)."""

    @property
    def kind(self) -> str:
        """``password``, ``token`` or ``none`` (shown instead of any secret)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add per-request credentials (requests' ``AuthBase`` protocol)."""

    def secrets(self) -> tuple[str, ...]:
        """Values to redact from any text shown to the user."""

    def before(self, transport: Transport) -> None:
        """Called before an authenticated request: log in if the session is missing or stale."""

    def rejected(self, transport: Transport) -> bool:
        """Called on status -1 (HTTP 401): re-authenticate and return True to retry once."""

    def touched(self) -> None:
        """Called after a successful authenticated request (idle-expiry bookkeeping)."""


def _retry(retries: int, *, idempotent: bool) -> Retry:
    if idempotent:
        return Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=_RETRY_STATUSES,
            backoff_factor=0.2,
            backoff_max=5.0,
            raise_on_status=False,
            # A proxy's Retry-After could stall a poll for minutes; keep our own back-off.
            respect_retry_after_header=False,
        )
    return Retry(
        total=retries,
        connect=retries,
        read=0,
        status=0,
        other=0,
        redirect=0,
        # read=0/status=0/other=0 already forbid every resend; None just avoids urllib3's
        # deprecation of an empty method set.
        allowed_methods=None,
        backoff_factor=0.2,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


POOL_SIZE = 32
"""Connections kept per gateway: a load asks up to four result sets at once, each with its
first page, fileInfo and export (or a few pages) in flight, besides the job's own polls;
urllib3's default of 10 would drop (and warn about) the connections above it."""


def _mount(session: requests.Session, retry: Retry) -> requests.Session:
    for scheme in ("http://", "https://"):
        session.mount(scheme, HTTPAdapter(max_retries=retry, pool_maxsize=POOL_SIZE))
    session.headers.setdefault("Accept", "application/json")
    return session


def _timed_out(exc: BaseException) -> bool:
    """A timeout, also when requests reports it as a ConnectionError: once the mounted Retry
    gives up on a read timeout, urllib3 raises MaxRetryError(reason=ReadTimeoutError) and
    requests wraps that as ConnectionError, not Timeout. (urllib3's NewConnectionError, a
    refused connection, derives from its ConnectTimeoutError: not a timeout here.)"""
    if isinstance(exc, requests.Timeout):
        return True
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, Urllib3Timeout) and not isinstance(cause, NewConnectionError)


def reason(exc: BaseException) -> str:
    """A short cause for a transport failure (the exception's class and text)."""
    if _timed_out(exc):
        return f"timed out ({type(exc).__name__})"
    text = str(exc)
    if len(text) > _REASON_CHARS:
        text = text[:_REASON_CHARS] + "…"
    return f"{type(exc).__name__}: {text}"


def transport_error(message: str, exc: requests.RequestException) -> TransportError:
    """The one translation of a ``requests`` failure: the TransportError subclass for its
    kind, so callers tell a timeout from a refused connection by type, not by message."""
    if _timed_out(exc):  # before ConnectionError: ConnectTimeout is both
        return TransportTimeout(message)
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return ConnectionFailed(message)
    return TransportError(message)


class Transport:
    """HTTP to one gateway: sessions, timeouts, TLS, envelopes, the auth hooks and redaction."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: AuthScheme,
        timeout: Timeout = (5.0, 60.0),
        verify: bool | str = True,
        retries: int = 3,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url
        self.auth = auth
        self.timeout = check_timeout(timeout)
        self.verify = check_verify(verify)
        self.retries = check_int(retries, "retries")
        self._api = base_url + API_PREFIX
        self._owns_session = session is None
        self._resend = _mount(session or requests.Session(), _retry(self.retries, idempotent=True))
        self._once = _mount(requests.Session(), _retry(self.retries, idempotent=False))
        self._bounded = _mount(requests.Session(), Retry(total=0, raise_on_status=False))
        for extra in (self._once, self._bounded):
            extra.cookies = self._resend.cookies
        self._closed = False

    @property
    def cookies(self) -> requests.cookies.RequestsCookieJar:
        """The cookie jar all sessions share (it holds the Linkis session ticket)."""
        jar: requests.cookies.RequestsCookieJar = self._resend.cookies
        return jar

    def close(self) -> None:
        """Release connections (a session passed in by the caller stays open)."""
        self._closed = True
        self._once.close()
        self._bounded.close()
        if self._owns_session:
            self._resend.close()

    # ------------------------------------------------------------------ single requests

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        resend: bool = True,
        stream: bool = False,
        authenticate: bool = True,
        timeout: float | None = None,
    ) -> requests.Response:
        """One HTTP request under the API prefix; TransportError when no reply came back.

        ``timeout`` (seconds) bounds the whole call: it caps both timeouts and turns retries off.
        """
        if self._closed:
            raise ConfigurationError("this LinkisClient is closed; create a new one")
        if timeout is not None:
            session = self._bounded
            limits = (min(self.timeout[0], timeout), min(self.timeout[1], timeout))
        else:
            session = self._resend if resend else self._once
            limits = self.timeout
        logger.debug("%s %s%s", method, API_PREFIX, path)
        try:
            return session.request(
                method,
                self._api + path,
                params={k: v for k, v in (params or {}).items() if v is not None},
                json=json_body,
                auth=self.auth if authenticate else None,
                timeout=limits,
                verify=self.verify,
                stream=stream,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise transport_error(
                f"could not talk to the Linkis gateway at {self.base_url} "
                f"({method} {API_PREFIX}{path}): {self.redact(reason(exc))}",
                exc,
            ) from exc

    def redact(self, text: str) -> str:
        """``text`` with every credential (and any echoed ``token: X``) masked."""
        return redact(text, self.auth.secrets())

    def envelope(self, resp: requests.Response, body: bytes | None = None) -> Envelope:
        """The reply as an envelope (ProtocolError if it is not one), its message redacted."""
        content = resp.content if body is None else body
        env = parse_envelope(resp.status_code, resp.headers.get("Content-Type"), content)
        return replace(env, message=self.redact(env.message))

    def raise_for(self, env: Envelope, *extra_secrets: str) -> None:
        """Raise the GatewayError for a failed envelope (warn on status 4)."""
        raise_for_envelope(env, secrets=(*self.auth.secrets(), *extra_secrets))

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        resend: bool = True,
        timeout: float | None = None,
    ) -> Envelope:
        """One authenticated request -> a successful envelope (or the matching exception).

        A status -1 reply (expired session, gateway restart) lets the auth scheme log in
        again and the request is sent once more: a 401 means the gateway refused it, so even
        a POST is safe to resend.
        """
        self.auth.before(self)
        send = {"params": params, "json_body": json_body, "resend": resend, "timeout": timeout}
        env = self.envelope(self.send(method, path, **send))
        if env.status == -1 and self.auth.rejected(self):
            logger.info("Linkis session rejected (HTTP %s); retrying once", env.http_status)
            env = self.envelope(self.send(method, path, **send))
        self.raise_for(env)
        self.auth.touched()
        return env

    def upload(
        self,
        path: str,
        *,
        params: Mapping[str, Any],
        body: Callable[[], tuple[Any, str]],
    ) -> Envelope:
        """POST a streamed multipart body (never resent once it may have arrived).

        ``body`` makes a fresh ``(readable body, content type)`` pair, so the request can be
        sent again after a re-login (a 401 means the gateway read none of it). The gateway
        answers only once the file is written (to HDFS, on a cluster), so the read timeout is
        at least UPLOAD_READ_TIMEOUT.
        """
        if self._closed:
            raise ConfigurationError("this LinkisClient is closed; create a new one")
        self.auth.before(self)
        for attempt in (1, 2):
            data, content_type = body()
            logger.debug("POST %s%s (multipart)", API_PREFIX, path)
            try:
                resp = self._once.post(
                    self._api + path,
                    params={k: v for k, v in params.items() if v is not None},
                    data=data,
                    headers={"Content-Type": content_type},
                    auth=self.auth,
                    timeout=(self.timeout[0], max(self.timeout[1], UPLOAD_READ_TIMEOUT)),
                    verify=self.verify,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise TransportError(
                    f"the upload to the Linkis gateway at {self.base_url} broke off "
                    f"(POST {API_PREFIX}{path}): {self.redact(reason(exc))}"
                ) from exc
            env = self.envelope(resp)
            if env.status == -1 and attempt == 1 and self.auth.rejected(self):
                continue
            self.raise_for(env)
            self.auth.touched()
            return env
        raise AssertionError("unreachable: the second attempt returns or raises")

    def download(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        method: str = "GET",
        json_body: Any = None,
    ) -> requests.Response:
        """A streamed request for a file endpoint; a JSON reply is an envelope and raised as one.

        The caller must close the response. Retries once after a re-login, like ``call``.
        """
        self.auth.before(self)
        for attempt in (1, 2):
            resp = self.send(
                method,
                path,
                params=params,
                json_body=json_body,
                stream=True,
                resend=method == "GET",
            )
            ctype = resp.headers.get("Content-Type") or ""
            if "json" not in ctype.lower():
                return resp
            env = self.envelope(resp, resp.content)
            resp.close()
            if env.status == -1 and attempt == 1 and self.auth.rejected(self):
                continue
            self.raise_for(env)
            raise ProtocolError(
                f"{path} answered with a JSON envelope instead of a file: {env.message!r}",
                http_status=env.http_status,
                content_type=ctype,
            )
        raise AssertionError("unreachable: the second attempt returns or raises")


class BinaryWriter(Protocol):
    """Where a download can go: anything with ``write(bytes)``, such as an open binary file."""

    def write(self, data: bytes, /) -> int: ...


def sniff(chunks: Iterator[bytes], size: int) -> bytes:
    """The first ``size`` bytes (or more) of a download: enough to recognise an error body."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head


def save_download(
    head: bytes, chunks: Iterable[bytes], dest: str | os.PathLike[str] | BinaryWriter | None
) -> bytes | int:
    """The rest of a download after ``head``: returned (``dest`` None), written to a writer,
    or saved to a path through a temporary file renamed only when complete."""
    if dest is None:
        return head + b"".join(chunks)
    if isinstance(dest, (str, os.PathLike)):
        target = Path(dest)
        fd, tmp = tempfile.mkstemp(prefix=".linkis-export-", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "wb") as out:
                written = _copy(head, chunks, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return written
    if not hasattr(dest, "write"):
        raise ConfigurationError("dest must be None, a file path or a binary file object")
    return _copy(head, chunks, dest)


def _copy(head: bytes, chunks: Iterable[bytes], out: BinaryWriter) -> int:
    out.write(head)
    written = len(head)
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written


_T = TypeVar("_T")


def aside(call: Callable[[], _T]) -> Future[_T]:
    """Run one call (a request) on a helper thread while the caller makes another: two
    independent round trips cost one. The caller takes ``result()`` (the call's exception,
    if any, is raised there) or drops it."""
    future: Future[_T] = Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:  # handed to whoever takes the result
            future.set_exception(exc)

    threading.Thread(target=run, name="linkis-aside", daemon=True).start()
    return future
