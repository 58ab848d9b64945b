"""A scriptable loopback Linkis gateway for tests: a real HTTP server on 127.0.0.1:0.

Why: the sandbox answers like a healthy Linkis; this double produces the awkward replies the
sandbox never will (HTTP 200 + status 1, 206 warnings, HTML from a proxy, connection resets,
expired sessions, RSA logins) and records exactly what the client sent (raw path, headers, body).

Import it from any test folder::

    from tests.support.double import LinkisDouble, Reply, envelope

This works with ``--import-mode=importlib`` because the editable install puts the project root
(/work/main) on ``sys.path`` and ``tests`` is a namespace package (there is deliberately no
``tests/__init__.py``).

Usage::

    with LinkisDouble(users={"alice": "pw"}, token="T-1") as gw:
        gw.on("POST", "entrance/submit", {"execID": EXEC, "taskID": 7})     # data -> envelope
        gw.on("GET", f"entrance/{EXEC}/status", {"status": "Running"}, {"status": "Succeed"})
        client = LinkisClient(gw.url, user="alice", password="pw")
        ...
        assert gw.calls("GET", f"entrance/{EXEC}/status")[0].query == {}

Routes are the raw path after ``/api/rest_j/v1/`` without the query string, matched exactly
(no decoding, so a percent-encoded ``:`` does NOT match). ``on()`` queues replies for a route;
they are used in order and the last one repeats. A reply is a ``Reply``, a dict/list (the
``data`` of a status-0 envelope), or a callable ``(Request) -> Reply``. Unscripted routes get
HTTP 404 with a plain-text body naming the route, so a test sees what it forgot.

Built in (unless a test scripts the same route): ``user/publicKey``, ``user/login`` (JSON body;
RSA PKCS#1 v1.5 + Base64 when ``login_encrypt=True``), ``user/logout``. Every other route needs
a valid session cookie ``linkis_user_session_ticket_id_v1`` or both ``Token-Code`` and
``Token-User`` headers spelled exactly so (``require_auth=False`` turns this off); otherwise it
answers HTTP 401 / status -1 like the gateway. ``expire_sessions()`` simulates a gateway restart.

Builders for ``data`` shaped as docs/linkis-protocol.md describes: ``task_data``,
``dir_tree_data``, ``table_page``, ``text_page``, ``log_data``; whole replies: ``envelope``,
``error``, ``Reply.text``,
``Reply.raw_json``, ``Reply.connection_reset``.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PREFIX = "/api/rest_j/v1/"
COOKIE = "linkis_user_session_ticket_id_v1"
JSON_TYPE = "application/json;charset=UTF-8"
HTTP_FOR_STATUS = {-1: 401, 0: 200, 1: 400, 2: 412, 3: 403, 4: 206}
EXEC_ID = "exec_id018010linkis-cg-entrancehost1:9104IDE_alice_spark_7"
ALICE_PASSWORD = "alice-secret"  # alice on the shared `gw` fixture (tests/conftest.py)
ALICE_TOKEN = "DOUBLE-TOKEN-1"


@dataclass
class Request:
    """One request as the double received it."""

    method: str
    raw_path: str  # request target exactly as sent, including the query string
    route: str  # raw path after /api/rest_j/v1/, query stripped, not decoded
    query: dict[str, list[str]]
    headers: list[tuple[str, str]]  # names with the client's spelling, in order
    body: bytes

    def header(self, name: str) -> str | None:
        """Header value by exact (case-sensitive) name, as Linkis's gateway reads tokens."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    """A scripted reply. ``reset=True`` closes the socket without answering (TCP RST)."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    reset: bool = False

    @classmethod
    def connection_reset(cls) -> Reply:
        return cls(reset=True)

    @classmethod
    def text(cls, text: str, *, status: int = 200, content_type: str = "text/plain") -> Reply:
        return cls(status=status, body=text.encode("utf-8"), content_type=content_type)

    @classmethod
    def raw_json(cls, doc: Any, *, status: int = 200) -> Reply:
        return cls(status=status, body=json.dumps(doc, ensure_ascii=False).encode("utf-8"))


