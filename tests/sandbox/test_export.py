"""export.py: CSV/xlsx downloads of `.dolphin` files byte for byte as resultsetToExcel writes
them (docs/linkis-protocol.md §5.7)."""

from __future__ import annotations

import datetime as dt
import gc
import io
import shutil
import threading
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkis_magic.sandbox import dolphin, export
from linkis_magic.sandbox.dolphin import sidecars
from tests.support.wait import wait_until

TRICKY = [
    (1, "a,b"),
    (2, None),
    (3, ""),
    (4, 'say "hi"\nbye'),
    (5, "NULL"),
    (6, " "),
    (7, "日本\t語"),
]


def _not_dolphin(tmp_path: Path) -> Path:
    bad = tmp_path / "_9.dolphin"
    bad.write_bytes(b"not a result set at all")
    return bad


class _GrowingBody(io.BytesIO):
    """A response body another thread reads while the export still writes it."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def write(self, data: object) -> int:
        with self._lock:
            return super().write(data)  # type: ignore[arg-type]

    def value(self) -> bytes:
        with self._lock:
            return self.getvalue()


def csv(path: Path, **options: object) -> bytes:
    out = io.BytesIO()
    export.export_csv(path, out, **options)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.fixture
def tricky(tmp_path: Path) -> Path:
    path = tmp_path / "_0.dolphin"
    dolphin.write_table(path, [("id", "int"), ("name", "string")], TRICKY)
    return path


@pytest.fixture
def numbers(tmp_path: Path) -> Path:
    path = tmp_path / "_1.dolphin"
    dolphin.write_arrow(path, pa.table({"i": pa.array(range(6000), pa.int32())}))
    return path


class TestCsvBytes:
    """No RFC 4180 escaping: values joined as they are, NULL/empty replaced, "\\n" endings."""

    def test_defaults(self, tricky: Path) -> None:
        assert (
            csv(tricky)
            == (
                'id,name\n1,a,b\n2,NULL\n3,NULL\n4,say "hi" bye\n5,NULL\n6, \n7,日本\t語\n'
            ).encode()
        )

    def test_tab_separator(self, tricky: Path) -> None:
        assert csv(tricky, separator="t").decode().splitlines()[:3] == [
            "id\tname",
            "1\ta,b",
            "2\tNULL",
        ]

    def test_quote_retouch(self, tricky: Path) -> None:
        """Non-blank values (header too) are quoted after their own quotes are deleted."""
        assert (
            csv(tricky, quote_retouch=True)
            == (
                '"id","name"\n"1","a,b"\n"2","NULL"\n"3","NULL"\n"4","say hi bye"\n'
                '"5","NULL"\n"6", \n"7","日本\t語"\n'
            ).encode()
        )

    def test_keep_newline(self, tricky: Path) -> None:
        assert b'4,say "hi"\nbye\n' in csv(tricky, keep_newline=True)

    def test_blank_null_value(self, tricky: Path) -> None:
        assert csv(tricky, null_value="BLANK").decode().splitlines()[2:6] == [
            "2,",
            "3,",
            '4,say "hi" bye',
            "5,",
        ]

    def test_nulls_of_typed_columns_become_null_value(self, tmp_path: Path) -> None:
        """Our own (canonical) files skip the blank checks of typed columns; their NULLs must
        still be replaced."""
        path = tmp_path / "_2.dolphin"
        table = pa.table(
            {
                "i": pa.array([1, None], pa.int64()),
                "x": pa.array([None, 0.5], pa.float64()),
                "d": pa.array([dt.date(2024, 1, 2), None], pa.date32()),
                "b": pa.array([None, True], pa.bool_()),
            }
        )
        dolphin.write_arrow(path, table)
        assert csv(path, null_value="\\N").decode().splitlines() == [
            "i,x,d,b",
            "1,\\N,2024-01-02,\\N",
            "\\N,0.5,\\N,true",
        ]

    def test_custom_null_value(self, tricky: Path) -> None:
        assert csv(tricky, null_value="\\N").decode().splitlines()[2:4] == ["2,\\N", "3,\\N"]

    def test_linkis_null_null_value_prints_java_null(self, tricky: Path) -> None:
        assert csv(tricky, null_value="LINKIS_NULL").decode().splitlines()[2:4] == [
            "2,null",
            "3,",
        ]

    def test_charset(self, tricky: Path) -> None:
        body = csv(tricky, charset="gbk")
        assert "7,日本\t語\n".encode("gbk") in body
        with pytest.raises(export.ExportError, match="charset"):
            csv(tricky, charset="no-such-charset")

    def test_text_result_as_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        dolphin.write_text(path, ["hello, world", "two\nlines", ""])
        assert csv(path) == b"hello, world\ntwo\nlines\n\n"

    def test_typed_columns(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        table = pa.table(
            {
                "d": [1.5e10, None],
                "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("us")),
            }
        )
        dolphin.write_arrow(path, table)
        assert csv(path) == b"d,ts\n15000000000,2024-01-02 03:04:05\nNULL,NULL\n"

    def test_sidecar_missing_same_bytes(self, tricky: Path, numbers: Path) -> None:
        before = [csv(tricky), csv(numbers, limit=6000)]
        dolphin.index_path(tricky).unlink()
        dolphin.index_path(numbers).unlink()
        assert [csv(tricky), csv(numbers, limit=6000)] == before

    def test_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        path.write_bytes(b"")
        with pytest.raises(dolphin.EmptyResultError):
            csv(path)


class TestLinesSidecar:
    """An export sent from the lines sidecar is byte for byte the rendered one."""

    cell = st.one_of(
        st.none(),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
        st.sampled_from(["", "NULL", "null", " ", "a\tb", "x\ny", "r\rs", "LINKIS_NULL"]),
    )

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        data=st.data(),
        separator=st.sampled_from([",", "t", ";", "|", "§"]),
        null_value=st.sampled_from(["NULL", "", "BLANK", "\\N"]),
        keep_newline=st.booleans(),
        limit=st.sampled_from([0, 1, 3, 7, 100]),
    )
    def test_same_bytes_as_rendering(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        data: st.DataObject,
        separator: str,
        null_value: str,
        keep_newline: bool,
        limit: int,
    ) -> None:
        n = data.draw(st.integers(0, 9))
        texts = data.draw(st.lists(self.cell, min_size=n, max_size=n))
        plain = data.draw(st.booleans())  # only typed columns: always a clean candidate
        ints = data.draw(st.lists(st.integers(-(10**12), 10**12), min_size=n, max_size=n))
        columns: dict[str, pa.Array] = {
            "i": pa.array(ints, pa.int64()),
            "d": pa.array([x / 8 for x in ints], pa.float64()),
        }
        if not plain:
            columns["s"] = pa.array(texts, pa.string())
        path = tmp_path_factory.mktemp("lines") / "_0.dolphin"
        dolphin.write_arrow(path, pa.table(columns))
        options = {
            "separator": separator,
            "null_value": null_value,
            "keep_newline": keep_newline,
            "limit": limit,
        }
        sent = csv(path, **options)  # the lines may still be in the making: streamed
        dolphin.wait_lines(path)
        assert csv(path, **options) == sent  # from the lines file
        dolphin.lines_path(path).unlink()
        assert csv(path, **options) == sent  # rendered from the records

    def test_lines_still_in_the_making_are_streamed_as_they_come(self, tmp_path: Path) -> None:
        """An export that arrives while the writer's thread still joins the lines sends each
        batch as it is added, and ends when the build does (no lines file needed)."""
        path = tmp_path / "_0.dolphin"
        dolphin.write_arrow(path, pa.table({"a": [1, 2, 3]}), lines_after=False)
        dolphin.lines_path(path).unlink()  # only the pending lines below can give a fast body
        pending = dolphin.PendingLines(clean=True, tabs=False, breaks=False)
        sidecars.building_lines(path, pending)
        out = _GrowingBody()
        worker = threading.Thread(target=export.export_csv, args=(path, out), kwargs={"limit": 3})
        worker.start()
        try:
            wait_until(lambda: out.value() == b"a\n", what="the header")
            pending.add(pa.array(["7\n", "8\n"]))  # doctored: proves where the body comes from
            wait_until(lambda: out.value() == b"a\n7\n8\n", what="the first batch")
            assert worker.is_alive()  # waits for the rest
            pending.add(pa.array(["9\n", "10\n"]))
            worker.join(timeout=10)
            assert not worker.is_alive()
            assert out.value() == b"a\n7\n8\n9\n"  # cut at the row limit
        finally:
            sidecars.lines_built(path, pending)
        assert dolphin.pending_lines(path) is None

    def test_a_failed_build_ends_the_streamed_body_with_an_error(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        dolphin.write_arrow(path, pa.table({"a": [1, 2, 3]}), lines_after=False)
        pending = dolphin.PendingLines(clean=True, tabs=False, breaks=False)
        sidecars.building_lines(path, pending)
        pending.add(pa.array(["1\n"]))
        sidecars.lines_built(path, pending, failed=True)
        stream = pending.stream(3)
        assert bytes(next(stream)) == b"1\n"
        with pytest.raises(RuntimeError, match="could not be built"):
            next(stream)

    def test_a_job_ends_before_its_lines_file_exists(self, tmp_path: Path) -> None:
        """write_arrow returns with the `.dolphin` and its index complete; the lines file
        follows, and readers that need it wait for it."""
        path = tmp_path / "_0.dolphin"
        table = pa.table({"i": pa.array(range(300_000), pa.int64())})
        dolphin.write_arrow(path, table)
        assert dolphin.count_rows(path) == 300_000
        assert dolphin.read_page(path, 3000, 100, None)[-1] == ["299999"]
        dolphin.wait_lines(path)
        body = dolphin.export_lines(path, 300_000, tab_separated=True, keep_newline=False)
        assert body is not None  # from the lines file, now written
        assert b"".join(bytes(chunk) for chunk in body) == b"".join(
            b"%d\n" % i for i in range(300_000)
        )
        assert dolphin.pending_lines(path) is None

    def test_lines_reach_an_export_even_when_their_file_cannot_be_written(
        self, tmp_path: Path
    ) -> None:
        """The job's directory is removed while its lines are built: the lines file is
        lost, but an export already streaming them gets every line."""
        path = tmp_path / "job" / "_0.dolphin"
        path.parent.mkdir()
        n = 500_000
        dolphin.write_arrow(path, pa.table({"i": pa.array(range(n), pa.int64())}))
        pending = dolphin.pending_lines(path)
        while path.parent.exists():  # the build may add its temporary file while we remove
            shutil.rmtree(path.parent, ignore_errors=True)
        assert pending is not None  # joining 500,000 lines takes far longer than this
        body = b"".join(bytes(part) for part in pending.stream(n))
        assert body == "".join(f"{i}\n" for i in range(n)).encode()
        dolphin.wait_lines(path)
        assert dolphin.pending_lines(path) is None

    @pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/self/maps")
    def test_no_result_file_stays_mapped(self, tmp_path: Path) -> None:
        """No `.dolphin` or lines file stays mapped once a read has returned (an export body
        once it is read), so a long-running sandbox does not pile up mappings; the cycle
        collector is off, so only closed or released mappings count."""
        path = tmp_path / "_0.dolphin"
        dolphin.write_arrow(path, pa.table({"a": list(range(100)), "b": ["x"] * 100}))
        dolphin.wait_lines(path)

        def mapped() -> list[str]:
            maps = Path("/proc/self/maps").read_text()
            return [line for line in maps.splitlines() if str(tmp_path) in line]

        gc.disable()
        try:
            assert csv(path, separator="t") == csv(path, separator=",").replace(b",", b"\t")
            assert csv(path, separator=",", null_value="x")  # rendered from the records
            assert len(dolphin.read_page(path, 1, 80, None)) == 80
            assert dolphin.count_rows(path) == 100
            assert sum(b.num_rows for b in dolphin.iter_batches(path)) == 100
            assert dolphin.read_header(path)[0] == dolphin.TABLE
            body = dolphin.export_lines(path, 10, tab_separated=True, keep_newline=False)
            assert body is not None and mapped()  # the lines file, until the body is read
            assert b"".join(bytes(c) for c in body).count(b"\n") == 10
            with pytest.raises(dolphin.DolphinFormatError):
                dolphin.read_page(_not_dolphin(tmp_path), 1, 10, None)
            assert mapped() == []
        finally:
            gc.enable()

    def test_a_clean_table_is_copied_from_the_sidecar(self, tmp_path: Path) -> None:
        """No rendering: the body is the sidecar's bytes (here: doctored to prove it)."""
        path = tmp_path / "_0.dolphin"
        dolphin.write_arrow(path, pa.table({"a": [1, 2], "b": ["x", "y"]}))
        dolphin.wait_lines(path)
        lines = dolphin.lines_path(path)
        assert lines.read_bytes() == b"1\tx\n2\ty\n"
        lines.write_bytes(b"9\tz\n2\ty\n")  # same size: the index still vouches for it
        assert csv(path, separator="t", limit=5) == b"a\tb\n9\tz\n2\ty\n"
        assert csv(path, separator=",", limit=1) == b"a,b\n9,z\n"

    @pytest.mark.parametrize(
        ("cells", "options", "body"),
        [
            (["x", None], {}, b"x\nNULL\n"),  # a NULL to replace
            (["x", ""], {}, b"x\nNULL\n"),  # an empty value to replace
            (["x", "NULL"], {"null_value": "-"}, b"x\n-\n"),  # Linkis replaces the text NULL
            (["a\tb", "y"], {"separator": ","}, b"a\tb\ny\n"),  # a tab inside a value
            (["a\nb", "y"], {}, b"a b\ny\n"),  # a newline to flatten (keepNewline false)
            (["a\nb", "y"], {"keep_newline": True, "limit": 1}, b"a\nb\n"),  # rows != lines
            (["x", "é"], {"charset": "latin-1"}, "x\né\n".encode("latin-1")),
            (["x", "y"], {"quote_retouch": True}, b'"x"\n"y"\n'),
        ],
    )
    def test_otherwise_it_is_rendered(
        self, tmp_path: Path, cells: list[str | None], options: dict[str, object], body: bytes
    ) -> None:
        path = tmp_path / "_0.dolphin"
        dolphin.write_arrow(path, pa.table({"s": pa.array(cells, pa.string())}))
        header = b'"s"\n' if options.get("quote_retouch") else b"s\n"
        assert csv(path, **options) == header + body


