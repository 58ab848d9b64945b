"""The ``%linkis`` line commands, one small module per group of verbs (jupysql ``cmd/`` style).

Each module returns its :class:`Command` objects (a parser and a handler); this package
collects them in the order ``%linkis`` lists them.
"""

from __future__ import annotations

from linkis_magic.magics._parse import add_connection_option
from linkis_magic.magics.commands import (
    connect,
    engines,
    files,
    jobs,
    plot,
    run,
    sandbox,
    schema,
    session,
)
from linkis_magic.magics.commands._base import Command, Handler

__all__ = ["Command", "Handler", "all_commands", "command_help"]


def all_commands() -> dict[str, Command]:
    """Every line command by name (parsers are built fresh: they keep no state).

    Every command takes ``-C NAME`` (one call on another connection): added here, once.
    """
    found = [
        *run.commands(),
        *jobs.commands(),
        *schema.commands(),
        *plot.commands(),
        *engines.commands(),
        *files.commands(),
        *session.commands(),
        *sandbox.commands(),
        *connect.commands(),
    ]
    for command in found:
        add_connection_option(command.parser)
    return {c.name: c for c in found}


def command_help() -> str:
    """One usage line per line command, from its own parser (what ``%linkis?`` shows)."""
    lines = []
    for command in all_commands().values():
        usage = " ".join(command.parser.format_usage().split())
        usage = usage.removeprefix("usage: ")
        lines.append(f"  {usage}\n      {command.parser.description}")
    return "\n".join(lines)
