"""routes/filesystem.py: listings, openFile pages, fileInfo, openLog, resultsetToExcel,
and the confinement of every path to the caller's own directories."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest

FS_ENDPOINTS = ("/filesystem/getDirFileTrees", "/filesystem/openFile", "/filesystem/openLog")


def _denied(reply: Any, code: int = 80010) -> None:
    assert reply.status_code == 400, reply.text
    assert reply.json()["data"]["errorMsg"]["errCode"] == code


def _local(uri: str) -> Path:
    assert uri.startswith("file://")
    return Path(uri[len("file://") :])


@pytest.fixture(scope="module")
def table_path(alice: Any) -> str:
    job, state = alice.run(
        "select * from (values (1, 'a,b', null), (2, '名字', 'x')) t(id, s, n) order by id"
    )
    assert state == "Succeed"
    (path,) = alice.result_paths(job)
    return str(path)


class TestPathConfinement:
    """Filesystem endpoints only serve the caller's result and log directories."""

    def test_other_users_results_and_log_are_denied(self, alice: Any, bobs_job: Any) -> None:
        _denied(alice.get("/filesystem/getDirFileTrees", path=bobs_job["task"]["resultLocation"]))
        _denied(alice.get("/filesystem/openFile", path=bobs_job["file"]))
        _denied(alice.get("/filesystem/fileInfo", path=bobs_job["file"]))
        _denied(alice.get("/filesystem/openLog", path=bobs_job["task"]["logPath"]))
        export = alice.get("/filesystem/resultsetToExcel", path=bobs_job["file"])
        assert export.status_code == 200 and export.text.startswith("error(错误):")
        assert "bob secret" not in export.text

    def test_owner_can_read(self, bob: Any, bobs_job: Any) -> None:
        assert bob.open_file(bobs_job["file"])["fileContent"] == [["bob secret"]]

    def test_dot_dot_traversal_is_denied(self, alice: Any, bobs_job: Any) -> None:
        job, _ = alice.run("select 1")
        own = alice.task(job["taskID"])["resultLocation"]
        sneaky = own + "/../../../bob/" + bobs_job["file"].rsplit("/bob/", 1)[1]
        for endpoint in FS_ENDPOINTS:  # Linkis's path validator refuses "../" first (80026)
            _denied(alice.get(endpoint, path=sneaky), 80026)
        _denied(
            alice.get("/filesystem/openFile", path=own + "/../../../../../../etc/passwd"), 80026
        )

    def test_paths_outside_the_data_dir_are_denied(self, alice: Any) -> None:
        for endpoint in FS_ENDPOINTS:
            _denied(alice.get(endpoint, path="file:///etc/passwd"))
        _denied(alice.get("/filesystem/getDirFileTrees", path="hdfs:///tmp/linkis/alice"))

    def test_date_level_directory_is_not_listable(self, alice: Any, sandbox: Any) -> None:
        job, _ = alice.run("select 1")
        location = alice.task(job["taskID"])["resultLocation"]
        creator_dir = location.rsplit("/", 2)[0]  # .../<date>/IDE: lists every user
        _denied(alice.get("/filesystem/getDirFileTrees", path=creator_dir))

    def test_symlink_escape_is_denied(self, alice: Any, bobs_job: Any) -> None:
        job, _ = alice.run("select 1")
        own_dir = _local(alice.task(job["taskID"])["resultLocation"])
        link = own_dir / "_9.dolphin"
        os.symlink(_local(bobs_job["file"]), link)
        link_uri = alice.task(job["taskID"])["resultLocation"] + "/_9.dolphin"
        _denied(alice.get("/filesystem/openFile", path=link_uri))
        dir_link = own_dir / "elsewhere"
        os.symlink(_local(bobs_job["task"]["resultLocation"]), dir_link)
        _denied(alice.get("/filesystem/getDirFileTrees", path=f"{link_uri[:-11]}/elsewhere"))

    def test_path_without_scheme_is_80025(self, alice: Any) -> None:
        reply = alice.get("/filesystem/openFile", path="/etc/passwd")
        assert reply.status_code == 400
        assert reply.json()["data"]["errorMsg"]["errCode"] == 80025

    def test_missing_path_is_80004(self, alice: Any) -> None:
        reply = alice.get("/filesystem/openFile")
        assert reply.json()["data"]["errorMsg"]["errCode"] == 80004

    def test_missing_directory_is_null_tree(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        location = alice.task(job["taskID"])["resultLocation"]
        reply = alice.get("/filesystem/getDirFileTrees", path=location + "/nothing-here")
        assert reply.status_code == 200
        assert reply.json()["data"]["dirFileTrees"] is None

    def test_empty_result_file_is_a_206_warning(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        location = alice.task(job["taskID"])["resultLocation"]
        (_local(location) / "_5.dolphin").write_bytes(b"")
        reply = alice.get("/filesystem/openFile", path=location + "/_5.dolphin")
        assert reply.status_code == 206
        body = reply.json()
        assert body["status"] == 4
        assert body["data"]["errorMsg"]["errCode"] == 51000
        assert body["message"].startswith("Warning code(警告码): 51000")


class TestPages:
    """openFile pages are 1-based, totalPage is 0, fileInfo counts rows; openLog reads it all."""

    def test_paging_open_file(self, alice: Any) -> None:
        job, _ = alice.run("select * from range(25) t(i) order by i")
        (path,) = alice.result_paths(job)
        pages = [alice.open_file(path, page=p, pageSize=10) for p in (1, 2, 3, 4)]
        assert [p["totalLine"] for p in pages] == [10, 10, 5, 0]
        assert [p["page"] for p in pages] == [1, 2, 3, 4]
        assert pages[2]["fileContent"][-1] == ["24"]
        assert pages[3]["fileContent"] == []
        info = alice.get("/filesystem/fileInfo", path=path, pageSize=-1).json()["data"]
        assert info == {"path": path, "colNumber": 1, "rowNumber": 25}
        capped = alice.get("/filesystem/fileInfo", path=path, pageSize=7).json()["data"]
        assert capped["rowNumber"] == 7

    def test_page_size_above_limit_is_80034(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        (path,) = alice.result_paths(job)
        reply = alice.get("/filesystem/openFile", path=path, pageSize=100001)
        assert reply.status_code == 400
        assert reply.json()["data"]["errorMsg"]["errCode"] == 80034

    def test_eleven_result_sets_list_lexicographically(self, alice: Any) -> None:
        job, state = alice.run("; ".join(f"select {i} as v" for i in range(12)))
        assert state == "Succeed"
        names = [p.rsplit("/", 1)[1] for p in alice.result_paths(job)]
        assert len(names) == 12
        assert names == sorted(names)
        assert names[:4] == ["_0.dolphin", "_1.dolphin", "_10.dolphin", "_11.dolphin"]
        by_index = {p.rsplit("/", 1)[1]: p for p in alice.result_paths(job)}
        assert alice.open_file(by_index["_10.dolphin"])["fileContent"] == [["10"]]

    def test_open_log_after_finish(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        task = alice.task(job["taskID"])
        data = alice.get("/filesystem/openLog", path=task["logPath"]).json()["data"]
        assert len(data["log"]) == 4
        assert data["log"][3].endswith("Your job completed with status Success.\n")
        assert data["log"][0] == ""


class TestDownloadCsv:
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


class TestDownloadXlsx:
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


class TestDownloadErrors:
    """Failures are HTTP 200 text/plain `error(错误):...` bodies."""

    def test_unsupported_type(self, alice: Any, table_path: str) -> None:
        reply = alice.get("/filesystem/resultsetToExcel", path=table_path, outputFileType="pdf")
        assert reply.status_code == 200
        assert reply.text.startswith("error(错误):") and "80015" in reply.text

    def test_missing_file(self, alice: Any, table_path: str) -> None:
        reply = alice.get("/filesystem/resultsetToExcel", path=table_path + ".missing")
        assert reply.text.startswith("error(错误):")
