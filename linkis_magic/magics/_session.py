"""One gateway's state in a kernel: settings, client, sandbox, catalog cache and runs.

``LinkisMagics`` keeps the traits, the ``@magic`` entry points and load/unload; everything that
belongs to talking to one gateway lives here, in plain Python (no IPython import), so it can be
driven from a script or a test and several can sit side by side (one per named connection).
Line commands receive a Session.

A Session raises library errors (``ConfigurationError`` for bad settings); the magic turns them
into IPython's short ``UsageError`` at its boundary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from linkis_magic.client import LinkisClient
from linkis_magic.config import Settings
from linkis_magic.display import DisplayKind, JobDisplay, NullDisplay, make_display
from linkis_magic.embedded import EmbeddedSandbox, default_sandbox
from linkis_magic.errors import ConfigurationError
from linkis_magic.job import SubmitRequest
from linkis_magic.magics._catalog import Catalog
from linkis_magic.magics._parse import CellRequest
from linkis_magic.magics._runner import BACKSTOP_MARGIN, JobRun, Runner

if TYPE_CHECKING:
    from linkis_magic.magics._sessions import Sessions

__all__ = ["Session"]

log = logging.getLogger("linkis_magic")

NO_GATEWAY = (
    "no Linkis gateway configured: set LINKIS_GATEWAY_URL or "
    "%config LinkisMagics.gateway_url = 'http://host:9001'"
)


class Session:
    """The state of one gateway connection: who to talk to, the client, its jobs and caches.

    ``settings`` gives the base settings (environment and ``%config`` layers, re-read on every
    call so a ``%config`` change applies at once); ``frontend`` says which display a job gets
    for a ``display`` setting; ``namespace`` is where ``-o`` binds.
    """

    def __init__(
        self,
        settings: Callable[[], Settings],
        *,
        namespace: Callable[[], dict[str, Any]],
        frontend: Callable[[str | None], DisplayKind] = lambda mode: "text",
        sandbox: EmbeddedSandbox | None = None,
        autostart: Callable[[], bool] = lambda: True,
        spark_master: Callable[[], str | None] = lambda: None,
        name: str | None = None,
    ) -> None:
        self.name = name
        self._base = settings
        self._frontend = frontend
        self._autostart = autostart
        self.spark_master = spark_master
        self.namespace = namespace
        self.sandbox: EmbeddedSandbox = sandbox if sandbox is not None else default_sandbox()
        self.runner = Runner(namespace)
        self._login: dict[str, Any] = {}  # values given by %linkis login
        self._client: LinkisClient | None = None
        self._client_key: str | None = None
        self._lock = threading.RLock()
        self._catalogs: dict[str, Catalog] = {}
        self.sessions: Sessions | None = None  # the kernel's other connections, if any

    def __repr__(self) -> str:
        url = self._client.base_url if self._client is not None else "not connected"
        return f"<Session {self.name or 'default'} {url} runs={len(self.runner.runs)}>"

    @property
    def runs(self) -> list[JobRun]:
        """The jobs of this session that commands can name, oldest first."""
        return self.runner.runs

    @property
    def last_run(self) -> JobRun | None:
        """The most recent job started or attached in this session."""
        return self.runner.find(None)

    # ------------------------------------------------------------------ settings / client

    def settings(self, **overrides: Any) -> Settings:
        """Effective settings: ``overrides`` > %linkis login > the base layers."""
        settings = self._base()
        if self._login:
            settings = settings.merged(origin="%linkis login", **self._login)
        return settings.merged(origin="magic argument", **overrides)

    def configure(self, **values: Any) -> None:
        """Remember values given by ``%linkis login`` (URL, user, password) for later calls."""
        self._login.update({k: v for k, v in values.items() if v is not None})

    def client(self, settings: Settings | None = None, *, quiet: bool = False) -> LinkisClient:
        """A client for the settings, reused while they stay the same (sandbox if no URL)."""
        settings = settings or self.settings()
        with self._lock:
            if settings.gateway_url is None:
                if not self._autostart():
                    raise ConfigurationError(NO_GATEWAY)
                info, started = self.sandbox.ensure(spark_master=self.spark_master())
                if started is not None and not quiet:
                    print(started)
                settings = replace(
                    settings,
                    gateway_url=info.url,
                    user=info.user,
                    password=info.password,
                    token=None,
                )
            key = settings.fingerprint()
            if self._client is not None and key == self._client_key:
                return self._client
            if self._client is not None:
                self._client.close()
            assert settings.gateway_url is not None
            client = LinkisClient(settings.gateway_url, **settings.client_kwargs())
            self._client, self._client_key = client, key
            return client

    def current_client(self) -> LinkisClient | None:
        """The client in use, if one was made."""
        return self._client

    def drop_client(self) -> None:
        """Close and forget the client and its caches (the next command makes a new one)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client, self._client_key = None, None
            for catalog in self._catalogs.values():
                catalog.close()
            self._catalogs.clear()

    def catalog(self) -> Catalog:
        """The metadata cache of the current gateway and user (makes the client if needed)."""
        client = self.client()
        with self._lock:
            key = self._client_key or ""
            catalog = self._catalogs.get(key)
            if catalog is None:
                catalog = self._catalogs[key] = Catalog(lambda: client)
            return catalog

    def completion_catalog(self) -> Catalog | None:
        """The catalog completion may use: never starts a sandbox or prompts for anything."""
        with self._lock:
            if self._client is not None:
                return self.catalog()
        try:
            settings = self.settings()
        except ConfigurationError:
            return None
        if settings.gateway_url is None:
            return None  # a Tab must not start the local sandbox
        self.client(settings, quiet=True)
        return self.catalog()

    def engines_in_use(self) -> list[str]:
        """Engine labels for --engine completion: the configured one and this session's."""
        engines = [run.job_engine for run in self.runner.runs if run.job_engine]
        with contextlib.suppress(ConfigurationError):
            engines.insert(0, self.settings().engine)
        return list(dict.fromkeys(engines))

    # ------------------------------------------------------------------ displays

    def display_kind(self, settings: Settings, quiet: bool) -> DisplayKind:
        """The display a job gets with these settings in this frontend."""
        if quiet or settings.display == "none":
            return "none"
        return self._frontend(settings.display)

    def display_for(
        self, settings: Settings, quiet: bool, title: str, on_kill: Callable[[], None]
    ) -> JobDisplay:
        """A display for a job whose Kill button calls ``on_kill``."""
        title = title if self.name is None else f"{title} [{self.name}]"
        return make_display(self.display_kind(settings, quiet), on_kill=on_kill, title=title)

    # ------------------------------------------------------------------ jobs

    def launch(self, request: CellRequest) -> JobRun:
        """Submit a checked cell and start its run (display, worker thread)."""
        client = self.client(request.settings, quiet=request.quiet)
        notebook = os.environ.get("JPY_SESSION_NAME")
        proxy = request.settings.proxy_user
        if proxy is not None and request.api == "v0":
            raise ConfigurationError(
                f"proxy_user {proxy!r} is sent as executeUser, which only entrance/submit "
                "reads: drop --api v0"
            )
        submit = SubmitRequest(
            code=request.code,
            run_type=request.run_type,
            engine_type=request.engine,
            creator=request.creator,
            variables=request.variables or None,
            runtime=request.runtime or None,
            startup=request.startup or None,
            source={"scriptPath": notebook} if notebook else None,
            execute_user=proxy,
        )
        job = client.start(submit, api="v0" if request.api == "v0" else "v1")
        title = f"Linkis job {job.task_id} ({request.run_type} on {request.engine})"
        run = JobRun(
            job=job,
            display=NullDisplay(),
            output=request.output,
            quiet=request.quiet,
            limit=request.limit,
            timeout=request.timeout,
            export=request.export,
            background=request.background,
            job_engine=request.engine,
        )
        run.display = self.display_for(request.settings, request.quiet, title, run.request_cancel)
        self.runner.start(run)
        if (
            run.background
            and not request.quiet
            and self.display_kind(request.settings, False) != "widget"
        ):
            bound = f", {request.output} is bound when it succeeds." if request.output else "."
            print(
                f"Linkis job {run.name} runs in the background; "
                f"%linkis status / log / kill follow it{bound}"
            )
        return run

    def shutdown(self, *, kill: bool = True) -> list[str]:
        """The kernel is going: kill this session's running jobs (or say how to re-attach).

        Every kill is requested at once and confirmed within one bounded grace (as for Ctrl-C);
        returns (and logs) one line per job that was still running.
        """
        running = self.runner.running()
        lines: list[str] = []
        if kill:
            for run in running:
                run.request_cancel()
            grace = max((run.job.kill_grace for run in running), default=0.0) + BACKSTOP_MARGIN
            deadline = time.monotonic() + grace
            for run in running:
                run.done.wait(max(0.0, deadline - time.monotonic()))
                state = run.job.state.value if run.job.state is not None else "unknown"
                lines.append(f"Linkis job {run.name} killed on kernel exit (state {state})")
        else:
            for run in running:
                ref = run.job.task_id if run.job.task_id is not None else run.job.exec_id
                lines.append(
                    f"Linkis job {run.name} keeps running after the kernel exits; "
                    f"re-attach with %linkis attach {ref}"
                )
        for line in lines:
            log.warning(line)
        self.drop_client()
        return lines
