"""Engine connections: the engines users' jobs run on, started, reused, idled out and killed.

Linkis runs every job on an engine connection (EngineConn) that its manager keeps alive for the
job's user, creator and engineType, lists to its owner and lets the owner kill
(docs/linkis-protocol.md §14.2, §14.3). So does the sandbox:

- `EngineConns.acquire` gives a job an idle engine of its `EngineKey` (the job's log says
  "... reusing engine <instance> ...") or starts one ("Starting engine <instance> ..."), which
  holds what its kind of engine holds (`engines.EngineSession`: a DuckDB connection, a Python
  process, a Spark session, a shell); `release` hands it back when the job ends.
- An engine runs one job at a time (Busy); a job that finds every engine of its key busy
  starts another, as Linkis does when no idle engine can be locked. Engines are also keyed by
  the sandbox engine that runs the job (`kind`): without Spark, a `spark-*` SQL job runs on
  DuckDB and a `spark-*` python job on Python, so such a user has two `spark-*` engines.
- An engine stops after `idle_timeout` seconds without a job (`--engine-idle-timeout`), when
  its owner kills it (§14.3), when its process dies, or with the sandbox. A job running on it
  then ends Cancelled. A stopped engine leaves the list at once (Linkis deletes its row,
  §14.2) and the next job of its key starts a new engine with a new instance.

Instances are `host:port`-like: the sandbox's host and a number counted up from 40001; the
engine manager (`emnode`) is the sandbox itself, owned by the OS user running it.
"""

from __future__ import annotations

import getpass
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from linkis_magic.sandbox.engines import Engine, EngineError, EngineSession, Footprint, LogFn
from linkis_magic.sandbox.store import now_ms

ENGINECONN_APP = "linkis-cg-engineconn"
"""The service name of engine connections (§14.2 `serviceInstance.applicationName`)."""
ECM_APP = "linkis-cg-engineconnmanager"
"""The service name of the engine manager (§14.2 `emnode`)."""

# Node states, spelled as in §14.2
STARTING, BUSY, UNLOCK, SHUTTING_DOWN = "Starting", "Busy", "Unlock", "ShuttingDown"

_FIRST_PORT = 40001
_LOG = logging.getLogger(__name__)

Interrupt = Callable[[str], None]
"""Ends the job running on an engine that is being killed; gets the reason."""


@dataclass(frozen=True)
class EngineKey:
    """Which engine a job may run on: its user, creator, engineType and sandbox engine."""

    user: str
    creator: str
    engine: str
    """engineType's name, e.g. `spark`."""
    version: str
    """engineType's version, e.g. `3.2.1`."""
    kind: str
    """The sandbox engine that runs it: `sql` (DuckDB), `python`, `shell` or `spark`."""

    @property
    def engine_type(self) -> str:
        """The engineType label value, e.g. `spark-3.2.1`."""
        return f"{self.engine}-{self.version}" if self.version else self.engine

    def describe(self) -> str:
        return f"{self.engine_type}, {self.user}-{self.creator}"


@dataclass
class EngineConn:
    """One engine connection as the manager keeps it."""

    key: EngineKey
    instance: str
    serial: int
    interrupt: Interrupt | None = None
    session: EngineSession | None = None
    status: str = STARTING
    ticket_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    start_ms: int = field(default_factory=now_ms)
    update_ms: int = field(default_factory=now_ms)
    idle_since: float = field(default_factory=time.monotonic)
    succeeded: int = 0
    failed: int = 0
    stopped: str | None = None
    """Why it stopped, once it has (it is then out of the manager's table)."""


@dataclass(frozen=True)
class EngineView:
    """A consistent snapshot of one engine for `routes/linkismanager.py`."""

    key: EngineKey
    instance: str
    serial: int
    status: str
    ticket_id: str
    start_ms: int
    update_ms: int
    pid: int | None
    running: int
    succeeded: int
    failed: int
    footprint: Footprint