def envelope(
    data: Any = None,
    *,
    status: int = 0,
    message: str = "OK",
    method: str | None = None,
    http: int | None = None,
) -> Reply:
    """A Linkis envelope; the HTTP code follows the status (§1.2) unless ``http``."""
    doc = {
        "method": method,
        "status": status,
        "message": message,
        "data": {} if data is None else data,
    }
    return Reply.raw_json(doc, status=HTTP_FOR_STATUS.get(status, 200) if http is None else http)


def error(
    message: str, *, err_code: int | None = None, status: int = 1, http: int | None = None
) -> Reply:
    """A backend error envelope with ``data.errorMsg`` like Linkis's ``catchMsg``."""
    data: dict[str, Any] = {}
    if err_code is not None:
        message = f"error code(错误码): {err_code}, error message(错误信息): {message}."
        data["errorMsg"] = {
            "level": 2,
            "errCode": err_code,
            "desc": message,
            "ip": "host1",
            "port": 9104,
            "serviceKind": "linkis-cg-entrance",
        }
    return envelope(data, status=status, message=message, http=http)


def routing_error(uri: str) -> Reply:
    """What the gateway answers when it cannot route a call (§1.5.1): HTTP 200, status 1,
    the root cause's message (errCode 11011, the entrance instance is gone) and a stack."""
    message = (
        "GatewayErrorException: errCode: 11011 ,desc: Cannot route to the corresponding service, "
        f"URL: {uri} RouteLabel: [ServiceInstance(linkis-cg-entrance, host1:9104)]"
        "(无法路由到相应的服务) ,ip: gw1 ,port: 9001 ,serviceKind: linkis-mg-gateway"
    )
    stack = "org.apache.linkis.gateway.exception.GatewayErrorException: " + message
    return envelope({"stack": stack}, status=1, message=message, method=uri, http=200)


# ------------------------------------------------ `data` shaped as docs/linkis-protocol.md says
# Builders for the `data` part of common replies, so tests script realistic shapes in one line.


def short_exec_id(exec_id: str) -> str:
    """The short job id inside an execID (§3.1: lengths are embedded after exec_id)."""
    app_len, inst_len = int(exec_id[7:10]), int(exec_id[10:13])
    return exec_id[13 + app_len + inst_len :]


def task_data(
    task_id: int = 1234,
    *,
    status: str = "Succeed",
    exec_id: str = EXEC_ID,
    result_location: str | None = "hdfs:///tmp/linkis/result/2024-01-01/IDE/alice/1234",
    **over: Any,
) -> dict[str, Any]:
    """``data`` of ``jobhistory/{id}/get`` (§4.1): numbers, string progress, epoch ms."""
    task: dict[str, Any] = {
        "taskID": task_id,
        "instance": "host1:9104",
        "execId": short_exec_id(exec_id),
        "strongerExecId": exec_id,
        "umUser": "alice",
        "executeUser": "alice",
        "status": status,
        "progress": "1.0" if status == "Succeed" else "0.0",
        "logPath": f"hdfs:///tmp/linkis/log/2024-01-01/IDE/alice/{task_id}.log",
        "resultLocation": result_location,
        "errCode": 0 if status == "Succeed" else None,
        "errDesc": "" if status == "Succeed" else None,
        "createdTime": 1704074400000,
        "updatedTime": 1704074460000,
        "costTime": 60000,
        "engineType": "spark",
        "executeApplicationName": "spark",
        "requestApplicationName": "IDE",
        "runType": "sql",
        "labels": ["engineType:spark-3.2.1", "userCreator:alice-IDE", "codeType:sql"],
        "executionCode": None,
        "paramsJson": "{}",
        "sourceJson": "{}",
        "canRetry": False,
    }
    task.update(over)
    return {"task": task}


