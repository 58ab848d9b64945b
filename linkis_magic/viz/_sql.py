"""The SQL of a plot or a profile: one aggregation query that Hive and Spark SQL both run.

Only aggregates come back (a histogram is at most ``bins + 1`` rows per column, whatever the
table's size), so plotting a billion-row table costs one aggregation job on the cluster. Every
query keeps to what HiveQL and Spark SQL share: backtick-quoted names, ``with`` subqueries,
``cross join``, ``floor``/``least``, ``percentile_approx`` over a ``double``, windowed sums
over ``group by`` rows, ``order by ... limit``. (The sandbox runs the same text on DuckDB
through sqlglot's spark dialect, docs/linkis-protocol.md §20.)

NULLs are never dropped silently: every query counts them (a histogram's bin ``-1``, a
boxplot's ``nulls`` column, the bar/pie ``NULL`` group sorted first so ``limit`` keeps it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from linkis_magic._validate import check_name
from linkis_magic.errors import ConfigurationError

__all__ = [
    "NULL_BIN",
    "Source",
    "bar_sql",
    "boxplot_sql",
    "check_numeric",
    "histogram_sql",
    "is_numeric",
    "profile_sql",
    "quote",
]

NULL_BIN = -1  # the histogram "bin" that counts a column's NULLs
_NUMERIC = re.compile(
    r"^\s*(tinyint|smallint|short|int|integer|bigint|long|float|double|real|decimal|numeric)\b",
    re.IGNORECASE,
)
_COMPLEX = re.compile(r"^\s*(array|map|struct|list|binary)\b", re.IGNORECASE)


def quote(name: str) -> str:
    """A Hive/Spark identifier in backticks (a backtick inside is doubled)."""
    return "`" + name.replace("`", "``") + "`"


def is_numeric(data_type: str) -> bool:
    """Whether a Hive type name (``int``, ``decimal(10,2)``, ``double``...) is numeric."""
    return bool(_NUMERIC.match(data_type or ""))


def is_complex(data_type: str) -> bool:
    """Array, map, struct and binary columns: no min/max/distinct in every engine."""
    return bool(_COMPLEX.match(data_type or ""))


@dataclass(frozen=True)
class Source:
    """What a plot reads: a ``[DB.]TABLE`` or a ``SELECT``, with an optional ``where``."""

    table: str | None = None
    query: str | None = None
    where: str | None = None

    @classmethod
    def of(cls, table: str | None, *, query: str | None = None, where: str | None = None) -> Source:
        """Check the pieces (a usage error names what to fix); nothing is sent."""
        if (table is None) == (query is None):
            raise ConfigurationError("give either a [DB.]TABLE or --query 'SELECT ...', not both")
        if query is not None and not query.strip():
            raise ConfigurationError("--query must be a SELECT statement, got an empty string")
        if where is not None and not where.strip():
            raise ConfigurationError("--where must be a SQL condition, got an empty string")
        if query is not None:
            query = query.strip().rstrip(";").strip()
        if table is not None:
            database, _, name = table.rpartition(".")
            check_name(name, "table")
            if database:
                check_name(database, "database")
        return cls(table, query, None if where is None else where.strip())

    @property
    def database_table(self) -> tuple[str, str] | None:
        """``(database, table)`` for a table source (database ``default`` when not given)."""
        if self.table is None:
            return None
        database, _, name = self.table.rpartition(".")
        return (database or "default", name)

    @property
    def label(self) -> str:
        """How titles name it: the table, or ``query``."""
        return self.table if self.table is not None else "query"

    def relation(self) -> str:
        """The ``from`` item: a quoted table or a parenthesized query, filtered by ``where``."""
        if self.table is not None:
            database, _, name = self.table.rpartition(".")
            base = f"{quote(database)}.{quote(name)}" if database else quote(name)
        else:
            base = f"({self.query}) linkis_q"
        if self.where is None:
            return base
        return f"(select * from {base} where {self.where}) linkis_w"


def check_numeric(columns: Sequence[str], types: Mapping[str, str], what: str) -> None:
    """A usage error before anything is sent when a column is missing or not numeric."""
    lowered = {name.lower(): data_type for name, data_type in types.items()}
    for column in columns:
        data_type = lowered.get(column.lower())
        if data_type is None:
            known = ", ".join(types) or "none"
            raise ConfigurationError(f"no column {column!r} in the table (columns: {known})")
        if not is_numeric(data_type):
            raise ConfigurationError(
                f"{what} needs numeric columns: {column!r} is {data_type}; "
                "use %linkis plot bar or pie for counts of its values"
            )


def _check_columns(columns: Sequence[str]) -> list[str]:
    if not columns:
        raise ConfigurationError("name at least one COLUMN")
    return [check_name(c, "column") for c in columns]


def _check_positive(value: int, what: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ConfigurationError(f"{what} must be a whole number from 1 to {most}, got {value!r}")
    return value


def histogram_sql(source: Source, columns: Sequence[str], bins: int = 10) -> str:
    """Per column: ``col, bin, lo, hi, cnt`` rows; bin ``-1`` counts NULLs, bins ``0..bins-1``
    split ``[min, max]`` evenly (the maximum falls in the last bin)."""
    names = _check_columns(columns)
    bins = _check_positive(bins, "--bins", 1000)
    parts = []
    for i, column in enumerate(names):
        v = f"cast({quote(column)} as double)"
        parts.append(
            f"select '{i}' as col, bin, lo, hi, count(*) as cnt from ("
            f"select case when s.v is null then {NULL_BIN} "
            f"when r.hi = r.lo then 0 "
            f"else least(cast(floor((s.v - r.lo) / (r.hi - r.lo) * {bins}) as int), {bins - 1}) "
            f"end as bin, r.lo as lo, r.hi as hi "
            f"from (select {v} as v from {source.relation()}) s "
            f"cross join (select min({v}) as lo, max({v}) as hi from {source.relation()}) r"
            f") b group by bin, lo, hi"
        )
    return "\nunion all\n".join(parts)


def boxplot_sql(source: Source, columns: Sequence[str]) -> str:
    """One row per column: ``col, n, nulls, q1, med, q3, lo, hi, whislo, whishi, outliers``;
    whiskers reach the furthest values within 1.5 IQR of the quartiles (Tukey)."""
    names = _check_columns(columns)
    parts = []
    for i, column in enumerate(names):
        v = f"cast({quote(column)} as double)"
        parts.append(
            f"select '{i}' as col, q.n, q.nulls, q.q1, q.med, q.q3, q.lo, q.hi, "
            f"min(case when s.v >= q.q1 - 1.5 * (q.q3 - q.q1) then s.v end) as whislo, "
            f"max(case when s.v <= q.q3 + 1.5 * (q.q3 - q.q1) then s.v end) as whishi, "
            f"sum(case when s.v < q.q1 - 1.5 * (q.q3 - q.q1) "
            f"or s.v > q.q3 + 1.5 * (q.q3 - q.q1) then 1 else 0 end) as outliers "
            f"from (select {v} as v from {source.relation()}) s cross join ("
            f"select count({v}) as n, count(*) - count({v}) as nulls, "
            f"percentile_approx({v}, 0.25) as q1, percentile_approx({v}, 0.5) as med, "
            f"percentile_approx({v}, 0.75) as q3, min({v}) as lo, max({v}) as hi "
            f"from {source.relation()}) q "
            f"group by q.n, q.nulls, q.q1, q.med, q.q3, q.lo, q.hi"
        )
    return "\nunion all\n".join(parts)


def bar_sql(source: Source, column: str, top: int = 10) -> str:
    """``value, cnt, total, groups``: the NULL group (if any) first, then the ``top`` most
    frequent values; ``total`` rows and ``ngroups`` distinct values (NULL included) overall."""
    (name,) = _check_columns([column])
    top = _check_positive(top, "--top", 10000)
    c = quote(name)
    return (
        f"select {c} as value, count(*) as cnt, sum(count(*)) over () as total, "
        f"count(*) over () as ngroups, case when {c} is null then 0 else 1 end as nullfirst "
        f"from {source.relation()} group by {c} "
        f"order by nullfirst, cnt desc limit {top + 1}"
    )


PROFILE_STATS = ("count", "nulls", "distinct", "min", "max", "mean", "std", "25%", "50%", "75%")
"""The statistics of a profile, in the order its rows are shown."""


def profile_sql(source: Source, columns: Mapping[str, str]) -> str:
    """One row: per column (``c<i>_<stat>``) count, nulls, distinct, min, max, and for numeric
    columns mean, std and the quartiles (``percentile_approx``)."""
    if not columns:
        raise ConfigurationError("the table has no columns to profile")
    items = []
    for i, (name, data_type) in enumerate(columns.items()):
        c = quote(name)
        items += [f"count({c}) as c{i}_count", f"count(*) - count({c}) as c{i}_nulls"]
        if not is_complex(data_type):
            items += [
                f"approx_count_distinct({c}) as c{i}_distinct",
                f"min({c}) as c{i}_min",
                f"max({c}) as c{i}_max",
            ]
        if is_numeric(data_type):
            v = f"cast({c} as double)"
            items += [
                f"avg({v}) as c{i}_mean",
                f"stddev_samp({v}) as c{i}_std",
                f"percentile_approx({v}, 0.25) as c{i}_q1",
                f"percentile_approx({v}, 0.5) as c{i}_q2",
                f"percentile_approx({v}, 0.75) as c{i}_q3",
            ]
    return "select " + ", ".join(items) + f" from {source.relation()}"
