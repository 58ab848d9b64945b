"""Authentication: password login (plain or RSA, re-login once on 401) and token headers.

Both schemes follow requests' ``AuthBase`` protocol (called on every prepared request) plus three
lifecycle hooks the transport calls (``before``, ``rejected``, ``touched``).

* :class:`PasswordAuth` logs in lazily with ``user/login``, RSA-encrypting the password when the
  gateway's ``user/publicKey`` asks for it; the gateway's session cookie then rides in the shared
  cookie jar. It logs in again when the server's idle ``sessionTimeOut`` has passed, and once
  when a reply says the session was rejected (docs/linkis-protocol.md §2.2-§2.3, §10.14).
* :class:`TokenAuth` sends ``Token-Code`` and ``Token-User`` on every request, spelled exactly
  so, and never logs in (§2.4, §10.11).

Credentials live only inside these objects, as :class:`Secret` values: masked in memory (so a
debugger, ``vars()`` or a variable inspector shows no plain text), masked in ``repr``, compared in
constant time, and revealed only at the moment a request needs them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

import requests
from requests.auth import AuthBase

from linkis_magic.errors import ConfigurationError, ProtocolError

if TYPE_CHECKING:
    from linkis_magic._transport import Transport

__all__ = [
    "Auth",
    "AuthKind",
    "NoAuth",
    "PasswordAuth",
    "Secret",
    "TokenAuth",
    "kind_of",
    "make_auth",
]

logger = logging.getLogger("linkis_magic.client")

AuthKind = Literal["password", "token", "none"]
_SALT = os.urandom(16)  # per process: fingerprints cannot be compared across processes


class Secret:
    """A credential that never shows itself: masked in memory and in ``repr``/``str``.

    The value is stored XOR-ed with a random pad, so no attribute holds the plain text;
    :meth:`reveal` gives it back for the one request that needs it.
    """

    __slots__ = ("_masked", "_pad")

    def __init__(self, value: str | Secret) -> None:
        plain = value.reveal() if isinstance(value, Secret) else value
        if not isinstance(plain, str) or not plain:
            raise ConfigurationError("a password or token must be a non-empty string")
        data = plain.encode("utf-8")
        self._pad = os.urandom(len(data))
        self._masked = bytes(a ^ b for a, b in zip(data, self._pad, strict=True))

    def reveal(self) -> str:
        """The plain value (only to put it on the wire or to redact it from text)."""
        return bytes(a ^ b for a, b in zip(self._masked, self._pad, strict=True)).decode("utf-8")

    def fingerprint(self) -> str:
        """A salted digest: tells two secrets apart without keeping either in the clear."""
        return hmac.new(_SALT, self.reveal().encode("utf-8"), hashlib.sha256).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self.fingerprint(), other.fingerprint())

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self  # immutable: a copy is the same secret, and nothing is written anywhere

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        # traitlets deep-copies a shell's config into each new configurable (a reloaded
        # extension): the Secret %config left there must survive that, still masked
        return self


class Auth(AuthBase):
    """Base scheme: sends nothing extra and never logs in (a gateway without auth)."""

    kind: AuthKind = "none"

    def __init__(self, user: str | None = None) -> None:
        self.user = user

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request

    def secrets(self) -> tuple[str, ...]:
        """Plain values to redact from messages (none for this scheme)."""
        return ()

    def before(self, transport: Transport) -> None:
        """Nothing to prepare."""

    def rejected(self, transport: Transport) -> bool:
        """Nothing to retry with."""
        return False

    def touched(self) -> None:
        """Nothing to record."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(user={self.user!r})"


class NoAuth(Auth):
    """No credentials: requests go out as they are (the gateway will say 401 if it needs some)."""


class TokenAuth(Auth):
    """``Token-Code`` + ``Token-User`` on every request; no login, no cookie."""

    kind: AuthKind = "token"

    def __init__(self, user: str, token: str | Secret) -> None:
        super().__init__(user)
        self._token = Secret(token)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Token-Code"] = self._token.reveal()
        request.headers["Token-User"] = self.user or ""
        return request

    def secrets(self) -> tuple[str, ...]:
        """The token, to redact it from any echo."""
        return (self._token.reveal(),)