def dir_tree_data(root: str, names: list[str]) -> dict[str, Any]:
    """``data`` of ``getDirFileTrees`` listing ``names`` (give them in lexicographic order)."""
    children = [
        {
            "name": name,
            "path": f"{root}/{name}",
            "properties": {"size": "100", "modifytime": "1704074460000"},
            "children": None,
            "isLeaf": True,
            "parentPath": root,
        }
        for name in names
    ]
    return {
        "dirFileTrees": {
            "name": root.rsplit("/", 1)[-1],
            "path": root,
            "properties": None,
            "children": children,
            "isLeaf": False,
            "parentPath": None,
        }
    }


def table_page(
    columns: list[tuple[str, str]], rows: list[list[str | None]], *, page: int = 1
) -> dict[str, Any]:
    """``data`` of ``openFile`` for a table result: string cells, totalPage 0 (§5.3)."""
    return {
        "type": "2",
        "page": page,
        "totalPage": 0,
        "totalLine": len(rows),
        "metadata": [{"columnName": n, "comment": "NULL", "dataType": t} for n, t in columns],
        "fileContent": rows,
    }


def text_page(lines: list[str], *, page: int = 1) -> dict[str, Any]:
    """``data`` of ``openFile`` for a text result (one-element rows, metadata "NULL")."""
    return {
        "type": "1",
        "page": page,
        "totalPage": 0,
        "totalLine": len(lines),
        "metadata": "NULL",
        "fileContent": [[line] for line in lines],
    }


def log_data(lines: list[str], *, from_line: int, exec_id: str = EXEC_ID) -> dict[str, Any]:
    """``data`` of ``entrance/{id}/log``: the 4-slot array and the next 1-based ``fromLine``."""
    errors = [x for x in lines if " ERROR " in x]
    warns = [x for x in lines if " WARN " in x]
    infos = [x for x in lines if x not in errors and x not in warns]
    slots = ["\n".join(errors), "\n".join(warns), "\n".join(infos), "\n".join(lines)]
    return {"execID": exec_id, "fromLine": from_line, "log": slots}


ReplySpec = Reply | Mapping[str, Any] | list[Any] | Callable[[Request], Reply]


