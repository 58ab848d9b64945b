"""Engines of the sandbox: what runs a job's code, and the context they run it in.

An `Engine` is a kind of engine (DuckDB, python, shell, Spark); `Engine.open` starts what one
engine connection holds, an `EngineSession` (a DuckDB connection, a Python process, a Spark
session), which `engineconns.EngineConns` keeps for one user's jobs of one engineType and
releases with `EngineSession.close` (docs/linkis-protocol.md §14.2, §14.3).

A session runs one job at a time: it gets a `JobContext` (code, labels, variables, where to
write result sets, how to log and report progress, how to learn about a kill) and either
returns (Succeed), raises `EngineError` (Failed with errCode/errDesc, as Linkis persists them)
or notices the kill and returns/raises (the job manager turns that into Cancelled).

Error code families follow Linkis's `linkis_ps_error_code` table (docs/linkis-protocol.md §9): 41xxx
database/table/column not found, 42xxx SQL semantic/parse errors, 43xxx Python errors,
44xxx shell errors, 91xxx variable errors, 30010 code empty after preprocessing,
31002 no engine for the requested engineType/runType, 21002 an engine that could not start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

LogFn = Callable[[str, str], None]
ProgressFn = Callable[[float, list[dict[str, Any]]], None]


class EngineError(Exception):
    """The job failed: `code` and `desc` become jobhistory errCode/errDesc."""

    def __init__(self, code: int, desc: str) -> None:
        super().__init__(f"{code}: {desc}")
        self.code = code
        self.desc = desc


@dataclass
class JobContext:
    """Everything an engine needs to run one job, and the kill switch it must honour."""

    task_id: int
    user: str
    code: str
    run_type: str
    engine: str
    engine_version: str
    variables: Mapping[str, str]
    result_dir: Path
    log: LogFn
    progress: ProgressFn
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _callbacks: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_result: int = 0

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` when the job is killed (at once if it already was); returns an
        unregister function so a finished statement's interrupt is not fired later."""
        with self._lock:
            if not self._cancelled.is_set():
                self._callbacks.append(callback)

                def remove() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)

                return remove
        callback()
        return lambda: None

    def cancel(self) -> None:
        """Mark the job killed and fire the engine's interrupt callbacks."""
        with self._lock:
            self._cancelled.set()
            callbacks = list(self._callbacks)
            self._callbacks.clear()
        for callback in callbacks:
            # an interrupt racing the job's completion is harmless
            with contextlib.suppress(Exception):
                callback()

    def next_result_path(self) -> Path:
        """`_N.dolphin` in execution order (docs/linkis-protocol.md §5.6); creates the
        directory."""
        self.result_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            index = self._next_result
            self._next_result += 1
        return self.result_dir / f"_{index}.dolphin"


NOMINAL_MEMORY = 1 << 30
"""What an engine is said to hold when its own use cannot be measured: 1 GiB (with 1 core),
Linkis's default request for its Python and shell engines."""


@dataclass(frozen=True)
class Footprint:
    """What an engine holds, for §14.2's `LoadInstance` resources: the amount it asked for
    (`memory` bytes, `cores`) and the memory it really uses where that can be measured."""

    memory: int = NOMINAL_MEMORY
    cores: int = 1
    used_memory: int | None = None
    """Measured resident memory in bytes, or None (then the request is reported as used)."""


