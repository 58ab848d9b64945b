"""Named connections: profiles in ``connections.toml`` and linkis-cli properties files.

A profile is one more settings layer, between the environment and ``%config``::

    magic arguments  >  %config  >  the chosen profile  >  environment  >  defaults

The file is ``connections.toml`` in ``platformdirs.user_config_dir("linkis-magic")``, or the
path in ``$LINKIS_MAGIC_CONNECTIONS``. A profile names any :class:`~linkis_magic.config.Settings`
field (``gateway_url``, ``user``, ``engine``, ``creator``, ``verify``, timeouts ...),
``proxy_user`` (sent as ``executeUser``), credentials as ``token_env``/``password_env`` (the
name of an environment variable) or ``token``/``password`` written in the file, and
``linkis_cli_conf``: a linkis-cli properties file read as linkis-cli reads it
(docs/linkis-protocol.md §17), with the profile's own keys on top.

Secrets written in a file are refused when the file is readable by group or others (as ssh
refuses a private key): the message says ``chmod 600`` or ``*_env``. They are held as
:class:`~linkis_magic.auth.Secret` from the moment they are read, so no repr, listing or log
shows them. Everything a user can get wrong (unknown profile, a malformed line, a missing
environment variable) is a :class:`~linkis_magic.errors.ConfigurationError` naming the file
and line, raised before any request. Plain Python, no IPython: scripts can use profiles too.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from linkis_magic.auth import Secret, kind_of
from linkis_magic.config import Settings
from linkis_magic.errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "CONNECTIONS_ENV",
    "Connections",
    "ConnectionsFile",
    "Profile",
    "connections_path",
    "load_connections",
    "read_cli_properties",
]

CONNECTIONS_ENV = "LINKIS_MAGIC_CONNECTIONS"
FILE_NAME = "connections.toml"

#: Profile keys taken as they are (Settings fields), and the type each must have in TOML.
_PLAIN_KEYS: dict[str, tuple[type, ...]] = {
    "gateway_url": (str,),
    "user": (str,),
    "engine": (str,),
    "creator": (str,),
    "display": (str,),
    "verify": (bool, str),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "proxy_user": (str,),
}
_SECRET_KEYS = ("password", "token")
_ENV_KEYS = ("password_env", "token_env")
_OTHER_KEYS = ("linkis_cli_conf",)
PROFILE_KEYS = (*_PLAIN_KEYS, *_SECRET_KEYS, *_ENV_KEYS, *_OTHER_KEYS)

_CLI = "wds.linkis.client.common."
_CLI_ENGINE = "wds.linkis.client.label.engineType"


def connections_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the connections file is: ``$LINKIS_MAGIC_CONNECTIONS`` or the user config dir."""
    env = os.environ if environ is None else environ
    given = env.get(CONNECTIONS_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    import platformdirs  # only when needed: importing the client stays light

    return Path(platformdirs.user_config_dir("linkis-magic")) / FILE_NAME


def _check_private(path: Path, what: str) -> None:
    """Refuse a secret in a file that group or others can read (ssh's rule for keys)."""
    if os.name == "nt":  # no POSIX modes: ACLs decide (like OpenSSH on Windows, not checked)
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"{path} holds {what} but is readable by others (mode {mode:03o}): run "
            f"'chmod 600 {path}', or keep the secret in an environment variable "
            "(token_env / password_env)"
        )


# ---------------------------------------------------------------------- linkis-cli properties


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and i + 6 <= len(text):
                try:
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_property(line: str) -> tuple[str, str]:
    """``key=value``, ``key: value`` or ``key value`` (java.util.Properties)."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=: \t\f":
            break
        i += 1
    key, rest = line[:i], line[i:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(key), _unescape(rest)


def read_cli_properties(path: Path) -> dict[str, str]:
    """A properties file as ``java.util.Properties`` reads it (comments, continuations)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read linkis-cli file {path}: {exc.strerror}") from None
    props: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip(" \t\f") if not pending else raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # an odd number of backslashes continues the line
            pending += line[:-1]
            continue
        key, value = _split_property(pending + line)
        pending = ""
        if key:
            props[key] = value
    if pending:
        key, value = _split_property(pending)
        if key:
            props[key] = value
    return props


def _cli_seconds(props: Mapping[str, str], key: str, path: Path) -> float | None:
    raw = props.get(_CLI + key, "").strip()
    if not raw:
        return None
    try:
        return int(raw) / 1000  # linkis-cli's timeouts are milliseconds
    except ValueError:
        raise ConfigurationError(f"{path}: {_CLI}{key} must be milliseconds, got {raw!r}") from None


