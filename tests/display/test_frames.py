"""ResultFrames: what ``-o NAME`` binds for several tables, a list that displays as tables."""

from __future__ import annotations

import dataclasses
import pickle
import re
from typing import Any

import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter

from linkis_magic.display import ResultFrames
from linkis_magic.results import ResultSet
from tests.support.snapshots import frame, table_result

HEADING = re.compile(r'<div class="linkis-frame-heading"[^>]*>([^<]*)</div>')


def two() -> tuple[ResultFrames, Any, Any]:
    first, second = frame(3, 2), frame(1, 4)
    return ResultFrames([first, second], [1, 3]), first, second


class TestStillAList:
    """Users index, unpack and iterate the binding as before."""

    def test_list_behaviour(self) -> None:
        """isinstance list, len, indexing, iteration and unpacking give the DataFrames."""
        frames, first, second = two()
        assert isinstance(frames, list)
        assert len(frames) == 2
        assert frames[0] is first and frames[-1] is second
        assert [f.shape for f in frames] == [(3, 2), (1, 4)]
        a, b = frames
        assert a is first and b is second
        assert frames.indexes == (1, 3)
        assert type(frames[:1]) is list  # slices are plain lists

    def test_pickles_with_its_indexes(self) -> None:
        """A pickled binding (e.g. %store) comes back with its headings."""
        frames, _, _ = two()
        back = pickle.loads(pickle.dumps(frames))
        assert isinstance(back, ResultFrames)
        assert back.heading(1) == "result set 3 · 1 rows × 4 columns"

    def test_of_result_sets(self) -> None:
        """of(): the table result sets that have a frame, with their own indexes, in order."""
        first, second = frame(3, 2), frame(1, 4)
        results = [
            dataclasses.replace(table_result(0, 3, 2), frame=first),
            ResultSet(1, "/r/_1.dolphin", "1", None, "a text result", (), 1, False),
            dataclasses.replace(table_result(2, 1, 4), frame=second),
        ]
        frames = ResultFrames.of(results)
        assert frames[0] is first and frames[1] is second and len(frames) == 2
        assert frames.indexes == (0, 2)
        assert not ResultFrames.of(results[1:2])  # no table: false, so `... or None` works

    def test_indexes_must_match(self) -> None:
        """One result-set index per frame, or a clear error."""
        with pytest.raises(ValueError, match="2 frames, 1 indexes"):
            ResultFrames([frame(1, 1), frame(1, 1)], [0])


class TestDisplay:
    """Each table shows as a table under ``result set N · R rows × C columns``."""

    def test_html_has_one_table_per_frame_with_its_heading(self) -> None:
        """The HTML is pandas' own table for each frame, in order, under its heading."""
        frames, first, second = two()
        markup = frames._repr_html_()
        assert HEADING.findall(markup) == [
            "result set 1 · 3 rows × 2 columns",
            "result set 3 · 1 rows × 4 columns",
        ]
        assert markup.count('<table border="1" class="dataframe">') == 2
        assert first._repr_html_() in markup and second._repr_html_() in markup

    def test_text_is_pandas_repr_under_headings(self) -> None:
        """The text form (terminal IPython, text/plain) reads the same way."""
        frames, first, second = two()
        assert repr(frames) == (
            f"result set 1 · 3 rows × 2 columns\n{first!r}\n\n"
            f"result set 3 · 1 rows × 4 columns\n{second!r}"
        )
        assert repr(ResultFrames([], [])) == "ResultFrames([])"

    def test_ipython_shows_tables_not_a_list_repr(self) -> None:
        """IPython's formatters (what a kernel does with a cell's value) use both reprs."""
        frames, _, _ = two()
        data, _ = DisplayFormatter().format(frames)
        assert data["text/plain"] == repr(frames)
        assert data["text/html"] == frames._repr_html_()
        assert "[   c0" not in data["text/plain"]  # not the list repr of DataFrames

    def test_headings_follow_frames_when_the_list_changes(self) -> None:
        """Sorting or reversing keeps each heading with its frame; an added item has none."""
        frames, first, second = two()
        frames.sort(key=len)  # 1 row before 3 rows
        assert frames[0] is second and frames[1] is first
        frames.append(pd.DataFrame({"x": [1]}))
        assert HEADING.findall(frames._repr_html_()) == [
            "result set 3 · 1 rows × 4 columns",
            "result set 1 · 3 rows × 2 columns",
            "item 2 · 1 rows × 1 columns",
        ]

    def test_not_a_frame_and_html_repr_off(self) -> None:
        """Other items, or pandas' notebook HTML turned off, show as escaped text."""
        frames = ResultFrames([frame(1, 1), "<b>text</b>"], [0, 1])
        markup = frames._repr_html_()
        assert "<pre>&#x27;&lt;b&gt;text&lt;/b&gt;&#x27;</pre>" in markup
        assert HEADING.findall(markup)[1] == "result set 1"
        with pd.option_context("display.notebook_repr_html", False):
            assert "<table" not in ResultFrames([frame(2, 2)], [5])._repr_html_()
