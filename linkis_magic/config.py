"""Settings for talking to a Linkis gateway, and where each value came from.

Precedence, first match wins::

    magic arguments  >  %config LinkisMagics.<trait>  >  environment  >  defaults

``Settings.from_env()`` reads the environment over the defaults; the magics then call
``merged()`` with the traits the user set and finally with the magic's own arguments, each time
saying where the values come from, so ``%linkis config`` can show the origin of every value.
Keeping the merge here (and IPython out of this module) lets plain scripts build the same
settings.

Secrets (password, token) are :class:`~linkis_magic.auth.Secret` values: masked in memory and in
every ``repr``, compared by fingerprint, so printing or inspecting settings never leaks them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from linkis_magic._validate import (
    DisplaySetting,
    check_base_url,
    check_creator,
    check_display,
    check_engine,
    check_proxy_user,
    check_seconds,
    check_verify,
    parse_verify,
)
from linkis_magic.auth import AuthKind, Secret, kind_of
from linkis_magic.errors import ConfigurationError
from linkis_magic.job import GATEWAY_OUTAGE_TIMEOUT

__all__ = ["DEFAULT_CREATOR", "DEFAULT_ENGINE", "ENV_VARS", "RUN_TYPE_ENGINES", "Settings"]

#: The engine a runType needs when no engine was chosen for it: SQL-like code runs on the
#: configured default engine, python/shell code needs its own engine family.
RUN_TYPE_ENGINES: dict[str, str] = {
    "python": "python-python3",
    "py": "python-python3",
    "shell": "shell-1",
    "sh": "shell-1",
}

DEFAULT_ENGINE = "spark-2.4.3"
DEFAULT_CREATOR = "IDE"

#: Environment variable -> Settings field.
ENV_VARS: dict[str, str] = {
    "LINKIS_GATEWAY_URL": "gateway_url",
    "LINKIS_USER": "user",
    "LINKIS_PASSWORD": "password",
    "LINKIS_TOKEN": "token",
    "LINKIS_ENGINE": "engine",
    "LINKIS_CREATOR": "creator",
    "LINKIS_DISPLAY": "display",
    "LINKIS_VERIFY": "verify",
    "LINKIS_GATEWAY_OUTAGE_TIMEOUT": "gateway_outage_timeout",
}

_SECRET_FIELDS = frozenset({"password", "token"})
DEFAULT_ORIGIN = "default"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _number(text: str, name: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {text!r}") from None


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything needed to reach a gateway and to fill a job's labels by default.

    ``origins`` maps a field name to where its value came from (``$LINKIS_USER``,
    ``%config LinkisMagics.user``, ``magic argument``); fields not in it are defaults.
    ``proxy_user`` is the user jobs run as (sent as ``executeUser``; Linkis honours it for
    admin tokens), set by a named connection.
    """

    gateway_url: str | None = None
    user: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    engine: str = DEFAULT_ENGINE
    creator: str = DEFAULT_CREATOR
    display: DisplaySetting = "auto"
    verify: bool | str = True
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    gateway_outage_timeout: float = GATEWAY_OUTAGE_TIMEOUT
    proxy_user: str | None = None
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # Validate once, wherever the value came from, so a bad env var fails with the same
        # message as a bad magic argument (and before any request).
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.gateway_url is not None:
            put("gateway_url", check_base_url(self.gateway_url, "the gateway URL"))
        for name in _SECRET_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Secret):
                put(name, Secret(value))
        put("engine", check_engine(_strip(self.engine), "engine"))
        put("creator", check_creator(_strip(self.creator)))
        put("display", check_display(self.display))
        put("verify", check_verify(self.verify, exists=False))
        for name in ("connect_timeout", "read_timeout", "gateway_outage_timeout"):
            value = getattr(self, name)
            if isinstance(value, str):  # from the environment
                value = _number(value, name)
            put(name, check_seconds(value, name))
        if self.proxy_user is not None:
            put("proxy_user", check_proxy_user(self.proxy_user))
        put("origins", dict(self.origins))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by the LINKIS_* environment variables that are set and not empty."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for var, name in ENV_VARS.items():
            raw = env.get(var)
            if raw is None or raw.strip() == "":
                continue
            values[name] = parse_verify(raw) if name == "verify" else raw.strip()
            origins[name] = f"${var}"
        return cls(**values, origins=origins)

    def merged(self, *, origin: str = "magic argument", **overrides: Any) -> Settings:
        """A copy with every override that is not None applied (None means "not given")."""
        known = {f.name for f in fields(self)} - {"origins"}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        if "verify" in given:
            given["verify"] = parse_verify(given["verify"])
        origins = {**self.origins, **dict.fromkeys(given, origin)}
        return replace(self, **given, origins=origins)

    def origin(self, name: str) -> str:
        """Where the value of field ``name`` came from."""
        return self.origins.get(name, DEFAULT_ORIGIN)

    @property
    def auth_kind(self) -> AuthKind:
        """Which credentials a client would send: "token", "password" or "none"."""
        return kind_of(self.password, self.token)

    def engine_for(self, run_type: str) -> str:
        """The engine label a runType uses when none was given on the magic line.

        SQL-like runTypes use the configured engine; python/shell need their own family
        unless the configured engine already is that family.
        """
        wanted = RUN_TYPE_ENGINES.get(run_type.lower())
        if wanted is None:
            return self.engine
        if self.engine.split("-", 1)[0] == wanted.split("-", 1)[0]:
            return self.engine
        return wanted

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``LinkisClient(self.gateway_url, **kwargs)``."""
        return {
            "user": self.user,
            "password": self.password,
            "token": self.token,
            "creator": self.creator,
            "timeout": (self.connect_timeout, self.read_timeout),
            "verify": self.verify,
            "gateway_outage_timeout": self.gateway_outage_timeout,
        }

    def fingerprint(self) -> str:
        """A digest of everything a client is built from: equal settings, equal digests.

        Lets a caller reuse a client while the settings stay the same without keeping the
        credentials anywhere but inside the client's auth scheme.
        """
        parts = []
        for f in fields(self):
            if f.name == "origins":
                continue
            value = getattr(self, f.name)
            parts.append(
                f"{f.name}={value.fingerprint() if isinstance(value, Secret) else value!r}"
            )
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def describe(self) -> dict[str, str]:
        """Printable values with the secrets masked (for ``%linkis config``)."""
        out: dict[str, str] = {}
        for f in fields(self):
            if f.name == "origins":
                continue
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS:
                out[f.name] = "<set>" if value else "<not set>"
            else:
                out[f.name] = "<not set>" if value is None else str(value)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"Settings({inner})"

    __str__ = __repr__
