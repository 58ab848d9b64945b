"""`%%linkis` and `%linkis`: a thin parser over LinkisClient / Job / JobDisplay.

The job logic lives in the library (client, job, results, display); this module only turns
a magic line into a validated request, wires the display to the job, and binds results into
the user's namespace. Everything the user can get wrong on the line is checked before any
request (or sandbox start), and reported as IPython's short `UsageError`.

Blocking cells and the Kill button (../shared/testing/KILL-WHILE-BLOCKING.md): a synchronous
cell keeps the kernel's main thread busy, so a widget's click only arrives after the cell
ends. In an ipykernel >= 7.4 with a widget frontend, an `input_transformers_post` hook
rewrites the cell into `await ...run_cell_magic('linkis_async', ...)`: the poll loop runs on
a worker thread and the cell awaits it in 0.2 s slices, which leaves the kernel loop free to
dispatch the click at once. A kernel interrupt then arrives as `CancelledError`; the job is
killed, waited for until Cancelled, and the cell raises `LinkisInterrupted`, a
KeyboardInterrupt subclass with a one-line rendering. (KILL-WHILE-BLOCKING.md warns that a
BaseException raised in the kernel's asyncio task escapes its loop; raised from the awaited
cell it does not: IPython's run_code catches it like any cell error, and the kernel carries
on, which tests/magics/test_notebook.py checks.) Direct calls of
`get_ipython().run_cell_magic('linkis', line, cell)` stay synchronous, and there Ctrl-C kills
the job and re-raises the KeyboardInterrupt itself.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import getpass
import keyword
import os
import re
import shlex
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, magics_class
from traitlets import Bool, Float, Unicode, validate
from traitlets.config.configurable import Configurable
from traitlets.traitlets import TraitError

from linkis_magic.client import LinkisClient
from linkis_magic.config import (
    ENV_VARS,
    Settings,
    check_creator,
    check_display,
    check_engine,
    check_url,
)
from linkis_magic.display import JobDisplay, frontend_mode, make_display
from linkis_magic.embedded import EmbeddedSandbox, default_sandbox
from linkis_magic.errors import (
    ConfigurationError,
    GatewayError,
    JobError,
    JobWaitTimeout,
    LinkisError,
)
from linkis_magic.job import Job
from linkis_magic.protocol import JobStatus
from linkis_magic.results import ResultSet

__all__ = ["LinkisInterrupted", "LinkisMagics"]

SUBCOMMANDS = (
    "status",
    "progress",
    "log",
    "kill",
    "history",
    "attach",
    "login",
    "logout",
    "config",
    "sandbox",
)
_RUN_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SYNC_CALL = "get_ipython().run_cell_magic('linkis', "
_ASYNC_CALL = "await get_ipython().run_cell_magic('linkis_async', "
_SLICE = 0.2  # seconds between wake-ups of an awaited cell (see KILL-WHILE-BLOCKING.md)
_CANCEL_WAIT = 60.0  # seconds to wait for Cancelled after a kill
_ERROR_TAIL = 5  # error log lines quoted in a failed cell's message


class LinkisInterrupted(KeyboardInterrupt):
    """A kernel interrupt stopped an awaited %%linkis cell; the Linkis job was killed."""

    def _render_traceback_(self) -> list[str]:
        return [f"LinkisInterrupted: {self}"]


class _HelpShown(Exception):
    """`-h` was given: the parser printed its help and the magic does nothing else."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing and calling sys.exit()."""

    def __init__(self, prog: str, description: str = "") -> None:
        super().__init__(prog=prog, description=description, add_help=True, exit_on_error=False)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\nusage: {self.format_usage().strip()[7:]}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr)
        raise _HelpShown()

    def parse(self, tokens: Sequence[str]) -> argparse.Namespace:
        try:
            return self.parse_args(list(tokens))
        except argparse.ArgumentError as exc:
            self.error(str(exc))


