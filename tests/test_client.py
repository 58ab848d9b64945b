"""Every client endpoint against the loopback Linkis double: what is sent, what comes back.

Section numbers (§) refer to docs/linkis-protocol.md.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import ConfigurationError, ProtocolError, RequestFailedError
from linkis_magic.job import Job, SubmitRequest
from linkis_magic.protocol import API_PREFIX, JobStatus, result_index
from tests.support.double import ALICE_TOKEN, EXEC_ID, LinkisDouble, Reply, envelope

ROOT = "hdfs:///tmp/linkis/result/2024-01-01/IDE/alice/1234"
TASK = {
    "taskID": 1234,
    "instance": "host1:9104",
    "execId": "IDE_alice_spark_7",
    "strongerExecId": EXEC_ID,
    "umUser": "alice",
    "executeUser": "alice",
    "status": "Succeed",
    "progress": "1.0",
    "logPath": "hdfs:///tmp/linkis/log/2024-01-01/IDE/alice/1234.log",
    "resultLocation": ROOT,
    "errCode": 0,
    "errDesc": "",
    "createdTime": 1704074400000,
    "updatedTime": 1704074460000,
    "costTime": 60000,
    "engineType": "spark",
    "executeApplicationName": "spark",
    "requestApplicationName": "IDE",
    "runType": "sql",
    "labels": ["engineType:spark-3.2.1", "userCreator:alice-IDE", "codeType:sql"],
    "executionCode": "select 1",
    "paramsJson": '{"variable": {"dt": "2024-01-01"}}',
    "sourceJson": '{"requestIP":"10.0.0.5"}',
    "canRetry": False,
}


class TestSubmit:
    """submit/execute send the documented bodies and hand back a Job."""

    def test_submit_body_is_the_1x_layout(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": 1234})
        job = token_client.submit(
            "select ${dt}",
            engine_type="spark-3.2.1",
            creator="nb",
            variables={"dt": "2024-01-01", "n": 3},
            startup={"spark.executor.memory": "2g"},
            runtime={"wds.linkis.rm.yarnqueue": "q"},
            special={"k": "v"},
            source={"scriptPath": "notebook.ipynb"},
            labels={"jobRunningTimeout": 60},
        )
        assert isinstance(job, Job)
        assert (job.exec_id, job.task_id) == (EXEC_ID, 1234)
        (req,) = gw.calls("POST", "entrance/submit")
        assert req.json() == {
            "executionContent": {"code": "select ${dt}", "runType": "sql"},
            "labels": {
                "engineType": "spark-3.2.1",
                "userCreator": "alice-nb",
                "jobRunningTimeout": "60",
            },
            "params": {
                "variable": {"dt": "2024-01-01", "n": "3"},
                "configuration": {
                    "startup": {"spark.executor.memory": "2g"},
                    "runtime": {"wds.linkis.rm.yarnqueue": "q"},
                    "special": {"k": "v"},
                },
            },
            "source": {"scriptPath": "notebook.ipynb"},
        }

    def test_default_creator_is_ide(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": 1})
        token_client.submit("select 1", engine_type="hive-3.1.3", run_type="hql")
        body = gw.calls("POST", "entrance/submit")[0].json()
        assert body["labels"]["userCreator"] == "alice-IDE"
        assert body["executionContent"]["runType"] == "hql"

    def test_execute_body_is_the_0x_layout(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("POST", "entrance/execute", {"execID": EXEC_ID, "taskID": "88"})
        job = token_client.execute("show tables", engine_type="spark")
        assert job.task_id == 88
        body = gw.calls("POST", "entrance/execute")[0].json()
        assert body["executeApplicationName"] == "spark"
        assert body["requestApplicationName"] == "IDE"
        assert body["executionCode"] == "show tables"
        assert body["runType"] == "sql"
        assert "labels" not in body

    def test_execute_with_version_adds_the_engine_label(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("POST", "entrance/execute", {"execID": EXEC_ID, "taskID": 2})
        token_client.execute("show tables", engine_type="spark-2.4.3")
        body = gw.calls("POST", "entrance/execute")[0].json()
        assert body["labels"] == {"engineType": "spark-2.4.3"}

    @pytest.mark.parametrize("method", [LinkisClient.submit, LinkisClient.execute])
    def test_keywords_are_the_request_record(self, method: Any) -> None:
        """submit/execute take exactly SubmitRequest's fields, with the same defaults (execute
        less execute_user, which only the 1.x body can carry)."""
        params = list(inspect.signature(method).parameters.values())[1:]  # after self
        record = {f.name: f for f in dataclasses.fields(SubmitRequest)}
        if method is LinkisClient.execute:
            del record["execute_user"]
        assert [p.name for p in params] == list(record)
        for p in params[1:]:
            default = record[p.name].default
            expected = inspect.Parameter.empty if default is dataclasses.MISSING else default
            assert p.default == expected, p.name

    def test_start_sends_a_ready_request(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": 3})
        gw.on("POST", "entrance/execute", {"execID": EXEC_ID, "taskID": 4})
        request = SubmitRequest(code="select 1", engine_type="spark-2.4.3", creator="nb")
        with pytest.raises(dataclasses.FrozenInstanceError):
            request.code = "drop table t"  # type: ignore[misc]
        assert token_client.start(request).task_id == 3
        assert token_client.start(request, api="v0").task_id == 4
        assert gw.calls("POST", "entrance/submit")[0].json()["labels"]["userCreator"] == "alice-nb"
        assert gw.calls("POST", "entrance/execute")[0].json()["requestApplicationName"] == "nb"
        with pytest.raises(ConfigurationError, match="api must be"):
            token_client.start(request, api="v2")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="needs a SubmitRequest"):
            token_client.start({"code": "select 1"})  # type: ignore[arg-type]

    def test_raw_bodies_are_sent_unchanged(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": 5})
        gw.on("POST", "entrance/execute", {"execID": EXEC_ID})
        body = {"executionContent": {"code": "x", "runType": "py"}, "labels": {"a": "b"}}
        assert token_client.submit_raw(body).task_id == 5
        assert token_client.execute_raw({"executionCode": "x"}).task_id is None
        assert gw.calls("POST", "entrance/submit")[0].json() == body

    @pytest.mark.parametrize(
        ("kwargs", "fix"),
        [
            ({"code": "  ", "engine_type": "spark-3.2.1"}, "non-blank"),
            ({"code": "select 1", "engine_type": "spark"}, "<engine>-<version>"),
            ({"code": "select 1", "engine_type": "spark-3.2.1", "run_type": ""}, "run_type"),
            ({"code": "select 1", "engine_type": "spark-3.2.1", "creator": "a-b"}, "creator"),
            ({"code": "s", "engine_type": "spark-3.2.1", "variables": {"x": [1]}}, "variables"),
            (
                {"code": "s", "engine_type": "spark-3.2.1", "labels": {"engineType": "x-1"}},
                "labels",
            ),
        ],
    )
    def test_bad_arguments_fail_before_sending(
        self, gw: LinkisDouble, token_client: LinkisClient, kwargs: dict[str, object], fix: str
    ) -> None:
        with pytest.raises(ConfigurationError, match=fix.replace("<", ".").replace(">", ".")):
            token_client.submit(**kwargs)  # type: ignore[arg-type]
        assert gw.requests == []

    def test_submit_rejected_by_an_interceptor_has_no_task(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        """§10.12/13: a userCreator mismatch is HTTP 400 with errCode 50080."""
        msg = (
            "error code(错误码): 50080, error message(错误信息): userCreator user alice is not "
            "the execute user bob."
        )
        gw.on(
            "POST",
            "entrance/submit",
            envelope({"errorMsg": {"errCode": 50080}}, status=1, message=msg),
        )
        with pytest.raises(RequestFailedError) as info:
            token_client.submit("select 1", engine_type="spark-3.2.1")
        assert info.value.err_code == 50080
        assert info.value.http_status == 400
        assert "userCreator user alice" in str(info.value)


class TestEntrance:
    """status/progress/log/kill talk to entrance/{execID}/... with the raw execID."""

    def test_status_puts_the_exec_id_verbatim_in_the_path(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        """§10.3: ':' must not become %3A, or the gateway cannot route the call."""
        gw.on("GET", f"entrance/{EXEC_ID}/status", {"status": "Running", "execID": EXEC_ID})
        assert token_client.status(EXEC_ID) is JobStatus.RUNNING
        (req,) = gw.calls("GET")
        assert req.raw_path == f"/api/rest_j/v1/entrance/{EXEC_ID}/status"
        assert "%3A" not in req.raw_path

    @pytest.mark.parametrize("pasted", ["/api/rest_j/v1", "/api/rest_j/v1/"])
    def test_a_pasted_api_prefix_is_sent_once(self, gw: LinkisDouble, pasted: str) -> None:
        """The URL check and the transport share one prefix: a URL copied with it still works."""
        gw.on("GET", f"entrance/{EXEC_ID}/status", {"status": "Running", "execID": EXEC_ID})
        with LinkisClient(gw.url + pasted, user="alice", token=ALICE_TOKEN) as client:
            client.status(EXEC_ID)
        (req,) = gw.calls("GET")
        assert req.raw_path == f"{API_PREFIX}entrance/{EXEC_ID}/status"

    def test_status_and_kill_pass_task_id(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        """docs/linkis-protocol.md §10.3: ?taskID= lets the gateway fall back to the database."""
        gw.on("GET", f"entrance/{EXEC_ID}/status", {"status": "Cancelled"})
        gw.on(
            "GET",
            f"entrance/{EXEC_ID}/kill",
            envelope({"execID": EXEC_ID}, message="Forced Kill task (强制杀死任务)"),
        )
        assert token_client.status(EXEC_ID, task_id=1234) is JobStatus.CANCELLED
        assert token_client.kill(EXEC_ID, task_id=1234) == "Forced Kill task (强制杀死任务)"
        assert [r.param("taskID") for r in gw.requests] == ["1234", "1234"]
        assert [r.method for r in gw.requests] == ["GET", "GET"]

    def test_status_without_task_id_sends_no_query(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("GET", f"entrance/{EXEC_ID}/status", {"status": "Inited"})
        token_client.status(EXEC_ID)
        assert gw.requests[0].query == {}

    def test_progress_reads_stages(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        info = [
            {
                "id": "jobId-1",
                "succeedTasks": 4,
                "failedTasks": 0,
                "runningTasks": 2,
                "totalTasks": 8,
            }
        ]
        gw.on("GET", f"entrance/{EXEC_ID}/progress", {"progress": 0.5, "progressInfo": info})
        progress = token_client.progress(EXEC_ID)
        assert progress.progress == 0.5
        (stage,) = progress.stages
        assert (stage.id, stage.succeeded, stage.running, stage.total) == ("jobId-1", 4, 2, 8)
        assert stage.fraction == 0.5

    def test_log_sends_from_line_and_size(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("GET", f"entrance/{EXEC_ID}/log", {"fromLine": 4, "log": ["", "", "", "a\nb\nc"]})
        chunk = token_client.log(EXEC_ID, from_line=1, size=-1)
        assert chunk.lines == ("a", "b", "c")
        assert gw.requests[0].query == {"fromLine": ["1"], "size": ["-1"]}

    def test_kill_message_comes_back(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on(
            "GET",
            f"entrance/{EXEC_ID}/kill",
            envelope({"execID": EXEC_ID}, message="Successfully killed the job(成功kill了job)"),
        )
        assert token_client.kill(EXEC_ID) == "Successfully killed the job(成功kill了job)"

    def test_exec_id_with_a_slash_is_refused(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        with pytest.raises(ConfigurationError, match="execID"):
            token_client.status("exec_id/../x")
        assert gw.requests == []


class TestJobhistory:
    """jobhistory get/list map Linkis names and types to TaskInfo."""

    def test_task_maps_every_field(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "jobhistory/1234/get", {"task": TASK})
        task = token_client.task(1234)
        assert task.task_id == 1234
        assert task.exec_id == EXEC_ID
        assert task.short_exec_id == "IDE_alice_spark_7"
        assert task.status is JobStatus.SUCCEED
        assert task.progress == 1.0
        assert task.result_location == ROOT
        assert task.err_code == 0
        assert task.created_time == datetime(2024, 1, 1, 2, 0, tzinfo=timezone.utc)
        assert task.cost_time_ms == 60000
        assert (task.engine_type, task.run_type, task.creator) == ("spark", "sql", "IDE")
        assert (task.submit_user, task.execute_user) == ("alice", "alice")
        assert task.labels[0] == "engineType:spark-3.2.1"
        assert task.params == {"variable": {"dt": "2024-01-01"}}
        assert task.source == {"requestIP": "10.0.0.5"}
        assert task.raw["canRetry"] is False

    def test_job_reattaches_via_jobhistory(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        gw.on("GET", "jobhistory/1234/get", {"task": TASK})
        job = token_client.job(1234)
        assert isinstance(job, Job)
        assert (job.exec_id, job.task_id) == (EXEC_ID, 1234)

    def test_missing_stronger_exec_id_is_rebuilt(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        brief = {k: v for k, v in TASK.items() if k != "strongerExecId"}
        gw.on("GET", "jobhistory/1234/get", {"task": brief})
        assert token_client.task(1234).exec_id == EXEC_ID

    def test_list_sends_filters(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "jobhistory/list", {"totalPage": 57, "tasks": [TASK]})
        page = token_client.tasks(
            page=2,
            page_size=10,
            status=["running", JobStatus.INITED],
            creator="IDE",
            engine_type="spark-3.2.1",
            start=datetime(2024, 1, 1, tzinfo=timezone.utc),
            end=1704160800000,
        )
        assert page.total == 57
        assert page.tasks[0].task_id == 1234
        assert gw.requests[0].query == {
            "pageNow": ["2"],
            "pageSize": ["10"],
            "status": ["Running,Inited"],
            "creator": ["IDE"],
            "executeApplicationName": ["spark"],
            "startDate": ["1704067200000"],
            "endDate": ["1704160800000"],
        }

    def test_non_numeric_task_id_is_refused(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        with pytest.raises(ConfigurationError, match="task_id"):
            token_client.task("12a")  # type: ignore[arg-type]
        assert gw.requests == []

    def test_spring_error_for_a_bad_id_is_a_protocol_error(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        """§1.5.3: Spring's own error document is not an envelope; quote it."""
        spring = {
            "timestamp": 1,
            "status": 400,
            "error": "Bad Request",
            "path": "/api/jobhistory/9/get",
        }
        gw.on("GET", "jobhistory/9/get", Reply.raw_json(spring, status=400))
        with pytest.raises(ProtocolError, match="Bad Request") as info:
            token_client.task(9)
        assert info.value.http_status == 400


