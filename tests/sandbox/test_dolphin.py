"""The sandbox's `.dolphin` reader/writer against the byte layout of REFERENCE §6."""

from __future__ import annotations

import datetime as dt
import decimal
import os
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkis_magic.sandbox import dolphin

WORKED_EXAMPLE = (
    b"dolphin0000000002"
    + b"0000000061"
    + b"0000000014"
    + b"2,3,11,4,6,11,"
    + b"id"
    + b"int"
    + b"LINKIS_NULL"
    + b"name"
    + b"string"
    + b"LINKIS_NULL"
    + b"0000000018"
    + b"0000000004"
    + b"1,3,"
    + b"1"
    + b"a,b"
)


def spec_line(fields: list[bytes]) -> bytes:
    """A table record encoded straight from the §6.3 prose (independent of the module)."""
    index = b"".join(str(len(f)).encode() + b"," for f in fields)
    body = b"".join(fields)
    return (
        str(10 + len(index) + len(body)).zfill(10).encode()
        + str(len(index)).zfill(10).encode()
        + index
        + body
    )


def spec_text(line: bytes) -> bytes:
    return str(len(line)).zfill(10).encode() + line


def drop_sidecar(path: Path) -> None:
    dolphin.index_path(path).unlink()


class TestWorkedExample:
    """The §6.3 worked example is produced byte for byte and read back."""

    def test_write_table_bytes(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        assert dolphin.write_table(path, [("id", "int"), ("name", "string")], [(1, "a,b")]) == 1
        assert path.read_bytes() == WORKED_EXAMPLE

    def test_write_arrow_bytes(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        table = pa.table({"id": pa.array([1], pa.int32()), "name": ["a,b"]})
        assert dolphin.write_arrow(path, table) == 1
        assert path.read_bytes() == WORKED_EXAMPLE

    def test_read_back(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(WORKED_EXAMPLE)
        assert dolphin.read_header(path) == (
            dolphin.TABLE,
            [("id", "int", "NULL"), ("name", "string", "NULL")],
        )
        assert dolphin.read_page(path, 1, 5000, "LINKIS_NULL") == [["1", "a,b"]]
        assert dolphin.count_rows(path) == 1


class TestHandWrittenFiles:
    """Files written by hand per the spec (as a real engine would) are read like Linkis does."""

    @pytest.fixture
    def foreign(self, tmp_path: Path) -> Path:
        meta = [
            b"i", b"integer", b"NULL",
            b"d", b"double", b"row id",
            b"ts", b"timestamp", b"LINKIS_NULL",
            b"dec", b"decimal(10,2)", b"NULL",
            b"t", b"tinyint", b"NULL",
            b"v", b"varchar(20)", b"NULL",
        ]  # fmt: skip
        rows = [
            [b"007", b"1.5E10", b"2024-01-01 10:00:00.0", b"1E+2", b"1", b"x"],
            [b"NULL", b"NULL", b"NULL", b"", b"NULL", b"NULL"],
            [b"LINKIS_NULL", b"2.0", b"2024-1-2 03:04:05.120", b"-1.50", b"", b""],
            [b"12", b"abc", b"soon", b"1.5", b"9", "é,\n\t".encode(), b"extra"],
        ]
        path = tmp_path / "_3.dolphin"
        path.write_bytes(
            b"dolphin0000000002" + spec_line(meta) + b"".join(spec_line(r) for r in rows)
        )
        return path

    def test_header_normalized(self, foreign: Path) -> None:
        code, columns = dolphin.read_header(foreign)
        assert code == dolphin.TABLE
        assert columns == [
            ("i", "int", "NULL"),
            ("d", "double", "row id"),
            ("ts", "timestamp", "NULL"),
            ("dec", "decimal", "NULL"),
            ("t", "string", "NULL"),
            ("v", "varchar", "NULL"),
        ]

    def test_values_rendered_and_nulls(self, foreign: Path) -> None:
        assert dolphin.read_page(foreign, 1, 10, "LINKIS_NULL") == [
            ["7", "15000000000", "2024-01-01 10:00:00", "100", "1", "x"],
            [None, None, None, None, "NULL", "NULL"],
            [None, "2", "2024-01-02 03:04:05.12", "-1.50", "", ""],
            ["12", "abc", "soon", "1.5", "9", "é,\n\t", "extra"],
        ]

    def test_scan_index_keeps_normalizing(self, foreign: Path) -> None:
        """The index remembered after scanning a foreign file does not skip normalization."""
        first = dolphin.read_arrow(foreign).to_pylist()
        assert dolphin.index_path(foreign).exists()
        assert dolphin.read_arrow(foreign).to_pylist() == first
        assert dolphin.read_page(foreign, 1, 1, None) == [
            ["7", "15000000000", "2024-01-01 10:00:00", "100", "1", "x"]
        ]

    def test_default_null_value(self, foreign: Path) -> None:
        rows = dolphin.read_page(foreign, 1, 3, None)[1:]
        assert rows == [
            ["NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
            ["NULL", "2", "2024-01-02 03:04:05.12", "-1.50", "", ""],
        ]

    def test_arrow_reader_agrees_with_pages(self, foreign: Path) -> None:
        table = dolphin.read_arrow(foreign, null_value="LINKIS_NULL")
        assert [list(r.values()) for r in table.to_pylist()] == [
            row[:6] for row in dolphin.read_page(foreign, 1, 10, "LINKIS_NULL")
        ]

    def test_old_null_token_and_text_metadata(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(
            b"dolphin0000000001" + spec_text(b"NULL") + spec_text(b"a\nb") + spec_text(b"")
        )
        assert dolphin.read_header(path) == (dolphin.TEXT, "NULL")
        assert dolphin.read_page(path, 1, 10, None) == [["a\nb"], [""]]
        assert dolphin.count_rows(path) == 2

    def test_empty_text_result(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(b"dolphin0000000001" + b"0000000004NULL")
        assert path.stat().st_size == 31
        assert dolphin.read_page(path, 1, 10, None) == []
        assert dolphin.count_rows(path) == 0

    def test_trailing_bytes_under_ten_are_ignored(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(WORKED_EXAMPLE + b"000000")
        assert dolphin.read_page(path, 1, 10, "LINKIS_NULL") == [["1", "a,b"]]


class TestTypeNames:
    """Stored dataType strings are reported with the §6.4 normalization."""

    @pytest.mark.parametrize(
        ("stored", "reported"),
        [
            ("void", "void"),
            ("null", "void"),
            ("string", "string"),
            ("boolean", "boolean"),
            ("short", "short"),
            ("smallint", "int"),
            ("long", "long"),
            ("bigint", "bigint"),
            ("int", "int"),
            ("integer", "int"),
            ("float", "float"),
            ("double", "double"),
            ("varchar(20)", "varchar"),
            ("char(3)", "char"),
            ("date", "date"),
            ("timestamp", "timestamp"),
            ("binary", "binary"),
            ("decimal", "decimal"),
            ("decimal(10,2)", "decimal"),
            ("array<int>", "array"),
            ("map<string,int>", "map"),
            ("list", "list"),
            ("struct<a:int>", "struct"),
            ("tinyint", "string"),
            ("byte", "string"),
            ("bigdecimal", "string"),
            ("interval", "int"),  # "starts with int", literally
            ("uuid", "string"),
        ],
    )
    def test_normalize(self, stored: str, reported: str) -> None:
        assert dolphin.normalize_type(stored) == reported

    @pytest.mark.parametrize(
        ("arrow_type", "stored", "reported"),
        [
            (pa.int8(), "tinyint", "string"),
            (pa.int16(), "short", "short"),
            (pa.int32(), "int", "int"),
            (pa.int64(), "bigint", "bigint"),
            (pa.float32(), "float", "float"),
            (pa.float64(), "double", "double"),
            (pa.decimal128(10, 2), "decimal", "decimal"),
            (pa.bool_(), "boolean", "boolean"),
            (pa.date32(), "date", "date"),
            (pa.timestamp("us"), "timestamp", "timestamp"),
            (pa.string(), "string", "string"),
            (pa.large_string(), "string", "string"),
            (pa.list_(pa.int32()), "array", "array"),
            (pa.struct([("a", pa.int32())]), "struct", "struct"),
            (pa.map_(pa.string(), pa.int32()), "map", "map"),
            (pa.binary(), "binary", "binary"),
            (pa.null(), "void", "void"),
        ],
    )
    def test_arrow_types(
        self, tmp_path: Path, arrow_type: pa.DataType, stored: str, reported: str
    ) -> None:
        assert dolphin.linkis_type_for_arrow(arrow_type) == stored
        path = tmp_path / "_0.dolphin"
        dolphin.write_arrow(path, pa.table({"c": pa.nulls(1, arrow_type)}))
        assert f"c{stored}LINKIS_NULL".encode() in path.read_bytes()
        assert dolphin.read_header(path) == (dolphin.TABLE, [("c", reported, "NULL")])


class TestRendering:
    """Values are stored the way Linkis shows them (§6.5), from Python and from Arrow alike."""

    CASES: ClassVar[list[tuple[pa.DataType, object, str]]] = [
        (pa.float64(), 1.5e10, "15000000000"),
        (pa.float64(), 1.0, "1"),
        (pa.float64(), 0.1, "0.1"),
        (pa.float64(), -2.5e-7, "-0.00000025"),
        (pa.float64(), 1e22, "10000000000000000000000"),
        (pa.float64(), float("nan"), "NaN"),
        (pa.float32(), 1e10, "1.0E10"),
        (pa.float32(), 1.5, "1.5"),
        (pa.decimal128(10, 2), decimal.Decimal("1.50"), "1.50"),
        (pa.decimal128(38, 0), decimal.Decimal("12345678901234567890"), "12345678901234567890"),
        (pa.bool_(), True, "true"),
        (pa.bool_(), False, "false"),
        (pa.int64(), -9223372036854775808, "-9223372036854775808"),
        (pa.date32(), dt.date(2024, 1, 2), "2024-01-02"),
        (pa.timestamp("us"), dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (pa.timestamp("us"), dt.datetime(2024, 1, 2, 3, 4, 5, 500000), "2024-01-02 03:04:05.5"),
        (pa.timestamp("ms"), dt.datetime(2024, 1, 2, 3, 4, 5, 120000), "2024-01-02 03:04:05.12"),
        (
            pa.timestamp("us"),
            dt.datetime(2024, 1, 2, 0, 0, 0, 123456),
            "2024-01-02 00:00:00.123456",
        ),
        (pa.timestamp("s"), dt.datetime(2024, 1, 2, 10, 0, 0), "2024-01-02 10:00:00"),
        (pa.string(), "a,b\t\nc", "a,b\t\nc"),
        (pa.list_(pa.int64()), [1, 2], "[1, 2]"),
    ]

    @pytest.mark.parametrize(("arrow_type", "value", "text"), CASES)
    def test_arrow_and_python_agree(
        self, tmp_path: Path, arrow_type: pa.DataType, value: object, text: str
    ) -> None:
        a, b = tmp_path / "_0.dolphin", tmp_path / "_1.dolphin"
        dolphin.write_arrow(a, pa.table({"c": pa.array([value], arrow_type)}))
        stored = dolphin.linkis_type_for_arrow(arrow_type)
        dolphin.write_table(b, [("c", stored)], [(value,)])
        assert a.read_bytes() == b.read_bytes()
        assert dolphin.read_page(a, 1, 1, "LINKIS_NULL") == [[text]]

    def test_timezone_aware_timestamp_uses_wall_clock(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        ts = pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)], pa.timestamp("us", tz="UTC"))
        dolphin.write_arrow(path, pa.table({"c": ts}))
        assert dolphin.read_page(path, 1, 1, None) == [["2024-01-02 03:04:05"]]

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


class TestNullValue:
    """openFile's nullValue rules (§5.3) for NULLs, "NULL" text and empty strings."""

    @pytest.fixture
    def path(self, tmp_path: Path) -> Path:
        path = tmp_path / "_0.dolphin"
        dolphin.write_table(
            path, [("n", "int"), ("s", "string")], [(None, None), (1, ""), (2, "NULL")]
        )
        return path

    @pytest.mark.parametrize(
        ("null_value", "expected"),
        [
            ("LINKIS_NULL", [[None, None], ["1", ""], ["2", "NULL"]]),
            (None, [["NULL", "NULL"], ["1", ""], ["2", "NULL"]]),
            ("", [["NULL", "NULL"], ["1", ""], ["2", "NULL"]]),
            ("BLANK", [["NULL", "NULL"], ["1", ""], ["2", "NULL"]]),
            ("-", [["-", "-"], ["1", "-"], ["2", "-"]]),
        ],
    )
    def test_variants(
        self, path: Path, null_value: str | None, expected: list[list[str | None]]
    ) -> None:
        assert dolphin.read_page(path, 1, 10, null_value) == expected
        table = dolphin.read_arrow(path, null_value=null_value)
        assert [list(r.values()) for r in table.to_pylist()] == expected

    @pytest.mark.parametrize("null_value", ["LINKIS_NULL", None, "BLANK", "-"])
    @pytest.mark.parametrize("sidecars", [True, False])
    def test_big_pages_match_small_pages(
        self, tmp_path: Path, null_value: str | None, sidecars: bool
    ) -> None:
        """Pages over 64 rows are cut with numpy; they must equal row-by-row pages."""
        path = tmp_path / "_0.dolphin"
        values = [None, "", "NULL", "x,y", "é\n"]
        rows = [(i if i % 4 else None, values[i % 5], i / 4) for i in range(200)]
        dolphin.write_table(path, [("n", "int"), ("s", "string"), ("d", "double")], rows)
        if not sidecars:
            drop_sidecar(path)
        big = dolphin.read_page(path, 1, 150, null_value)
        small = [r for p in range(1, 16) for r in dolphin.read_page(path, p, 10, null_value)]
        assert len(big) == 150
        assert big == small


class TestPaging:
    """Pages are 1-based slices of data rows; a page past the end is empty."""

    @pytest.fixture
    def path(self, tmp_path: Path) -> Path:
        path = tmp_path / "_0.dolphin"
        dolphin.write_arrow(path, pa.table({"i": pa.array(range(25), pa.int32())}))
        return path

    def test_pages(self, path: Path) -> None:
        assert dolphin.read_page(path, 1, 10, None) == [[str(i)] for i in range(10)]
        assert dolphin.read_page(path, 3, 10, None) == [[str(i)] for i in range(20, 25)]
        assert dolphin.read_page(path, 4, 10, None) == []
        assert dolphin.read_page(path, 1, 5000, None) == [[str(i)] for i in range(25)]

    def test_bad_page(self, path: Path) -> None:
        with pytest.raises(ValueError, match="page"):
            dolphin.read_page(path, 0, 10, None)

    def test_empty_table(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        assert dolphin.write_table(path, [("a", "int")], []) == 0
        assert dolphin.read_page(path, 1, 10, None) == []
        assert dolphin.count_rows(path) == 0
        assert dolphin.read_arrow(path).num_rows == 0


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
        drop_sidecar(a)
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
        drop_sidecar(a)
        dolphin.columns_path(a).unlink()
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


class TestSidecar:
    """The hidden index speeds reads up but a missing or stale one changes no result."""

    @pytest.fixture
    def path(self, tmp_path: Path) -> Path:
        path = tmp_path / "_0.dolphin"
        table = pa.table(
            {
                "i": pa.array(range(300), pa.int64()),
                "d": pa.array([i / 3 for i in range(300)]),
                "s": pa.array([None if i % 7 == 0 else f"v{i}" for i in range(300)]),
            }
        )
        dolphin.write_arrow(path, table)
        return path

    def snapshot(self, path: Path) -> tuple[object, ...]:
        return (
            dolphin.count_rows(path),
            dolphin.read_page(path, 2, 100, None),
            dolphin.read_page(path, 3, 128, "LINKIS_NULL"),
            dolphin.read_arrow(path, null_value="x").to_pylist(),
        )

    def test_names_are_hidden(self, path: Path) -> None:
        side = dolphin.index_path(path)
        cols = dolphin.columns_path(path)
        assert side.name == "._0.dolphin.idx"
        assert cols.name == "._0.dolphin.arrow"
        assert sorted(p.name for p in path.parent.iterdir()) == [cols.name, side.name, path.name]
        assert dolphin.is_sidecar_name(side.name)
        assert dolphin.is_sidecar_name(cols.name)
        assert not dolphin.is_sidecar_name(path.name)

    def test_columns_sidecar_missing_or_cut(self, path: Path) -> None:
        before = self.snapshot(path)
        cols = dolphin.columns_path(path)
        data = cols.read_bytes()
        cols.write_bytes(data[: len(data) // 2])
        assert self.snapshot(path) == before
        cols.unlink()
        assert self.snapshot(path) == before

    def test_rewrite_drops_columns_sidecar(self, path: Path) -> None:
        dolphin.write_table(path, [("x", "string")], [("only",)])
        assert not dolphin.columns_path(path).exists()
        assert dolphin.read_arrow(path).to_pylist() == [{"x": "only"}]

    def test_missing(self, path: Path) -> None:
        before = self.snapshot(path)
        drop_sidecar(path)
        assert self.snapshot(path) == before

    def test_stale_after_rewrite(self, path: Path) -> None:
        """A file rewritten by someone else (sidecar left behind) is read from its bytes."""
        side = dolphin.index_path(path)
        old_index = side.read_bytes()
        dolphin.write_table(path, [("x", "string")], [("only",)])
        side.write_bytes(old_index)
        assert dolphin.count_rows(path) == 1
        assert dolphin.read_page(path, 1, 10, None) == [["only"]]

    def test_same_size_and_mtime_rewrite(self, tmp_path: Path) -> None:
        """An atomic rewrite of equal size and (coarse) mtime is caught by the inode."""
        path = tmp_path / "_0.dolphin"
        dolphin.write_table(path, [("x", "string")], [("aaaa",), ("bbbb",)])
        side = dolphin.index_path(path)
        old_index, old_stat = side.read_bytes(), path.stat()
        dolphin.write_table(path, [("x", "string")], [("y" * 29,)])
        assert path.stat().st_size == old_stat.st_size
        os.utime(path, ns=(old_stat.st_atime_ns, old_stat.st_mtime_ns))
        side.write_bytes(old_index)
        assert dolphin.count_rows(path) == 1
        assert dolphin.read_page(path, 1, 10, None) == [["y" * 29]]

    def test_stale_mtime(self, path: Path) -> None:
        before = self.snapshot(path)
        st_ = path.stat()
        os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1_000_000_000))
        assert self.snapshot(path) == before

    def test_garbage_sidecar(self, path: Path) -> None:
        before = self.snapshot(path)
        dolphin.index_path(path).write_bytes(b"nonsense")
        assert self.snapshot(path) == before


class TestBadFiles:
    """Broken or empty files raise errors that say what is wrong."""

    def test_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(b"")
        with pytest.raises(dolphin.EmptyResultError, match="is empty") as info:
            dolphin.read_page(path, 1, 10, None)
        assert info.value.code == 51000
        with pytest.raises(dolphin.EmptyResultError):
            dolphin.read_header(path)

    def test_not_dolphin(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(b"hello world, this is not a result set")
        with pytest.raises(dolphin.DolphinFormatError, match=r"not a \.dolphin"):
            dolphin.read_header(path)

    def test_truncated(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(WORKED_EXAMPLE[:-2])
        with pytest.raises(dolphin.DolphinFormatError, match="truncated"):
            dolphin.count_rows(path)
        with pytest.raises(dolphin.DolphinFormatError):
            dolphin.read_page(path, 1, 10, None)

    def test_bad_index(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(WORKED_EXAMPLE.replace(b"1,3,1a,b", b"1,4,1a,b"))
        with pytest.raises(dolphin.DolphinFormatError, match="column index"):
            dolphin.read_page(path, 1, 10, None)

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
