"""dolphin/format.py: the worked example byte for byte, type names, value rendering."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pytest

from linkis_magic.sandbox import dolphin
from tests.sandbox.dolphin.spec import WORKED_EXAMPLE


class TestWorkedExample:
    """The worked example of docs/linkis-protocol.md §6.3 is produced byte for byte and read
    back."""

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


class TestTypeNames:
    """Stored dataType strings are reported with the normalization of
    docs/linkis-protocol.md §6.4."""

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
    """Values are stored the way Linkis shows them (docs/linkis-protocol.md §6.5), from Python
    and from Arrow alike."""

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

    @pytest.mark.parametrize(
        ("tz", "wall"),
        [("UTC", "03:04:05"), ("Etc/UTC", "03:04:05"), ("+00:00", "03:04:05"),
         ("Asia/Shanghai", "11:04:05"), ("-02:30", "00:34:05")],
    )  # fmt: skip
    def test_timezone_aware_timestamp_uses_wall_clock(
        self, tmp_path: Path, tz: str, wall: str
    ) -> None:
        """The instant 03:04:05 UTC shown in the column's own zone (UTC zones unconverted)."""
        path = tmp_path / "_0.dolphin"
        instant = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        ts = pa.array([instant, None]).cast(pa.timestamp("us", tz=tz))
        dolphin.write_arrow(path, pa.table({"c": ts}))
        assert dolphin.read_page(path, 1, 2, None) == [[f"2024-01-02 {wall}"], ["NULL"]]
