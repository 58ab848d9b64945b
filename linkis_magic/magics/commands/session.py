"""``%linkis login|logout|config``: who talks to which gateway, and with which settings."""

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from linkis_magic._validate import check_base_url
from linkis_magic.magics._parse import Parser, usage
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics import LinkisMagics

__all__ = ["commands"]


def _login(magics: LinkisMagics, args: argparse.Namespace) -> None:
    if args.url is not None:
        magics.gateway_url = usage(lambda: check_base_url(args.url, "URL"))
    if args.user is not None:
        magics.user = args.user
    settings = magics.settings()
    if settings.gateway_url is None:
        client = magics.client(settings)
        print(f"Using the local sandbox at {client.base_url}.")
        return
    if settings.auth_kind == "token":
        magics.drop_client()
        print(f"Token authentication as {settings.user} at {settings.gateway_url}.")
        return
    if not settings.user:
        raise UsageError("%linkis login: no user; give -u USER or set LINKIS_USER")
    if settings.auth_kind == "none":
        magics.password = getpass.getpass(f"Linkis password for {settings.user}: ")
        settings = magics.settings()
    magics.drop_client()
    magics.client(settings).login()
    print(f"Logged in to {settings.gateway_url} as {settings.user}.")


def _logout(magics: LinkisMagics, args: argparse.Namespace) -> None:
    client = magics.current_client()
    if client is None:
        print("Not logged in.")
        return
    try:
        client.logout()
    finally:
        magics.drop_client()
    print("Logged out.")


def _config(magics: LinkisMagics, args: argparse.Namespace) -> None:
    settings = magics.settings()
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
