"""``%%linkis`` and ``%linkis``: a thin layer of parsing and wiring over the library.

The job logic lives in the library (client, job, results, display); this package turns a magic
line into a checked request (``_parse``), runs it the one way every cell runs (``_runner``),
dispatches line commands (``commands``), and rewrites cells into awaited calls where that lets
the Kill button work while a cell blocks (``_await``). Everything the user can get wrong on the
line is checked before any request (or sandbox start) and reported as IPython's short
``UsageError``.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, magics_class
from traitlets import Bool, Float, TraitType, Unicode, validate
from traitlets.config.configurable import Configurable
from traitlets.traitlets import TraitError

from linkis_magic import _validate
from linkis_magic.auth import Secret
from linkis_magic.config import Settings
from linkis_magic.display import frontend_mode
from linkis_magic.errors import ConfigurationError, LinkisError
from linkis_magic.magics import _await
from linkis_magic.magics._complete import Completer, matcher
from linkis_magic.magics._parse import (
    CellRequest,
    HelpShown,
    cell_parser,
    parse_cell,
    split,
    usage,
)
from linkis_magic.magics._render import LinkisInterrupted, quiet
from linkis_magic.magics._runner import JobRun
from linkis_magic.magics._session import Session
from linkis_magic.magics._sessions import Sessions
from linkis_magic.magics.commands import all_commands, command_help

__all__ = ["LinkisInterrupted", "LinkisMagics", "Session", "load", "unload"]


class SecretTrait(TraitType[Secret | None, Any]):
    """A password/token trait: stored as a :class:`Secret`, masked wherever it is shown."""

    default_value = None
    allow_none = True
    info_text = "a password or token (shown masked)"

    def validate(self, obj: Any, value: Any) -> Secret | None:
        if value is None or isinstance(value, Secret):
            return value
        if isinstance(value, str) and value:
            return Secret(value)
        self.error(obj, value)


def scrub_credentials(config: Any) -> None:
    """Replace plain-text ``LinkisMagics.password/token`` in a traitlets Config by Secrets.

    ``%config LinkisMagics.password = '...'`` hands the plain value to every configurable of the
    shell, which merges it into its own config; nothing but the Secret should stay there.
    """
    section = config.get("LinkisMagics") if hasattr(config, "get") else None
    if not section:
        return
    for name in ("password", "token"):
        value = section.get(name)
        if isinstance(value, str) and value:
            section[name] = Secret(value)


@magics_class
class LinkisMagics(Magics, Configurable):
    """`%%linkis` cells and `%linkis` commands; configure with `%config LinkisMagics.<trait>`."""

    gateway_url = Unicode(None, allow_none=True, help="Linkis gateway URL").tag(config=True)
    user = Unicode(None, allow_none=True, help="user name").tag(config=True)
    password = SecretTrait(help="password (masked)").tag(config=True)
    token = SecretTrait(help="token (Token-Code)").tag(config=True)
    engine = Unicode(None, allow_none=True, help="default engine, e.g. spark-2.4.3").tag(
        config=True
    )
    creator = Unicode(None, allow_none=True, help="default creator (IDE)").tag(config=True)
    display = Unicode(None, allow_none=True, help="auto, widget, text or none").tag(config=True)
    verify = Unicode(
        None, allow_none=True, help="TLS verification: true, false or a CA bundle path"
    ).tag(config=True)
    connect_timeout = Float(None, allow_none=True, help="connect timeout (s)").tag(config=True)
    read_timeout = Float(None, allow_none=True, help="read timeout (s)").tag(config=True)
    gateway_outage_timeout = Float(
        None, allow_none=True, help="seconds a job rides out an unreachable gateway (300)"
    ).tag(config=True)
    autostart_sandbox = Bool(
        True, help="start the local sandbox when no gateway URL is configured"
    ).tag(config=True)
    sandbox_spark_master = Unicode(
        None,
        allow_none=True,
        help="run the local sandbox's spark-* engineTypes on this Spark master, e.g. local[2]",
    ).tag(config=True)

    SETTING_TRAITS = (
        "gateway_url",
        "user",
        "password",
        "token",
        "engine",
        "creator",
        "display",
        "verify",
        "connect_timeout",
        "read_timeout",
        "gateway_outage_timeout",
    )

    @validate(
        "gateway_url",
        "engine",
        "creator",
        "display",
        "connect_timeout",
        "read_timeout",
        "gateway_outage_timeout",
    )
    def _check_trait(self, proposal: Any) -> Any:
        value, name = proposal["value"], proposal["trait"].name
        if value is None:
            return None
        rules: dict[str, Callable[[Any], Any]] = {
            "gateway_url": lambda v: _validate.check_base_url(v, "gateway_url"),
            "engine": lambda v: _validate.check_engine(v, "engine"),
            "creator": _validate.check_creator,
            "display": _validate.check_display,
            "connect_timeout": lambda v: _validate.check_seconds(v, "connect_timeout"),
            "read_timeout": lambda v: _validate.check_seconds(v, "read_timeout"),
            "gateway_outage_timeout": lambda v: _validate.check_seconds(
                v, "gateway_outage_timeout"
            ),
        }
        try:
            return rules[name](value)
        except ConfigurationError as exc:
            raise TraitError(str(exc)) from None

    def update_config(self, config: Any) -> None:
        """Apply ``%config`` values, then keep no plain-text credential in our config."""
        super().update_config(config)
        scrub_credentials(self.config)

    kill_on_exit = Bool(
        True,
        help="kill this kernel's running Linkis jobs when the kernel shuts down or restarts",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        Configurable.__init__(self, **kwargs)
        Magics.__init__(self, shell=shell)
        self._cell = cell_parser()
        self._commands = all_commands()
        self.sessions = Sessions(self._new_session, self._with_config)
        self.completer = Completer(
            lambda name: self._completion_session(name).completion_catalog(),
            lambda name: self._completion_session(name).engines_in_use(),
        )
        self.matcher = matcher(self.completer)

    @property
    def session(self) -> Session:
        """The current connection's Session (``%linkis connect`` changes it)."""
        return self.sessions.current

    def session_for(self, connection: str | None) -> Session:
        """The Session of a named connection (None: the current one); UsageError if unknown."""
        return usage(lambda: self.sessions.get(connection))

    def _new_session(self, base: Callable[[], Settings], name: str | None) -> Session:
        return Session(
            base,
            namespace=self._user_ns,
            frontend=lambda mode: frontend_mode(self.shell, mode),
            autostart=lambda: bool(self.autostart_sandbox),
            spark_master=lambda: self.sandbox_spark_master,
            name=name,
        )

    def _completion_session(self, name: str | None) -> Session:
        try:
            return self.sessions.get(name)
        except ConfigurationError:
            return self.sessions.current  # a Tab never reports a bad -C

    # ------------------------------------------------------------------ settings

    def _with_config(self, settings: Settings) -> Settings:
        """%config traits on top of the lower layers (environment, a connection's profile)."""
        for name in self.SETTING_TRAITS:
            value = getattr(self, name)
            if value is not None:
                origin = f"%config LinkisMagics.{name}"
                settings = settings.merged(origin=origin, **{name: value})
        return settings

    def settings(self, connection: str | None = None, **overrides: Any) -> Settings:
        """Effective settings: overrides > %config traits > the connection's profile >
        environment > defaults (``connection`` None: the current one)."""
        return usage(lambda: self.sessions.get(connection).settings(**overrides))

    def scrub_shell_configs(self) -> None:
        """After each cell: no configurable of the shell keeps a plain-text credential that
        ``%config`` spread to it (post_execute hook)."""
        shell = self.shell
        if shell is None:
            return
        for configurable in [shell, *getattr(shell, "configurables", ())]:
            scrub_credentials(getattr(configurable, "config", None))

    def on_exit(self) -> list[str]:
        """The kernel is shutting down or restarting (atexit): kill this kernel's running jobs
        unless ``kill_on_exit`` is off, then say how to re-attach to them."""
        return self.sessions.shutdown(kill=bool(self.kill_on_exit))

    def _user_ns(self) -> dict[str, Any]:
        if self.shell is None:
            raise UsageError("LinkisMagics needs an IPython shell")
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    # ------------------------------------------------------------------ the magics

    @line_cell_magic("linkis")  # type: ignore[arg-type]  # IPython's decorator typing
    def linkis(self, line: str, cell: str | None = None) -> Any:
        """%%linkis [RUNTYPE] [options] runs the cell; %linkis COMMAND manages jobs.

        (The full help, with every option and command, is written below the class.)
        """
        if cell is None:
            try:
                return self._line(line)
            except HelpShown:
                return None
        started = self._start_cell(line, cell)
        return None if started is None else started[0].runner.block(started[1])

    @cell_magic("linkis_async")  # type: ignore[arg-type]
    def linkis_async(self, line: str, cell: str) -> Coroutine[Any, Any, Any]:
        """The awaited form of %%linkis (the input transformer routes cells here)."""
        return self._run_awaited(line, cell)

    async def _run_awaited(self, line: str, cell: str) -> Any:
        started = self._start_cell(line, cell)
        return None if started is None else await started[0].runner.block_async(started[1])

    def _start_cell(self, line: str, cell: str) -> tuple[Session, JobRun] | None:
        """Parse and launch a cell; its Session and the run to wait for (None: help shown,
        or background)."""
        try:
            request = self.parse_cell(line, cell)
        except HelpShown:
            return None
        session = self.session_for(request.connection)
        run = self._launch(request, session)
        return None if run.background else (session, run)

    def parse_cell(self, line: str, cell: str) -> CellRequest:
        """Check a %%linkis line and body; raises UsageError, sends nothing."""
        return parse_cell(
            self._cell,
            line,
            cell,
            settings=self.settings,
            line_commands=tuple(self._commands),
            namespace=self._user_ns,
        )

    def _launch(self, request: CellRequest, session: Session) -> JobRun:
        """Submit the request on its connection and start its run (display, worker thread)."""
        try:
            return session.launch(request)
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None
        except LinkisError as exc:
            raise quiet(exc) from None

    # ------------------------------------------------------------------ line commands

    def _line(self, line: str) -> Any:
        tokens = split(line, "%linkis")
        names = " | ".join(self._commands)
        if not tokens:
            raise UsageError(f"%linkis needs a command: {names} (or %%linkis for a cell)")
        name, rest = tokens[0], tokens[1:]
        command = self._commands.get(name)
        if command is None:
            hint = ""
            if name.startswith("-") or _validate.is_run_type(name):
                hint = "; to run code use the cell magic %%linkis with the code below the line"
            raise UsageError(
                f"%linkis: unknown command {name!r}; choose one of "
                + ", ".join(self._commands)
                + hint
            )
        args = command.parser.parse(rest)
        session = self.session_for(args.connection)
        try:
            return command.run(session, args)
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None
        except LinkisError as exc:
            raise quiet(exc) from None

    # ------------------------------------------------------------------ await rewriting

    def use_awaited_cells(self) -> bool:
        """True when %%linkis cells should be awaited so the Kill button works while blocking."""
        shell = self.shell
        if shell is None or getattr(shell, "kernel", None) is None:
            return False
        if not _await.ipykernel_supports_await():
            return False
        try:
            settings = self.session.settings()
            kind = self.session.display_kind(settings, False)
        except ConfigurationError:
            return False  # let the synchronous path report the bad setting
        return kind == "widget"

    def transform_await(self, lines: list[str]) -> list[str]:
        """input_transformers_post hook: turn a %%linkis cell into an awaited call."""
        if lines and lines[0].startswith(_await.SYNC_CALL) and self.use_awaited_cells():
            return _await.rewrite(lines)
        return lines