class TestRowCap:
    """limit 0 caps downloads at 5000 rows; a positive limit replaces the cap."""

    def test_default_cap(self, numbers: Path) -> None:
        lines = csv(numbers).decode().splitlines()
        assert len(lines) == 1 + 5000
        assert lines[-1] == "4999"

    def test_limit_above_cap(self, numbers: Path) -> None:
        assert len(csv(numbers, limit=5500).splitlines()) == 1 + 5500

    def test_small_limit(self, numbers: Path) -> None:
        assert csv(numbers, limit=2) == b"i\n0\n1\n"


class TestXlsx:
    """xlsx downloads hold a header row and text cells (typed only with autoFormat)."""

    def load(self, path: Path, **options: object) -> list[tuple[object, ...]]:
        out = io.BytesIO()
        export.export_xlsx(path, out, **options)  # type: ignore[arg-type]
        workbook = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
        sheet = workbook[str(options.get("sheet_name", "result"))]
        rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
        workbook.close()
        return rows

    def test_text_cells(self, tricky: Path) -> None:
        assert self.load(tricky, sheet_name="q1") == [
            ("id", "name"),
            ("1", "a,b"),
            ("2", "NULL"),
            ("3", "NULL"),
            ("4", 'say "hi"\nbye'),
            ("5", "NULL"),
            ("6", " "),
            ("7", "日本\t語"),
        ]

    def test_auto_format(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        table = pa.table(
            {
                "i": pa.array([7, None], pa.int64()),
                "d": pa.array([dt.date(2024, 1, 2), dt.date(2024, 1, 3)]),
                "s": ["x", "12"],
            }
        )
        dolphin.write_arrow(path, table)
        assert self.load(path, auto_format=True) == [
            ("i", "d", "s"),
            (7, dt.datetime(2024, 1, 2), "x"),
            ("NULL", dt.datetime(2024, 1, 3), "12"),
        ]

    def test_limit(self, numbers: Path) -> None:
        assert len(self.load(numbers)) == 1 + 5000
        assert self.load(numbers, limit=3) == [("i",), ("0",), ("1",), ("2",)]

    def test_text_result_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "_0.dolphin"
        dolphin.write_text(path, ["hello"])
        with pytest.raises(export.ExportError) as info:
            export.export_xlsx(path, io.BytesIO())
        assert info.value.code == 80024

    def test_bad_sheet_name(self, tricky: Path) -> None:
        with pytest.raises(export.ExportError, match="sheetName"):
            export.export_xlsx(tricky, io.BytesIO(), sheet_name="a/b")


class TestDispatch:
    """outputFileType must be exactly csv or xlsx."""

    def test_types(self, tricky: Path) -> None:
        out = io.BytesIO()
        assert export.export(tricky, out, export.ExportOptions()) == "text/plain"
        assert out.getvalue().startswith(b"id,name\n")
        xlsx = export.ExportOptions(output_file_type="xlsx")
        assert export.export(tricky, io.BytesIO(), xlsx) == export.XLSX_CONTENT_TYPE

    @pytest.mark.parametrize("kind", ["CSV", "xls", ""])
    def test_unknown(self, tricky: Path, kind: str) -> None:
        with pytest.raises(export.ExportError) as info:
            export.export(tricky, io.BytesIO(), export.ExportOptions(output_file_type=kind))
        assert info.value.code == 80015
