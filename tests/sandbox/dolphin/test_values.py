"""dolphin/values.py: the nullValue rules of openFile, row by row and column-wise alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkis_magic.sandbox import dolphin
from tests.sandbox.dolphin.spec import drop_index


class TestNullValue:
    """openFile's nullValue rules (docs/linkis-protocol.md §5.3) for NULLs, "NULL" text and
    empty strings."""

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
            drop_index(path)
        big = dolphin.read_page(path, 1, 150, null_value)
        small = [r for p in range(1, 16) for r in dolphin.read_page(path, p, 10, null_value)]
        assert len(big) == 150
        assert big == small