def _magic_help() -> str:
    """``%linkis?``: the cell's options and every line command, from their own parsers."""
    cell = " ".join(cell_parser().format_usage().split()).removeprefix("usage: ")
    return (
        "%%linkis [RUNTYPE] [options] runs the cell's code as a Linkis job; "
        "%linkis COMMAND manages jobs, metadata and the session.\n\n"
        f"Cell:\n  {cell}\n\nLine commands (%linkis COMMAND -h for details):\n"
        f"{command_help()}\n"
    )


LinkisMagics.linkis.__doc__ = _magic_help()  # type: ignore[assignment]  # IPython decorator typing


def load(ipython: Any) -> None:
    """Register %%linkis / %linkis and the await rewriting (once per shell)."""
    for configurable in ipython.configurables:
        if isinstance(configurable, LinkisMagics):
            return  # already loaded: keep its state (last job, client session)
    try:
        magics = LinkisMagics(shell=ipython, parent=ipython)
    except TraitError as exc:
        # a bad %config value IPython kept in the shell's config must not lock the extension
        # out: say which, drop the LinkisMagics section, and load with the defaults
        print(f"linkis_magic: %config LinkisMagics settings ignored ({exc}); set them again",
              file=sys.stderr)  # fmt: skip
        ipython.config.pop("LinkisMagics", None)
        magics = LinkisMagics(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:  # IPython adds Configurable magics itself
        ipython.configurables.append(magics)
    ipython.input_transformers_post.append(magics.transform_await)
    ipython.events.register("post_execute", magics.scrub_shell_configs)
    ipython.Completer.custom_matchers.append(magics.matcher)
    atexit.register(magics.on_exit)


def unload(ipython: Any) -> None:
    """Remove the magics, the hook and the client session."""
    found = {id(c): c for c in ipython.configurables if isinstance(c, LinkisMagics)}
    for magics in found.values():
        ipython.configurables[:] = [c for c in ipython.configurables if c is not magics]
        ipython.input_transformers_post[:] = [
            t for t in ipython.input_transformers_post if getattr(t, "__self__", None) is not magics
        ]
        registry = ipython.magics_manager.magics
        for kind, name in (("line", "linkis"), ("cell", "linkis"), ("cell", "linkis_async")):
            registry[kind].pop(name, None)
        atexit.unregister(magics.on_exit)
        magics.sessions.drop_clients()
        with contextlib.suppress(ValueError):
            ipython.events.unregister("post_execute", magics.scrub_shell_configs)
        with contextlib.suppress(ValueError, AttributeError):
            ipython.Completer.custom_matchers.remove(magics.matcher)