class TestFilesystem:
    """getDirFileTrees/openFile/fileInfo/openLog/resultsetToExcel."""

    def test_dir_tree_lists_children(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        children = [
            {
                "name": name,
                "path": f"{ROOT}/{name}",
                "properties": {"size": "7900", "modifytime": "1704074460000"},
                "children": None,
                "isLeaf": True,
                "parentPath": ROOT,
            }
            for name in ("_0.dolphin", "_1.dolphin", "_10.dolphin", "_2.dolphin")
        ]
        tree = {"name": "1234", "path": ROOT, "properties": None, "isLeaf": False,
                "parentPath": None, "children": children}  # fmt: skip
        gw.on("GET", "filesystem/getDirFileTrees", {"dirFileTrees": tree})
        entries = token_client.dir_tree(ROOT)
        assert entries is not None
        assert [e.name for e in entries] == [
            "_0.dolphin",
            "_1.dolphin",
            "_10.dolphin",
            "_2.dolphin",
        ]
        assert entries[0].size == 7900
        assert entries[0].is_leaf
        assert entries[0].modify_time == datetime(2024, 1, 1, 2, 1, tzinfo=timezone.utc)
        assert gw.requests[0].param("path") == ROOT

    def test_missing_directory_is_none(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "filesystem/getDirFileTrees", {"dirFileTrees": None})
        assert token_client.dir_tree(ROOT + "/nope") is None

    def test_open_file_sends_paging_and_null_value(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        data = {
            "type": "2",
            "page": 3,
            "totalPage": 0,
            "totalLine": 2,
            "metadata": [
                {"columnName": "id", "comment": "NULL", "dataType": "int"},
                {"columnName": "name", "comment": "the name", "dataType": "string"},
            ],
            "fileContent": [["1", "alice"], ["2", None]],
        }
        gw.on("GET", "filesystem/openFile", data)
        page = token_client.open_file(f"{ROOT}/_0.dolphin", page=3, page_size=2)
        assert [c.name for c in page.columns] == ["id", "name"]
        assert page.columns[0].comment is None
        assert page.columns[1].comment == "the name"
        assert page.rows == [["1", "alice"], ["2", None]]
        assert (page.type, page.page, page.total_line) == ("2", 3, 2)
        assert gw.requests[0].query == {
            "path": [f"{ROOT}/_0.dolphin"],
            "page": ["3"],
            "pageSize": ["2"],
            "nullValue": ["LINKIS_NULL"],
        }

    def test_text_result_rows_are_one_element_lists(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        data = {"type": "1", "page": 1, "totalPage": 0, "totalLine": 2, "metadata": "NULL",
                "fileContent": [["hello"], ["world"]]}  # fmt: skip
        gw.on("GET", "filesystem/openFile", data)
        page = token_client.open_file(f"{ROOT}/_1.dolphin", null_value=None)
        assert page.columns == ()
        assert page.rows == [["hello"], ["world"]]
        assert "nullValue" not in gw.requests[0].query

    def test_file_info(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "filesystem/fileInfo", {"path": "p", "colNumber": 2, "rowNumber": "120000"})
        info = token_client.file_info("hdfs:///p/_0.dolphin")
        assert (info.col_number, info.row_number) == (2, 120000)
        assert gw.requests[0].param("pageSize") == "-1"

    def test_open_log_reads_slot_three(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        log = ["e1\n", "", "i1\ni2\n", "i1\ne1\ni2\n"]
        gw.on("GET", "filesystem/openLog", {"log": log})
        chunk = token_client.open_log(TASK["logPath"])  # type: ignore[arg-type]
        assert chunk.lines == ("i1", "e1", "i2")
        assert chunk.error_lines == ("e1",)
        assert chunk.from_line == 3


class TestExport:
    """resultsetToExcel is streamed to bytes, a path or a binary file."""

    CSV = b"id,name\n1,alice\n2,NULL\n" * 2000

    def test_export_to_bytes(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        gw.on("GET", "filesystem/resultsetToExcel", Reply(body=self.CSV, content_type="text/plain"))
        assert token_client.export_result(f"{ROOT}/_0.dolphin", limit=100000) == self.CSV
        assert gw.requests[0].query == {
            "path": [f"{ROOT}/_0.dolphin"],
            "outputFileType": ["csv"],
            "charset": ["utf-8"],
            "csvSeparator": [","],
            "nullValue": ["NULL"],
            "limit": ["100000"],
        }

    def test_export_to_a_path(
        self, gw: LinkisDouble, token_client: LinkisClient, tmp_path: Path
    ) -> None:
        gw.on("GET", "filesystem/resultsetToExcel", Reply(body=self.CSV, content_type="text/plain"))
        dest = tmp_path / "out.csv"
        assert token_client.export_result(f"{ROOT}/_0.dolphin", dest=dest, separator="\t") == len(
            self.CSV
        )
        assert dest.read_bytes() == self.CSV
        assert gw.requests[0].param("csvSeparator") == "t"

    def test_export_xlsx_to_a_binary_file(
        self, gw: LinkisDouble, token_client: LinkisClient
    ) -> None:
        xlsx = b"PK\x03\x04" + b"\x00" * 5000
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        gw.on("GET", "filesystem/resultsetToExcel", Reply(body=xlsx, content_type=ctype))
        out = io.BytesIO()
        assert token_client.export_result(f"{ROOT}/_0.dolphin", file_type="xlsx", dest=out) == len(
            xlsx
        )
        assert out.getvalue() == xlsx

    def test_text_error_with_http_200_raises(
        self, gw: LinkisDouble, token_client: LinkisClient, tmp_path: Path
    ) -> None:
        """§10.2: export failures are HTTP 200 + text/plain ``error(错误):…``."""
        text = (
            "error(错误):errCode: 80010 ,desc: The user: bob has no permission to view the "
            "contents of the directory ,ip: host2 ,port: 9105"
        )
        gw.on(
            "GET",
            "filesystem/resultsetToExcel",
            Reply.text(text, content_type="text/plain; charset=utf-8"),
        )
        dest = tmp_path / "out.csv"
        with pytest.raises(RequestFailedError, match="no permission") as info:
            token_client.export_result(f"{ROOT}/_0.dolphin", dest=dest)
        assert info.value.err_code == 80010
        assert list(tmp_path.iterdir()) == []

    def test_bad_file_type_is_refused(self, gw: LinkisDouble, token_client: LinkisClient) -> None:
        with pytest.raises(ConfigurationError, match="csv"):
            token_client.export_result("hdfs:///x/_0.dolphin", file_type="xls")
        assert gw.requests == []


class TestResultIndex:
    """§10.9: result files list lexicographically; result_index sorts numerically."""

    def test_numeric_sort(self) -> None:
        names = ["_0.dolphin", "_1.dolphin", "_10.dolphin", "_2.dolphin", "alias_3.dolphin"]
        assert sorted(names, key=lambda n: result_index(n) or 0) == [
            "_0.dolphin",
            "_1.dolphin",
            "_2.dolphin",
            "alias_3.dolphin",
            "_10.dolphin",
        ]
        assert result_index(f"{ROOT}/_10.dolphin") == 10
        assert result_index("readme.txt") is None
