"""``%linkis login|logout|config``: who talks to which gateway, and with which settings."""

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from linkis_magic._validate import check_base_url
from linkis_magic.auth import Secret
from linkis_magic.magics._parse import Parser, usage
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["commands"]


def _login(session: Session, args: argparse.Namespace) -> None:
    url = None if args.url is None else usage(lambda: check_base_url(args.url, "URL"))
    session.configure(gateway_url=url, user=args.user)
    settings = session.settings()
    if settings.gateway_url is None:
        client = session.client(settings)
        print(f"Using the local sandbox at {client.base_url}.")
        return
    if settings.auth_kind == "token":
        session.drop_client()
        print(f"Token authentication as {settings.user} at {settings.gateway_url}.")
        return
    if not settings.user:
        raise UsageError("%linkis login: no user; give -u USER or set LINKIS_USER")
    if settings.auth_kind == "none":
        password = getpass.getpass(f"Linkis password for {settings.user}: ")
        session.configure(password=Secret(password) if password else None)
        settings = session.settings()
    session.drop_client()
    session.client(settings).login()
    print(f"Logged in to {settings.gateway_url} as {settings.user}.")


def _logout(session: Session, args: argparse.Namespace) -> None:
    client = session.current_client()
    if client is None:
        print("Not logged in.")
        return
    try:
        client.logout()
    finally:
        session.drop_client()
    print("Logged out.")


def _config(session: Session, args: argparse.Namespace) -> None:
    settings = session.settings()
    described = settings.describe()
    if settings.gateway_url is None:
        described["gateway_url"] = "<not set: the local sandbox is used>"
    width = max(len(k) for k in described)
    for key, value in described.items():
        print(f"{key:<{width}}  {value:<40}  ({settings.origin(key)})")


def commands() -> list[Command]:
    """The session commands."""
    login = Parser("%linkis login", "Log in to a gateway (asks for the password if none is set).")
    login.add_argument("url", nargs="?", metavar="URL")
    login.add_argument("-u", "--user", metavar="USER")
    return [
        Command("login", login, _login),
        Command("logout", Parser("%linkis logout", "Log out and forget the session."), _logout),
        Command("config", Parser("%linkis config", "Show the effective settings."), _config),
    ]
