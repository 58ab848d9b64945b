"""LinkisClient: one method per Linkis REST endpoint, authentication and retries; no polling.

Polling and waiting live in :mod:`linkis_magic.job`; this layer only makes single calls, so
every method maps to one documented endpoint (REFERENCE §2-§5) and is easy to test alone.

Retries are policy in a mounted adapter (urllib3 ``Retry``), not loops: idempotent GETs are
retried on connection errors and 502/503/504 with back-off. ``submit``/``execute`` (POST) and
``kill`` (a GET with side effects) go through a second session whose adapter only retries
failures to *connect*, so a request that may have reached the server is never sent twice.
Both sessions share one cookie jar (the Linkis session ticket).

Password authentication logs in lazily, again when the server's idle ``sessionTimeOut`` has
passed, and once (then retries once) when a reply says HTTP 401. Token authentication sends
``Token-Code`` + ``Token-User`` on every request and never logs in (REFERENCE §2.4).
"""

from __future__ import annotations

import base64
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from linkis_magic.errors import ConfigurationError, ProtocolError, TransportError
from linkis_magic.protocol import (
    EXPORT_ERROR_PREFIX,
    DirEntry,
    Envelope,
    FileInfo,
    FilePage,
    JobStatus,
    LogChunk,
    Progress,
    SubmitResult,
    TaskInfo,
    TaskPage,
    check_export_error,
    parse_dir_tree,
    parse_envelope,
    parse_file_info,
    parse_file_page,
    parse_log,
    parse_open_log,
    parse_progress,
    parse_status,
    parse_submit,
    parse_task,
    parse_task_page,
    raise_for_envelope,
    redact,
)

if TYPE_CHECKING:
    from linkis_magic.job import Job

__all__ = ["API_PREFIX", "LinkisClient"]

logger = logging.getLogger(__name__)

#: Every REST path lives under this prefix on the gateway (REFERENCE §1.1).
API_PREFIX = "/api/rest_j/v1/"
_RETRY_STATUSES = (502, 503, 504)
_ENGINE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*-[A-Za-z0-9_.+]+(?:-[A-Za-z0-9_.+]+)*$")
_ENGINE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_CREATOR = re.compile(r"^[A-Za-z0-9_.]+$")
_RUN_TYPE = re.compile(r"^[A-Za-z0-9_.]+$")
_EXEC_ID_FORBIDDEN = re.compile(r"[/?#%\s]")
_CHUNK = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # control characters: never valid in names or URLs

Timeout = float | tuple[float, float]


def _check_mapping(
    value: Mapping[str, Any] | None, name: str, *, stringify: bool
) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{name} must be a mapping of names to values, got {value!r}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip() or _CONTROL.search(key):
            raise ConfigurationError(
                f"{name} keys must be non-empty strings without control characters, got {key!r}"
            )
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise ConfigurationError(
                f"{name}[{key!r}] must be a string or number, got {type(item).__name__}"
            )
        out[key] = str(item) if stringify and item is not None else item
    return out