def _cell_parser() -> _Parser:
    p = _Parser("%%linkis", "Run the cell's code as a Linkis job.")
    p.add_argument("run_type", nargs="?", metavar="RUNTYPE", help="code type (default: sql)")
    p.add_argument("-e", "--engine", help="engine label <engine>-<version>, e.g. spark-2.4.3")
    p.add_argument("-c", "--creator", help="creator (application) label, default IDE")
    p.add_argument("-o", "--output", metavar="NAME", help="bind the result DataFrame(s) to NAME")
    p.add_argument("--var", action="extend", nargs="+", default=[], metavar="K=V")
    p.add_argument("--startup", action="extend", nargs="+", default=[], metavar="K=V")
    p.add_argument("--runtime", action="extend", nargs="+", default=[], metavar="K=V")
    p.add_argument("--limit", metavar="N", help="load at most N rows per result set")
    p.add_argument("-q", "--quiet", action="store_true", help="show nothing but errors")
    p.add_argument("--background", action="store_true", help="return at once, bind when done")
    p.add_argument("--timeout", metavar="S", help="stop waiting after S seconds")
    p.add_argument("--api", choices=("v1", "v0"), default="v1", help="entrance/submit or execute")
    p.add_argument("--export", metavar="PATH", help="write the first table to PATH.csv/.xlsx")
    return p


def _line_parsers() -> dict[str, _Parser]:
    parsers: dict[str, _Parser] = {}
    for name, what in (
        ("status", "Show a job's state."),
        ("progress", "Show a job's progress per stage."),
        ("kill", "Kill a job."),
    ):
        p = _Parser(f"%linkis {name}", what)
        p.add_argument("id", nargs="?", metavar="ID", help="execID or taskID (default: last)")
        parsers[name] = p
    p = _Parser("%linkis log", "Print a job's log.")
    p.add_argument("id", nargs="?", metavar="ID", help="execID or taskID (default: last)")
    p.add_argument("-n", "--lines", metavar="N", help="only the last N lines")
    parsers["log"] = p
    p = _Parser("%linkis history", "List recent jobs (jobhistory) as a DataFrame.")
    p.add_argument("-n", metavar="N", default="20", help="how many (default 20)")
    parsers["history"] = p
    p = _Parser("%linkis attach", "Load an earlier task's results.")
    p.add_argument("task_id", metavar="TASKID")
    p.add_argument("-o", "--output", metavar="NAME")
    p.add_argument("-q", "--quiet", action="store_true")
    parsers["attach"] = p
    p = _Parser("%linkis login", "Log in to a gateway (asks for the password if none is set).")
    p.add_argument("url", nargs="?", metavar="URL")
    p.add_argument("-u", "--user", metavar="USER")
    parsers["login"] = p
    parsers["logout"] = _Parser("%linkis logout", "Log out and forget the session.")
    parsers["config"] = _Parser("%linkis config", "Show the effective settings.")
    p = _Parser("%linkis sandbox", "Manage the local sandbox gateway.")
    p.add_argument("action", choices=("start", "stop", "status"))
    parsers["sandbox"] = p
    return parsers


def _pairs(option: str, items: Sequence[str]) -> dict[str, str]:
    """K=V strings -> dict; a malformed item is a usage error naming the option."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or any(c.isspace() for c in key):
            raise UsageError(
                f"{option} expects KEY=VALUE, got {item!r} (e.g. {option} dt=2024-01-01; "
                "put RUNTYPE before the options)"
            )
        out[key] = value
    return out


def _positive_int(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{option} expects a whole number >= 1, got {text!r}")
    return value


def _positive_float(option: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value != value or value == float("inf"):
        raise UsageError(f"{option} expects a number of seconds > 0, got {text!r}")
    return value


def _identifier(option: str, name: str | None) -> str | None:
    if name is None:
        return None
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"{option} expects a Python variable name, got {name!r}")
    return name


def _export_path(text: str | None) -> Path | None:
    if text is None:
        return None
    path = Path(text).expanduser()
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(f"--export writes .csv or .xlsx files, got {text!r}")
    if not path.parent.is_dir():
        raise UsageError(f"--export: directory {str(path.parent)!r} does not exist")
    return path


def _usage(call: Callable[[], Any]) -> Any:
    """Run a validator; turn ConfigurationError into IPython's short UsageError."""
    try:
        return call()
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


@dataclass
class CellRequest:
    """A validated %%linkis cell: everything needed to submit, nothing sent yet."""

    code: str
    run_type: str
    engine: str
    creator: str
    settings: Settings
    output: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    startup: dict[str, str] = field(default_factory=dict)
    runtime: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    quiet: bool = False
    background: bool = False
    timeout: float | None = None
    api: str = "v1"
    export: Path | None = None