def cli_values(path: Path) -> tuple[dict[str, Any], str]:
    """Settings values from a linkis-cli properties file, mapped as linkis-cli does (§17).

    ``authStrategy`` token: ``submitUser`` is the Token-User, ``tokenValue`` the Token-Code;
    static (linkis-cli's code default): a password login as ``tokenKey`` with ``tokenValue``.
    Returns the values and the kind of auth, for listings.
    """
    props = read_cli_properties(path)

    def get(key: str) -> str | None:
        value = props.get(_CLI + key, "").strip()
        return value or None

    values: dict[str, Any] = {
        "gateway_url": get("gatewayUrl"),
        "creator": get("creator"),
        "engine": props.get(_CLI_ENGINE, "").strip() or None,
        "connect_timeout": _cli_seconds(props, "connectionTimeout", path),
        "read_timeout": _cli_seconds(props, "readTimeout", path),
    }
    strategy = (get("authStrategy") or "static").lower()
    secret = get("tokenValue")
    submit_user = get("submitUser")
    if strategy == "token":
        values["user"] = submit_user
        kind = "token"
        if secret:
            _check_private(path, "a token (tokenValue)")
            values["token"] = Secret(secret)
    elif strategy == "static":
        key = get("tokenKey")
        if submit_user and key and submit_user != key:
            raise ConfigurationError(
                f"{path}: submitUser ({submit_user}) must equal tokenKey ({key}) with "
                "authStrategy=static, as linkis-cli requires"
            )
        values["user"] = key or submit_user
        kind = "password"
        if secret:
            _check_private(path, "a password (tokenValue)")
            values["password"] = Secret(secret)
    else:
        raise ConfigurationError(
            f"{path}: authStrategy {strategy!r} is not supported; use token or static"
        )
    proxy = get("proxyUser")
    if proxy and proxy != values.get("user"):
        values["proxy_user"] = proxy
    return {k: v for k, v in values.items() if v is not None}, kind


# ---------------------------------------------------------------------- profiles


@dataclass(frozen=True, repr=False)
class Profile:
    """One ``[name]`` table of the connections file (secrets already held as Secrets).

    ``values`` are Settings fields read from the file (and its linkis-cli file), ``env`` the
    environment variables credentials come from (field -> variable), looked up each time
    :meth:`apply` runs so a variable set later in the kernel counts.
    """

    name: str
    source: Path
    values: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    cli_conf: Path | None = None

    def __repr__(self) -> str:
        return f"<Profile {self.name} {self.values.get('gateway_url')} ({self.source})>"

    @property
    def gateway_url(self) -> str | None:
        url = self.values.get("gateway_url")
        return None if url is None else str(url)

    @property
    def user(self) -> str | None:
        user = self.values.get("user")
        return None if user is None else str(user)

    @property
    def auth(self) -> str:
        """How it authenticates, for listings (never the secret): ``token ($VAR)`` etc."""
        for name in ("token", "password"):
            var = self.env.get(name)
            if var is not None:
                return f"{name} (${var})"
            if name in self.values:
                return f"{name} (in file)"
        return "none"

    def apply(self, base: Settings, environ: Mapping[str, str] | None = None) -> Settings:
        """``base`` with this profile on top; a credential here replaces the other kind below."""
        env = os.environ if environ is None else environ
        values = dict(self.values)
        for name, var in self.env.items():
            raw = env.get(var, "")
            if not raw.strip():
                raise ConfigurationError(
                    f"connection {self.name!r}: ${var} ({name}_env in {self.source}) is not "
                    "set or empty; export it before starting Jupyter, or set "
                    f"os.environ[{var!r}]"
                )
            values[name] = Secret(raw.strip())
        settings = base.merged(origin=f"connection {self.name} ({self.source})", **values)
        chosen = kind_of(values.get("password"), values.get("token"))
        if chosen == "password" and settings.token is not None:
            settings = replace(settings, token=None)  # the profile's login wins over env's token
        elif chosen == "token" and settings.password is not None:
            settings = replace(settings, password=None)
        return settings