class PasswordAuth(Auth):
    """Password login with the session cookie; re-login on idle expiry and once on 401."""

    kind: AuthKind = "password"

    def __init__(self, user: str, password: str | Secret) -> None:
        super().__init__(user)
        self._password = Secret(password)
        self._lock = threading.RLock()
        self.logged_in = False
        self._last_activity = 0.0
        self._session_timeout: float | None = None

    def secrets(self) -> tuple[str, ...]:
        """The password, to redact it from any echo."""
        return (self._password.reveal(),)

    def before(self, transport: Transport) -> None:
        """Log in when there is no session yet or the server's idle timeout has passed."""
        with self._lock:
            stale = (
                self._session_timeout is not None
                and time.monotonic() - self._last_activity > self._session_timeout
            )
            if not self.logged_in or stale:
                self.login(transport)

    def rejected(self, transport: Transport) -> bool:
        """The session was refused: log in again and let the caller retry once."""
        self.login(transport)
        return True

    def touched(self) -> None:
        """A request succeeded: the server's idle timer restarted."""
        self._last_activity = time.monotonic()

    def login(self, transport: Transport) -> None:
        """``user/login`` with the password (RSA-encrypted when the gateway asks for it)."""
        with self._lock:
            password = self._password.reveal()
            key_data: dict[str, Any] = {}
            try:
                key_env = transport.envelope(
                    transport.send("GET", "user/publicKey", authenticate=False)
                )
                if key_env.status == 0 and isinstance(key_env.data, dict):
                    key_data = key_env.data
            except ProtocolError:  # a gateway without the endpoint: plain-text login
                pass
            if key_data.get("enableLoginEncrypt") in (True, "true"):
                password = _encrypt(password, key_data.get("publicKey"))
            body = {"userName": self.user, "password": password}
            resp = transport.send("POST", "user/login", json_body=body, authenticate=False)
            env = transport.envelope(resp)
            transport.raise_for(env, password)
            data = env.data if isinstance(env.data, dict) else {}
            timeout_ms = data.get("sessionTimeOut")
            if isinstance(timeout_ms, (int, float)) and not isinstance(timeout_ms, bool):
                self._session_timeout = float(timeout_ms) / 1000.0 if timeout_ms > 0 else None
            self.logged_in = True
            self.touched()
            logger.debug("logged in to %s as %s", transport.base_url, self.user)

    def logout(self, transport: Transport) -> None:
        """``user/logout`` and forget the session cookie."""
        with self._lock:
            env = transport.envelope(transport.send("POST", "user/logout", authenticate=False))
            self.logged_in = False
            transport.cookies.clear()
            transport.raise_for(env)


def _encrypt(password: str, public_key: object) -> str:
    """RSA PKCS#1 v1.5 + Base64, as the gateway's encrypted login expects (§2.2)."""
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    if not isinstance(public_key, str) or not public_key:
        raise ConfigurationError("the gateway requires an encrypted login but sent no publicKey")
    try:
        key = load_der_public_key(base64.b64decode(public_key))
    except ValueError as exc:
        raise ConfigurationError("the gateway's login publicKey is not a valid RSA key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError("the gateway's login publicKey is not an RSA key")
    cipher = key.encrypt(password.encode("utf-8"), padding.PKCS1v15())
    return base64.b64encode(cipher).decode("ascii")


def make_auth(
    user: str | None, password: str | Secret | None = None, token: str | Secret | None = None
) -> Auth:
    """The scheme for a set of credentials (validated by the caller: not both, user given)."""
    if token is not None:
        assert user is not None
        return TokenAuth(user, token)
    if password is not None:
        assert user is not None
        return PasswordAuth(user, password)
    return NoAuth(user)


def kind_of(password: object, token: object) -> AuthKind:
    """Which scheme a set of credentials selects, without building it."""
    if token:
        return "token"
    if password:
        return "password"
    return "none"
