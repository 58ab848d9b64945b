"""Every named connection's Session in a kernel, made on first use, and which one is current.

One :class:`~linkis_magic.magics._session.Session` per connection: its client, jobs, catalog
cache and engine list stay apart from the others'. The key is the profile name in
``connections.toml`` (``None``: no profile, environment and ``%config`` only). Which one is
current: the one ``%linkis connect NAME`` chose, else the file's ``default``, else ``None``.

Each Session's base settings are layered here (``%config`` > the profile > environment >
defaults), re-read on every call, so an edited file or a new ``%config`` value applies to the
next cell. Plain Python: no IPython import.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from linkis_magic.config import Settings
from linkis_magic.connections import ConnectionsFile
from linkis_magic.errors import ConfigurationError
from linkis_magic.magics._session import Session

__all__ = ["ConnectionRow", "Sessions"]

MakeSession = Callable[[Callable[[], Settings], "str | None"], Session]


@dataclass(frozen=True)
class ConnectionRow:
    """One line of ``%linkis connections`` (never a secret)."""

    name: str
    gateway: str
    user: str
    auth: str
    source: str
    current: bool


class Sessions:
    """The Sessions of one kernel by connection name, and the current one.

    ``make(base, name)`` builds a Session from its base-settings callable and display name;
    ``configured(settings)`` puts the ``%config`` layer on top of settings.
    """

    def __init__(
        self,
        make: MakeSession,
        configured: Callable[[Settings], Settings],
        file: ConnectionsFile | None = None,
    ) -> None:
        self.file = file if file is not None else ConnectionsFile()
        self._make = make
        self._configured = configured
        self._chosen: str | None = None
        self._by_key: dict[str | None, Session] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ which one

    def current_key(self) -> str | None:
        """The chosen connection, else the file's default (a bad file: no profile; the next
        settings build reports it)."""
        if self._chosen is not None:
            return self._chosen
        try:
            return self.file.load().default
        except ConfigurationError:
            return None

    @property
    def current(self) -> Session:
        """The Session cells and commands use when no ``-C`` is given (never raises)."""
        return self._session(self.current_key())

    def get(self, name: str | None) -> Session:
        """The Session of connection ``name`` (None: the current one); an unknown name raises."""
        if name is None:
            return self.current
        self.file.load().get(name)  # unknown name, bad file: ConfigurationError
        return self._session(name)

    def connect(self, name: str | None) -> Session:
        """Make ``name`` current for the kernel (None: back to the file's default)."""
        session = self.get(name) if name is not None else None
        self._chosen = name
        return session if session is not None else self.current

    def all(self) -> list[Session]:
        """Every Session made so far."""
        with self._lock:
            return list(self._by_key.values())

    def _session(self, key: str | None) -> Session:
        with self._lock:
            session = self._by_key.get(key)
            if session is None:
                default = None
                with contextlib.suppress(ConfigurationError):
                    default = self.file.load().default
                name = None if key is None or key == default else key
                session = self._make(self._base_for(key), name)
                session.sessions = self
                self._by_key[key] = session
            return session

    def _base_for(self, key: str | None) -> Callable[[], Settings]:
        def base() -> Settings:
            settings = Settings.from_env()
            connections = self.file.load()  # a malformed file is reported on every use
            if key is not None:
                settings = connections.get(key).apply(settings)
            return self._configured(settings)

        return base

    # ------------------------------------------------------------------ listing, lifecycle

    def rows(self) -> list[ConnectionRow]:
        """The profiles of the file, for ``%linkis connections``."""
        connections = self.file.load()
        current = self.current_key()
        rows = []
        for name, profile in connections.profiles.items():
            source = str(profile.source)
            if profile.cli_conf is not None:
                source += f" + {profile.cli_conf}"
            rows.append(
                ConnectionRow(
                    name=name + (" (default)" if name == connections.default else ""),
                    gateway=profile.gateway_url or "(environment / sandbox)",
                    user=profile.user or "",
                    auth=profile.auth,
                    source=source,
                    current=name == current,
                )
            )
        return rows

    def shutdown(self, *, kill: bool = True) -> list[str]:
        """The kernel is going: every Session kills (or lists) its running jobs."""
        sessions = self.all()
        found: list[list[str]] = [[] for _ in sessions]

        def stop(i: int) -> None:
            found[i] = sessions[i].shutdown(kill=kill)

        # side by side: each waits one kill grace, the kernel exit waits one, not one per gateway
        threads = [
            threading.Thread(target=stop, args=(i,), daemon=True) for i in range(len(sessions))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [line for lines in found for line in lines]

    def drop_clients(self) -> None:
        """Close every Session's client and caches."""
        for session in self.all():
            session.drop_client()

    def reset(self) -> None:
        """Back to no chosen connection, forgetting every Session but the no-profile one."""
        with self._lock:
            self._chosen = None
            for key, session in list(self._by_key.items()):
                if key is not None:
                    session.drop_client()
                    del self._by_key[key]
