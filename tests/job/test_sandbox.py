"""Job and result loading end to end against the real sandbox gateway (tests/conftest.py)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobCancelled, JobFailed
from linkis_magic.job import JobSnapshot
from linkis_magic.protocol import JobStatus
from linkis_magic.results import FAST_PATH_ROWS, frame_from_rows, load_results
from tests.support.sandbox import SandboxProcess, start_sandbox

SQL = "spark-3.2.1"
PY = "python-python3"


def counted_client(sandbox: SandboxProcess) -> tuple[LinkisClient, list[str]]:
    """A client whose session records every request URL (a response hook, no patching)."""
    urls: list[str] = []
    session = requests.Session()

    def record(resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        urls.append(resp.request.url or "")

    session.hooks["response"].append(record)
    client = LinkisClient(
        sandbox.url, user="alice", password=sandbox.users["alice"], session=session
    )
    return client, urls


@pytest.fixture(scope="module")
def forgetful(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a sandbox whose entrance forgets every job as soon as it finished."""
    box = start_sandbox(
        tmp_path_factory.mktemp("forgetful"), "--job-retention-count", "0", token=None
    )
    yield box.url
    box.stop()


class TestSubmitWaitFrames:
    """submit -> wait -> typed frames, in result-set order."""

    def test_typed_columns_and_nulls(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.submit(
            "select 1 as i, cast(null as int) as n, 'a' as s, cast(null as string) as ns,"
            " '' as e, date '2024-01-02' as d, timestamp '2024-01-02 03:04:05.5' as ts,"
            " cast(1.25 as decimal(10,2)) as dec, true as b, cast(2.5 as double) as f",
            engine_type=SQL,
        )
        assert job.wait() is JobStatus.SUCCEED
        (frame,) = job.frames()
        assert frame["i"].dtype == "Int64" and frame["i"][0] == 1
        assert frame["n"].dtype == "Int64" and pd.isna(frame["n"][0])
        assert frame["s"][0] == "a" and pd.isna(frame["ns"][0]) and frame["e"][0] == ""
        assert frame["d"][0] == pd.Timestamp("2024-01-02")
        assert frame["ts"][0] == pd.Timestamp("2024-01-02 03:04:05.5")
        assert frame["dec"][0] == Decimal("1.25")
        assert frame["b"].dtype == "boolean" and bool(frame["b"][0])
        assert frame["f"].dtype == "float64" and frame["f"][0] == 2.5

    def test_twelve_result_sets_in_numeric_order(self, sandbox_client: LinkisClient) -> None:
        code = ";\n".join(f"select {i} as v" for i in range(12))
        job = sandbox_client.submit(code, engine_type=SQL)
        frames = job.frames()
        assert [int(f["v"][0]) for f in frames] == list(range(12))

    def test_limit_is_reported(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.submit("select range as x from range(100)", engine_type=SQL)
        (rs,) = job.results(limit=10)
        assert rs.truncated and rs.rows == 10
        assert rs.frame is not None and rs.frame["x"].tolist() == list(range(10))
        (full,) = job.results()
        assert not full.truncated and full.rows == 100

    def test_execute_0x_body_gives_the_same_job(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.execute("select 41 + 1 as answer", engine_type="spark")
        (frame,) = job.frames()
        assert frame["answer"].tolist() == [42]

    def test_python_text_result(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.submit("print('hello')", run_type="python", engine_type=PY)
        job.wait()
        (rs,) = job.results()
        assert rs.frame is None and rs.text is not None and "hello" in rs.text
        assert job.frames() == []


class TestFailures:
    """A failed query raises JobFailed with what Linkis said."""

    def test_failed_query(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.submit("select * from no_such_table_xyz", engine_type=SQL)
        with pytest.raises(JobFailed) as info:
            job.wait()
        exc = info.value
        assert exc.state == "Failed" and exc.err_code is not None and exc.err_code > 0
        assert exc.err_desc and "no_such_table_xyz" in exc.err_desc
        assert exc.error_lines and any("no_such_table_xyz" in line for line in exc.error_lines)
        assert "no_such_table_xyz" in str(exc)
        with pytest.raises(JobFailed):
            job.frames()


class TestKill:
    """Cancel events and interrupts kill the real job."""

    def test_cancel_event(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.submit(
            "import time\nprint('start', flush=True)\ntime.sleep(60)",
            run_type="python",
            engine_type=PY,
        )
        cancel = threading.Event()

        def on_update(snap: JobSnapshot) -> None:
            if snap.state is JobStatus.RUNNING:
                cancel.set()

        with pytest.raises(JobCancelled):
            job.wait(on_update=on_update, cancel=cancel)
        assert job.status() is JobStatus.CANCELLED
        assert sandbox_client.task(job.task_id or 0).status is JobStatus.CANCELLED

    def test_keyboard_interrupt_in_on_update(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.submit(
            "import time\ntime.sleep(60)", run_type="python", engine_type=PY
        )

        def on_update(snap: JobSnapshot) -> None:
            if snap.state is JobStatus.RUNNING:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            job.wait(on_update=on_update)
        assert job.state is JobStatus.CANCELLED
        assert sandbox_client.task(job.task_id or 0).status is JobStatus.CANCELLED


PRINT_LINES = (
    "import time\n"
    "for i in range({n}):\n"
    "    print(f'line {{i}}', flush=True)\n"
    "    if i % 100 == 0:\n"
    "        time.sleep(0.05)\n"
)
_LINE = re.compile(r"\bline (\d+)$")


def printed(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := _LINE.search(line))]


class TestLog:
    """Log lines arrive complete, in order, once."""

    def test_long_log_is_complete_and_not_duplicated(self, sandbox: SandboxProcess) -> None:
        client, urls = counted_client(sandbox)
        with client:
            job = client.submit(PRINT_LINES.format(n=2000), run_type="python", engine_type=PY)
            job.wait()
        assert printed(job.log_lines) == list(range(2000))
        assert len(job.log_lines) == len(set(job.log_lines))
        log_calls = [u for u in urls if u.split("?")[0].endswith("/log")]
        assert log_calls and all("size=10000" in u for u in log_calls)

    def test_reattach_to_a_forgotten_job_reads_openlog(self, forgetful: str) -> None:
        urls: list[str] = []
        session = requests.Session()
        session.hooks["response"].append(lambda resp, *a, **k: urls.append(resp.request.url))
        with LinkisClient(
            forgetful, user="alice", password="alice-secret", session=session
        ) as client:
            job = client.submit(PRINT_LINES.format(n=300), run_type="python", engine_type=PY)
            job.wait()
            assert printed(job.log_lines) == list(range(300))
            assert job.task_id is not None
            again = client.job(job.task_id)
            assert again.wait() is JobStatus.SUCCEED
            assert again.log_lines == job.log_lines
            assert any("/filesystem/openLog" in u for u in urls)
            (rs,) = again.results()
            assert rs.text is not None and rs.text.splitlines()[-1] == "line 299"


class TestCsvFastPath:
    """Big tables stream as CSV and equal what the openFile pages say."""

    def test_big_table_matches_pages(self, sandbox: SandboxProcess, tmp_path: Path) -> None:
        n = FAST_PATH_ROWS + 1234
        sql = (
            "select range as id, range * 1000000000 as big, range / 8.0 as score,"
            " case when range % 1000 = 7 then null when range % 1000 = 8 then ''"
            " else 'name ' || range end as name,"
            " date '2024-01-01' + cast(range % 365 as integer) as day,"
            " timestamp '2024-01-01 00:00:00' + to_seconds(range) as ts"
            f" from range({n})"
        )
        client, urls = counted_client(sandbox)
        with client:
            job = client.submit(sql, engine_type=SQL)
            (rs,) = job.results()
            exports = [u for u in urls if "resultsetToExcel" in u]
            assert len(exports) == 1
            assert rs.frame is not None and len(rs.frame) == n and not rs.truncated
            # the pages path, read independently with the client
            rows: list[list[str | None]] = []
            page = 1
            while True:
                got = client.open_file(rs.path, page=page, page_size=5000)
                rows.extend(got.rows)
                if len(got.rows) < 5000:
                    break
                page += 1
            expected = frame_from_rows(got.columns or rs.columns, rows)
        pd.testing.assert_frame_equal(rs.frame, expected)
        assert str(rs.frame["id"].dtype) == "Int64"
        assert str(rs.frame["day"].dtype) == "datetime64[s]"
        assert pd.isna(rs.frame["name"][7]) and rs.frame["name"][8] == ""

    def test_load_results_from_result_location(self, sandbox_client: LinkisClient) -> None:
        job = sandbox_client.submit("select 1 as a; select 2 as b", engine_type=SQL)
        job.wait()
        assert job.task_id is not None
        location = sandbox_client.task(job.task_id).result_location
        assert location is not None
        loaded = load_results(sandbox_client, location)
        assert [list(r.frame.columns) for r in loaded if r.frame is not None] == [["a"], ["b"]]
