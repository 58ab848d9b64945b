"""Exporting tables straight from the gateway to files: names, order, all or nothing, memory."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import RequestFailedError
from linkis_magic.results import export_tables, table_files
from linkis_magic.results._export import ALL_ROWS
from tests.support.double import LinkisDouble
from tests.support.sandbox import SandboxProcess
from tests.support.scripts import RESULT_DIR, ResultFile, ResultServer

EXPORT = "filesystem/resultsetToExcel"
NO_PERMISSION = (
    "error(错误):errCode: 80010 ,desc: The user: alice has no permission to view the contents "
    "of the directory ,ip: host2 ,port: 9105 ,serviceKind: linkis-ps-publicservice"
)


def two_tables_and_a_text(results: ResultServer) -> None:
    results.add(ResultFile("_10.dolphin", [("b", "int")], [["10"], ["20"]]))
    results.add(ResultFile("_2.dolphin", [("a", "string")], [["x"], [None]]))
    results.add(ResultFile("_3.dolphin", [], [["hello"]], type="1"))


class TestExportTables:
    """Each table result set becomes a file, in numeric result-set order."""

    def test_several_tables_are_numbered_in_result_set_order(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer, tmp_path: Path
    ) -> None:
        two_tables_and_a_text(results)
        summary = export_tables(client, table_files(client, RESULT_DIR), tmp_path / "out.csv")
        assert [(f.index, f.path.name, f.rows) for f in summary] == [
            (2, "out_1.csv", 2),
            (10, "out_2.csv", 2),
        ]
        assert (tmp_path / "out_1.csv").read_text() == "a\nx\nNULL\n"
        assert (tmp_path / "out_2.csv").read_text() == "b\n10\n20\n"
        assert summary.total_bytes == sum(p.stat().st_size for p in tmp_path.iterdir())
        calls = gw.calls("GET", EXPORT)
        assert {c.param("limit") for c in calls} == {str(ALL_ROWS)}  # lifts the 5000-row cap
        assert {c.param("nullValue") for c in calls} == {"NULL"}
        assert "out_1.csv" in repr(summary) and "2 rows" in repr(summary)

    def test_one_table_goes_to_the_path_itself(
        self, client: LinkisClient, results: ResultServer, tmp_path: Path
    ) -> None:
        results.add(ResultFile("_0.dolphin", [("a", "int")], [["1"]]))
        (only,) = export_tables(client, table_files(client, RESULT_DIR), tmp_path / "one.csv")
        assert only.path == tmp_path / "one.csv"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["one.csv"]

    def test_an_error_body_writes_nothing_at_all(
        self, client: LinkisClient, results: ResultServer, tmp_path: Path
    ) -> None:
        results.add(ResultFile("_0.dolphin", [("a", "int")], [["1"]]))
        results.add(ResultFile("_1.dolphin", [("b", "int")], [["2"]], export_body=NO_PERMISSION))
        with pytest.raises(RequestFailedError, match="no permission") as info:
            export_tables(client, table_files(client, RESULT_DIR), tmp_path / "out.csv")
        assert info.value.err_code == 80010
        assert list(tmp_path.iterdir()) == []  # not out_1.csv either, and no temporary file


def peak_rss_growth(work: threading.Thread) -> int:
    """Run ``work`` while sampling this process's resident set size; the largest growth."""

    def rss() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc/self/status")

    base = peak = rss()
    work.start()
    while work.is_alive():
        peak = max(peak, rss())
        work.join(0.005)
    return max(peak, rss()) - base


class TestBigExport:
    """Two million rows go to disk through a few MB of memory, never through pandas."""

    def test_two_million_rows(self, sandbox: SandboxProcess, tmp_path: Path) -> None:
        with LinkisClient(sandbox.url, user="alice", password=sandbox.users["alice"]) as client:
            job = client.submit(
                "select x as id, x * 7 as big, x / 3.0 as ratio, 'row ' || x as label "
                "from range(2000000) t(x)",
                engine_type="spark-3.2.1",
            )
            job.wait()
            target = tmp_path / "big.csv"
            done: list[object] = []
            work = threading.Thread(target=lambda: done.append(job.export(target)))
            growth = peak_rss_growth(work)
        (exported,) = done[0]  # type: ignore[misc]
        assert exported.rows == 2_000_000
        assert exported.bytes == target.stat().st_size > 60_000_000
        # The file is far bigger than what the download held in memory at any time.
        assert growth < 100 * 2**20 and growth < exported.bytes / 4, growth
