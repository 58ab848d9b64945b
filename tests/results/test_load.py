"""Result loading against a scripted loopback Linkis: paging, NULL flavours, the CSV fast path."""

from __future__ import annotations

import threading
from decimal import Decimal

import pandas as pd
import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import GatewayError, LinkisWarning
from linkis_magic.protocol import Column
from linkis_magic.results import (
    BIG_FILE_BYTES,
    FAST_PATH_ROWS,
    PAGE_SIZE,
    frame_from_rows,
    load_results,
    table_files,
)
from linkis_magic.results._csv import BLOCK_BYTES
from linkis_magic.results._load import SMALL_FILE_BYTES
from linkis_magic.results._parallel import WORKERS as LOAD_WORKERS
from tests.support.double import LinkisDouble, Reply, Request, error
from tests.support.scripts import RESULT_DIR, ResultFile, ResultServer

OPEN = "filesystem/openFile"
EXPORT = "filesystem/resultsetToExcel"
INFO = "filesystem/fileInfo"


def big_rows(n: int) -> list[list[str | None]]:
    return [[str(i), f"name {i}", f"{i / 4}"] for i in range(n)]


BIG_COLUMNS = [("id", "bigint"), ("name", "string"), ("score", "double")]


class TestTypes:
    """dataType decides the dtype; cells arrive as strings."""

    def test_every_type_family(self) -> None:
        columns = [
            Column("i", "int", None),
            Column("t", "tinyint", None),
            Column("l", "long", None),
            Column("f", "float", None),
            Column("d", "decimal(10,2)", None),
            Column("b", "boolean", None),
            Column("day", "date", None),
            Column("ts", "timestamp", None),
            Column("s", "varchar(20)", None),
            Column("m", "map", None),
        ]
        rows: list[list[str | None]] = [
            [
                "1",
                "2",
                "3",
                "1.5",
                "1.25",
                "true",
                "2024-01-02",
                "2024-01-02 03:04:05.5",
                "x",
                "{}",
            ],
            [None, "NULL", "", "NaN", None, "false", None, "NULL", None, None],
        ]
        frame = frame_from_rows(columns, rows)
        dtypes = [str(t) for t in frame.dtypes]
        assert dtypes == [
            "Int64", "Int64", "Int64", "float64", "object", "boolean",
            "datetime64[s]", "datetime64[us]", "string", "string",
        ]  # fmt: skip
        assert frame["d"].tolist() == [Decimal("1.25"), None]
        assert frame["day"][0] == pd.Timestamp("2024-01-02")
        assert frame["ts"][0] == pd.Timestamp("2024-01-02 03:04:05.5")
        assert frame.iloc[1, :3].isna().all()
        assert frame["s"].isna().tolist() == [False, True]

    def test_unparseable_values_keep_the_column_as_text(self) -> None:
        frame = frame_from_rows([Column("n", "int", None)], [["1"], ["12345678901234567890123"]])
        assert str(frame["n"].dtype) == "string"
        assert frame["n"].tolist() == ["1", "12345678901234567890123"]

    def test_duplicate_column_names_and_extra_fields_survive(self) -> None:
        frame = frame_from_rows(
            [Column("x", "int", None), Column("x", "string", None)], [["1", "a", "extra"]]
        )
        assert list(frame.columns) == ["x", "x", "_2"]
        assert frame.iloc[0].tolist() == [1, "a", "extra"]


