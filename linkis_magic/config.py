"""Settings for talking to a Linkis gateway, and where each value comes from.

Precedence, first match wins (DESIGN "Public contract"):

    magic arguments  >  %config LinkisMagics.<trait>  >  environment  >  defaults

`Settings.from_env()` reads the environment over the defaults; the magics layer then calls
`merged()` with the traits the user set and finally with the magic's own arguments. Keeping
the merge here (and IPython out of this module) lets plain scripts build the same settings.

Secrets (password, token) never appear in `repr()`/`str()`: a notebook that prints its
settings must not leak them into a saved .ipynb.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from linkis_magic.errors import ConfigurationError

DisplayMode = Literal["auto", "widget", "text", "none"]
DISPLAY_MODES: tuple[str, ...] = ("auto", "widget", "text", "none")

#: Default engine label per engine family, used to suggest a fix when a version is missing
#: (Linkis needs "<engine>-<version>" in labels.engineType; REFERENCE §3.2).
ENGINE_EXAMPLES: dict[str, str] = {
    "spark": "spark-2.4.3",
    "hive": "hive-2.3.3",
    "python": "python-python3",
    "shell": "shell-1",
    "jdbc": "jdbc-4",
    "presto": "presto-0.234",
    "trino": "trino-371",
    "flink": "flink-1.12.2",
    "pipeline": "pipeline-1",
    "elasticsearch": "elasticsearch-7.6.2",
}

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

_ENGINE_LABEL = re.compile(r"^[A-Za-z][\w.]*-[\w.\-]+$")
_CREATOR = re.compile(r"^[A-Za-z0-9_]+$")

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
}

_SECRET_FIELDS = frozenset({"password", "token"})


def check_engine(label: str) -> str:
    """Return `label` if it is a Linkis engine label "<engine>-<version>", else explain the fix.

    Linkis rejects a bare engine name on /submit (it needs the version in the label), and the
    error only shows up after a round trip; catching it here keeps the request from being sent.
    """
    label = label.strip()
    if _ENGINE_LABEL.match(label):
        return label
    family = label.split("-", 1)[0].lower()
    example = ENGINE_EXAMPLES.get(family, f"{family or 'spark'}-<version>")
    if "-" not in label and family in ENGINE_EXAMPLES:
        raise ConfigurationError(
            f"engine {label!r} needs a version: use e.g. {example!r} (Linkis engine labels "
            "are '<engine>-<version>')"
        )
    raise ConfigurationError(
        f"engine {label!r} is not an engine label '<engine>-<version>', e.g. {example!r}"
    )


def check_creator(creator: str) -> str:
    """Return `creator` if Linkis accepts it in "user-creator" labels (letters, digits, _)."""
    if not _CREATOR.match(creator):
        raise ConfigurationError(
            f"creator {creator!r} must be letters, digits or '_' (e.g. 'IDE'); Linkis builds "
            "the label '<user>-<creator>' from it"
        )
    return creator


def check_display(mode: str) -> str:
    """Return a display mode name, lower-cased; explain the choices when it is unknown."""
    value = mode.strip().lower()
    if value not in DISPLAY_MODES:
        raise ConfigurationError(f"display {mode!r} must be one of {', '.join(DISPLAY_MODES)}")
    return value


def parse_verify(value: str | bool) -> bool | str:
    """Read a TLS verify setting: a boolean word, or the path of a CA bundle."""
    if isinstance(value, bool):
        return value
    text = value.strip()
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on", ""}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    return text


def check_url(url: str) -> str:
    """Return the gateway URL without a trailing slash; it must be http(s)://host[:port]."""
    text = url.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", text):
        raise ConfigurationError(
            f"gateway URL {url!r} must start with http:// or https://, "
            "e.g. 'http://gateway.example.com:9001'"
        )
    return text


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything needed to reach a gateway and to fill a job's labels by default."""

    gateway_url: str | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    engine: str = DEFAULT_ENGINE
    creator: str = DEFAULT_CREATOR
    display: str = "auto"
    verify: bool | str = True
    connect_timeout: float = 5.0
    read_timeout: float = 60.0

    def __post_init__(self) -> None:
        # Validate once, wherever the value came from, so a bad env var fails with the same
        # message as a bad magic argument (and before any request).
        if self.gateway_url is not None:
            object.__setattr__(self, "gateway_url", check_url(self.gateway_url))
        object.__setattr__(self, "engine", check_engine(self.engine))
        object.__setattr__(self, "creator", check_creator(self.creator))
        object.__setattr__(self, "display", check_display(self.display))
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by the LINKIS_* environment variables that are set and not empty."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, name in ENV_VARS.items():
            raw = env.get(var)
            if raw is None or raw.strip() == "":
                continue
            values[name] = parse_verify(raw) if name == "verify" else raw.strip()
        return cls(**values)

    def merged(self, **overrides: Any) -> Settings:
        """A copy with every override that is not None applied (None means "not given")."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        given = {k: v for k, v in overrides.items() if v is not None}
        if "verify" in given:
            given["verify"] = parse_verify(given["verify"])
        return replace(self, **given) if given else self

    @property
    def auth_kind(self) -> str:
        """Which credentials a client would send: "token", "password" or "none"."""
        if self.token:
            return "token"
        if self.password:
            return "password"
        return "none"

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
        """Keyword arguments for `LinkisClient(self.gateway_url, **kwargs)`."""
        return {
            "user": self.user,
            "password": self.password,
            "token": self.token,
            "creator": self.creator,
            "timeout": (self.connect_timeout, self.read_timeout),
            "verify": self.verify,
        }

    def describe(self) -> dict[str, str]:
        """Printable values with the secrets masked (for `%linkis config`)."""
        out: dict[str, str] = {}
        for f in fields(self):
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
