"""dolphin/reader.py: files written by other engines, paging, and broken files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from linkis_magic.sandbox import dolphin
from tests.sandbox.dolphin.spec import WORKED_EXAMPLE, spec_line, spec_text


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
