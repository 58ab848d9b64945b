"""Running one aggregation query for a line command (``plot``, ``profile``) like any cell.

The query is submitted and followed through the shell's Runner, so the live widget (or the
text lines) shows the job, Ctrl-C and the Kill button stop it, and a failed job fails the
command with Linkis's error, exactly as a ``%%linkis`` cell would; only its one small table
comes back.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import pandas as pd
from IPython.core.error import UsageError

from linkis_magic.display import NullDisplay
from linkis_magic.errors import MetadataUnavailable
from linkis_magic.magics._parse import Parser
from linkis_magic.magics._runner import JobRun
from linkis_magic.viz import Source

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["add_job_options", "column_types", "run_aggregate"]


def add_job_options(parser: Parser) -> None:
    """The options every aggregation command shares with a cell: engine, creator, quiet."""
    parser.add_argument("--where", metavar="EXPR", help="only rows matching this SQL condition")
    parser.add_argument("-e", "--engine", help="engine label, e.g. spark-3.2.1 or hive-2.3.3")
    parser.add_argument("-c", "--creator", help="creator (application) label, default IDE")
    parser.add_argument("-q", "--quiet", action="store_true", help="no live display of the job")


def column_types(session: Session, source: Source, *, required: bool) -> dict[str, str]:
    """Column name -> Hive type of a table source, from the (cached) metadata service.

    Without a metadata service the types are unknown: ``{}`` unless ``required``.
    """
    found = source.database_table
    if found is None:
        return {}
    try:
        columns = session.catalog().columns(*found)
    except MetadataUnavailable:
        if required:
            raise UsageError(
                "this gateway has no metadata service: the table's columns cannot be listed"
            ) from None
        return {}
    if not columns:
        raise UsageError(f"no table {found[0]}.{found[1]} (or it has no columns)")
    return {c.name: c.type for c in columns}


def run_aggregate(session: Session, sql: str, args: argparse.Namespace, what: str) -> pd.DataFrame:
    """Submit ``sql``, follow it like a cell, return its one table result set."""
    settings = session.settings(engine=args.engine, creator=args.creator)
    engine = settings.engine if args.engine else settings.engine_for("sql")
    client = session.client(settings, quiet=args.quiet)
    job = client.submit(sql, run_type="sql", engine_type=engine, creator=settings.creator)
    run = JobRun(job=job, display=NullDisplay(), quiet=args.quiet, job_engine=engine)
    title = f"Linkis job {job.task_id} ({what} on {engine})"
    run.display = session.display_for(settings, args.quiet, title, run.request_cancel)
    value = session.runner.block(session.runner.start(run))
    if not isinstance(value, pd.DataFrame):
        raise UsageError(f"{what}: the job returned no single table (got {type(value).__name__})")
    return value
