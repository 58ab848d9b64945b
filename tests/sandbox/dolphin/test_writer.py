"""dolphin/writer.py: both writers agree byte for byte, whatever the Arrow layout; writes are
atomic and checked."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkis_magic.sandbox import dolphin
from tests.sandbox.dolphin.spec import WORKED_EXAMPLE, drop_index

cell = st.one_of(
    st.none(),
    st.text().filter(lambda s: s != "LINKIS_NULL"),
    st.sampled_from(["", "NULL", "a,b", "x\ny", "\t", "日本語", "é"]),
)


class TestRoundTrip:
    """What goes in comes back (with nullValue=LINKIS_NULL), from both writers."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        ncols=st.integers(1, 4),
        data=st.data(),
    )
    def test_table(
        self, tmp_path_factory: pytest.TempPathFactory, ncols: int, data: st.DataObject
    ) -> None:
        rows = data.draw(st.lists(st.lists(cell, min_size=ncols, max_size=ncols), max_size=12))
        names = data.draw(st.lists(st.text(min_size=1), min_size=ncols, max_size=ncols))
        tmp = tmp_path_factory.mktemp("rt")
        a, b = tmp / "_0.dolphin", tmp / "_1.dolphin"
        columns = [(n, "string") for n in names]
        assert dolphin.write_table(a, columns, rows) == len(rows)
        table = pa.Table.from_arrays(
            [pa.array([r[i] for r in rows], pa.string()) for i in range(ncols)], names=names
        )
        assert dolphin.write_arrow(b, table) == len(rows)
        assert a.read_bytes() == b.read_bytes()
        assert dolphin.read_header(a) == (dolphin.TABLE, [(n, "string", "NULL") for n in names])
        assert dolphin.read_page(a, 1, 100, "LINKIS_NULL") == rows
        for path in (a, b):  # parsed from the file / from write_arrow's columns sidecar
            got = dolphin.read_arrow(path, null_value="LINKIS_NULL")
            assert [[c[i].as_py() for c in got.columns] for i in range(got.num_rows)] == rows
        drop_index(a)
        assert dolphin.read_page(a, 1, 100, "LINKIS_NULL") == rows

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_typed_columns(
        self, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
    ) -> None:
        """Arrow (vectorized) and Python rendering agree, and re-reading without sidecars
        (normalizing every value as for a foreign file) changes nothing."""
        n = data.draw(st.integers(0, 8))

        def col(values: st.SearchStrategy[object]) -> list[object]:
            return data.draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))

        table = pa.table(
            {
                "i": pa.array(col(st.integers(-(2**31), 2**31 - 1)), pa.int32()),
                "l": pa.array(col(st.integers(-(2**63), 2**63 - 1)), pa.int64()),
                "d": pa.array(col(st.floats(allow_nan=True, allow_infinity=True)), pa.float64()),
                "f": pa.array(col(st.floats(width=32)), pa.float32()),
                "b": pa.array(col(st.booleans()), pa.bool_()),
                "dt": pa.array(col(st.dates(dt.date(1000, 1, 1))), pa.date32()),
                "ts": pa.array(col(st.datetimes(dt.datetime(1000, 1, 1))), pa.timestamp("us")),
                "dec": pa.array(
                    col(st.decimals(-(10**6), 10**6, places=3, allow_nan=False)),
                    pa.decimal128(12, 3),
                ),
            }
        )
        tmp = tmp_path_factory.mktemp("typed")
        a, b = tmp / "_0.dolphin", tmp / "_1.dolphin"
        dolphin.write_arrow(a, table)
        columns = [(f.name, dolphin.linkis_type_for_arrow(f.type)) for f in table.schema]
        dolphin.write_table(b, columns, [list(r.values()) for r in table.to_pylist()])
        assert a.read_bytes() == b.read_bytes()
        before = (dolphin.read_arrow(a), dolphin.read_page(a, 1, 100, "LINKIS_NULL"))
        drop_index(a)
        dolphin.lines_path(a).unlink()
        assert (dolphin.read_arrow(a), dolphin.read_page(a, 1, 100, "LINKIS_NULL")) == before

    @settings(max_examples=40, deadline=None)
    @given(lines=st.lists(st.text(), max_size=10))
    def test_text(self, tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
        path = tmp_path_factory.mktemp("rt") / "_0.dolphin"
        assert dolphin.write_text(path, lines) == len(lines)
        assert dolphin.read_header(path) == (dolphin.TEXT, "NULL")
        assert dolphin.read_page(path, 1, 100, None) == [[line] for line in lines]
        raw = path.read_bytes()
        assert raw.startswith(b"dolphin0000000001" + b"0000000004NULL")


class TestArrowWriter:
    """write_arrow's vectorized encoding gives the per-row writer's bytes for any input layout."""

    def test_dictionary_and_large_batches(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        words = pa.array(["x", None, "y"] * 100_000).dictionary_encode()
        assert dolphin.write_arrow(path, pa.table({"w": words})) == 300_000
        assert dolphin.count_rows(path) == 300_000
        assert dolphin.read_page(path, 100_000, 3, "LINKIS_NULL") == [["x"], [None], ["y"]]

    def test_chunk_layout_does_not_change_the_file(self, tmp_path: Path) -> None:
        """Spark hands over 10,000-row chunks, other sources other layouts; the bytes (and
        so every page) must not depend on it, across the writer's 131,072-row batches."""
        n = 300_000
        ids = pa.array(range(n), pa.int64())
        names = pa.array([None if i % 7 == 0 else f"n{i}" for i in range(n)], pa.string())
        whole = pa.table({"id": ids, "name": names})
        chunked = pa.table(
            {
                "id": pa.chunked_array([ids.slice(i, 10_000) for i in range(0, n, 10_000)]),
                "name": pa.chunked_array([names.slice(i, 7_000) for i in range(0, n, 7_000)]),
            }
        )
        a, b = tmp_path / "_0.dolphin", tmp_path / "_1.dolphin"
        assert dolphin.write_arrow(a, whole) == n
        assert dolphin.write_arrow(b, chunked) == n
        assert a.read_bytes() == b.read_bytes()
        page = dolphin.read_page(b, 131_072 // 2 + 1, 2, "LINKIS_NULL")  # rows 131,072-3
        assert page == [["131072", "n131072"], ["131073", "n131073"]]

    def test_wide_length_ranges_match_the_row_writer(self, tmp_path: Path) -> None:
        """Field lengths spread over more than the lookup span take the cast path; the bytes
        stay those of the per-row writer."""
        rows = [(1, "x"), (2, "y" * 6000), (3, ""), (4, None)]
        a, b = tmp_path / "_0.dolphin", tmp_path / "_1.dolphin"
        table = pa.table(
            {"id": pa.array([r[0] for r in rows], pa.int32()), "s": [r[1] for r in rows]}
        )
        dolphin.write_arrow(a, table)
        dolphin.write_table(b, [("id", "int"), ("s", "string")], rows)
        assert a.read_bytes() == b.read_bytes()

    @pytest.mark.parametrize(
        ("ncols", "longest"),
        [(2, 40), (3, 30), (5, 60)],
        ids=["few-length-kinds", "many-length-kinds", "key-space-too-wide"],
    )
    def test_any_mix_of_field_lengths_matches_the_row_writer(
        self, tmp_path: Path, ncols: int, longest: int
    ) -> None:
        """Record prefixes come from a table of length combinations when there are few of
        them and are built field by field otherwise; the bytes never depend on which."""
        rng = random.Random(ncols)
        rows = [
            [None if rng.random() < 0.05 else "x" * rng.randrange(longest) for _ in range(ncols)]
            for _ in range(20_000)
        ]
        columns = [(f"c{i}", "string") for i in range(ncols)]
        table = pa.table(
            {n: pa.array([r[i] for r in rows], pa.string()) for i, (n, _) in enumerate(columns)}
        )
        a, b = tmp_path / "_0.dolphin", tmp_path / "_1.dolphin"
        assert dolphin.write_arrow(a, table) == len(rows)
        dolphin.write_table(b, columns, rows)
        assert a.read_bytes() == b.read_bytes()


class TestLongTemporalColumns:
    """Long date columns are rendered through a table of their days, long double columns
    skip the exponent fix-up when no value needs it; the bytes stay the per-row writer's."""

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        unit=st.sampled_from(["s", "ms", "us", "ns"]),
        start=st.integers(-(2**40), 2**40),
        step=st.sampled_from([0, 1, 7, 999, 86_399, 3_600_000_001]),
        every=st.integers(1, 50),
        seed=st.integers(0, 2**16),
    )
    def test_timestamps_and_dates(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        unit: str,
        start: int,
        step: int,
        every: int,
        seed: int,
    ) -> None:
        n = 4500
        per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
        rng = np.random.default_rng(seed)
        base = start * per_second // 1000 if unit != "s" else start // 1000
        if unit == "ns":
            base = max(min(base, 2**62), -(2**62))
        values = base + np.arange(n, dtype=np.int64) * step + rng.integers(0, per_second, n)
        if unit == "ns":
            values = np.clip(values, -(2**62), 2**62)
        nulls = np.arange(n) % every == 0
        days = (values // per_second // 86_400).astype(np.int32)
        table = pa.table(
            {
                "ts": pa.array(values, mask=nulls).cast(pa.timestamp(unit)),
                "day": pa.array(days, mask=nulls).cast(pa.date32()),
                "x": pa.array(values / per_second / (every * 1e3 + 1), mask=nulls),
            }
        )
        tmp = tmp_path_factory.mktemp("temporal")
        a, b = tmp / "_0.dolphin", tmp / "_1.dolphin"
        try:
            rows = [list(r.values()) for r in table.to_pylist()]
        except (ValueError, OverflowError):
            return  # beyond what Python's datetime holds: the row writer cannot be compared
        dolphin.write_arrow(a, table)
        dolphin.write_table(b, [("ts", "timestamp"), ("day", "date"), ("x", "double")], rows)
        assert a.read_bytes() == b.read_bytes()


class TestWriteErrors:
    """Bad input is refused and leaves the previous file in place."""

    def test_failed_write_keeps_previous_file(self, tmp_path: Path) -> None:
        """Writes are atomic: a failure leaves the old result and no temporary files."""
        path = tmp_path / "_0.dolphin"
        path.write_bytes(WORKED_EXAMPLE)
        with pytest.raises(ValueError, match="row 2"):
            dolphin.write_table(path, [("a", "int")], [(1,), (1, 2)])
        assert path.read_bytes() == WORKED_EXAMPLE
        assert [p.name for p in tmp_path.iterdir()] == [path.name]

    def test_bad_columns(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="at least one column"):
            dolphin.write_table(tmp_path / "_0.dolphin", [], [])
        with pytest.raises(ValueError, match="row 1 has 1 values"):
            dolphin.write_table(tmp_path / "_0.dolphin", [("a", "int"), ("b", "int")], [(1,)])