class TestListingAndPaging:
    """Every result set, numeric order, every page, limit announced."""

    def test_eleven_plus_result_sets_load_in_numeric_order(
        self, client: LinkisClient, results: ResultServer
    ) -> None:
        for i in range(12):
            results.add(ResultFile(f"_{i}.dolphin", [("v", "int")], [[str(i)]]))
        loaded = load_results(client, RESULT_DIR)
        assert [r.index for r in loaded] == list(range(12))
        assert [r.frame["v"][0] for r in loaded if r.frame is not None] == list(range(12))

    def test_all_pages_are_read(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        n = 2 * PAGE_SIZE + 345
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, big_rows(n)))
        (rs,) = load_results(client, RESULT_DIR)
        assert rs.frame is not None and len(rs.frame) == n and rs.rows == n
        assert not rs.truncated
        assert rs.frame["id"].tolist() == list(range(n))
        pages = [r.param("page") for r in gw.calls("GET", OPEN)]
        assert sorted(pages) == ["1", "2", "3"]  # 2 and 3 at once: fileInfo gave the count
        assert {r.param("nullValue") for r in gw.calls("GET", OPEN)} == {"LINKIS_NULL"}

    def test_limit_caps_and_says_so(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, big_rows(100)))
        results.add(ResultFile("_1.dolphin", BIG_COLUMNS, big_rows(5)))
        first, second = load_results(client, RESULT_DIR, limit=10)
        assert first.frame is not None and len(first.frame) == 10 and first.truncated
        assert second.frame is not None and len(second.frame) == 5 and not second.truncated

    def test_text_result_sets_are_strings(
        self, client: LinkisClient, results: ResultServer
    ) -> None:
        results.add(ResultFile("_0.dolphin", [], [["hello"], ["world"]], type="1"))
        (rs,) = load_results(client, RESULT_DIR)
        assert rs.frame is None and rs.text == "hello\nworld" and rs.type == "1"

    def test_missing_directory_means_no_results(
        self, client: LinkisClient, results: ResultServer
    ) -> None:
        assert load_results(client, RESULT_DIR + "/elsewhere") == []

    def test_empty_result_file_warns(self, client: LinkisClient, results: ResultServer) -> None:
        """Linkis answers HTTP 206 / status 4 for a 0-byte .dolphin."""
        results.add(ResultFile("_0.dolphin", [], []))
        with pytest.warns(LinkisWarning, match="empty"):
            loaded = load_results(client, RESULT_DIR)
        assert loaded == []

    def test_an_empty_file_among_others_warns_and_is_skipped(
        self, client: LinkisClient, results: ResultServer
    ) -> None:
        """The 206 warning of a file loaded on a worker thread still reaches the caller."""
        results.add(ResultFile("_0.dolphin", [("v", "int")], [["0"]]))
        results.add(ResultFile("_1.dolphin", [], []))
        results.add(ResultFile("_2.dolphin", [("v", "int")], [["2"]]))
        with pytest.warns(LinkisWarning, match="empty"):
            loaded = load_results(client, RESULT_DIR)
        assert [rs.index for rs in loaded] == [0, 2]


class TestNulls:
    """NULL via nullValue=LINKIS_NULL, and the "NULL" text of servers before 1.5."""

    def test_linkis_null_keeps_empty_strings(
        self, client: LinkisClient, results: ResultServer
    ) -> None:
        results.add(ResultFile("_0.dolphin", [("s", "string")], [[None], [""], ["NULL"]]))
        (rs,) = load_results(client, RESULT_DIR)
        assert rs.frame is not None
        assert rs.frame["s"].isna().tolist() == [True, False, False]
        assert rs.frame["s"][1] == "" and rs.frame["s"][2] == "NULL"

    def test_pre_15_null_strings_are_missing_in_typed_columns(
        self, client: LinkisClient, results: ResultServer
    ) -> None:
        results.add(
            ResultFile(
                "_0.dolphin",
                [("n", "int"), ("d", "date"), ("s", "string")],
                [["1", "2024-01-01", "a"], [None, None, None]],
                legacy_null=True,
            )
        )
        (rs,) = load_results(client, RESULT_DIR)
        assert rs.frame is not None
        assert rs.frame["n"].isna().tolist() == [False, True]
        assert rs.frame["d"].isna().tolist() == [False, True]
        assert rs.frame["s"].tolist() == ["a", "NULL"]  # cannot be told apart: kept as sent


