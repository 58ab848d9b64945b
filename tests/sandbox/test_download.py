"""The resultsetToExcel endpoint: CSV and xlsx bytes, Linkis headers, text/plain errors."""

from __future__ import annotations

import io
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest


@pytest.fixture(scope="module")
def table_path(alice: Any) -> str:
    job, state = alice.run(
        "select * from (values (1, 'a,b', null), (2, '名字', 'x')) t(id, s, n) order by id"
    )
    assert state == "Succeed"
    (path,) = alice.result_paths(job)
    return str(path)


class TestCsv:
    """CSV is Linkis's: header line, no RFC 4180 quoting, NULL text, 5000-row default cap."""

    def test_default_csv(self, alice: Any, table_path: str) -> None:
        reply = alice.get(
            "/filesystem/resultsetToExcel",
            path=table_path,
            outputFileType="csv",
            outputFileName="q1",
        )
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.headers["content-disposition"] == "attachment;filename=q1.csv"
        assert reply.content.decode("utf-8") == "id,s,n\n1,a,b,NULL\n2,名字,x\n"

    def test_separator_and_null_value(self, alice: Any, table_path: str) -> None:
        reply = alice.get(
            "/filesystem/resultsetToExcel", path=table_path, csvSeparator="t", nullValue="BLANK"
        )
        assert reply.content.decode("utf-8").splitlines()[1] == "1\ta,b\t"

    def test_default_cap_and_limit(self, alice: Any) -> None:
        job, _ = alice.run("select * from range(6000) t(i) order by i")
        (path,) = alice.result_paths(job)
        capped = alice.get("/filesystem/resultsetToExcel", path=path).text.splitlines()
        assert len(capped) == 1 + 5000
        full = alice.get("/filesystem/resultsetToExcel", path=path, limit=6000).text.splitlines()
        assert len(full) == 1 + 6000 and full[-1] == "5999"

    def test_text_result_exports_as_lines(self, alice: Any) -> None:
        job, _ = alice.run("echo hello", "shell", engine_type="shell-1")
        (path,) = alice.result_paths(job)
        reply = alice.get("/filesystem/resultsetToExcel", path=path)
        assert "hello" in reply.text


class TestXlsx:
    """xlsx downloads open in openpyxl; non-table results are refused (80024)."""

    def test_xlsx_workbook(self, alice: Any, table_path: str) -> None:
        reply = alice.get(
            "/filesystem/resultsetToExcel",
            path=table_path,
            outputFileType="xlsx",
            sheetName="data",
        )
        assert reply.status_code == 200
        assert reply.headers["content-type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        book = openpyxl.load_workbook(io.BytesIO(reply.content), read_only=True)
        rows = [list(r) for r in book["data"].iter_rows(values_only=True)]
        book.close()
        assert rows[0] == ["id", "s", "n"]
        assert rows[2][1] == "名字"

    def test_text_result_as_xlsx_is_an_error(self, alice: Any) -> None:
        job, _ = alice.run("echo hello", "shell", engine_type="shell-1")
        (path,) = alice.result_paths(job)
        reply = alice.get("/filesystem/resultsetToExcel", path=path, outputFileType="xlsx")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.text.startswith("error(错误):") and "80024" in reply.text


class TestErrors:
    """Failures are HTTP 200 text/plain `error(错误):...` bodies."""

    def test_unsupported_type(self, alice: Any, table_path: str) -> None:
        reply = alice.get("/filesystem/resultsetToExcel", path=table_path, outputFileType="pdf")
        assert reply.status_code == 200
        assert reply.text.startswith("error(错误):") and "80015" in reply.text

    def test_missing_file(self, alice: Any, table_path: str) -> None:
        reply = alice.get("/filesystem/resultsetToExcel", path=table_path + ".missing")
        assert reply.text.startswith("error(错误):")
