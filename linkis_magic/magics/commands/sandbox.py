"""``%linkis sandbox start|stop|status``: the local sandbox gateway of this kernel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from linkis_magic.magics._parse import Parser
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics import LinkisMagics

__all__ = ["commands"]


def _sandbox(magics: LinkisMagics, args: argparse.Namespace) -> None:
    box = magics.sandbox
    if args.action == "start":
        info, started = box.ensure()
        print(started or f"Local sandbox already running at {info.url}.")
        configured = magics.settings().gateway_url
        if configured is not None:
            print(f"Note: cells still go to the configured gateway {configured}.")
    elif args.action == "stop":
        client = magics.current_client()
        if client is not None and box.url is not None and client.base_url == box.url:
            magics.drop_client()
        print("Local sandbox stopped." if box.stop() else "No local sandbox to stop.")
    else:
        print(box.describe())


def commands() -> list[Command]:
    """The sandbox command."""
    p = Parser("%linkis sandbox", "Manage the local sandbox gateway.")
    p.add_argument("action", choices=("start", "stop", "status"))
    return [Command("sandbox", p, _sandbox)]
