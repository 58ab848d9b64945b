"""Drawing the aggregates of a plot query with matplotlib (the optional ``plot`` extra).

The inputs are the small DataFrames the queries of ``_sql`` return; nothing here reads a
table. Every function returns the matplotlib ``Axes`` it drew on (a new figure's, or the one
given), so a user can restyle it. NULLs are never left out silently: the legend or the title
says how many there were.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from linkis_magic.viz._sql import NULL_BIN

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MISSING_MATPLOTLIB", "draw_bar", "draw_boxplot", "draw_histogram", "draw_pie"]

MISSING_MATPLOTLIB = (
    "plots are drawn with matplotlib, which is not installed: "
    "pip install 'linkis-magic[plot]' (or pip install matplotlib)"
)


def pyplot() -> Any:
    """``matplotlib.pyplot``, or a ModuleNotFoundError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ModuleNotFoundError(MISSING_MATPLOTLIB, name="matplotlib") from exc
    return plt


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    figure = pyplot().figure()
    new: Axes = figure.add_subplot()
    return new


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _count(value: Any) -> int:
    number = _num(value)
    return 0 if number is None else int(number)


def _nulls(n: int) -> str:
    return f"{n} NULL" if n == 1 else f"{n} NULLs"


def draw_histogram(
    frame: pd.DataFrame, columns: Sequence[str], bins: int, source: str, ax: Axes | None = None
) -> Axes:
    """Bars per bin (``col, bin, lo, hi, cnt`` rows); each column's NULLs in its legend."""
    ax = _axes(ax)
    alpha = 1.0 if len(columns) == 1 else 0.55
    for i, column in enumerate(columns):
        rows = frame[frame["col"].astype(str) == str(i)]
        nulls = sum(_count(r.cnt) for r in rows.itertuples() if _count(r.bin) == NULL_BIN)
        values = [r for r in rows.itertuples() if _count(r.bin) != NULL_BIN]
        if not values:
            ax.bar([], [], label=f"{column} (no values, {_nulls(nulls)})")
            continue
        lo, hi = _num(values[0].lo), _num(values[0].hi)
        assert lo is not None and hi is not None
        heights = [0] * bins
        for r in values:
            heights[min(max(_count(r.bin), 0), bins - 1)] += _count(r.cnt)
        if hi == lo:  # one distinct value: one bar around it
            lefts, width = [lo - 0.5], 1.0
            heights = [sum(heights)]
        else:
            width = (hi - lo) / bins
            lefts = [lo + k * width for k in range(bins)]
        ax.bar(
            lefts,
            heights,
            width=width,
            align="edge",
            alpha=alpha,
            edgecolor="white",
            label=f"{column} ({_nulls(nulls)})",
        )
    ax.set_title(f"Histogram of {', '.join(columns)} in {source}")
    ax.set_ylabel("rows")
    ax.legend()
    return ax


def draw_boxplot(
    frame: pd.DataFrame, columns: Sequence[str], source: str, ax: Axes | None = None
) -> Axes:
    """One box per column from its quartiles and Tukey whiskers; outliers and NULLs counted
    under its name (the outliers themselves stay on the cluster)."""
    ax = _axes(ax)
    stats = []
    for i, column in enumerate(columns):
        rows = frame[frame["col"].astype(str) == str(i)]
        row = next(rows.itertuples(), None)
        nulls = _count(row.nulls) if row is not None else 0
        q1 = None if row is None else _num(row.q1)
        if row is None or q1 is None or _count(row.n) == 0:
            stats.append(
                {
                    "label": f"{column}\n(no values, {_nulls(nulls)})",
                    "med": math.nan,
                    "q1": math.nan,
                    "q3": math.nan,
                    "whislo": math.nan,
                    "whishi": math.nan,
                    "fliers": [],
                }
            )
            continue
        outliers = _count(row.outliers)
        stats.append(
            {
                "label": f"{column}\n{outliers} outliers, {_nulls(nulls)}",
                "med": _num(row.med),
                "q1": q1,
                "q3": _num(row.q3),
                "whislo": _num(row.whislo),
                "whishi": _num(row.whishi),
                "fliers": [],
            }
        )
    ax.bxp(stats, showfliers=False)
    ax.set_title(f"Boxplot of {', '.join(columns)} in {source}")
    return ax


def _categories(frame: pd.DataFrame, top: int) -> tuple[list[str], list[int], int, int, int]:
    """(labels, counts, nulls, total rows, distinct non-NULL values) of a bar/pie query."""
    labels, counts, nulls, total, groups = [], [], 0, 0, 0
    shown = 0
    for r in frame.itertuples():
        total, groups = _count(r.total), _count(r.ngroups)
        value = r.value
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            nulls = _count(r.cnt)
            continue
        if shown < top:
            labels.append(str(value))
            counts.append(_count(r.cnt))
            shown += 1
    distinct = groups - (1 if nulls else 0)
    return labels, counts, nulls, total, distinct


def draw_bar(
    frame: pd.DataFrame, column: str, top: int, source: str, ax: Axes | None = None
) -> Axes:
    """The most frequent values as bars, NULLs as a last grey bar (counted in the title)."""
    ax = _axes(ax)
    labels, counts, nulls, _, distinct = _categories(frame, top)
    ax.bar(labels, counts)
    if nulls:
        ax.bar(["NULL"], [nulls], color="grey")
    ax.set_title(f"{column} in {source}: top {len(labels)} of {distinct} values, {_nulls(nulls)}")
    ax.set_ylabel("rows")
    ax.tick_params(axis="x", labelrotation=45)
    return ax


def draw_pie(
    frame: pd.DataFrame, column: str, top: int, source: str, ax: Axes | None = None
) -> Axes:
    """The most frequent values as slices, the rest as ``other`` and NULLs as ``NULL``."""
    ax = _axes(ax)
    labels, counts, nulls, total, distinct = _categories(frame, top)
    other = total - sum(counts) - nulls
    if other > 0:
        labels, counts = [*labels, f"other ({distinct - len(labels)} values)"], [*counts, other]
    if nulls:
        labels, counts = [*labels, "NULL"], [*counts, nulls]
    if counts:
        ax.pie(counts, labels=labels, autopct="%1.1f%%")
    ax.set_title(f"{column} in {source}: {total} rows, {_nulls(nulls)}")
    return ax
