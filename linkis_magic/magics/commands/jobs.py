"""``%linkis status|progress|log|kill|history|attach``: jobs of this shell or of the gateway."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import pandas as pd
from IPython.core.error import UsageError

from linkis_magic._validate import (
    check_export_path,
    check_identifier,
    check_job_ref,
    check_task_id,
    parse_int,
)
from linkis_magic.display import NullDisplay
from linkis_magic.job import Job
from linkis_magic.magics._parse import Parser, usage
from linkis_magic.magics._render import ident
from linkis_magic.magics._runner import JobRun
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["commands"]

HISTORY_COLUMNS = [
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


def _with_id(name: str, what: str) -> Parser:
    p = Parser(f"%linkis {name}", what)
    p.add_argument("id", nargs="?", metavar="ID", help="execID or taskID (default: last)")
    return p


def _resolve(session: Session, text: str | None) -> tuple[JobRun | None, Job]:
    """The job an ID names: a run of this shell, else a re-attach via jobhistory."""
    ref = None if text is None else usage(lambda: check_job_ref(text))
    run = session.runner.find(ref)
    if run is not None:
        return run, run.job
    if ref is None:
        raise UsageError("no Linkis job in this session yet: give an execID or a taskID")
    client = session.client()
    if isinstance(ref, int):
        return None, client.job(ref)
    return None, Job(client, ref, None)


def _status(session: Session, args: argparse.Namespace) -> None:
    _, job = _resolve(session, args.id)
    state = job.status()
    print(f"{ident(job.task_id, job.exec_id)}: {state.value}")


def _progress(session: Session, args: argparse.Namespace) -> None:
    _, job = _resolve(session, args.id)
    progress = job.progress()
    print(f"{ident(job.task_id, job.exec_id)}: {progress.progress * 100:.0f}%")
    for stage in progress.stages:
        print(
            f"  {stage.id}: {stage.succeeded}/{stage.total} tasks succeeded, "
            f"{stage.running} running, {stage.failed} failed"
        )


def _log(session: Session, args: argparse.Namespace) -> None:
    tail = usage(lambda: parse_int(args.lines, "-n"))
    _, job = _resolve(session, args.id)
    lines = job.read_log()
    if tail is not None:
        lines = lines[-tail:]
    print("\n".join(lines))


def _kill(session: Session, args: argparse.Namespace) -> None:
    run, job = _resolve(session, args.id)
    if run is not None and not run.done.is_set():
        run.request_cancel()  # its waiter kills, re-sends, and records the outcome
    else:
        job.kill()
    print(f"kill requested for {ident(job.task_id, job.exec_id)}")


def _history(session: Session, args: argparse.Namespace) -> pd.DataFrame:
    count = usage(lambda: parse_int(args.n, "-n"))
    assert count is not None
    page = session.client().tasks(page_size=count)
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
    frame: pd.DataFrame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return frame


def _attach(session: Session, args: argparse.Namespace) -> Any:
    if not args.task_id.isdigit():
        raise UsageError(f"attach expects a taskID (a number), got {args.task_id!r}")
    task_id = usage(lambda: check_task_id(int(args.task_id)))
    output = usage(lambda: check_identifier(args.output, "-o"))
    export = usage(lambda: check_export_path(args.export))
    settings = session.settings()
    job = session.client(settings, quiet=args.quiet).job(task_id)
    run = JobRun(job=job, display=NullDisplay(), output=output, quiet=args.quiet, export=export)
    run.display = session.display_for(settings, args.quiet, f"taskID {task_id}", run.request_cancel)
    return session.runner.block(session.runner.start(run))


def commands() -> list[Command]:
    """The job commands."""
    log = _with_id("log", "Print a job's log.")
    log.add_argument("-n", "--lines", metavar="N", help="only the last N lines")
    history = Parser("%linkis history", "List recent jobs (jobhistory) as a DataFrame.")
    history.add_argument("-n", metavar="N", default="20", help="how many (default 20)")
    attach = Parser("%linkis attach", "Load (or export) an earlier task's results.")
    attach.add_argument("task_id", metavar="TASKID")
    attach.add_argument("-o", "--output", metavar="NAME")
    attach.add_argument("--export", metavar="PATH", help="stream its tables to PATH.csv/.xlsx")
    attach.add_argument("-q", "--quiet", action="store_true")
    return [
        Command("status", _with_id("status", "Show a job's state."), _status),
        Command("progress", _with_id("progress", "Show a job's progress per stage."), _progress),
        Command("log", log, _log),
        Command("kill", _with_id("kill", "Kill a job."), _kill),
        Command("history", history, _history),
        Command("attach", attach, _attach),
    ]