class EngineConns:
    """The engine connections of one sandbox (see the module docstring)."""

    def __init__(
        self, engines: Mapping[str, Engine], instance: str, *, idle_timeout: float = 600.0
    ) -> None:
        self.kinds = frozenset(engines)
        self.idle_timeout = idle_timeout
        self.ecm_instance = instance
        self.ecm_owner = getpass.getuser()
        self.ecm_start_ms = now_ms()
        self._engines = dict(engines)
        self._host = instance.rpartition(":")[0] or "127.0.0.1"
        self._serials = itertools.count(1)
        self._conns: dict[str, EngineConn] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._reaper = threading.Thread(
            target=self._reap_idle, name="engineconn-reaper", daemon=True
        )
        self._reaper.start()

    # -- jobs --------------------------------------------------------------------------------

    def acquire(self, key: EngineKey, log: LogFn, interrupt: Interrupt) -> tuple[EngineConn, bool]:
        """An engine for a job of `key`, Busy with it: (engine, reused). Logs which one to the
        job; `interrupt` ends the job if the engine is killed meanwhile. EngineError (21002)
        when no engine could be started."""
        with self._cond:
            if self._stopping:
                raise EngineError(21002, "the sandbox is shutting down: no engine for the job")
            conn = self._idle_engine(key)
            reused = conn is not None
            if conn is None:
                serial = next(self._serials)
                conn = EngineConn(key, f"{self._host}:{_FIRST_PORT + serial - 1}", serial)
                self._conns[conn.instance] = conn
            idle = time.monotonic() - conn.idle_since
            conn.status = BUSY if reused else STARTING
            conn.update_ms = now_ms()
            conn.interrupt = interrupt
        if reused:
            log(
                "INFO",
                f"The job is reusing engine {conn.instance} ({key.describe()}; idle for "
                f"{idle:.1f} s, {conn.succeeded + conn.failed} job(s) so far)",
            )
            return conn, True
        self._start(conn, log)
        return conn, False

    def _idle_engine(self, key: EngineKey) -> EngineConn | None:
        for conn in self._conns.values():
            session = conn.session
            if conn.key == key and conn.status == UNLOCK and session and session.alive():
                return conn
        return None

    def _start(self, conn: EngineConn, log: LogFn) -> None:
        """Open the new engine's session (the job waits: the engine is Starting)."""
        log("INFO", f"Starting engine {conn.instance} ({conn.key.describe()}) ...")
        try:
            session = self._engines[conn.key.kind].open(log)
        except Exception as exc:
            self._detach(conn, "it could not start")
            if isinstance(exc, EngineError):
                raise
            raise EngineError(21002, f"engine {conn.instance} could not start: {exc}") from exc
        with self._cond:
            conn.session = session
            stopped = conn.stopped
            if stopped is None:
                conn.status = BUSY
                conn.update_ms = now_ms()
        if stopped is not None:  # killed while it was starting
            session.close()
            raise EngineError(21002, f"engine {conn.instance} stopped while starting: {stopped}")
        log("INFO", f"Engine {conn.instance} started (pid {session.pid})")

    def release(self, conn: EngineConn, log: LogFn, *, succeeded: bool) -> None:
        """The job on `conn` has ended: the engine is idle again (Unlock), unless it died."""
        with self._cond:
            conn.interrupt = None
            if succeeded:
                conn.succeeded += 1
            else:
                conn.failed += 1
            if conn.stopped is not None:
                return
            session = conn.session
            if session is not None and session.alive():
                conn.status = UNLOCK
                conn.idle_since = time.monotonic()
                conn.update_ms = now_ms()
                self._cond.notify_all()  # the reaper's next deadline may be this one
                return
        self.kill(conn, "its process has exited")
        log("WARN", f"Engine {conn.instance} has exited; the next job starts a new engine")

    # -- the linkisManager routes (§14.2, §14.3) -------------------------------------------------

    def find(self, instance: str) -> EngineConn | None:
        with self._cond:
            return self._conns.get(instance)

    def list(self, owner: str) -> list[EngineView]:
        """The owner's engines in the order they started; engines found dead are dropped."""
        with self._cond:
            mine = [c for c in self._conns.values() if c.key.user == owner]
        dead = [c for c in mine if c.status == UNLOCK and c.session and not c.session.alive()]
        for conn in dead:
            self.kill(conn, "its process has exited")
        views = []
        for conn in mine:
            if conn in dead:
                continue
            session = conn.session
            footprint = session.footprint() if session is not None else Footprint()
            with self._cond:
                views.append(
                    EngineView(
                        key=conn.key,
                        instance=conn.instance,
                        serial=conn.serial,
                        status=conn.status,
                        ticket_id=conn.ticket_id,
                        start_ms=conn.start_ms,
                        update_ms=conn.update_ms,
                        pid=session.pid if session is not None else None,
                        running=1 if conn.status in (STARTING, BUSY) else 0,
                        succeeded=conn.succeeded,
                        failed=conn.failed,
                        footprint=footprint,
                    )
                )
        return views

    def kill(self, conn: EngineConn, reason: str) -> None:
        """Stop an engine: out of the table at once, its job (if any) ends Cancelled, and what
        it holds is released (`EngineSession.close`)."""
        detached = self._detach(conn, reason)
        if detached is None:
            return
        interrupt, session = detached
        _LOG.info("engine %s (%s) stopped: %s", conn.instance, conn.key.describe(), reason)
        if interrupt is not None:
            interrupt(f"engine {conn.instance} was stopped: {reason}")
        if session is not None:
            session.close()

    def _detach(
        self, conn: EngineConn, reason: str
    ) -> tuple[Interrupt | None, EngineSession | None] | None:
        """Take `conn` out of the table (ShuttingDown); None if it already was."""
        with self._cond:
            if conn.stopped is not None:
                return None
            conn.stopped = reason
            conn.status = SHUTTING_DOWN
            conn.update_ms = now_ms()
            self._conns.pop(conn.instance, None)
            return conn.interrupt, conn.session

    # -- idle-out and shutdown -----------------------------------------------------------------

    def _reap_idle(self) -> None:
        """Stop engines idle for `idle_timeout` seconds, sleeping until the next deadline."""
        reason = f"idle for {self.idle_timeout:g} s (--engine-idle-timeout)"
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = time.monotonic()
                expired: list[EngineConn] = []
                wait: float | None = None
                for conn in self._conns.values():
                    if conn.status != UNLOCK:
                        continue
                    left = conn.idle_since + self.idle_timeout - now
                    if left <= 0:
                        expired.append(conn)
                    else:
                        wait = left if wait is None else min(wait, left)
                if not expired:
                    self._cond.wait(wait)
                    continue
                # detach here, under the lock, so no job can pick them up meanwhile
                for conn in expired:
                    conn.status = SHUTTING_DOWN
            for conn in expired:
                self.kill(conn, reason)

    def shutdown(self) -> None:
        """Stop every engine (sandbox exit)."""
        with self._cond:
            self._stopping = True
            conns = list(self._conns.values())
            self._cond.notify_all()
        for conn in conns:
            self.kill(conn, "the sandbox is shutting down")
        self._reaper.join(timeout=5)
