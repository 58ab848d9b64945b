"""``%linkis connections | connect [NAME]``: the named connections of connections.toml.

Listing reads the file only (no request, never a secret: the auth column says which kind and
where it comes from); ``connect`` makes a profile current for the kernel, so later cells and
commands without ``-C`` use its Session (its own client, jobs and caches).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING

import pandas as pd
from IPython.core.error import UsageError

from linkis_magic.connections import CONNECTIONS_ENV
from linkis_magic.magics._parse import Parser, usage
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session
    from linkis_magic.magics._sessions import Sessions

__all__ = ["commands"]

COLUMNS = ["name", "gateway", "user", "auth", "source", "current"]


def _registry(session: Session) -> Sessions:
    if session.sessions is None:
        raise UsageError("named connections need the %linkis magics of a shell")
    return session.sessions


def _connections(session: Session, args: argparse.Namespace) -> pd.DataFrame | None:
    sessions = _registry(session)
    rows = usage(sessions.rows)
    if not rows:
        path = sessions.file.path
        print(
            f"No named connections: {path} "
            + (
                "has no profiles."
                if path.exists()
                else f"does not exist (or set ${CONNECTIONS_ENV})."
            )
        )
        return None
    frame: pd.DataFrame = pd.DataFrame([asdict(r) for r in rows], columns=COLUMNS)
    return frame


def _connect(session: Session, args: argparse.Namespace) -> None:
    sessions = _registry(session)
    chosen = usage(lambda: sessions.connect(args.name))
    settings = usage(chosen.settings)
    where = settings.gateway_url or "the local sandbox"
    who = f" as {settings.user}" if settings.user and settings.gateway_url else ""
    label = args.name or "the default connection"
    print(f"Connected to {label}: {where}{who} ({settings.auth_kind} auth).")


def commands() -> list[Command]:
    """The connection commands."""
    connect = Parser(
        "%linkis connect", "Make a named connection current (no NAME: back to the default)."
    )
    connect.add_argument("name", nargs="?", metavar="NAME", help="a profile of connections.toml")
    listing = Parser("%linkis connections", "List the named connections (connections.toml).")
    return [
        Command("connections", listing, _connections),
        Command("connect", connect, _connect),
    ]
