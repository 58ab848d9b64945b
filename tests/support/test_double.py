"""The double's builders produce shapes the client reads (so other test groups can trust them)."""

from __future__ import annotations

import requests

from linkis_magic.client import LinkisClient
from linkis_magic.protocol import JobStatus
from tests.support.double import (
    ALICE_TOKEN,
    EXEC_ID,
    LinkisDouble,
    dir_tree_data,
    log_data,
    table_page,
    task_data,
    text_page,
)

ROOT = "hdfs:///tmp/linkis/result/2024-01-01/IDE/alice/1234"


class TestBuilders:
    """Each builder round-trips through the token_client into the documented records."""

    def test_task_data(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "jobhistory/5/get", task_data(5, status="Failed", errCode=13001))
        task = token_client.task(5)
        assert (task.task_id, task.status, task.err_code) == (5, JobStatus.FAILED, 13001)
        assert task.exec_id == EXEC_ID
        assert task.short_exec_id == "IDE_alice_spark_7"

    def test_dir_tree_and_pages(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on(
            "GET", "filesystem/getDirFileTrees", dir_tree_data(ROOT, ["_0.dolphin", "_1.dolphin"])
        )
        gw.on(
            "GET",
            "filesystem/openFile",
            table_page([("id", "int"), ("name", "string")], [["1", None]]),
            text_page(["hello"]),
        )
        entries = token_client.dir_tree(ROOT)
        assert entries is not None and [e.path for e in entries] == [
            f"{ROOT}/_0.dolphin",
            f"{ROOT}/_1.dolphin",
        ]
        table = token_client.open_file(entries[0].path)
        assert [(c.name, c.data_type) for c in table.columns] == [("id", "int"), ("name", "string")]
        assert table.rows == [["1", None]]
        assert token_client.open_file(entries[1].path).rows == [["hello"]]

    def test_log_data(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        lines = ["2024-01-01 10:00:00.001 INFO a", "2024-01-01 10:00:01.001 ERROR b"]
        gw.on("GET", f"entrance/{EXEC_ID}/log", log_data(lines, from_line=3))
        chunk = token_client.log(EXEC_ID)
        assert chunk.lines == tuple(lines)
        assert chunk.error_lines == (lines[1],)
        assert chunk.from_line == 3


class TestDoubleBehaviour:
    """Unscripted routes and unauthenticated calls are visible, not silently answered."""

    def test_unscripted_route_is_404_naming_it(self, gw: LinkisDouble) -> None:
        resp = requests.get(
            f"{gw.url}/api/rest_j/v1/entrance/x/status",
            headers={"Token-Code": ALICE_TOKEN, "Token-User": "alice"},
            timeout=5,
        )
        assert resp.status_code == 404
        assert "GET entrance/x/status" in resp.text

    def test_lowercase_token_headers_are_not_accepted(self, gw: LinkisDouble) -> None:
        """HTTP/1.1 sends names as given; Linkis matches them case-sensitively."""
        gw.on("GET", "jobhistory/list", {"totalPage": 0, "tasks": []})
        resp = requests.get(
            f"{gw.url}/api/rest_j/v1/jobhistory/list",
            headers={"token-code": ALICE_TOKEN, "token-user": "alice"},
            timeout=5,
        )
        assert resp.status_code == 401
        assert resp.json()["status"] == -1
