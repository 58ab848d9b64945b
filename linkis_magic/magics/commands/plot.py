"""``%linkis plot histogram|boxplot|bar|pie`` and ``%linkis profile``: see the data, aggregated
where it is.

Thin on purpose: the SQL, the drawing and the profile's shape are library code
(:mod:`linkis_magic.viz`); this module parses the line, checks the columns against the cached
metadata before anything is sent, and runs the one job like any cell (``_aggregate``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from IPython.core.error import UsageError

from linkis_magic._validate import check_identifier, parse_int
from linkis_magic.magics._parse import Parser, usage
from linkis_magic.magics.commands._aggregate import add_job_options, column_types, run_aggregate
from linkis_magic.magics.commands._base import Command
from linkis_magic.viz import PLOT_KINDS, PlotSpec, ProfileSpec, Source, pyplot

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["commands"]


def _plot(session: Session, args: argparse.Namespace) -> Any:
    names = list(args.names)
    table = None if args.query is not None else (names.pop(0) if names else None)
    if args.query is None and table is None:
        raise UsageError(f"%linkis plot {args.kind}: name a [DB.]TABLE (or give --query)")

    def build() -> PlotSpec:
        bins = parse_int(args.bins, "--bins")
        top = parse_int(args.top, "--top")
        return PlotSpec.build(
            args.kind,
            table,
            names,
            bins=10 if bins is None else bins,
            top=10 if top is None else top,
            where=args.where,
            query=args.query,
        )

    spec = usage(build)
    try:
        pyplot()
    except ModuleNotFoundError as exc:
        raise UsageError(str(exc)) from None
    types = column_types(session, spec.source, required=False)
    if types:
        usage(lambda: spec.check_types(types))
    frame = run_aggregate(session, spec.sql(), args, f"plot {spec.kind} of {spec.source.label}")
    return spec.draw(frame)


def _profile(session: Session, args: argparse.Namespace) -> pd.DataFrame:
    output = usage(lambda: check_identifier(args.output, "-o"))
    target = None if args.html is None else Path(args.html).expanduser()
    if target is not None and not target.parent.is_dir():
        raise UsageError(f"--html: the folder {str(target.parent)!r} does not exist")
    source = usage(lambda: Source.of(args.table, where=args.where))
    spec = ProfileSpec(source, column_types(session, source, required=True))
    frame = spec.frame(run_aggregate(session, spec.sql(), args, f"profile of {source.label}"))
    if output is not None:
        session.namespace()[output] = frame
    if target is not None:
        target.write_text(spec.html(frame), encoding="utf-8")
        if not args.quiet:
            print(f"profile written to {target}")
    return frame


class _Parser(Parser):
    """Options may come between or after the table and columns (``plot pie --query Q COL``)."""

    def parse(self, tokens: Sequence[str]) -> argparse.Namespace:
        try:
            return self.parse_intermixed_args(list(tokens))
        except argparse.ArgumentError as exc:
            self.error(str(exc))


def commands() -> list[Command]:
    """The plot and profile commands."""
    plot = _Parser(
        "%linkis plot",
        "Chart a table's column(s) from one aggregation job (histogram, boxplot, bar, pie); "
        "returns the matplotlib Axes.",
    )
    plot.add_argument("kind", choices=PLOT_KINDS, metavar="KIND", help=" | ".join(PLOT_KINDS))
    plot.add_argument(
        "names", nargs="*", metavar="[DB.]TABLE COLUMN", help="the table, then the column(s)"
    )
    plot.add_argument("--bins", metavar="N", help="histogram bins (default 10)")
    plot.add_argument("--top", metavar="N", help="bar/pie: the N most frequent values (10)")
    plot.add_argument("--query", metavar="SQL", help="plot a SELECT's columns instead of a table")
    add_job_options(plot)
    profile = Parser(
        "%linkis profile",
        "Per-column statistics of a table from one job (count, nulls, distinct, min, max; mean, "
        "std and quartiles for numeric columns).",
    )
    profile.add_argument("table", metavar="[DB.]TABLE")
    profile.add_argument("-o", "--output", metavar="NAME", help="bind the profile to NAME")
    profile.add_argument("--html", metavar="PATH", help="also write a standalone HTML report")
    add_job_options(profile)
    return [Command("plot", plot, _plot), Command("profile", profile, _profile)]