class TestCsvFastPath:
    """Big tables come through resultsetToExcel, validated, equal to the pages path."""

    def test_big_table_uses_csv_and_matches_pages(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        n = FAST_PATH_ROWS + 5000
        rows = big_rows(n)
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows))
        (rs,) = load_results(client, RESULT_DIR)
        exports = gw.calls("GET", EXPORT)
        assert len(exports) == 1
        # asked before the row count was known: capped at the most rows the file can hold
        assert int(exports[0].param("limit") or 0) >= n
        assert exports[0].param("csvSeparator") == "t"
        assert len(gw.calls("GET", OPEN)) == 1  # only the first page (metadata)
        expected = frame_from_rows([Column(a, b, None) for a, b in BIG_COLUMNS], rows)
        assert rs.frame is not None
        pd.testing.assert_frame_equal(rs.frame, expected)

    def test_every_type_with_nulls_matches_pages(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        columns = [("i", "int"), ("f", "double"), ("d", "decimal(12,3)"), ("b", "boolean"),
                   ("day", "date"), ("ts", "timestamp"), ("s", "string")]  # fmt: skip
        n = FAST_PATH_ROWS + 100
        rows: list[list[str | None]] = [
            [str(i), f"{i}.5", f"{i}.125", "true" if i % 2 else "false",
             f"2024-01-{i % 28 + 1:02d}", f"2024-01-01 00:00:{i % 60:02d}.25", f"s{i}"]
            for i in range(n)
        ]  # fmt: skip
        for i in range(0, n, 997):
            rows[i][:6] = [None] * 6
        results.add(ResultFile("_0.dolphin", columns, rows))
        (rs,) = load_results(client, RESULT_DIR)
        assert len(gw.calls("GET", EXPORT)) == 1 and len(gw.calls("GET", OPEN)) == 1
        expected = frame_from_rows([Column(a, b, None) for a, b in columns], rows)
        assert rs.frame is not None
        pd.testing.assert_frame_equal(rs.frame, expected)
        assert rs.frame.iloc[997, :6].isna().all()

    def test_separator_inside_a_value_falls_back_to_pages(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        n = FAST_PATH_ROWS + 10
        rows = big_rows(n)
        rows[777][1] = "has\ta tab"
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows))
        (rs,) = load_results(client, RESULT_DIR)
        assert len(gw.calls("GET", EXPORT)) == 1
        assert len(gw.calls("GET", OPEN)) == -(-n // PAGE_SIZE)
        assert rs.frame is not None and rs.frame["name"][777] == "has\ta tab"
        assert len(rs.frame) == n

    def test_row_count_mismatch_falls_back(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """A server that ignores limit (the 5000-row export cap) must not truncate silently."""
        n = FAST_PATH_ROWS + 10
        rows = big_rows(n)
        body = "id\tname\tscore\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in rows[:5000])
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows, export_body=body))
        (rs,) = load_results(client, RESULT_DIR)
        assert rs.frame is not None and len(rs.frame) == n
        assert rs.frame["id"].iloc[-1] == n - 1

    def test_null_and_empty_text_are_told_apart(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """The export writes NULL and "" the same way; the pages holding them are re-read."""
        n = FAST_PATH_ROWS + 10
        rows = big_rows(n)
        rows[3][1] = None
        rows[4][1] = ""
        rows[5][0] = None
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows))
        (rs,) = load_results(client, RESULT_DIR)
        assert rs.frame is not None
        assert pd.isna(rs.frame["name"][3]) and rs.frame["name"][4] == ""
        assert pd.isna(rs.frame["id"][5])
        assert len(gw.calls("GET", EXPORT)) == 1
        assert [r.param("page") for r in gw.calls("GET", OPEN)] == ["1", "1"]

    def test_an_export_of_many_blocks_is_parsed_in_order(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """Several parse blocks (cut at line ends, parsed on threads) land in row order, with
        NULLs of every column where they were."""
        n = 2 * BLOCK_BYTES // 25 + 1000  # ~27 bytes a line: three blocks
        rows = big_rows(n)
        for i in range(5, n, 49_999):
            rows[i] = [None, rows[i][1], None]
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows))
        (rs,) = load_results(client, RESULT_DIR)
        assert len(gw.calls("GET", EXPORT)) == 1 and len(gw.calls("GET", OPEN)) == 1
        expected = frame_from_rows([Column(a, b, None) for a, b in BIG_COLUMNS], rows)
        pd.testing.assert_frame_equal(rs.frame, expected)

    def test_a_bad_line_in_a_later_block_falls_back_to_pages(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        n = BLOCK_BYTES // 25 + 1000  # two blocks
        rows = big_rows(n)
        rows[n - 3][1] = "a\ttab"
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows))
        (rs,) = load_results(client, RESULT_DIR)
        assert len(gw.calls("GET", OPEN)) == 1 + -(-n // PAGE_SIZE)
        assert rs.frame is not None and len(rs.frame) == n
        assert rs.frame["name"][n - 3] == "a\ttab" and rs.frame["id"][n - 1] == n - 1

    def test_a_bad_line_in_the_first_of_many_blocks_falls_back_to_pages(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """The blocks after a failed one wait for where it ends: they are told it failed
        instead (no hang), and the table is read from pages."""
        n = 3 * BLOCK_BYTES // 25 + 1000  # four blocks
        rows = big_rows(n)
        rows[7][1] = "a\ttab"
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows))
        (rs,) = load_results(client, RESULT_DIR)
        assert len(gw.calls("GET", OPEN)) == 1 + -(-n // PAGE_SIZE)
        assert rs.frame is not None and len(rs.frame) == n
        assert rs.frame["name"][7] == "a\ttab" and rs.frame["id"][n - 1] == n - 1

    def test_a_header_longer_than_the_first_chunk(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """The download's first chunk is a short sniff: a long header arrives in pieces."""
        columns = [(f"a_rather_long_column_name_number_{i}", "int") for i in range(40)]
        n = FAST_PATH_ROWS + 10
        rows: list[list[str | None]] = [[str(i + j) for j in range(40)] for i in range(n)]
        results.add(ResultFile("_0.dolphin", columns, rows))
        (rs,) = load_results(client, RESULT_DIR)
        assert len(gw.calls("GET", EXPORT)) == 1 and len(gw.calls("GET", OPEN)) == 1
        assert rs.frame is not None and rs.frame.shape == (n, 40)
        assert rs.frame.iloc[-1, -1] == n - 1 + 39

    def test_a_big_file_opens_with_a_one_row_page(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """A file the listing says is big goes to the export: its first openFile page asks
        for one row (type and columns), not PAGE_SIZE rows the export sends again."""
        n = FAST_PATH_ROWS + 5000
        rows = big_rows(n)
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows, size=BIG_FILE_BYTES + 1))
        (rs,) = load_results(client, RESULT_DIR)
        assert [r.param("pageSize") for r in gw.calls("GET", OPEN)] == ["1"]
        assert len(gw.calls("GET", EXPORT)) == 1
        expected = frame_from_rows([Column(a, b, None) for a, b in BIG_COLUMNS], rows)
        pd.testing.assert_frame_equal(rs.frame, expected)

    def test_a_small_file_is_read_in_one_page(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """A file the listing says can hold at most FAST_PATH_ROWS rows is read whole by one
        openFile call (its page sized from the file size), with no fileInfo."""
        n = PAGE_SIZE + 2000
        small = ResultFile("_0.dolphin", BIG_COLUMNS, big_rows(n))
        assert small.listed_size() <= SMALL_FILE_BYTES
        results.add(small)
        (rs,) = load_results(client, RESULT_DIR)
        (call,) = gw.calls("GET", OPEN)
        assert int(call.param("pageSize") or 0) > n
        assert gw.calls("GET", INFO) == [] and rs.rows == n
        assert rs.frame is not None and rs.frame["id"].tolist() == list(range(n))

    def test_a_tiny_file_keeps_the_usual_page_size(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, big_rows(3)))
        load_results(client, RESULT_DIR)
        assert [r.param("pageSize") for r in gw.calls("GET", OPEN)] == [str(PAGE_SIZE)]

    def test_a_small_file_whose_listing_understates_it_is_still_read_whole(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """The size only chooses the page size: a full page is followed by the next."""
        n = 3 * PAGE_SIZE
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, big_rows(n), size=100))
        (rs,) = load_results(client, RESULT_DIR)
        pages = sorted(int(r.param("page") or 0) for r in gw.calls("GET", OPEN))
        assert rs.rows == n and pages == [1, 2, 3, 4]  # the last full page: one more read

    def test_a_big_file_with_few_rows_reads_pages(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """Wide rows make a big file of few rows: fileInfo says so and page 1 is read again
        at PAGE_SIZE, then the rest, as for any small table."""
        n = PAGE_SIZE + 10
        rows = big_rows(n)
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows, size=BIG_FILE_BYTES * 4))
        (rs,) = load_results(client, RESULT_DIR)
        calls = [(r.param("page"), r.param("pageSize")) for r in gw.calls("GET", OPEN)]
        # pages 1 and 2 at PAGE_SIZE are asked together: they may arrive in either order
        assert calls[0] == ("1", "1")
        assert sorted(calls[1:]) == [("1", str(PAGE_SIZE)), ("2", str(PAGE_SIZE))]
        # the export asked beside the first page was dropped, its thread gone with it
        assert len(gw.calls("GET", EXPORT)) <= 1
        assert not [t for t in threading.enumerate() if t.name == "linkis-aside"]
        expected = frame_from_rows([Column(a, b, None) for a, b in BIG_COLUMNS], rows)
        pd.testing.assert_frame_equal(rs.frame, expected)

    def test_a_counted_file_asks_for_its_pages_at_once(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        """Once fileInfo has said how many rows there are, pages 1..n are requested together
        (page 1 is held until the others arrived), and none past the last."""
        n = 3 * PAGE_SIZE + 10
        results = HeldPageOne(gw, others={"2", "3", "4"})
        rows = big_rows(n)
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows, size=BIG_FILE_BYTES * 4))
        (rs,) = load_results(client, RESULT_DIR)
        calls = sorted((r.param("page"), r.param("pageSize")) for r in gw.calls("GET", OPEN))
        assert calls == [("1", "1")] + [(str(p), str(PAGE_SIZE)) for p in range(1, 5)]
        assert results.overlapped
        expected = frame_from_rows([Column(a, b, None) for a, b in BIG_COLUMNS], rows)
        pd.testing.assert_frame_equal(rs.frame, expected)

    def test_a_big_file_whose_export_does_not_match_reads_full_pages(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        n = FAST_PATH_ROWS + 10
        rows = big_rows(n)
        rows[9] = [rows[9][0], "tab\there", rows[9][2]]
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows, size=BIG_FILE_BYTES * 2))
        (rs,) = load_results(client, RESULT_DIR)
        calls = [(r.param("page"), r.param("pageSize")) for r in gw.calls("GET", OPEN)]
        pages = -(-n // PAGE_SIZE)
        assert calls[0] == ("1", "1")  # then every page at once (fileInfo gave the count)
        assert sorted(calls[1:], key=lambda c: int(c[0] or 0)) == [
            (str(p), str(PAGE_SIZE)) for p in range(1, pages + 1)
        ]
        assert rs.frame is not None and rs.frame["name"][9] == "tab\there" and len(rs.frame) == n

    def test_a_big_file_is_exported_beside_its_first_page(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        """The export of a big file goes out with its first page and fileInfo, not after
        them: the first page is held until the export has been asked for."""
        n = FAST_PATH_ROWS + 5000
        results = HeldUntilExport(gw)
        rows = big_rows(n)
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, rows, size=BIG_FILE_BYTES + 1))
        (rs,) = load_results(client, RESULT_DIR)
        assert results.overlapped
        assert len(gw.calls("GET", EXPORT)) == 1 and len(gw.calls("GET", INFO)) == 1
        expected = frame_from_rows([Column(a, b, None) for a, b in BIG_COLUMNS], rows)
        pd.testing.assert_frame_equal(rs.frame, expected)

    def test_a_big_text_result_drops_its_early_export(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        """A big file that turns out to be text is read as pages; the export asked beside its
        first page is dropped and leaves no thread behind."""
        lines = [[f"line {i} " + "x" * 60] for i in range(PAGE_SIZE + 7)]
        results.add(ResultFile("_0.dolphin", [], lines, type="1", size=BIG_FILE_BYTES * 2))
        (rs,) = load_results(client, RESULT_DIR)
        assert rs.text is not None and rs.text.splitlines() == [row[0] for row in lines]
        assert rs.frame is None
        assert not [t for t in threading.enumerate() if t.name == "linkis-aside"]

    def test_limit_on_a_big_table_exports_only_the_limit(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer
    ) -> None:
        n = FAST_PATH_ROWS * 2
        results.add(ResultFile("_0.dolphin", BIG_COLUMNS, big_rows(n)))
        (rs,) = load_results(client, RESULT_DIR, limit=FAST_PATH_ROWS + 1)
        assert rs.truncated and rs.rows == FAST_PATH_ROWS + 1
        assert rs.frame is not None and len(rs.frame) == FAST_PATH_ROWS + 1
        assert gw.calls("GET", EXPORT)[0].param("limit") == str(FAST_PATH_ROWS + 1)


class HeldPageOne(ResultServer):
    """Holds the full-size page 1 until the ``others`` pages have been asked for."""

    def __init__(self, gw: LinkisDouble, others: set[str]) -> None:
        super().__init__(gw)
        self.others, self.asked = others, set[str]()
        self.arrived = threading.Event()
        self.overlapped = False

    def _open(self, req: Request) -> Reply:
        page = req.param("page") or ""
        self.asked.add(page)
        if self.others <= self.asked:
            self.arrived.set()
        if page == "1" and req.param("pageSize") == str(PAGE_SIZE):
            self.overlapped = self.arrived.wait(timeout=30)  # a bound, not a duration
        return super()._open(req)


class HeldUntilExport(ResultServer):
    """Holds every openFile page until an export of the same file has been asked for."""

    def __init__(self, gw: LinkisDouble) -> None:
        super().__init__(gw)
        self.exported = threading.Event()
        self.overlapped = False

    def _export(self, req: Request) -> Reply:
        self.exported.set()
        return super()._export(req)

    def _open(self, req: Request) -> Reply:
        self.overlapped = self.exported.wait(timeout=30)  # a bound, not a duration
        return super()._open(req)


class HeldOpen(ResultServer):
    """Result sets whose openFile pages can be held until others were asked for, or fail."""

    def __init__(self, gw: LinkisDouble, hold: str | None = None, fail: str | None = None) -> None:
        super().__init__(gw)
        self.hold, self.fail = hold, fail
        self.asked: list[str] = []
        self.others_asked = threading.Event()
        self.overlapped = False
        self._lock = threading.Lock()

    def _open(self, req: Request) -> Reply:
        name = (req.param("path") or "").rsplit("/", 1)[-1]
        with self._lock:
            self.asked.append(name)
            if len({n for n in self.asked if n != self.hold}) >= LOAD_WORKERS - 1:
                self.others_asked.set()
        if name == self.hold:  # a bound, not a duration: the others arrive at once
            self.overlapped = self.others_asked.wait(timeout=30)
        if name == self.fail:
            return error("The file is unreadable", err_code=80012)
        return super()._open(req)


class TestConcurrentLoading:
    """Result sets load at once on a few threads; the list keeps their order; all or nothing."""

    def test_sets_load_at_once_and_keep_their_order(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        results = HeldOpen(gw, hold="_0.dolphin")
        for i in range(LOAD_WORKERS + 3):
            results.add(ResultFile(f"_{i}.dolphin", [("v", "int")], [[str(i)]]))
        loaded = load_results(client, RESULT_DIR)
        assert results.overlapped  # _0's page was held until the other workers had asked
        assert [r.index for r in loaded] == list(range(LOAD_WORKERS + 3))
        assert [r.frame["v"][0] for r in loaded if r.frame is not None] == list(
            range(LOAD_WORKERS + 3)
        )

    def test_one_failure_fails_the_whole_load_and_leaves_no_thread(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        results = HeldOpen(gw, hold="_0.dolphin", fail="_2.dolphin")
        for i in range(6):
            results.add(ResultFile(f"_{i}.dolphin", [("v", "int")], [[str(i)]]))
        with pytest.raises(GatewayError, match="unreadable"):
            load_results(client, RESULT_DIR)
        assert results.overlapped
        assert not [t for t in threading.enumerate() if t.name.startswith("linkis-results")]

    def test_table_files_asks_every_type_at_once(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        results = HeldOpen(gw, hold="_0.dolphin")
        for i in range(LOAD_WORKERS + 1):
            results.add(ResultFile(f"_{i}.dolphin", [("v", "int")], [[str(i)]]))
        results.add(ResultFile("_9.dolphin", [], [["text"]], type="1"))
        found = table_files(client, RESULT_DIR)
        assert results.overlapped
        assert [index for index, _ in found] == list(range(LOAD_WORKERS + 1))
