"""`/user/*`: password and token login, logout, and the session probes.

Linkis's gateway dispatches `/user/<action>` by the last segment whatever the HTTP method
(docs/linkis-protocol.md §2.2, §2.5), and answers with `method` null. Login, logout and
publicKey need no session; userInfo and heartbeat report a missing one in their own way.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from linkis_magic.sandbox.auth import COOKIE, authenticate, token_pair
from linkis_magic.sandbox.errors import ApiError, envelope
from linkis_magic.sandbox.state import Gateway, GatewayDep

router = APIRouter()

_LOGGED_IN = "login successful(登录成功)！"


def _reply(status: int, message: str, data: dict[str, Any]) -> JSONResponse:
    return envelope(None, status, message, data)


async def _credentials(request: Request) -> tuple[str, str]:
    """userName and password (or passwdEncrypt) from the query, else from a JSON body."""
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


async def _login(request: Request, gateway: Gateway) -> Response:
    current, _ = gateway.sessions.user(request.cookies.get(COOKIE))
    if current is not None:
        return _reply(
            0,
            f"{current} already logged in, please log out before signing in"
            "(已经登录，请先退出再进行登录)！",
            {"userName": current},
        )
    name, password = await _credentials(request)
    extra = {
        "sessionTimeOut": int(gateway.config.session_timeout * 1000),
        "enableWatermark": False,
    }
    if not name:
        return _reply(1, "Username can not be empty(用户名不能为空)！", extra)
    if not password:
        return _reply(1, "Password can not be blank(密码不能为空)！", extra)
    name = name.lower()
    expected = gateway.config.users.get(name)
    if expected is None or not hmac.compare_digest(
        expected.encode("utf-8"), password.encode("utf-8")
    ):
        return _reply(1, "wrong user name or password(用户名或密码错误)！", extra)
    reply = _reply(0, _LOGGED_IN, {"userName": name, "isAdmin": False, **extra})
    reply.set_cookie(COOKIE, gateway.sessions.create(name), path="/", httponly=True)
    return reply


async def _logout(request: Request, gateway: Gateway) -> Response:
    gateway.sessions.drop(request.cookies.get(COOKIE))
    reply = _reply(0, "Logout successful(退出登录成功)！", {})
    reply.set_cookie(COOKIE, "", path="/", max_age=0)
    return reply


async def _public_key(request: Request, gateway: Gateway) -> Response:
    return _reply(0, "Gain success(获取成功)！", {"enableSSL": False, "enableLoginEncrypt": False})


async def _token_login(request: Request, gateway: Gateway) -> Response:
    if request.method != "POST":
        return _reply(1, "token-login only supports POST", {})
    code, token_user = token_pair(request)
    if not (code and token_user):
        raise ApiError(-1, "Token-Code and Token-User are required", method=None)
    user = authenticate(request, gateway)
    reply = _reply(0, _LOGGED_IN, {"userName": user, "isAdmin": False})
    reply.set_cookie(COOKIE, gateway.sessions.create(user), path="/", httponly=True)
    return reply


async def _user_info(request: Request, gateway: Gateway) -> Response:
    try:
        user = authenticate(request, gateway)
    except ApiError as exc:
        return _reply(1, exc.message, {})
    return _reply(0, "get user information succeed!", {"userName": user})


async def _heartbeat(request: Request, gateway: Gateway) -> Response:
    try:
        authenticate(request, gateway)
    except ApiError as exc:
        return _reply(-1, exc.message, {})
    return _reply(0, "Maintain heartbeat success(维系心跳成功)", {})


async def _base_info(request: Request, gateway: Gateway) -> Response:
    authenticate(request, gateway)
    return _reply(
        0,
        "OK",
        {
            "resultSetExportEnable": True,
            "linkisClusterName": "sandbox",
            "engineLogOnlyAdminEnable": False,
        },
    )


_ACTIONS: dict[str, Callable[[Request, Gateway], Awaitable[Response]]] = {
    "login": _login,
    "logout": _logout,
    "publicKey": _public_key,
    "token-login": _token_login,
    "userInfo": _user_info,
    "heartbeat": _heartbeat,
    "baseinfo": _base_info,
}


async def user_endpoint(action: str, request: Request, gateway: GatewayDep) -> Response:
    handler = _ACTIONS.get(action)
    if handler is None:
        return _reply(1, f"unknown request URI {request.url.path}", {})
    return await handler(request, gateway)


# One route per method keeps the OpenAPI operation ids unique.
for _verb in ("GET", "POST", "PUT", "DELETE"):
    router.add_api_route(
        "/user/{action}",
        user_endpoint,
        methods=[_verb],
        operation_id=f"user_{_verb.lower()}",
    )
