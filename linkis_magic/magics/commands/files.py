"""``%linkis push | files | upload | download``: data up to the gateway, files to and fro.

``push DF [DB.]TABLE`` makes a DataFrame of the notebook a table the way Linkis's web IDE
imports a file (docs/linkis-protocol.md §16): the frame goes up as Parquet parts to a fresh
directory of the user's HDFS workspace, one Spark SQL job loads them, the directory is deleted
whatever happens. The upload shows its progress, then the job has the usual display.
``files``/``upload``/``download`` work on the user's workspace (the local root by default, as
the IDE's workspace panel shows it); paths are full URIs (``file:///…``, ``hdfs:///…``).

Handlers use only the session's ``settings``, ``client``, ``catalog``, ``runner``,
``display_for`` and ``namespace``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from IPython.core.error import UsageError

from linkis_magic._push import MODES
from linkis_magic._validate import check_workspace_path
from linkis_magic.display import NullDisplay, transfer_progress
from linkis_magic.magics._parse import Parser, usage
from linkis_magic.magics._runner import JobRun
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["commands"]

FILE_COLUMNS = ["name", "path", "isDir", "size", "modified"]


def _push(session: Session, args: argparse.Namespace) -> None:
    frame = session.namespace().get(args.frame)
    if frame is None:
        raise UsageError(f"%linkis push: no variable {args.frame!r} in the notebook")
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(
            f"%linkis push: {args.frame} is a {type(frame).__name__}, not a pandas DataFrame"
        )
    settings = session.settings(**({"engine": args.engine} if args.engine else {}))
    client = session.client(settings, quiet=args.quiet)
    title = f"push {args.frame} -> {args.table} ({args.mode})"
    like = session.display_for(settings, args.quiet, title, lambda: None)
    progress = transfer_progress(like, f"Uploading {args.frame} ({len(frame)} rows)")
    try:
        staged = usage(
            lambda: client.stage(
                frame,
                args.table,
                mode=args.mode,
                engine_type=settings.engine,
                partition=args.partition,
                on_progress=progress,
            )
        )
    except KeyboardInterrupt:
        progress.close()  # the bar first, then the line saying what became of the upload
        print("Push interrupted during the upload; the uploaded parts were deleted.")
        raise
    finally:
        progress.close()
    with staged:
        job = staged.submit(creator=settings.creator)
        run = JobRun(job=job, display=NullDisplay(), quiet=args.quiet, job_engine=settings.engine)
        run.display = session.display_for(
            settings, args.quiet, f"Linkis job {job.task_id} ({title})", run.request_cancel
        )
        try:
            session.runner.block(session.runner.start(run))
        finally:
            database = (staged.database or "default").lower()
            session.catalog().forget("tables", database)
            session.catalog().forget("columns", database, staged.table.lower())
    if not args.quiet:
        print(f"Pushed {len(frame)} rows of {args.frame} to {args.table} ({args.mode}).")


def _workspace_path(session: Session, given: str | None) -> str:
    if given is None:
        return session.client().user_root("file")
    return usage(lambda: check_workspace_path(given))


def _files(session: Session, args: argparse.Namespace) -> pd.DataFrame:
    path = _workspace_path(session, args.path)
    entries = session.client().files(path)
    if entries is None:
        raise UsageError(f"%linkis files: {path} does not exist")
    rows = [(e.name, e.path, not e.is_leaf, e.size, e.modify_time) for e in entries]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=FILE_COLUMNS)
    frame["size"] = frame["size"].astype("Int64")
    frame["modified"] = pd.to_datetime(frame["modified"], utc=True)
    return frame


def _upload(session: Session, args: argparse.Namespace) -> str:
    local = Path(args.local).expanduser()
    if not local.is_file():
        raise UsageError(f"%linkis upload: {args.local!r} is not a file")
    directory = _workspace_path(session, args.dir)
    settings = session.settings()
    like = session.display_for(settings, args.quiet, f"upload {local.name}", lambda: None)
    progress = transfer_progress(like, f"Uploading {local.name}")
    try:
        uri = usage(lambda: session.client().upload(local, directory, on_progress=progress))
    finally:
        progress.close()
    return uri


def _download(session: Session, args: argparse.Namespace) -> str:
    path = usage(lambda: check_workspace_path(args.path))
    target = Path(args.local or path.rstrip("/").rsplit("/", 1)[-1]).expanduser()
    if target.is_dir():
        target = target / path.rstrip("/").rsplit("/", 1)[-1]
    if not target.parent.is_dir():
        raise UsageError(f"%linkis download: directory {str(target.parent)!r} does not exist")
    written = session.client().download(path, target)
    size = written if isinstance(written, int) else len(written)
    if not args.quiet:
        print(f"Downloaded {path} to {target} ({size} bytes).")
    return str(target)


def commands() -> list[Command]:
    """The push and workspace file commands."""
    push = Parser("%linkis push", "Make a DataFrame a table (Parquet upload + one Spark job).")
    push.add_argument("frame", metavar="DF", help="the DataFrame's variable name")
    push.add_argument("table", metavar="[DB.]TABLE")
    push.add_argument("--mode", choices=MODES, default="create", help="default: create")
    push.add_argument("-e", "--engine", metavar="ENGINE", help="a Spark engine, e.g. spark-2.4.3")
    push.add_argument("--partition", metavar="K=V", help="load into this static partition")
    push.add_argument("-q", "--quiet", action="store_true")
    files = Parser("%linkis files", "List a workspace directory as a DataFrame.")
    files.add_argument("path", nargs="?", metavar="PATH", help="default: your workspace root")
    upload = Parser("%linkis upload", "Upload a local file to the workspace.")
    upload.add_argument("local", metavar="LOCAL")
    upload.add_argument("dir", nargs="?", metavar="DIR", help="default: your workspace root")
    upload.add_argument("-q", "--quiet", action="store_true")
    download = Parser("%linkis download", "Download a workspace file.")
    download.add_argument("path", metavar="PATH")
    download.add_argument("local", nargs="?", metavar="LOCAL", help="default: its name, here")
    download.add_argument("-q", "--quiet", action="store_true")
    return [
        Command("push", push, _push),
        Command("files", files, _files),
        Command("upload", upload, _upload),
        Command("download", download, _download),
    ]