def resident_memory(pid: int | None) -> int | None:
    """The resident set size of process `pid` in bytes (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class EngineSession(Protocol):
    """What one engine connection holds; runs its jobs one at a time, on worker threads."""

    pid: int | None
    """The process that holds it (the `identifier` of §14.2)."""

    def run(self, ctx: JobContext) -> None: ...

    def alive(self) -> bool:
        """False once what it holds is gone (closed, or its process exited)."""
        ...

    def footprint(self) -> Footprint: ...

    def close(self) -> None:
        """Release everything it holds; idempotent, callable from any thread, also while a
        job runs (whose kill callbacks the caller has fired first)."""
        ...


class Engine(Protocol):
    """A kind of engine: starts the sessions engine connections hold."""

    def open(self, log: LogFn) -> EngineSession:
        """Start a new session (`log` reaches the job that asked for it); EngineError if it
        cannot start."""
        ...


# ---------------------------------------------------------------------------------------------
# ${variable} substitution (server side, before parsing, as Linkis's VariableUtils does)

_VAR = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:([+-])\s*(\d+)\s*)?\}")


def builtin_variables(today: dt.date | None = None) -> dict[str, dt.date | str]:
    """Linkis's date built-ins: run_date is *yesterday* (the batch convention)."""
    today = today or dt.date.today()
    run = today - dt.timedelta(days=1)
    month_begin = run.replace(day=1)
    next_month = (month_begin + dt.timedelta(days=32)).replace(day=1)
    return {
        "run_date": run,
        "run_today": today,
        "run_month_begin": month_begin,
        "run_month_end": next_month - dt.timedelta(days=1),
    }


def substitute(code: str, variables: Mapping[str, Any], *, strict: bool) -> str:
    """Replace `${name}` (and `${run_date-1}`-style date arithmetic) in `code`.

    Built-ins: run_date / run_today / run_month_begin / run_month_end as yyyyMMdd, and the
    same names with `_std` as yyyy-MM-dd. A user variable wins over a built-in. With
    `strict`, an unknown name fails the job (91001) instead of being left in place — SQL
    would otherwise fail later with a confusing parse error; shell keeps `${HOME}` intact.
    """
    dates = builtin_variables()

    def lookup(name: str, sign: str | None, amount: str | None) -> str | None:
        if name in variables and not sign:
            return str(variables[name])
        base_name, std = (name[:-4], True) if name.endswith("_std") else (name, False)
        value: Any = variables.get(name)
        date: dt.date | None = None
        if base_name in dates and name not in variables:
            date = dates[base_name]  # type: ignore[assignment]
        elif isinstance(value, str) and sign:
            for fmt in ("%Y%m%d", "%Y-%m-%d"):
                try:
                    date = dt.datetime.strptime(value, fmt).date()
                    std = fmt == "%Y-%m-%d"
                    break
                except ValueError:
                    continue
            if date is None:
                raise EngineError(91002, f"variable {name} = {value!r} is not a date: cannot add")
        if date is None:
            return None
        if sign:
            delta = dt.timedelta(days=int(amount or 0))
            date = date + delta if sign == "+" else date - delta
        return date.strftime("%Y-%m-%d" if std else "%Y%m%d")

    def replace(match: re.Match[str]) -> str:
        name, sign, amount = match.group(1), match.group(2), match.group(3)
        value = lookup(name, sign, amount)
        if value is None:
            if strict:
                raise EngineError(
                    91001,
                    f"variable {name} is not defined: pass it in params.variable "
                    f"(e.g. --var {name}=...)",
                )
            return match.group(0)
        return value

    return _VAR.sub(replace, code)


SQL_RUN_TYPES = frozenset(
    {"sql", "hql", "jdbc", "psql", "tsql", "fql", "jsql", "sparksql", "presto", "trino", "ngql"}
)
#: engine names (text before the first `-` of engineType) the DuckDB engine answers for;
#: any other name fails like a Linkis cluster without that engine (31002).
SQL_ENGINES = frozenset(
    {
        "spark", "hive", "presto", "trino", "openlookeng", "mysql", "doris", "starrocks",
        "clickhouse", "oracle", "postgresql", "postgres", "sqlserver", "flink", "impala",
        "databricks", "snowflake", "bigquery", "jdbc", "duckdb",
    }
)  # fmt: skip
PYTHON_RUN_TYPES = frozenset({"python", "py", "py3", "python3"})
SHELL_RUN_TYPES = frozenset({"shell", "sh", "bash"})
