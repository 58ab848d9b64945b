"""dolphin/sidecars.py: the hidden index and lines copy speed reads up, and a missing,
stale or broken one changes no result."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from linkis_magic.sandbox import dolphin
from tests.sandbox.dolphin.spec import drop_index


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
        dolphin.wait_lines(path)
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
        lines = dolphin.lines_path(path)
        assert side.name == "._0.dolphin.idx"
        assert lines.name == "._0.dolphin.lines"
        assert sorted(p.name for p in path.parent.iterdir()) == [side.name, lines.name, path.name]
        assert dolphin.is_sidecar_name(side.name)
        assert dolphin.is_sidecar_name(lines.name)
        assert not dolphin.is_sidecar_name(path.name)

    def test_lines_are_the_stored_cells_tab_joined(self, path: Path) -> None:
        lines = dolphin.lines_path(path).read_bytes().decode().splitlines()
        assert lines[:2] == ["0\t0\tLINKIS_NULL", "1\t0.3333333333333333\tv1"]
        assert len(lines) == 300

    def test_lines_sidecar_missing_or_cut(self, path: Path) -> None:
        before = self.snapshot(path)
        lines = dolphin.lines_path(path)
        data = lines.read_bytes()
        lines.write_bytes(data[: len(data) // 2])
        assert self.snapshot(path) == before
        lines.unlink()
        assert self.snapshot(path) == before

    def test_rewrite_drops_lines_sidecar(self, path: Path) -> None:
        dolphin.write_table(path, [("x", "string")], [("only",)])
        assert not dolphin.lines_path(path).exists()
        assert dolphin.read_arrow(path).to_pylist() == [{"x": "only"}]

    def test_missing(self, path: Path) -> None:
        before = self.snapshot(path)
        drop_index(path)
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
