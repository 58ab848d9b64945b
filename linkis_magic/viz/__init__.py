"""Charts and profiles of big tables, aggregated where the data is (``%linkis plot|profile``).

Why a package of its own: the SQL and the drawing are library code (usable from a script with
a :class:`~linkis_magic.client.LinkisClient`, no IPython here), and the magic's commands stay
thin parsers over it. ``_sql`` builds one aggregation query per plot or profile that Hive and
Spark SQL both run, ``_draw`` draws the few rows that come back with matplotlib (the optional
``plot`` extra), ``_profile`` shapes a profile.

:class:`PlotSpec` and :class:`ProfileSpec` are the checked requests (a usage error before
anything is sent); :func:`plot` and :func:`profile` run one through a client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeGuard

import pandas as pd

from linkis_magic.config import DEFAULT_ENGINE
from linkis_magic.errors import ConfigurationError
from linkis_magic.viz._draw import (
    MISSING_MATPLOTLIB,
    draw_bar,
    draw_boxplot,
    draw_histogram,
    draw_pie,
    pyplot,
)
from linkis_magic.viz._profile import profile_frame, profile_html
from linkis_magic.viz._sql import (
    PROFILE_STATS,
    Source,
    bar_sql,
    boxplot_sql,
    check_numeric,
    histogram_sql,
    is_numeric,
    profile_sql,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from linkis_magic.client import LinkisClient

__all__ = [
    "MISSING_MATPLOTLIB",
    "PLOT_KINDS",
    "PROFILE_STATS",
    "PlotSpec",
    "ProfileSpec",
    "Source",
    "is_numeric",
    "plot",
    "profile",
    "profile_html",
    "pyplot",
]

PlotKind = Literal["histogram", "boxplot", "bar", "pie"]
PLOT_KINDS: tuple[PlotKind, ...] = ("histogram", "boxplot", "bar", "pie")


def _is_kind(kind: str) -> TypeGuard[PlotKind]:
    return kind in PLOT_KINDS


@dataclass(frozen=True)
class PlotSpec:
    """A checked plot request: its kind, what it reads, its columns and sizes."""

    kind: PlotKind
    source: Source
    columns: tuple[str, ...]
    bins: int = 10
    top: int = 10

    @classmethod
    def build(
        cls,
        kind: str,
        table: str | None,
        columns: Sequence[str],
        *,
        bins: int = 10,
        top: int = 10,
        where: str | None = None,
        query: str | None = None,
    ) -> PlotSpec:
        """Check everything that can be checked without the gateway (ConfigurationError)."""
        if not _is_kind(kind):
            raise ConfigurationError(f"plot kind must be one of {', '.join(PLOT_KINDS)}: {kind!r}")
        source = Source.of(table, query=query, where=where)
        if not columns:
            raise ConfigurationError(f"plot {kind} needs a COLUMN")
        if kind in ("bar", "pie") and len(columns) != 1:
            raise ConfigurationError(f"plot {kind} takes one COLUMN, got {len(columns)}")
        spec = cls(kind, source, tuple(columns), bins, top)
        spec.sql()  # the builders check names, --bins and --top
        return spec

    @property
    def numeric(self) -> bool:
        """Whether the columns must be numeric (histogram, boxplot)."""
        return self.kind in ("histogram", "boxplot")

    def check_types(self, types: Mapping[str, str]) -> None:
        """Column name -> Hive type of the table: every column exists and, for a histogram or
        boxplot, is numeric (ConfigurationError otherwise)."""
        if self.numeric:
            check_numeric(self.columns, types, f"plot {self.kind}")
        else:
            check_numeric_exists(self.columns, types)

    def sql(self) -> str:
        """The one aggregation query of this plot."""
        if self.kind == "histogram":
            return histogram_sql(self.source, self.columns, self.bins)
        if self.kind == "boxplot":
            return boxplot_sql(self.source, self.columns)
        return bar_sql(self.source, self.columns[0], self.top)

    def draw(self, frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
        """Draw the query's rows; returns the matplotlib Axes."""
        label = self.source.label
        if self.kind == "histogram":
            return draw_histogram(frame, self.columns, self.bins, label, ax)
        if self.kind == "boxplot":
            return draw_boxplot(frame, self.columns, label, ax)
        if self.kind == "bar":
            return draw_bar(frame, self.columns[0], self.top, label, ax)
        return draw_pie(frame, self.columns[0], self.top, label, ax)


def check_numeric_exists(columns: Sequence[str], types: Mapping[str, str]) -> None:
    """Every column is in the table (any type)."""
    lowered = {name.lower() for name in types}
    for column in columns:
        if column.lower() not in lowered:
            known = ", ".join(types) or "none"
            raise ConfigurationError(f"no column {column!r} in the table (columns: {known})")


@dataclass(frozen=True)
class ProfileSpec:
    """A checked profile request: the table, its columns and types, an optional filter."""

    source: Source
    columns: Mapping[str, str]

    @classmethod
    def build(
        cls, table: str, columns: Mapping[str, str], *, where: str | None = None
    ) -> ProfileSpec:
        """Check the table name and filter; ``columns`` maps name -> Hive type."""
        return cls(Source.of(table, where=where), dict(columns))

    def sql(self) -> str:
        """The one aggregation query of this profile."""
        return profile_sql(self.source, self.columns)

    def frame(self, row: pd.DataFrame) -> pd.DataFrame:
        """Statistics as rows, the table's columns as columns."""
        return profile_frame(row, self.columns)

    def html(self, frame: pd.DataFrame) -> str:
        """A standalone HTML report of ``frame``."""
        return profile_html(frame, f"Profile of {self.source.label}")


def _types(client: LinkisClient, source: Source) -> dict[str, str]:
    found = source.database_table
    assert found is not None
    return {c.name: c.type for c in client.columns(*found)}


def _one_table(client: LinkisClient, sql: str, engine: str, creator: str | None) -> pd.DataFrame:
    job = client.submit(sql, run_type="sql", engine_type=engine, creator=creator)
    job.wait()
    frames = job.frames()
    if len(frames) != 1:
        raise ConfigurationError(f"the aggregation job returned {len(frames)} tables, not one")
    return frames[0]


def plot(
    client: LinkisClient,
    kind: str,
    table: str | None,
    columns: Sequence[str],
    *,
    bins: int = 10,
    top: int = 10,
    where: str | None = None,
    query: str | None = None,
    engine: str = DEFAULT_ENGINE,
    creator: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Aggregate on the gateway with one SQL job and draw the result: the Axes.

    ``kind`` is histogram, boxplot, bar or pie; give a ``table`` (``db.t``) or a ``query``.
    A table's column types are read from the metadata service first, so a non-numeric column
    for a histogram or boxplot is an error before anything runs.
    """
    spec = PlotSpec.build(kind, table, columns, bins=bins, top=top, where=where, query=query)
    pyplot()
    if spec.source.table is not None:
        spec.check_types(_types(client, spec.source))
    return spec.draw(_one_table(client, spec.sql(), engine, creator), ax)


def profile(
    client: LinkisClient,
    table: str,
    *,
    where: str | None = None,
    engine: str = DEFAULT_ENGINE,
    creator: str | None = None,
) -> pd.DataFrame:
    """Per-column statistics of a table from one SQL job (statistics as rows)."""
    source = Source.of(table, where=where)
    spec = ProfileSpec(source, _types(client, source))
    return spec.frame(_one_table(client, spec.sql(), engine, creator))