def _profile(name: str, table: Mapping[str, Any], source: Path) -> Profile:
    where = f"{source}: [{name}]"
    unknown = sorted(set(table) - set(PROFILE_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a profile takes "
            + ", ".join(PROFILE_KEYS)
        )
    values: dict[str, Any] = {}
    env: dict[str, str] = {}
    cli_conf: Path | None = None
    raw_conf = table.get("linkis_cli_conf")
    if raw_conf is not None:
        if not isinstance(raw_conf, str) or not raw_conf.strip():
            raise ConfigurationError(f"{where}: linkis_cli_conf must be a file path")
        cli_conf = Path(raw_conf).expanduser()
        if not cli_conf.is_absolute():
            cli_conf = source.parent / cli_conf
        if not cli_conf.is_file():
            raise ConfigurationError(f"{where}: linkis_cli_conf {cli_conf} is not a file")
        values.update(cli_values(cli_conf)[0])
    for key, types in _PLAIN_KEYS.items():
        if key not in table:
            continue
        value = table[key]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            kinds = " or ".join(t.__name__ for t in types)
            raise ConfigurationError(f"{where}: {key} must be a {kinds}, got {value!r}")
        values[key] = value
    for secret in _SECRET_KEYS:
        written, var = table.get(secret), table.get(f"{secret}_env")
        if written is not None and var is not None:
            raise ConfigurationError(f"{where}: give {secret} or {secret}_env, not both")
        if var is not None:
            if not isinstance(var, str) or not var.strip():
                raise ConfigurationError(f"{where}: {secret}_env must name a variable")
            env[secret] = var.strip()
            values.pop(secret, None)  # the profile's own choice beats the linkis-cli file
        elif written is not None:
            if not isinstance(written, str) or not written:
                raise ConfigurationError(f"{where}: {secret} must be a non-empty string")
            _check_private(source, f"a {secret} in [{name}]")
            values[secret] = Secret(written)
    declared = {s for s in _SECRET_KEYS if s in table or f"{s}_env" in table}
    if declared == {"password"}:
        values.pop("token", None)  # the profile's login beats a token from linkis-cli
    elif declared == {"token"}:
        values.pop("password", None)
    try:
        Settings().merged(origin="check", **values)  # the same rules as every other layer
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None
    return Profile(name=name, source=source, values=values, env=env, cli_conf=cli_conf)


@dataclass(frozen=True)
class Connections:
    """The profiles of one file (``path`` None: there is no file), and its default."""

    path: Path | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    default: str | None = None

    def get(self, name: str) -> Profile:
        """The profile ``name``; an unknown name says which ones exist."""
        profile = self.profiles.get(name)
        if profile is not None:
            return profile
        if self.path is None:
            raise ConfigurationError(
                f"no connection named {name!r}: there is no connections file (create "
                f"{connections_path()} or set ${CONNECTIONS_ENV})"
            )
        known = ", ".join(self.profiles) or "none"
        raise ConfigurationError(f"no connection named {name!r} in {self.path}; known: {known}")


def load_connections(path: Path | None = None) -> Connections:
    """Read and check the connections file (``path`` or :func:`connections_path`)."""
    path = connections_path() if path is None else path
    if not path.exists():
        return Connections()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # its message says the line and column
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    default = data.pop("default", None)
    profiles: dict[str, Profile] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigurationError(
                f"{path}: {name} = ... is not a profile; write profiles as [{name}] tables "
                '(the only top-level key is default = "NAME")'
            )
        profiles[name] = _profile(name, table, path)
    if default is not None and (not isinstance(default, str) or default not in profiles):
        known = ", ".join(profiles) or "none"
        raise ConfigurationError(f"{path}: default = {default!r} names no profile; known: {known}")
    return Connections(path=path, profiles=profiles, default=default)


class ConnectionsFile:
    """The connections file, re-read only when it changes (its path, size or mtime).

    Callers ask it on every settings build, so an edit to the file applies to the next cell
    without a restart; an unchanged file costs one ``stat``.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._fixed = path
        self._key: tuple[Any, ...] | None = None
        self._value: Connections | ConfigurationError = Connections()
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._fixed if self._fixed is not None else connections_path()

    def load(self) -> Connections:
        """The current profiles; raises ConfigurationError for a bad file (every time)."""
        path = self.path
        try:
            st = path.stat()
            key: tuple[Any, ...] = (str(path), st.st_mtime_ns, st.st_size, st.st_mode)
        except OSError:
            key = (str(path), None)
        with self._lock:
            if key != self._key:
                try:
                    self._value = load_connections(path)
                except ConfigurationError as exc:
                    self._value = exc
                self._key = key
            value = self._value
        if isinstance(value, ConfigurationError):
            raise ConfigurationError(str(value))
        return value
