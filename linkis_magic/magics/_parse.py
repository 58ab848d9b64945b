"""Turning a magic line into a checked request: argparse that speaks IPython's UsageError.

Everything a user can get wrong on the line is checked here, before any request (or sandbox
start): option syntax by argparse, values by the shared rules of ``linkis_magic._validate``.
A mistake is IPython's short ``UsageError`` naming what to fix; ``-h`` prints the help.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from IPython.core.error import UsageError

from linkis_magic._validate import (
    check_export_path,
    check_identifier,
    check_run_type,
    parse_int,
    parse_pairs,
    parse_seconds,
)
from linkis_magic.config import Settings
from linkis_magic.errors import ConfigurationError
from linkis_magic.magics._template import render

__all__ = [
    "CellRequest",
    "HelpShown",
    "Parser",
    "add_connection_option",
    "build_request",
    "cell_parser",
    "parse_cell",
    "split",
    "usage",
]

T = TypeVar("T")


class HelpShown(Exception):
    """`-h` was given: the parser printed its help and the magic does nothing else."""


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing and calling sys.exit()."""

    def __init__(self, prog: str, description: str = "") -> None:
        super().__init__(prog=prog, description=description, add_help=True, exit_on_error=False)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\nusage: {self.format_usage().strip()[7:]}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr)
        raise HelpShown()

    def parse(self, tokens: Sequence[str]) -> argparse.Namespace:
        """Parse the words of a magic line (usage errors as UsageError)."""
        try:
            return self.parse_args(list(tokens))
        except argparse.ArgumentError as exc:
            self.error(str(exc))


def usage(call: Callable[[], T]) -> T:
    """Run a check; turn ConfigurationError into IPython's short UsageError."""
    try:
        return call()
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def split(line: str, magic: str) -> list[str]:
    """The words of a magic line, shell-style (quotes group words)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{magic}: cannot split the line: {exc}") from None


def add_connection_option(parser: Parser) -> Parser:
    """``-C NAME``: run this one call on the named connection (once per parser)."""
    if "-C" not in parser._option_string_actions:
        parser.add_argument(
            "-C",
            "--connection",
            metavar="NAME",
            help="use the named connection (connections.toml) for this call only",
        )
    return parser


def cell_parser(prog: str = "%%linkis", *, path: bool = False) -> Parser:
    """The options of ``%%linkis`` (with ``path``: ``%linkis run PATH``, same options)."""
    if path:
        p = Parser(prog, "Run a script file as a Linkis job (runType from its extension).")
        p.add_argument("path", metavar="PATH", help="the script (.sql .hql .py .sh .scala)")
    else:
        p = Parser(prog, "Run the cell's code as a Linkis job.")
    p.add_argument("run_type", nargs="?", metavar="RUNTYPE", help="code type (default: sql)")
    p.add_argument("-e", "--engine", help="engine label <engine>-<version>, e.g. spark-2.4.3")
    p.add_argument("-c", "--creator", help="creator (application) label, default IDE")
    p.add_argument("-o", "--output", metavar="NAME", help="bind the result DataFrame(s) to NAME")
    p.add_argument("--var", action="extend", nargs="+", default=[], metavar="K=V")
    p.add_argument("--startup", action="extend", nargs="+", default=[], metavar="K=V")
    p.add_argument("--runtime", action="extend", nargs="+", default=[], metavar="K=V")
    p.add_argument("--limit", metavar="N", help="load at most N rows per result set")
    p.add_argument("-q", "--quiet", action="store_true", help="show nothing but errors")
    p.add_argument("--background", action="store_true", help="return at once, bind when done")
    p.add_argument("--timeout", metavar="S", help="stop waiting after S seconds")
    p.add_argument("--api", choices=("v1", "v0"), default="v1", help="entrance/submit or execute")
    p.add_argument(
        "--export",
        metavar="PATH",
        help="stream each table from the gateway to PATH.csv/.xlsx (PATH_1, PATH_2, ... for "
        "several); without -o nothing is loaded into pandas",
    )
    p.add_argument(
        "--no-template",
        action="store_true",
        help="send the code as written ({{ expr }} is rendered from the notebook otherwise)",
    )
    return add_connection_option(p)


@dataclass
class CellRequest:
    """A checked %%linkis cell: everything needed to submit, nothing sent yet."""

    code: str
    run_type: str
    engine: str
    creator: str
    settings: Settings
    output: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    startup: dict[str, str] = field(default_factory=dict)
    runtime: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    quiet: bool = False
    background: bool = False
    timeout: float | None = None
    api: str = "v1"
    export: Path | None = None
    connection: str | None = None


def parse_cell(
    parser: Parser,
    line: str,
    cell: str,
    *,
    settings: Callable[..., Settings],
    line_commands: Sequence[str],
    namespace: Callable[[], Mapping[str, Any]] | None = None,
) -> CellRequest:
    """Check a %%linkis line and body; raises UsageError, sends nothing.

    ``settings(connection, engine=..., creator=...)`` gives the effective settings of the
    connection the line names (None: the current one) with the line's own values on top;
    ``namespace`` is what ``{{ expr }}`` in the body is rendered from.
    """
    args = parser.parse(split(line, "%%linkis"))
    run_type = args.run_type or "sql"
    if run_type in line_commands:
        raise UsageError(f"'{run_type}' is a line command: use %linkis {run_type} (one %)")
    if not cell.strip():
        raise UsageError("%%linkis: the cell is empty; write the code to run below the line")
    return build_request(args, cell, run_type, settings=settings, namespace=namespace)


def build_request(
    args: argparse.Namespace,
    code: str,
    run_type: str,
    *,
    settings: Callable[..., Settings],
    namespace: Callable[[], Mapping[str, Any]] | None,
    where: str = "%%linkis",
) -> CellRequest:
    """A checked request from parsed cell options and the code (rendered unless told not to)."""

    def build() -> CellRequest:
        check_run_type(run_type)
        effective = settings(args.connection, engine=args.engine, creator=args.creator)
        engine = effective.engine if args.engine else effective.engine_for(run_type)
        request = CellRequest(
            code=code,
            run_type=run_type,
            engine=engine,
            creator=effective.creator,
            settings=effective,
            output=check_identifier(args.output, "-o"),
            variables=parse_pairs(args.var, "--var"),
            startup=parse_pairs(args.startup, "--startup"),
            runtime=parse_pairs(args.runtime, "--runtime"),
            limit=parse_int(args.limit, "--limit"),
            quiet=args.quiet,
            background=args.background,
            timeout=parse_seconds(args.timeout, "--timeout"),
            api=args.api,
            export=check_export_path(args.export),
            connection=args.connection,
        )
        if namespace is not None and not args.no_template:
            request.code = render(code, namespace(), where=where)
            if not request.code.strip():
                raise ConfigurationError(f"{where}: the code is empty once rendered")
        return request

    return usage(build)
