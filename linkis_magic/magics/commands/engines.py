"""``%linkis engines [kill INSTANCE | kill --all]``: the engine connections the caller holds.

On a Linkis cluster each job runs in an engine connection (a Spark driver, a Hive session, a
Python process) that stays alive between jobs and holds its cores and memory until it idles out
(docs/linkis-protocol.md §14.2-§14.3). This lists them as a DataFrame and stops them; Linkis only
lets a user stop their own engines.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pandas as pd
from IPython.core.error import UsageError

from linkis_magic.errors import LinkisError
from linkis_magic.magics._parse import Parser
from linkis_magic.magics.commands._base import Command
from linkis_magic.protocol import EngineInfo

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["commands"]

COLUMNS = ["instance", "engineType", "creator", "status", "started", "idle for", "memory GiB",
           "cores", "resources"]  # fmt: skip
IDLE_STATES = frozenset({"Unlock", "Idle"})  # Linkis's own "idle" grouping (§14.2)


def _idle_for(engine: EngineInfo, now: datetime) -> pd.Timedelta | None:
    """How long an idle engine has held its resources without a job (None when busy)."""
    if engine.status not in IDLE_STATES or engine.running_tasks:
        return None
    since = engine.updated or engine.started
    return None if since is None else pd.Timedelta(now - since).floor("s")


def _frame(engines: list[EngineInfo]) -> pd.DataFrame:
    now = datetime.now(timezone.utc)
    rows = [
        (
            e.instance,
            e.engine_type,
            e.creator,
            e.status,
            e.started,
            _idle_for(e, now),
            None if e.memory is None else round(e.memory / 2**30, 2),
            e.cores,
            e.resources,
        )
        for e in engines
    ]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=COLUMNS)
    frame["started"] = pd.to_datetime(frame["started"], utc=True)
    frame["idle for"] = pd.to_timedelta(frame["idle for"])
    return frame


def _engines(session: Session, args: argparse.Namespace) -> pd.DataFrame | None:
    if args.action is None and (args.instance or args.all):
        raise UsageError("%linkis engines: INSTANCE and --all go with 'kill'")
    if args.action == "kill" and bool(args.instance) == bool(args.all):
        raise UsageError("%linkis engines kill: give one INSTANCE (host:port) or --all")
    client = session.client()
    if args.action is None:
        return _frame(client.engines())
    targets = [args.instance] if args.instance else [e.instance for e in client.engines()]
    killed, refused = [], []
    for instance in targets:
        try:
            client.kill_engine(instance)
        except LinkisError as exc:
            if args.instance:
                raise
            refused.append(f"{instance} ({str(exc).splitlines()[0]})")
        else:
            killed.append(instance)
    if args.instance:
        print(f"Kill requested for engine {args.instance}.")
        return None
    print(f"Kill requested for {len(killed)} engine(s); {len(refused)} refused.")
    for line in refused:
        print(f"  refused: {line}")
    return None


def commands() -> list[Command]:
    """The engines command."""
    p = Parser("%linkis engines", "List your engine connections, or stop them.")
    p.add_argument("action", nargs="?", choices=("kill",), help="kill: stop engines")
    p.add_argument("instance", nargs="?", metavar="INSTANCE", help="host:port of the engine")
    p.add_argument("--all", action="store_true", help="kill: every engine you hold")
    return [Command("engines", p, _engines)]
