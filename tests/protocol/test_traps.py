"""The traps of docs/linkis-protocol.md §10 and envelope shapes, through the client and double."""

from __future__ import annotations

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import (
    GatewayError,
    LinkisWarning,
    NotLoggedInError,
    PermissionDeniedError,
    ProtocolError,
    RequestFailedError,
    ValidationFailedError,
)
from linkis_magic.protocol import JobStatus, parse_envelope
from tests.support.double import ALICE_TOKEN, EXEC_ID, LinkisDouble, Reply, envelope, error

TOKEN = ALICE_TOKEN
STATUS = f"entrance/{EXEC_ID}/status"
LOG = f"entrance/{EXEC_ID}/log"
FILE = "hdfs:///tmp/linkis/result/2024-01-01/IDE/alice/1/_0.dolphin"


def _task(**over: object) -> dict[str, object]:
    task: dict[str, object] = {"taskID": 7, "status": "Running", "execId": "IDE_alice_spark_7",
                               "instance": "host1:9104", "progress": "0.25",
                               "createdTime": 1704074400000}  # fmt: skip
    task.update(over)
    return task


class TestEnvelopeShapes:
    """Trap 1-2: the body is read whatever the HTTP code; status decides, not HTTP."""

    def test_http_400_keeps_linkis_message(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("POST", "entrance/submit", error("Label params invalid", err_code=20009))
        with pytest.raises(RequestFailedError, match="Label params invalid") as info:
            token_client.submit_raw({})
        assert (info.value.status, info.value.err_code, info.value.http_status) == (1, 20009, 400)

    def test_http_401_is_not_logged_in(self, gw: LinkisDouble) -> None:
        with (
            LinkisClient(gw.url, retries=0) as anonymous,
            pytest.raises(NotLoggedInError, match="not logged in") as info,
        ):
            anonymous.status(EXEC_ID)
        assert info.value.status == -1
        assert info.value.method == f"/api/rest_j/v1/{STATUS}"

    def test_http_206_warns_and_returns(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        msg = "Warning code(警告码): 51000, Warning message(警告信息): The file:x is empty."
        gw.on(
            "GET",
            "filesystem/openFile",
            envelope({"errorMsg": {"errCode": 51000}}, status=4, message=msg),
        )
        with pytest.warns(LinkisWarning, match="is empty"):
            page = token_client.open_file(FILE)
        assert page.rows == []

    def test_http_200_with_status_1_is_an_error(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        stack = "java.lang.IllegalArgumentException: bad execID\n\tat Parser.parse"
        gw.on("GET", STATUS, envelope({"stack": stack}, status=1, message="parse failed", http=200))
        with pytest.raises(RequestFailedError, match="parse failed") as info:
            token_client.status(EXEC_ID)
        assert info.value.http_status == 200
        assert info.value.stack == stack

    @pytest.mark.parametrize(
        ("status", "cls"), [(2, ValidationFailedError), (3, PermissionDeniedError)]
    )
    def test_other_statuses(
        self, gw: LinkisDouble, token_client: LinkisClient, status: int, cls: type[GatewayError]
    ) -> None:
        gw.on("GET", STATUS, envelope(status=status, message="nope"))
        with pytest.raises(cls, match="nope"):
            token_client.status(EXEC_ID)

    def test_html_page_is_quoted(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        page = "<html><body><h1>502 Bad Gateway</h1> nginx</body></html>"
        gw.on("GET", STATUS, Reply.text(page, status=502, content_type="text/html"))
        with pytest.raises(ProtocolError, match="502 Bad Gateway") as info:
            token_client.status(EXEC_ID)
        assert info.value.http_status == 502
        assert info.value.body_excerpt.startswith("<html>")

    def test_gateway_spring_error_is_not_mistaken_for_an_envelope(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        """docs/linkis-protocol.md §1.5.2: `status` 500 there is an HTTP code, not a Linkis code."""
        doc = {"method": f"/api/rest_j/v1/{STATUS}", "status": 500,
               "message": "Internal Server Error", "data": []}  # fmt: skip
        gw.on("GET", STATUS, Reply.raw_json(doc, status=500))
        with pytest.raises(ProtocolError, match="Internal Server Error"):
            token_client.status(EXEC_ID)

    def test_export_error_body_is_recognised_anywhere(self) -> None:
        body = "error(错误):path is empty".encode()
        with pytest.raises(RequestFailedError, match="path is empty"):
            parse_envelope(200, "text/plain; charset=utf-8", body)


class TestNumbersAndStrings:
    """Trap 4: taskID numbers, progress strings, epoch ms, JSON text fields."""

    def test_task_id_as_string_or_number(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on(
            "POST",
            "entrance/submit",
            {"execID": EXEC_ID, "taskID": "1234"},
            {"execID": EXEC_ID, "taskID": 1234},
        )
        assert token_client.submit_raw({}).task_id == 1234
        assert token_client.submit_raw({}).task_id == 1234

    def test_progress_string_in_jobhistory_number_in_entrance(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("GET", "jobhistory/7/get", {"task": _task(progress="0.25", errCode="13001")})
        gw.on("GET", f"entrance/{EXEC_ID}/progress", {"progress": 0.75, "progressInfo": []})
        task = token_client.task(7)
        assert task.progress == 0.25
        assert task.err_code == 13001
        assert task.created_time is not None and task.created_time.year == 2024
        assert token_client.progress(EXEC_ID).progress == 0.75

    def test_params_json_text(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "jobhistory/7/get", {"task": _task(paramsJson='{"variable":{"a":"1"}}')})
        assert token_client.task(7).params == {"variable": {"a": "1"}}


class TestStateNames:
    """Trap 5: Linkis's exact state spellings and which are terminal."""

    @pytest.mark.parametrize(
        ("name", "terminal", "failure"),
        [
            ("Inited", False, False),
            ("WaitForRetry", False, False),
            ("Scheduled", False, False),
            ("Running", False, False),
            ("Succeed", True, False),
            ("Failed", True, True),
            ("Cancelled", True, False),
            ("Timeout", True, True),
        ],
    )
    def test_states(
        self, gw: LinkisDouble, token_client: LinkisClient, name: str, terminal: bool, failure: bool
    ) -> None:
        gw.on("GET", STATUS, {"status": name, "execID": EXEC_ID})
        state = token_client.status(EXEC_ID)
        assert state.value == name
        assert (state.is_terminal, state.is_failure) == (terminal, failure)

    def test_parse_ignores_case_but_rejects_other_spellings(self) -> None:
        assert JobStatus.parse("succeed") is JobStatus.SUCCEED
        with pytest.raises(ProtocolError, match="Succeeded"):
            JobStatus.parse("Succeeded")


class TestLog:
    """Trap 6: slot 3 is displayed, fromLine echoed, and "" / null logs are empty."""

    def test_slot_three_and_cursor(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        log = [
            "2024-01-01 10:00:03.001 ERROR boom",
            "2024-01-01 10:00:01.001 WARN low memory",
            "2024-01-01 10:00:00.001 INFO accepted",
            "2024-01-01 10:00:00.001 INFO accepted\n2024-01-01 10:00:01.001 WARN low memory\n"
            "2024-01-01 10:00:03.001 ERROR boom",
        ]
        gw.on("GET", LOG, {"fromLine": 4, "log": log, "execID": EXEC_ID})
        chunk = token_client.log(EXEC_ID, from_line=1)
        assert chunk.lines[-1].endswith("ERROR boom") and len(chunk.lines) == 3
        assert chunk.error_lines == ("2024-01-01 10:00:03.001 ERROR boom",)
        assert chunk.warn_lines == ("2024-01-01 10:00:01.001 WARN low memory",)
        assert chunk.from_line == 4
        assert gw.requests[0].param("fromLine") == "1"

    @pytest.mark.parametrize("log", ["", None, ["", "", "", ""]])
    def test_empty_logs(self, gw: LinkisDouble, token_client: LinkisClient, log: object) -> None:
        gw.on("GET", LOG, {"fromLine": 9, "log": log})
        chunk = token_client.log(EXEC_ID, from_line=9)
        assert chunk.lines == ()
        assert chunk.from_line == 9

    def test_cursor_kept_when_not_echoed(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("GET", LOG, {"log": "one line"})
        chunk = token_client.log(EXEC_ID, from_line=5)
        assert (chunk.lines, chunk.from_line) == (("one line",), 5)


class TestOpenFilePaging:
    """Trap 7-8: totalPage is always 0, totalLine is this page; NULL cells kept as given."""

    def test_total_line_is_per_page(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        meta = [{"columnName": "x", "comment": "NULL", "dataType": "int"}]
        gw.on(
            "GET",
            "filesystem/openFile",
            {"type": "2", "page": 1, "totalPage": 0, "totalLine": 2, "metadata": meta,
             "fileContent": [["1"], ["2"]]},
            {"type": "2", "page": 2, "totalPage": 0, "totalLine": 0, "metadata": meta,
             "fileContent": []},
        )  # fmt: skip
        first = token_client.open_file(FILE, page=1, page_size=2)
        second = token_client.open_file(FILE, page=2, page_size=2)
        assert (first.total_line, len(first.rows)) == (2, 2)
        assert (second.total_line, second.rows, second.page) == (0, [], 2)

    def test_null_strings_are_preserved(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        """Without nullValue=LINKIS_NULL Linkis sends "NULL"; only the column type can decide."""
        meta = [{"columnName": "s", "comment": "NULL", "dataType": "string"}]
        gw.on("GET", "filesystem/openFile",
              {"type": "2", "totalPage": 0, "metadata": meta,
               "fileContent": [["NULL"], [None], [""], [12]]})  # fmt: skip
        page = token_client.open_file(FILE, null_value=None)
        assert page.rows == [["NULL"], [None], [""], ["12"]]


class TestJobhistoryList:
    """Trap 10: jobhistory list's totalPage is the number of matching rows."""

    def test_total_is_rows(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "jobhistory/list", {"totalPage": 57, "tasks": [_task(), _task(taskID=8)]})
        page = token_client.tasks(page_size=2)
        assert page.total == 57
        assert [t.task_id for t in page.tasks] == [7, 8]