class LinkisDouble:
    """A scriptable Linkis gateway on 127.0.0.1 (context manager; see the module docstring)."""

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        token: str | None = None,
        login_encrypt: bool = False,
        session_timeout_ms: int = 3_600_000,
        require_auth: bool = True,
    ) -> None:
        self.users = dict(users or {"alice": "alice-secret"})
        self.token = token
        self.login_encrypt = login_encrypt
        self.session_timeout_ms = session_timeout_ms
        self.require_auth = require_auth
        self.requests: list[Request] = []
        self.login_passwords: list[str] = []  # passwords as the double decoded them
        self._routes: dict[tuple[str, str], list[ReplySpec]] = {}
        self._tickets: dict[str, str] = {}
        self._lock = threading.Lock()
        self._key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if login_encrypt
            else None
        )
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "start the double first (use it as a context manager)"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LinkisDouble:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="linkis-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LinkisDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -------------------------------------------------------------- scripting

    def on(self, method: str, route: str, *replies: ReplySpec) -> LinkisDouble:
        """Queue replies for ``method route``; used in order, the last one repeats."""
        if not replies:
            raise ValueError("give at least one reply")
        with self._lock:
            self._routes.setdefault((method.upper(), route.lstrip("/")), []).extend(replies)
        return self

    def calls(self, method: str | None = None, route: str | None = None) -> list[Request]:
        """Recorded requests, optionally filtered by method and route."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (route is None or r.route == route)
            ]

    def expire_sessions(self) -> None:
        """Forget every session ticket, as a gateway restart or idle expiry does."""
        with self._lock:
            self._tickets.clear()

    @property
    def public_key_b64(self) -> str | None:
        if self._key is None:
            return None
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    # -------------------------------------------------------------- dispatch

    def _next_reply(self, req: Request) -> Reply | None:
        with self._lock:
            queue = self._routes.get((req.method, req.route)) or self._routes.get(("*", req.route))
            if not queue:
                return None
            spec = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(spec, Reply):
            return spec
        if callable(spec):
            return spec(req)
        return envelope(spec)

    def _authenticated(self, req: Request) -> str | None:
        code, user = req.header("Token-Code"), req.header("Token-User")
        if code is not None and user is not None:
            return user if self.token is not None and code == self.token else None
        for name, value in req.headers:
            if name.lower() == "cookie":
                for part in value.split(";"):
                    key, _, ticket = part.strip().partition("=")
                    if key == COOKIE:
                        with self._lock:
                            if ticket in self._tickets:
                                return self._tickets[ticket]
        return None

    def handle(self, req: Request) -> Reply:
        """Answer one request: auth check (the gateway does it first), script, built-ins."""
        with self._lock:
            self.requests.append(req)
        if self.require_auth and req.route.split("/")[0] != "user":
            refused = self._refuse_unauthenticated(req)
            if refused is not None:
                return refused
        scripted = self._next_reply(req)
        if scripted is not None:
            return scripted
        if req.route == "user/publicKey":
            data: dict[str, Any] = {"enableSSL": False, "enableLoginEncrypt": self.login_encrypt}
            if self._key is not None:
                data["publicKey"] = self.public_key_b64
                data["debugTime"] = 0
            return envelope(data, message="Gain success(获取成功)！")
        if req.route == "user/login":
            return self._login(req)
        if req.route == "user/logout":
            reply = envelope(message="Logout successful(退出登录成功)！")
            reply.headers.append(("Set-Cookie", f"{COOKIE}=; Max-Age=0; Path=/"))
            return reply
        return Reply.text(
            f"the Linkis double has no reply scripted for {req.method} {req.route}", status=404
        )

    def _refuse_unauthenticated(self, req: Request) -> Reply | None:
        if self._authenticated(req) is not None:
            return None
        code, user = req.header("Token-Code"), req.header("Token-User")
        if code is not None and user is not None:
            # Linkis echoes the token back in this message (docs/linkis-protocol.md §2.4).
            msg = (
                f"Token Authentication Failed, token: {code}，tokenUser: {user}, "
                "reason: Invalid Token(数据库中未配置的无效令牌)"
            )
        else:
            msg = "You are not logged in, please login first(您尚未登录，请先登录)!"
        return envelope(status=-1, message=msg, method=PREFIX + req.route)

    def _login(self, req: Request) -> Reply:
        try:
            body = req.json()
        except ValueError:
            body = {}
        user = str(body.get("userName") or "").lower()
        password = str(body.get("password") or "")
        if self._key is not None and password:
            try:
                password = self._key.decrypt(base64.b64decode(password), padding.PKCS1v15()).decode(
                    "utf-8"
                )
            except ValueError:
                password = ""
        self.login_passwords.append(password)
        extra = {"sessionTimeOut": self.session_timeout_ms, "enableWatermark": False}
        if not user:
            return envelope(extra, status=1, message="Username can not be empty(用户名不能为空)！")
        if not password:
            return envelope(extra, status=1, message="Password can not be blank(密码不能为空)！")
        if self.users.get(user) != password:
            return envelope(
                extra, status=1, message="wrong user name or password(用户名或密码错误)！"
            )
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets[ticket] = user
        reply = envelope(
            {"userName": user, "isAdmin": False, **extra}, message="login successful(登录成功)！"
        )
        reply.headers.append(("Set-Cookie", f"{COOKIE}={ticket}; Path=/"))
        return reply


def _make_handler(double: LinkisDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            route = parts.path[len(PREFIX) :] if parts.path.startswith(PREFIX) else parts.path
            req = Request(
                method=self.command,
                raw_path=self.path,
                route=route,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers=list(self.headers.items()),
                body=body,
            )
            reply = double.handle(req)
            if reply.reset:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler
