"""A table's profile: per-column statistics from one aggregation job, as jupysql shows them.

The query (``_sql.profile_sql``) returns one wide row; :func:`profile_frame` turns it into a
table with the statistics as rows and the table's columns as columns, and :func:`profile_html`
into a standalone HTML page (``--html``) that opens without a notebook.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from linkis_magic.viz._sql import PROFILE_STATS

__all__ = ["profile_frame", "profile_html"]

_SUFFIX = {
    "count": "count",
    "nulls": "nulls",
    "distinct": "distinct",
    "min": "min",
    "max": "max",
    "mean": "mean",
    "std": "std",
    "25%": "q1",
    "50%": "q2",
    "75%": "q3",
}


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalars: plain Python numbers for an object column
    return value


def profile_frame(row: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Statistics as rows (count, nulls, distinct, min, max, mean, std, 25%, 50%, 75%), the
    profiled columns as columns; a statistic a column has no value for is None."""
    if len(row) != 1:
        raise ValueError(f"a profile query returns one row, got {len(row)}")
    first = row.iloc[0]
    data: dict[str, list[Any]] = {}
    for i, name in enumerate(columns):
        data[name] = [_plain(first.get(f"c{i}_{_SUFFIX[stat]}")) for stat in PROFILE_STATS]
    frame: pd.DataFrame = pd.DataFrame(data, index=list(PROFILE_STATS), dtype=object)
    frame.index.name = "statistic"
    return frame


def profile_html(frame: pd.DataFrame, title: str) -> str:
    """A standalone HTML page holding the profile table (no scripts, no external files)."""
    table = frame.to_html(na_rep="", border=0, classes="profile")
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em}"
        "table.profile{border-collapse:collapse}"
        "table.profile th,table.profile td{border:1px solid #ccc;padding:4px 8px;"
        "text-align:right}"
        "table.profile thead th{background:#f3f3f3}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>computed {html.escape(stamp)} by linkis-magic</p>"
        f"{table}</body></html>\n"
    )
