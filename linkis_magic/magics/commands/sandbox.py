"""``%linkis sandbox start|stop|status``: the local sandbox gateway of this kernel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from linkis_magic.magics._parse import Parser
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["commands"]


def _sandbox(session: Session, args: argparse.Namespace) -> None:
    box = session.sandbox
    if args.action == "start":
        spark = args.spark_master or session.spark_master()
        info, started = box.ensure(spark_master=spark)
        print(started or f"Local sandbox already running at {info.url}.")
        configured = session.settings().gateway_url
        if configured is not None:
            print(f"Note: cells still go to the configured gateway {configured}.")
        if info.spark_master and started:
            print(f"%%linkis -e spark-3.5.0 cells now run on Spark ({info.spark_master}).")
    elif args.action == "stop":
        client = session.current_client()
        if client is not None and box.url is not None and client.base_url == box.url:
            session.drop_client()
        print("Local sandbox stopped." if box.stop() else "No local sandbox to stop.")
    else:
        print(box.describe())


def commands() -> list[Command]:
    """The sandbox command."""
    p = Parser("%linkis sandbox", "Manage the local sandbox gateway.")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="start: run spark-* engineTypes on real Spark, e.g. local[2] (needs pyspark)",
    )
    return [Command("sandbox", p, _sandbox)]