@dataclass
class JobRun:
    """A job started (or attached) from this shell, with its display and wait state."""

    job: Job
    display: JobDisplay
    cancel: threading.Event
    output: str | None = None
    quiet: bool = False
    limit: int | None = None
    export: Path | None = None
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    results: list[ResultSet] = field(default_factory=list)
    error: BaseException | None = None


class _SecretUnicode(Unicode[Any, Any]):
    """A string trait whose value repr is masked (`%config LinkisMagics` prints values)."""

    def validate(self, obj: Any, value: Any) -> Any:
        value = super().validate(obj, value)
        return value if value is None else _Secret(value)


class _Secret(str):
    """A str that keeps its value but never shows it in repr()."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'********'"


def _job_message(exc: JobError) -> list[str]:
    """Short lines for a job that did not succeed: state, errCode, errDesc, error log tail."""
    ident = f"taskID {exc.task_id}" if exc.task_id is not None else f"execID {exc.exec_id}"
    state = getattr(exc.state, "value", exc.state)
    if isinstance(exc, JobWaitTimeout):  # the job did not end: say so, and how to stop it
        head = f"{type(exc).__name__}: {exc} (stop it with %linkis kill)"
    else:
        head = f"{type(exc).__name__}: Linkis job {ident} ended {state}"
    lines = [head]
    if exc.err_code is not None or exc.err_desc:
        lines.append(f"errCode {exc.err_code}: {exc.err_desc or ''}".rstrip())
    tail = [ln for ln in (exc.error_lines or ()) if ln.strip()][-_ERROR_TAIL:]
    if tail:
        lines.append("last error log lines:")
        lines.extend(f"  {ln}" for ln in tail)
    return lines


def _quiet(exc: BaseException) -> BaseException:
    """Give a library error a short rendering: IPython shows these lines, no traceback."""
    lines = _job_message(exc) if isinstance(exc, JobError) else [f"{type(exc).__name__}: {exc}"]
    exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
    return exc


def _ipykernel_supports_await() -> bool:
    """ipykernel >= 7.4 dispatches comm messages while an awaited cell runs."""
    kernel = sys.modules.get("ipykernel")
    if kernel is None:
        return False
    match = re.match(r"(\d+)\.(\d+)", getattr(kernel, "__version__", ""))
    if match is None:
        return False
    return (int(match.group(1)), int(match.group(2))) >= (7, 4)


@magics_class
class LinkisMagics(Magics, Configurable):
    """`%%linkis` cells and `%linkis` commands; configure with `%config LinkisMagics.<trait>`."""

    gateway_url = Unicode(None, allow_none=True, help="Linkis gateway URL").tag(config=True)
    user = Unicode(None, allow_none=True, help="user name").tag(config=True)
    password = _SecretUnicode(None, allow_none=True, help="password (masked)").tag(config=True)
    token = _SecretUnicode(None, allow_none=True, help="token (Token-Code)").tag(config=True)
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
    autostart_sandbox = Bool(
        True, help="start the local sandbox when no gateway URL is configured"
    ).tag(config=True)

    _SETTING_TRAITS = (
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
    )

    @validate("gateway_url")
    def _check_url(self, proposal: Any) -> Any:
        return self._trait_check(proposal, check_url)

    @validate("engine")
    def _check_engine(self, proposal: Any) -> Any:
        return self._trait_check(proposal, check_engine)

    @validate("creator")
    def _check_creator(self, proposal: Any) -> Any:
        return self._trait_check(proposal, check_creator)

    @validate("display")
    def _check_display(self, proposal: Any) -> Any:
        return self._trait_check(proposal, check_display)

    @validate("connect_timeout", "read_timeout")
    def _check_timeout(self, proposal: Any) -> Any:
        value = proposal["value"]
        if value is not None and not value > 0:
            raise TraitError(f"{proposal['trait'].name} must be > 0 seconds")
        return value

    @staticmethod
    def _trait_check(proposal: Any, check: Callable[[str], str]) -> Any:
        value = proposal["value"]
        if value is None:
            return None
        try:
            return check(value)
        except ConfigurationError as exc:
            raise TraitError(str(exc)) from None

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        Configurable.__init__(self, **kwargs)
        Magics.__init__(self, shell=shell)
        self._cell = _cell_parser()
        self._lines = _line_parsers()
        self._client: LinkisClient | None = None
        self._client_key: tuple[Any, ...] | None = None
        self._client_lock = threading.RLock()
        self._sandbox: EmbeddedSandbox = default_sandbox()
        self.runs: list[JobRun] = []

    # ------------------------------------------------------------------ settings / client

    def settings(self, **overrides: Any) -> Settings:
        """Effective settings: overrides > %config traits > environment > defaults."""

        def build() -> Settings:
            traits = {name: getattr(self, name) for name in self._SETTING_TRAITS}
            traits = {k: (str(v) if isinstance(v, _Secret) else v) for k, v in traits.items()}
            return Settings.from_env().merged(**traits).merged(**overrides)

        result: Settings = _usage(build)
        return result

    @property
    def last_run(self) -> JobRun | None:
        """The most recent job started or attached in this shell."""
        return self.runs[-1] if self.runs else None

    def client(self, settings: Settings | None = None, *, quiet: bool = False) -> LinkisClient:
        """A client for the settings, reused while they stay the same (sandbox if no URL)."""
        settings = settings or self.settings()
        with self._client_lock:
            if settings.gateway_url is None:
                if not self.autostart_sandbox:
                    raise UsageError(
                        "no Linkis gateway configured: set LINKIS_GATEWAY_URL or "
                        "%config LinkisMagics.gateway_url = 'http://host:9001'"
                    )
                info, started = self._sandbox.ensure()
                if started is not None and not quiet:
                    print(started)
                settings = replace(
                    settings,
                    gateway_url=info.url,
                    user=info.user,
                    password=info.password,
                    token=None,
                )
            key = (
                settings.gateway_url,
                settings.user,
                settings.password,
                settings.token,
                settings.creator,
                settings.verify,
                settings.connect_timeout,
                settings.read_timeout,
            )
            if self._client is not None and key == self._client_key:
                return self._client
            if self._client is not None:
                self._client.close()
            assert settings.gateway_url is not None
            client = LinkisClient(settings.gateway_url, **settings.client_kwargs())
            self._client, self._client_key = client, key
            return client

    def _drop_client(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
            self._client, self._client_key = None, None

    # ------------------------------------------------------------------ parsing

    def parse_cell(self, line: str, cell: str) -> CellRequest:
        """Validate a %%linkis line and body; raises UsageError, sends nothing."""
        try:
            tokens = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%%linkis: cannot split the line: {exc}") from None
        args = self._cell.parse(tokens)
        run_type = args.run_type or "sql"
        if run_type in SUBCOMMANDS:
            raise UsageError(f"'{run_type}' is a line command: use %linkis {run_type} (one %)")
        if not _RUN_TYPE.match(run_type):
            raise UsageError(
                f"RUNTYPE must be a word such as sql, hql, python or shell, got {run_type!r}"
            )
        if not cell.strip():
            raise UsageError("%%linkis: the cell is empty; write the code to run below the line")
        settings = self.settings(engine=args.engine, creator=args.creator)
        engine = settings.engine if args.engine else settings.engine_for(run_type)
        return CellRequest(
            code=cell,
            run_type=run_type,
            engine=engine,
            creator=settings.creator,
            settings=settings,
            output=_identifier("-o", args.output),
            variables=_pairs("--var", args.var),
            startup=_pairs("--startup", args.startup),
            runtime=_pairs("--runtime", args.runtime),
            limit=_positive_int("--limit", args.limit),
            quiet=args.quiet,
            background=args.background,
            timeout=_positive_float("--timeout", args.timeout),
            api=args.api,
            export=_export_path(args.export),
        )

    # ------------------------------------------------------------------ the magics

    @line_cell_magic("linkis")  # type: ignore[arg-type]  # IPython's decorator typing
    def linkis(self, line: str, cell: str | None = None) -> Any:
        """%%linkis [RUNTYPE] [options] runs the cell; %linkis COMMAND manages jobs.

        Cell: %%linkis [RUNTYPE] [-e ENGINE] [-c CREATOR] [-o NAME] [--var K=V ...]
        [--startup K=V ...] [--runtime K=V ...] [--limit N] [-q] [--background]
        [--timeout S] [--api v1|v0] [--export PATH.csv|PATH.xlsx]

        Line: %linkis status|progress|log|kill [ID] | history [-n N] | attach TASKID [-o NAME]
        | login [URL] [-u USER] | logout | config | sandbox start|stop|status
        """
        try:
            if cell is None:
                return self._line(line)
            request = self.parse_cell(line, cell)
        except _HelpShown:
            return None
        if request.background:
            self._background(request)
            return None
        return self._run_blocking(request)

    @cell_magic("linkis_async")  # type: ignore[arg-type]
    def linkis_async(self, line: str, cell: str) -> Coroutine[Any, Any, Any]:
        """The awaited form of %%linkis (the input transformer routes cells here)."""
        return self._run_awaited(line, cell)

    async def _run_awaited(self, line: str, cell: str) -> Any:
        try:
            request = self.parse_cell(line, cell)
        except _HelpShown:
            return None
        if request.background:
            self._background(request)
            return None
        run = self._launch(request)
        outcome: concurrent.futures.Future[JobStatus] = concurrent.futures.Future()

        def work() -> None:
            if not outcome.set_running_or_notify_cancel():
                return
            try:
                outcome.set_result(self._wait(run, request.timeout))
            except BaseException as exc:  # handed to the awaiting cell
                outcome.set_exception(exc)

        threading.Thread(target=work, name="linkis-wait", daemon=True).start()
        awaited = asyncio.wrap_future(outcome)
        try:
            while not outcome.done():
                # Short slices keep the kernel loop free (comm messages, interrupts).
                await asyncio.wait({awaited}, timeout=_SLICE)
        except asyncio.CancelledError:
            run.cancel.set()
            with contextlib.suppress(BaseException):
                outcome.result(timeout=_CANCEL_WAIT)
            self._settle_display(run)
            raise LinkisInterrupted(
                f"interrupted: Linkis job {self._ident(run.job)} killed "
                f"({self._state_text(run.job)})"
            ) from None
        try:
            outcome.result()
        except LinkisError as exc:
            self._fail(run, exc)
        return self._complete(run)

    # ------------------------------------------------------------------ running jobs

    def _display_mode(self, settings: Settings, quiet: bool) -> str:
        if quiet or settings.display == "none":
            return "none"
        return frontend_mode(self.shell, settings.display)

    def _launch(self, request: CellRequest) -> JobRun:
        client = self.client(request.settings, quiet=request.quiet)
        options: dict[str, Any] = {
            "run_type": request.run_type,
            "engine_type": request.engine,
            "creator": request.creator,
            "variables": request.variables or None,
            "runtime": request.runtime or None,
            "startup": request.startup or None,
        }
        notebook = os.environ.get("JPY_SESSION_NAME")
        if notebook:
            options["source"] = {"scriptPath": notebook}
        try:
            if request.api == "v0":
                job = client.execute(request.code, **options)
            else:
                job = client.submit(request.code, **options)
        except LinkisError as exc:
            raise _quiet(exc) from None
        cancel = threading.Event()
        mode = self._display_mode(request.settings, request.quiet)
        title = f"Linkis job {job.task_id} ({request.run_type} on {request.engine})"
        display = make_display(mode, on_kill=cancel.set, title=title)  # type: ignore[arg-type]
        run = JobRun(
            job=job,
            display=display,
            cancel=cancel,
            output=request.output,
            quiet=request.quiet,
            limit=request.limit,
            export=request.export,
        )
        self.runs.append(run)
        display.show()
        return run

    def _wait(self, run: JobRun, timeout: float | None) -> JobStatus:
        return run.job.wait(timeout=timeout, on_update=run.display.update, cancel=run.cancel)

    def _run_blocking(self, request: CellRequest) -> Any:
        run = self._launch(request)
        try:
            self._wait(run, request.timeout)
        except KeyboardInterrupt:
            # Job.wait has asked the gateway to kill; make sure it is Cancelled before
            # handing the interrupt back, so the job is not left running.
            self._await_terminal(run)
            self._settle_display(run)
            print(
                f"Interrupted: Linkis job {self._ident(run.job)} killed "
                f"({self._state_text(run.job)}).",
                file=sys.stderr,
            )
            raise
        except LinkisError as exc:
            self._fail(run, exc)
        return self._complete(run)

    def _background(self, request: CellRequest) -> JobRun:
        run = self._launch(request)

        def work() -> None:
            try:
                self._wait(run, request.timeout)
                self._complete(run)
            except BaseException as exc:
                run.error = exc
                self._settle_display(run, error=exc)
                if isinstance(exc, LinkisError):
                    _quiet(exc)
            finally:
                run.done.set()

        run.thread = threading.Thread(target=work, name=f"linkis-{run.job.task_id}", daemon=True)
        run.thread.start()
        if not request.quiet and self._display_mode(request.settings, False) != "widget":
            print(
                f"Linkis job {self._ident(run.job)} runs in the background; "
                "%linkis status / log / kill follow it"
                + (f", {request.output} is bound when it succeeds." if request.output else ".")
            )
        return run

    def _await_terminal(self, run: JobRun) -> None:
        deadline = time.monotonic() + _CANCEL_WAIT
        while time.monotonic() < deadline:
            try:
                state = run.job.status()
            except LinkisError:
                return
            if state.is_terminal:
                return
            with contextlib.suppress(LinkisError):
                run.job.kill()
            time.sleep(0.2)

    def _settle_display(self, run: JobRun, error: BaseException | None = None) -> None:
        try:
            snapshot = run.job.snapshot()
            run.display.finish(snapshot, error=error)
        except Exception:  # the display must never hide the job's own outcome
            pass

    def _fail(self, run: JobRun, exc: LinkisError) -> NoReturn:
        run.error = exc
        self._settle_display(run, error=exc)
        raise _quiet(exc) from None

    def _complete(self, run: JobRun) -> Any:
        """Load results, finish the display, export, bind -o; return the cell's value."""
        try:
            results = run.job.results(limit=run.limit)
        except LinkisError as exc:
            self._fail(run, exc)
        run.results = results
        run.display.finish(run.job.snapshot(), results=results)
        tables = [rs.frame for rs in results if rs.frame is not None]
        value: Any = tables[0] if len(tables) == 1 else (tables or None)
        if not run.quiet:
            for rs in results:
                if rs.frame is None and rs.text:
                    print(rs.text.rstrip("\n"))
                if rs.truncated:
                    print(
                        f"result set {rs.index}: only the first {run.limit} rows were loaded "
                        f"(--limit {run.limit})",
                        file=sys.stderr,
                    )
        if run.export is not None:
            self._export(run, tables)
        if run.output:
            if value is None:
                if not run.quiet:
                    print(f"no table result set: {run.output} is not bound", file=sys.stderr)
            else:
                self._user_ns()[run.output] = value
        run.value = value
        return value

    def _user_ns(self) -> dict[str, Any]:
        if self.shell is None:
            raise UsageError("LinkisMagics needs an IPython shell")
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _export(self, run: JobRun, tables: list[pd.DataFrame]) -> None:
        path = run.export
        assert path is not None
        if not tables:
            print(f"no table result set: nothing written to {path}", file=sys.stderr)
            return
        if path.suffix.lower() == ".csv":
            tables[0].to_csv(path, index=False)
        else:
            tables[0].to_excel(path, index=False, engine="xlsxwriter")
        if not run.quiet:
            print(f"wrote {len(tables[0])} rows to {path}")

    @staticmethod
    def _ident(job: Job) -> str:
        return f"taskID {job.task_id}" if job.task_id is not None else f"execID {job.exec_id}"

    @staticmethod
    def _state_text(job: Job) -> str:
        try:
            state = job.snapshot().state
            return "state unknown" if state is None else str(state.value)
        except Exception:
            return "state unknown"

    # ------------------------------------------------------------------ line commands

    def _line(self, line: str) -> Any:
        try:
            tokens = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%linkis: cannot split the line: {exc}") from None
        if not tokens:
            raise UsageError(
                "%linkis needs a command: " + " | ".join(SUBCOMMANDS) + " (or %%linkis for a cell)"
            )
        command, rest = tokens[0], tokens[1:]
        if command not in self._lines:
            hint = ""
            if _RUN_TYPE.match(command) or command.startswith("-"):
                hint = "; to run code use the cell magic %%linkis with the code below the line"
            raise UsageError(
                f"%linkis: unknown command {command!r}; choose one of "
                + ", ".join(SUBCOMMANDS)
                + hint
            )
        args = self._lines[command].parse(rest)
        handler: Callable[[argparse.Namespace], Any] = getattr(self, f"_cmd_{command}")
        try:
            return handler(args)
        except LinkisError as exc:
            raise _quiet(exc) from None

    def _find_run(self, ident: str | None) -> JobRun | None:
        if ident is None:
            return self.last_run
        for run in reversed(self.runs):
            if ident == run.job.exec_id or ident == str(run.job.task_id):
                return run
        return None

    def _resolve(self, ident: str | None) -> Job:
        """The job an ID names: a job of this shell, else a re-attach via jobhistory."""
        if ident is not None and not (ident.isdigit() or ident.startswith("exec_id")):
            raise UsageError(
                f"ID must be a taskID (a number) or an execID (exec_id…), got {ident!r}"
            )
        run = self._find_run(ident)
        if run is not None:
            return run.job
        if ident is None:
            raise UsageError("no Linkis job in this session yet: give an execID or a taskID")
        client = self.client()
        if ident.isdigit():
            return client.job(int(ident))
        return Job(client, ident, None)

    def _cmd_status(self, args: argparse.Namespace) -> None:
        job = self._resolve(args.id)
        state = job.status()
        print(f"{self._ident(job)}: {state.value}")

    def _cmd_progress(self, args: argparse.Namespace) -> None:
        job = self._resolve(args.id)
        progress = job.progress()
        print(f"{self._ident(job)}: {progress.progress * 100:.0f}%")
        for stage in progress.stages:
            print(
                f"  {stage.id}: {stage.succeeded}/{stage.total} tasks succeeded, "
                f"{stage.running} running, {stage.failed} failed"
            )

    def _cmd_log(self, args: argparse.Namespace) -> None:
        tail = _positive_int("-n", args.lines)
        job = self._resolve(args.id)
        lines = self._log_lines(job)
        if tail is not None:
            lines = lines[-tail:]
        print("\n".join(lines))

    def _log_lines(self, job: Job) -> list[str]:
        state = job.state
        if state is not None and state.is_terminal and job.log_lines:
            return job.log_lines  # a finished job this shell followed has read every line
        client = job.client
        try:
            if job.exec_id is None:
                raise UsageError("this job has no execID; its log is not available")
            return list(client.log(job.exec_id, from_line=1, size=-1).lines)
        except GatewayError:
            # The entrance forgot the job (REFERENCE §3.7): read the persisted log file.
            if job.task_id is None:
                raise
            info = client.task(job.task_id)
            if not info.log_path:
                raise
            return list(client.open_log(info.log_path).lines)

    def _cmd_kill(self, args: argparse.Namespace) -> None:
        run = self._find_run(args.id)
        if run is not None and run.thread is not None and not run.done.is_set():
            run.cancel.set()  # the background waiter kills and records Cancelled
            print(f"kill requested for {self._ident(run.job)}")
            return
        job = run.job if run is not None else self._resolve(args.id)
        job.kill()
        print(f"kill requested for {self._ident(job)}")

    def _cmd_history(self, args: argparse.Namespace) -> pd.DataFrame:
        count = _positive_int("-n", args.n)
        assert count is not None
        page = self.client().tasks(page_size=count)
        rows = [
            {
                "taskID": t.task_id,
                "status": t.status.value,
                "engine": t.engine_type,
                "runType": t.run_type,
                "creator": t.creator,
                "created": t.created_time,
                "costTime_s": None if t.cost_time_ms is None else t.cost_time_ms / 1000,
                "errCode": t.err_code,
                "errDesc": t.err_desc,
                "execID": t.exec_id,
            }
            for t in page.tasks
        ]
        columns = [
            "taskID",
            "status",
            "engine",
            "runType",
            "creator",
            "created",
            "costTime_s",
            "errCode",
            "errDesc",
            "execID",
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=columns)
        return frame

    def _cmd_attach(self, args: argparse.Namespace) -> Any:
        if not args.task_id.isdigit():
            raise UsageError(f"attach expects a taskID (a number), got {args.task_id!r}")
        output = _identifier("-o", args.output)
        settings = self.settings()
        job = self.client(settings, quiet=args.quiet).job(int(args.task_id))
        cancel = threading.Event()
        mode = self._display_mode(settings, args.quiet)
        display = make_display(mode, on_kill=cancel.set, title=f"taskID {args.task_id}")  # type: ignore[arg-type]
        run = JobRun(job=job, display=display, cancel=cancel, output=output, quiet=args.quiet)
        self.runs.append(run)
        display.show()
        try:
            self._wait(run, None)
        except KeyboardInterrupt:
            self._await_terminal(run)
            self._settle_display(run)
            raise
        except LinkisError as exc:
            self._fail(run, exc)
        return self._complete(run)

    def _cmd_login(self, args: argparse.Namespace) -> None:
        if args.url is not None:
            self.gateway_url = _usage(lambda: check_url(args.url))
        if args.user is not None:
            self.user = args.user
        settings = self.settings()
        if settings.gateway_url is None:
            client = self.client(settings)
            print(f"Using the local sandbox at {client.base_url}.")
            return
        if settings.auth_kind == "token":
            self._drop_client()
            print(f"Token authentication as {settings.user} at {settings.gateway_url}.")
            return
        if not settings.user:
            raise UsageError("%linkis login: no user; give -u USER or set LINKIS_USER")
        if settings.auth_kind == "none":
            self.password = getpass.getpass(f"Linkis password for {settings.user}: ")
            settings = self.settings()
        self._drop_client()
        self.client(settings).login()
        print(f"Logged in to {settings.gateway_url} as {settings.user}.")

    def _cmd_logout(self, args: argparse.Namespace) -> None:
        with self._client_lock:
            client = self._client
            if client is None:
                print("Not logged in.")
                return
            try:
                client.logout()
            finally:
                self._drop_client()
        print("Logged out.")

    def _cmd_config(self, args: argparse.Namespace) -> None:
        settings = self.settings()
        described = settings.describe()
        if settings.gateway_url is None:
            described["gateway_url"] = "<not set: the local sandbox is used>"
        env_names = {name: var for var, name in ENV_VARS.items()}
        width = max(len(k) for k in described)
        for key, value in described.items():
            var = env_names.get(key)
            if getattr(self, key, None) is not None:
                origin = f"%config LinkisMagics.{key}"
            elif var is not None and os.environ.get(var, "").strip():
                origin = f"${var}"
            else:
                origin = "default"
            print(f"{key:<{width}}  {value:<40}  ({origin})")

    def _cmd_sandbox(self, args: argparse.Namespace) -> None:
        if args.action == "start":
            info, started = self._sandbox.ensure()
            print(started or f"Local sandbox already running at {info.url}.")
            configured = self.settings().gateway_url
            if configured is not None:
                print(f"Note: cells still go to the configured gateway {configured}.")
        elif args.action == "stop":
            with self._client_lock:
                key = self._client_key
                if (
                    key is not None
                    and self._sandbox.url is not None
                    and key[0] == self._sandbox.url
                ):
                    self._drop_client()
            print("Local sandbox stopped." if self._sandbox.stop() else "No local sandbox to stop.")
        else:
            print(self._sandbox.describe())

    # ------------------------------------------------------------------ await rewriting

    def use_awaited_cells(self) -> bool:
        """True when %%linkis cells should be awaited so the Kill button works while blocking."""
        shell = self.shell
        if shell is None or getattr(shell, "kernel", None) is None:
            return False
        if not _ipykernel_supports_await():
            return False
        try:
            settings = self.settings()
        except UsageError:
            return False  # let the synchronous path report the bad setting
        return self._display_mode(settings, False) == "widget"

    def transform_await(self, lines: list[str]) -> list[str]:
        """input_transformers_post hook: turn a %%linkis cell into an awaited call."""
        if lines and lines[0].startswith(_SYNC_CALL) and self.use_awaited_cells():
            return [_ASYNC_CALL + lines[0][len(_SYNC_CALL) :], *lines[1:]]
        return lines
