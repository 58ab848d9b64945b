"""Who is calling: session tickets, Token-Code/Token-User, and the `current_user` dependency.

Everything but login/logout/publicKey needs the `linkis_user_session_ticket_id_v1` cookie of
a password login or the Token-Code + Token-User pair (docs/linkis-protocol.md §2); failures
are HTTP 401 / status -1 with the request URI as `method`. Tickets live in memory with an
idle timeout, so a gateway restart drops them all. Secrets never appear in replies or logs.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from typing import Annotated, Any

from fastapi import Depends, Request

from linkis_magic.sandbox.errors import ApiError
from linkis_magic.sandbox.state import Gateway, GatewayDep

COOKIE = "linkis_user_session_ticket_id_v1"
NOT_LOGGED_IN = "You are not logged in, please login first(您尚未登录，请先登录)!"
EXPIRED = "Login has expired, please log in again!(登录已过期，请重新登录！)"


class Sessions:
    """Server-side session tickets with an idle timeout."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._tickets: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def create(self, user: str) -> str:
        ticket = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            # forget idle tickets so repeated logins cannot grow the map without bound
            for stale in [t for t, e in self._tickets.items() if now - e[1] > self.timeout]:
                del self._tickets[stale]
            self._tickets[ticket] = [user, now]
        return ticket

    def drop(self, ticket: str | None) -> None:
        if ticket:
            with self._lock:
                self._tickets.pop(ticket, None)

    def user(self, ticket: str | None) -> tuple[str | None, bool]:
        """(user, expired): refreshes the idle clock of a valid ticket."""
        if not ticket:
            return None, False
        now = time.monotonic()
        with self._lock:
            entry = self._tickets.get(ticket)
            if entry is None:
                return None, False
            if now - entry[1] > self.timeout:
                del self._tickets[ticket]
                return None, True
            entry[1] = now
            return str(entry[0]), False


def token_pair(request: Request) -> tuple[str | None, str | None]:
    """Token-Code and Token-User, from headers or else cookies."""
    code = request.headers.get("Token-Code") or request.cookies.get("Token-Code")
    user = request.headers.get("Token-User") or request.cookies.get("Token-User")
    return code, user


def authenticate(request: Request, gateway: Gateway) -> str:
    """The caller's user name, or ApiError -1 (HTTP 401, method = request URI)."""
    code, token_user = token_pair(request)
    uri = request.url.path
    if code and token_user:
        config = gateway.config
        valid_token = any(hmac.compare_digest(code, t) for t in config.tokens)
        if not valid_token:
            reason = "Invalid Token(数据库中未配置的无效令牌)"
        elif token_user.lower() not in config.users:
            reason = f"Illegal TokenUser for Token(Token非法用户): {token_user}"
        else:
            return token_user.lower()
        # never echo the token itself: secrets stay out of replies and logs
        raise ApiError(
            -1,
            f"Token Authentication Failed, token: ******，tokenUser: {token_user}, "
            f"reason: {reason}",
            method=uri,
        )
    user, expired = gateway.sessions.user(request.cookies.get(COOKIE))
    if user is None:
        raise ApiError(-1, EXPIRED if expired else NOT_LOGGED_IN, method=uri)
    return user


async def current_user(request: Request, gateway: GatewayDep) -> str:
    """Dependency: the authenticated caller (runs before the route reads its body)."""
    return authenticate(request, gateway)


CurrentUser = Annotated[str, Depends(current_user)]
"""A route parameter of this type receives the caller's user name (or the route answers 401)."""