class LinkisClient:
    """A connection to one Linkis gateway, as one user.

    >>> with LinkisClient("http://gateway:9001", user="alice", password="...") as client:
    ...     job = client.submit("select 1", engine_type="spark-3.2.1")

    ``verify`` is True (check TLS certificates), False, or a CA bundle path. ``timeout`` is a
    ``(connect, read)`` pair in seconds (or one number for both); it is always finite.
    """

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        creator: str = "IDE",
        timeout: Timeout = (5.0, 60.0),
        verify: bool | str = True,
        retries: int = 3,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = self._check_base_url(base_url)
        self._api = self.base_url + API_PREFIX
        if user is not None and (not isinstance(user, str) or not user.strip()):
            raise ConfigurationError("user must be a non-empty string (the Linkis user name)")
        if password is not None and token is not None:
            raise ConfigurationError("give either password= or token=, not both")
        if (password is not None or token is not None) and not user:
            raise ConfigurationError(
                "user= is required with password= or token= (Linkis needs a user name)"
            )
        if password is not None and (not isinstance(password, str) or not password):
            raise ConfigurationError("password must be a non-empty string")
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise ConfigurationError("token must be a non-empty string")
        self.user = user
        self._password = password
        self._token = token
        self.creator = self._check_creator(creator)
        self.timeout = self._check_timeout(timeout)
        if not isinstance(verify, (bool, str)):
            raise ConfigurationError("verify must be True, False or a CA bundle path")
        if isinstance(verify, str) and not Path(verify).exists():
            raise ConfigurationError(f"verify: CA bundle {verify!r} does not exist")
        self.verify = verify
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError(f"retries must be an integer >= 0, got {retries!r}")
        self.retries = retries

        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._session.mount("http://", HTTPAdapter(max_retries=self._retry_policy(idempotent=True)))
        self._session.mount(
            "https://", HTTPAdapter(max_retries=self._retry_policy(idempotent=True))
        )
        # No-resend path (POST submit/execute, GET kill): only connect failures are retried.
        self._once = requests.Session()
        self._once.cookies = self._session.cookies
        self._once.mount("http://", HTTPAdapter(max_retries=self._retry_policy(idempotent=False)))
        self._once.mount("https://", HTTPAdapter(max_retries=self._retry_policy(idempotent=False)))
        for sess in (self._session, self._once):
            sess.headers.setdefault("Accept", "application/json")

        self._login_lock = threading.RLock()
        self._logged_in = False
        self._last_activity = 0.0
        self._session_timeout: float | None = None
        self._closed = False

    # ------------------------------------------------------------------ construction helpers

    @staticmethod
    def _check_base_url(base_url: str) -> str:
        if (
            not isinstance(base_url, str)
            or not re.match(r"^https?://[^/\s]+", base_url.strip())
            or _CONTROL.search(base_url.strip())
        ):
            raise ConfigurationError(
                f"base_url must look like http://host:9001 or https://host, got {base_url!r}"
            )
        url = base_url.strip().rstrip("/")
        prefix = API_PREFIX.rstrip("/")
        if url.endswith(prefix):
            url = url[: -len(prefix)]
        return url

    @staticmethod
    def _check_creator(creator: str) -> str:
        if not isinstance(creator, str) or not _CREATOR.fullmatch(creator):
            raise ConfigurationError(
                f"creator must be letters, digits, '_' or '.' (no '-'), e.g. 'IDE'; got {creator!r}"
            )
        return creator

    @staticmethod
    def _check_timeout(timeout: Timeout) -> tuple[float, float]:
        pair = (timeout, timeout) if isinstance(timeout, (int, float)) else timeout
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in pair)
            or not all(0 < t < float("inf") for t in pair)
        ):
            raise ConfigurationError(
                f"timeout must be a positive number or a (connect, read) pair, got {timeout!r}"
            )
        return (float(pair[0]), float(pair[1]))

    def _retry_policy(self, *, idempotent: bool) -> Retry:
        if idempotent:
            return Retry(
                total=self.retries,
                connect=self.retries,
                read=self.retries,
                status=self.retries,
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
            total=self.retries,
            connect=self.retries,
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

    # ------------------------------------------------------------------ lifecycle

    @property
    def auth_kind(self) -> Literal["password", "token", "none"]:
        """How requests are authenticated (shown in repr instead of any secret)."""
        if self._token is not None:
            return "token"
        if self._password is not None:
            return "password"
        return "none"

    def __repr__(self) -> str:
        return (
            f"LinkisClient(base_url={self.base_url!r}, user={self.user!r}, auth={self.auth_kind!r})"
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
        self._closed = True
        self._once.close()
        if self._owns_session:
            self._session.close()

    @property
    def _secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._password, self._token) if s)

    # ------------------------------------------------------------------ transport core

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        resend: bool = True,
        stream: bool = False,
        auth: bool = True,
    ) -> requests.Response:
        if self._closed:
            raise ConfigurationError("this LinkisClient is closed; create a new one")
        headers: dict[str, str] = {}
        if auth and self._token is not None:
            assert self.user is not None
            headers["Token-Code"] = self._token
            headers["Token-User"] = self.user
        sess = self._session if resend else self._once
        logger.debug("%s %s%s", method, API_PREFIX, path)
        try:
            return sess.request(
                method,
                self._api + path,
                params={k: v for k, v in (params or {}).items() if v is not None},
                json=json_body,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
                stream=stream,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            reason = redact(_reason(exc), self._secrets)
            raise TransportError(
                f"could not talk to the Linkis gateway at {self.base_url} "
                f"({method} {API_PREFIX}{path}): {reason}"
            ) from exc

    def _envelope(self, resp: requests.Response) -> Envelope:
        env = parse_envelope(resp.status_code, resp.headers.get("Content-Type"), resp.content)
        return replace(env, message=redact(env.message, self._secrets))

    def _ensure_login(self) -> None:
        if self._password is None:
            return
        with self._login_lock:
            stale = (
                self._session_timeout is not None
                and time.monotonic() - self._last_activity > self._session_timeout
            )
            if not self._logged_in or stale:
                self.login()

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        resend: bool = True,
    ) -> Envelope:
        """One authenticated request -> a successful envelope (or the matching exception)."""
        self._ensure_login()
        resp = self._send(method, path, params=params, json_body=json_body, resend=resend)
        env = self._envelope(resp)
        if env.status == -1 and self._password is not None:
            # Expired/unknown session (idle timeout, gateway restart): log in once, retry once.
            # A 401 means the gateway refused the request, so even a POST is safe to resend.
            logger.info("Linkis session rejected (HTTP %s); logging in again", env.http_status)
            self.login()
            resp = self._send(method, path, params=params, json_body=json_body, resend=resend)
            env = self._envelope(resp)
        raise_for_envelope(env, secrets=self._secrets)
        self._last_activity = time.monotonic()
        return env

    # ------------------------------------------------------------------ authentication

    def login(self) -> None:
        """Log in with the password (RSA-encrypted when the gateway asks for it)."""
        if self._token is not None:
            raise ConfigurationError("token authentication never logs in; nothing to do")
        if self._password is None or self.user is None:
            raise ConfigurationError("login() needs user= and password=")
        with self._login_lock:
            password = self._password
            key_data: dict[str, Any] = {}
            try:
                key_env = self._envelope(self._send("GET", "user/publicKey", auth=False))
                if key_env.status == 0 and isinstance(key_env.data, dict):
                    key_data = key_env.data
            except ProtocolError:  # a gateway without the endpoint: plain-text login
                pass
            if key_data.get("enableLoginEncrypt") in (True, "true"):
                password = self._encrypt(password, key_data.get("publicKey"))
            body = {"userName": self.user, "password": password}
            env = self._envelope(self._send("POST", "user/login", json_body=body, auth=False))
            raise_for_envelope(env, secrets=(*self._secrets, password))
            data = env.data if isinstance(env.data, dict) else {}
            timeout_ms = data.get("sessionTimeOut")
            if isinstance(timeout_ms, (int, float)) and not isinstance(timeout_ms, bool):
                self._session_timeout = float(timeout_ms) / 1000.0 if timeout_ms > 0 else None
            self._logged_in = True
            self._last_activity = time.monotonic()
            logger.debug("logged in to %s as %s", self.base_url, self.user)

    @staticmethod
    def _encrypt(password: str, public_key: object) -> str:
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        if not isinstance(public_key, str) or not public_key:
            raise ConfigurationError(
                "the gateway requires an encrypted login but sent no publicKey"
            )
        try:
            key = load_der_public_key(base64.b64decode(public_key))
        except ValueError as exc:
            raise ConfigurationError(
                "the gateway's login publicKey is not a valid RSA key"
            ) from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ConfigurationError("the gateway's login publicKey is not an RSA key")
        cipher = key.encrypt(password.encode("utf-8"), padding.PKCS1v15())
        return base64.b64encode(cipher).decode("ascii")

    def logout(self) -> None:
        """End the server session (password auth); token auth has none."""
        if self._password is None:
            return
        with self._login_lock:
            env = self._envelope(self._send("POST", "user/logout", auth=False))
            self._logged_in = False
            self._session.cookies.clear()
            raise_for_envelope(env, secrets=self._secrets)

    # ------------------------------------------------------------------ submission

    def _user_creator(self, creator: str | None) -> str | None:
        creator = self.creator if creator is None else self._check_creator(creator)
        return f"{self.user}-{creator}" if self.user else None

    @staticmethod
    def _check_code(code: str, run_type: str) -> None:
        if not isinstance(code, str) or not code.strip():
            raise ConfigurationError("code must be a non-blank string (the script to run)")
        if not isinstance(run_type, str) or not _RUN_TYPE.fullmatch(run_type):
            raise ConfigurationError(
                "run_type must be a word such as 'sql', 'python', 'scala' or 'shell'; "
                f"got {run_type!r}"
            )

    @staticmethod
    def _params(
        variables: Mapping[str, Any] | None,
        startup: Mapping[str, Any] | None,
        runtime: Mapping[str, Any] | None,
        special: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "variable": _check_mapping(variables, "variables", stringify=True),
            "configuration": {
                "startup": _check_mapping(startup, "startup", stringify=False),
                "runtime": _check_mapping(runtime, "runtime", stringify=False),
                "special": _check_mapping(special, "special", stringify=False),
            },
        }

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
    ) -> Job:
        """Submit code with the 1.x ``entrance/submit`` body; returns a Job (not waited on)."""
        self._check_code(code, run_type)
        if not isinstance(engine_type, str) or not _ENGINE_TYPE.fullmatch(engine_type):
            raise ConfigurationError(
                f"engine_type must be '<engine>-<version>', e.g. 'spark-3.2.1' or 'hive-3.1.3'; "
                f"got {engine_type!r}"
            )
        extra = _check_mapping(labels, "labels", stringify=True)
        for reserved in ("engineType", "userCreator"):
            if reserved in extra:
                raise ConfigurationError(
                    f"labels must not set {reserved!r}; use engine_type= / creator= instead"
                )
        all_labels: dict[str, Any] = {"engineType": engine_type}
        user_creator = self._user_creator(creator)
        if user_creator is not None:
            all_labels["userCreator"] = user_creator
        all_labels.update(extra)
        body: dict[str, Any] = {
            "executionContent": {"code": code, "runType": run_type},
            "labels": all_labels,
            "params": self._params(variables, startup, runtime, special),
            "source": _check_mapping(source, "source", stringify=True),
        }
        creator_name = self.creator if creator is None else creator
        return self._send_job(self.submit_raw, body, code, creator_name)

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
    ) -> Job:
        """Submit with the 0.x ``entrance/execute`` body; ``engine_type`` may omit the version."""
        self._check_code(code, run_type)
        if not isinstance(engine_type, str) or not (
            _ENGINE_TYPE.fullmatch(engine_type) or _ENGINE_NAME.fullmatch(engine_type)
        ):
            raise ConfigurationError(
                f"engine_type must be an engine name or '<engine>-<version>', e.g. 'spark' or "
                f"'spark-3.2.1'; got {engine_type!r}"
            )
        engine = engine_type.split("-", 1)[0]
        creator_name = self.creator if creator is None else self._check_creator(creator)
        body: dict[str, Any] = {
            "executeApplicationName": engine,
            "requestApplicationName": creator_name,
            "runType": run_type,
            "executionCode": code,
            "params": self._params(variables, startup, runtime, special),
            "source": _check_mapping(source, "source", stringify=True),
        }
        extra = _check_mapping(labels, "labels", stringify=True)
        if "-" in engine_type:
            extra.setdefault("engineType", engine_type)
        if extra:
            body["labels"] = extra
        return self._send_job(self.execute_raw, body, code, creator_name)

    def _send_job(
        self,
        send: Callable[[dict[str, Any]], SubmitResult],
        body: dict[str, Any],
        code: str,
        creator: str,
    ) -> Job:
        """POST a submit/execute body once; on Ctrl-C, find and kill what it may have started."""
        started = time.monotonic()
        since = datetime.now(timezone.utc)
        try:
            result = send(body)
        except KeyboardInterrupt:
            self._reap_interrupted(code, creator, since)
            raise
        return self._job_from(result, started)

    def _reap_interrupted(self, code: str, creator: str, since: datetime) -> None:
        """Kill the job an interrupted submit may have created (best effort, never raises).

        Ctrl-C while the submit POST is in flight leaves the caller without an execID, yet
        the gateway may already run the job. jobhistory finds it (same creator and code,
        created since the submit began, not finished) so nothing keeps running unseen.
        """
        waiting = ("Inited", "WaitForRetry", "Scheduled", "Running")
        start = since - timedelta(seconds=5)
        try:
            for attempt in range(4):
                if attempt:
                    time.sleep(0.25)
                page = self.tasks(creator=creator, status=waiting, start=start, page_size=50)
                found = [t for t in page.tasks if t.execution_code == code and t.exec_id]
                for task in found:
                    assert task.exec_id is not None
                    self.kill(task.exec_id, task_id=task.task_id)
                    logger.warning(
                        "killed Linkis task %s left by an interrupted submit", task.task_id
                    )
                if found:
                    return
        except Exception as exc:  # the interrupt must win
            logger.warning("could not clean up after an interrupted submit: %s", exc)

    def submit_raw(self, body: Mapping[str, Any]) -> SubmitResult:
        """POST a ready-made body to ``entrance/submit``; never resent once it may have arrived."""
        if not isinstance(body, Mapping):
            raise ConfigurationError("submit_raw() needs the request body as a dict")
        env = self._call("POST", "entrance/submit", json_body=dict(body), resend=False)
        return parse_submit(env.data)

    def execute_raw(self, body: Mapping[str, Any]) -> SubmitResult:
        """POST a ready-made 0.x body to ``entrance/execute``; never resent."""
        if not isinstance(body, Mapping):
            raise ConfigurationError("execute_raw() needs the request body as a dict")
        env = self._call("POST", "entrance/execute", json_body=dict(body), resend=False)
        return parse_submit(env.data)

    def _job_from(self, result: SubmitResult, started: float) -> Job:
        from linkis_magic.job import Job

        return Job(self, result.exec_id, result.task_id, submitted_at=started)

    def job(self, task_id: int) -> Job:
        """Re-attach to an earlier task by taskID (execID recovered from jobhistory)."""
        from linkis_magic.job import Job

        info = self.task(task_id)
        return Job(self, info.exec_id, info.task_id, submitted_at=info.created_time)

    # ------------------------------------------------------------------ entrance

    @staticmethod
    def _exec_path(exec_id: str, action: str) -> str:
        if not isinstance(exec_id, str) or not exec_id or _EXEC_ID_FORBIDDEN.search(exec_id):
            raise ConfigurationError(
                f"exec_id must be a Linkis execID such as 'exec_id018010linkis-cg-entrance"
                f"host:9104IDE_alice_spark_7' (no '/', '?', '#', '%' or spaces); got {exec_id!r}"
            )
        # Verbatim: the gateway slices the raw segment by the embedded lengths (REFERENCE §3.1).
        return f"entrance/{exec_id}/{action}"

    @staticmethod
    def _task_param(task_id: int | None) -> int | None:
        if task_id is None:
            return None
        if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id <= 0:
            raise ConfigurationError(f"task_id must be a positive integer, got {task_id!r}")
        return task_id

    def status(self, exec_id: str, *, task_id: int | None = None) -> JobStatus:
        """``GET entrance/{execID}/status``; ``task_id`` enables the database fallback."""
        path = self._exec_path(exec_id, "status")
        env = self._call("GET", path, params={"taskID": self._task_param(task_id)})
        return parse_status(env.data)

    def progress(self, exec_id: str) -> Progress:
        """``GET entrance/{execID}/progress``: overall fraction and per-stage task counts."""
        return parse_progress(self._call("GET", self._exec_path(exec_id, "progress")).data)

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
        if isinstance(from_line, bool) or not isinstance(from_line, int) or from_line < 0:
            raise ConfigurationError(
                f"from_line must be an integer >= 0 (1-based; start with 1), got {from_line!r}"
            )
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size == 0):
            raise ConfigurationError(f"size must be a non-zero integer or None, got {size!r}")
        params = {
            "fromLine": from_line,
            "size": size,
            "distinctLevel": None if distinct_level else "false",
        }
        env = self._call("GET", self._exec_path(exec_id, "log"), params=params)
        return parse_log(env.data, requested_from=from_line)

    def kill(self, exec_id: str, *, task_id: int | None = None) -> str:
        """``GET entrance/{execID}/kill`` (never resent); returns the gateway's message."""
        path = self._exec_path(exec_id, "kill")
        env = self._call("GET", path, params={"taskID": self._task_param(task_id)}, resend=False)
        return env.message

    # ------------------------------------------------------------------ jobhistory

    def task(self, task_id: int) -> TaskInfo:
        """``GET jobhistory/{taskID}/get``: the database row of a task."""
        checked = self._task_param(task_id)
        if checked is None:
            raise ConfigurationError("task_id is required")
        env = self._call("GET", f"jobhistory/{checked}/get")
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
        for name, value in (("page", page), ("page_size", page_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}")
        states: str | None = None
        if status is not None:
            items = [status] if isinstance(status, str) else list(status)
            states = ",".join(JobStatus.parse(s).value for s in items)
        params = {
            "pageNow": page,
            "pageSize": page_size,
            "status": states,
            "creator": creator,
            "executeApplicationName": engine_type.split("-", 1)[0] if engine_type else None,
            "startDate": _epoch_ms(start, "start"),
            "endDate": _epoch_ms(end, "end"),
        }
        return parse_task_page(self._call("GET", "jobhistory/list", params=params).data)

    # ------------------------------------------------------------------ filesystem

    @staticmethod
    def _check_path(path: str) -> str:
        if not isinstance(path, str) or not path.strip():
            raise ConfigurationError("path must be a non-empty file URI such as hdfs:///tmp/x")
        return path

    def dir_tree(self, path: str) -> list[DirEntry] | None:
        """``getDirFileTrees``: children in server order, or None when the directory is missing."""
        env = self._call(
            "GET", "filesystem/getDirFileTrees", params={"path": self._check_path(path)}
        )
        return parse_dir_tree(env.data)

    def open_file(
        self,
        path: str,
        *,
        page: int = 1,
        page_size: int = 5000,
        null_value: str | None = "LINKIS_NULL",
    ) -> FilePage:
        """``openFile`` one page; with ``LINKIS_NULL`` SQL NULLs come back as None (1.5+)."""
        for name, value in (("page", page), ("page_size", page_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}")
        params = {
            "path": self._check_path(path),
            "page": page,
            "pageSize": page_size,
            "nullValue": null_value,
        }
        env = self._call("GET", "filesystem/openFile", params=params)
        return parse_file_page(env.data, requested_page=page)

    def file_info(self, path: str, *, page_size: int = -1) -> FileInfo:
        """``fileInfo``: column and row counts (``page_size=-1`` counts every row)."""
        params = {"path": self._check_path(path), "pageSize": page_size}
        return parse_file_info(self._call("GET", "filesystem/fileInfo", params=params).data)

    def open_log(self, path: str) -> LogChunk:
        """``openLog``: a persisted job log, whole (``from_line`` = number of lines)."""
        env = self._call("GET", "filesystem/openLog", params={"path": self._check_path(path)})
        return parse_open_log(env.data)

    def export_result(
        self,
        path: str,
        *,
        file_type: str = "csv",
        dest: str | os.PathLike[str] | IO[bytes] | None = None,
        limit: int = 0,
        null_value: str = "NULL",
        separator: str = ",",
        charset: str = "utf-8",
        keep_newline: bool = False,
    ) -> bytes | int:
        """Stream ``resultsetToExcel``; bytes when ``dest`` is None, else bytes written to dest.

        Linkis reports export failures as a text/plain ``error(错误):…`` body, usually with
        HTTP 200, so the first bytes are sniffed before anything is written.
        """
        if file_type not in ("csv", "xlsx"):
            raise ConfigurationError(f"file_type must be 'csv' or 'xlsx', got {file_type!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ConfigurationError(
                f"limit must be an integer >= 0 (0 = server cap), got {limit!r}"
            )
        if not isinstance(separator, str) or len(separator) != 1:
            raise ConfigurationError(f"separator must be one character, got {separator!r}")
        params = {
            "path": self._check_path(path),
            "outputFileType": file_type,
            "charset": charset,
            "csvSeparator": "t" if separator == "\t" else separator,
            "nullValue": null_value,
            "limit": limit or None,
            # 1.7+ turns newlines inside values into spaces unless asked to keep them.
            "keepNewline": "true" if keep_newline else None,
        }
        self._ensure_login()
        resp = self._open_export(params)
        try:
            chunks = resp.iter_content(chunk_size=_CHUNK)
            head = b""
            for chunk in chunks:
                head += chunk
                if len(head) >= len(EXPORT_ERROR_PREFIX.encode("utf-8")) + 64:
                    break
            content_type = resp.headers.get("Content-Type")
            if head.lstrip().startswith(EXPORT_ERROR_PREFIX.encode("utf-8")):
                head += b"".join(chunks)  # the whole (short) error text
                check_export_error(content_type, head, http_status=resp.status_code)
            if resp.status_code != 200:
                raise_for_envelope(
                    self._envelope_of(resp, head + b"".join(chunks)), secrets=self._secrets
                )
            self._last_activity = time.monotonic()
            return self._write_export(head, chunks, dest)
        except requests.RequestException as exc:
            raise TransportError(
                f"the export download from {self.base_url} broke off: {_reason(exc)}"
            ) from exc
        finally:
            resp.close()

    def _open_export(self, params: Mapping[str, Any]) -> requests.Response:
        for attempt in (1, 2):
            resp = self._send("GET", "filesystem/resultsetToExcel", params=params, stream=True)
            ctype = resp.headers.get("Content-Type") or ""
            if "json" not in ctype.lower():
                return resp
            # A JSON reply is an envelope: an auth failure or another gateway error.
            env = self._envelope_of(resp, resp.content)
            resp.close()
            if env.status == -1 and self._password is not None and attempt == 1:
                self.login()
                continue
            raise_for_envelope(env, secrets=self._secrets)
            raise ProtocolError(
                "resultsetToExcel answered with a JSON envelope instead of a file: "
                f"{env.message!r}",
                http_status=env.http_status,
                content_type=ctype,
            )
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _envelope_of(self, resp: requests.Response, body: bytes) -> Envelope:
        env = parse_envelope(resp.status_code, resp.headers.get("Content-Type"), body)
        return replace(env, message=redact(env.message, self._secrets))

    @staticmethod
    def _write_export(
        head: bytes,
        chunks: Iterable[bytes],
        dest: str | os.PathLike[str] | IO[bytes] | None,
    ) -> bytes | int:
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


def _copy(head: bytes, chunks: Iterable[bytes], out: IO[bytes]) -> int:
    out.write(head)
    written = len(head)
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written


def _epoch_ms(value: datetime | int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ConfigurationError(f"{name} must be a datetime or epoch milliseconds, got {value!r}")


def _reason(exc: BaseException) -> str:
    """A short cause for a transport failure (the innermost exception's class and text)."""
    if isinstance(exc, requests.Timeout):
        return f"timed out ({type(exc).__name__})"
    text = str(exc)
    if len(text) > 300:
        text = text[:300] + "…"
    return f"{type(exc).__name__}: {text}"
