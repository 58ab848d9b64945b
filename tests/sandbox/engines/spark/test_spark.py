"""engines/spark.py: real Spark behind the sandbox: per-job task counts, kill by job group,
typed results."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobCancelled, JobFailed
from linkis_magic.job import JobSnapshot
from linkis_magic.protocol import JobStatus
from tests.support.sandbox import SandboxProcess

pytestmark = pytest.mark.spark

ENGINE = "spark-3.5.0"
JOIN = """
select a.k, count(*) as n, sum(b.v) as s
from (select id % 100 as k, id from range(3000000)) a
join (select id, id * 2 as v from range(3000000)) b on a.id = b.id
group by a.k order by a.k
"""


@pytest.fixture
def client(spark_sandbox: SandboxProcess) -> Iterator[LinkisClient]:
    with LinkisClient(spark_sandbox.url, user="alice", password="alice-secret") as c:
        yield c


class TestProgress:
    """progressInfo has one entry per Spark job, with task counts rising to their totals."""

    def test_join_and_aggregation_report_several_jobs(self, client: LinkisClient) -> None:
        snaps: list[JobSnapshot] = []
        job = client.submit(JOIN, engine_type=ENGINE)
        assert job.wait(on_update=snaps.append) is JobStatus.SUCCEED
        final = job.snapshot().stages
        assert len(final) >= 2, final
        assert all(st.total > 0 and st.succeeded == st.total for st in final), final
        assert all(st.id.startswith("jobId-") for st in final)
        seen_partial = [
            st for snap in snaps for st in snap.stages if st.total and st.succeeded < st.total
        ]
        assert seen_partial, "no snapshot showed a stage before its tasks were done"
        driver = [line for line in job.log_lines if "[spark driver]" in line]
        assert any("Job" in line and "finished" in line for line in driver), driver[-5:]
        (frame,) = job.frames()
        assert len(frame) == 100
        assert int(frame["n"].sum()) == 3_000_000
        assert int(frame["s"].sum()) == 2 * sum(range(3_000_000))


class TestKill:
    """Kill cancels the job's Spark job group and the job ends Cancelled."""

    def test_kill_long_spark_job(self, client: LinkisClient) -> None:
        job = client.submit(
            "select count(*) from range(0, 20000000000, 1, 4) where id % 7 = 3",
            engine_type=ENGINE,
        )
        running = threading.Event()
        cancel = threading.Event()

        def on_update(snap: JobSnapshot) -> None:
            if any(st.running for st in snap.stages):
                running.set()
                cancel.set()

        with pytest.raises(JobCancelled):
            job.wait(on_update=on_update, cancel=cancel, timeout=120)
        assert running.is_set()
        assert client.task(job.task_id).status is JobStatus.CANCELLED  # type: ignore[arg-type]


class TestTypes:
    """Spark's types land in .dolphin metadata so the client types them as on a cluster."""

    def test_types_round_trip(self, client: LinkisClient) -> None:
        job = client.submit(
            "select cast(1 as int) as i, cast(2 as bigint) as b, cast(1.5 as double) as d, "
            "cast(1.25 as decimal(10,2)) as dec, true as bo, date'2024-01-02' as dt, "
            "timestamp'2024-01-02 10:00:00' as ts, 'x,y' as s, cast(null as int) as n",
            engine_type=ENGINE,
        )
        job.wait()
        (frame,) = job.frames()
        row = frame.iloc[0]
        assert str(frame["i"].dtype) == "Int64" and row["i"] == 1
        assert str(frame["b"].dtype) == "Int64" and row["b"] == 2
        assert frame["d"].dtype == "float64" and row["d"] == 1.5
        assert row["dec"] == Decimal("1.25")
        assert str(frame["bo"].dtype) == "boolean" and bool(row["bo"]) is True
        assert row["dt"] == pd.Timestamp("2024-01-02")
        assert row["ts"] == pd.Timestamp("2024-01-02 10:00:00")
        assert row["s"] == "x,y"
        assert pd.isna(row["n"])


class TestRunTypes:
    """py runs with `spark` in scope; scala is refused with a Linkis error."""

    def test_python_sees_the_spark_session(self, client: LinkisClient) -> None:
        job = client.submit("print(spark.range(7).count())", run_type="py", engine_type=ENGINE)
        job.wait()
        (result,) = job.results()
        assert result.text is not None and result.text.strip() == "7"

    def test_scala_is_refused(self, client: LinkisClient) -> None:
        job = client.submit('println("hi")', run_type="scala", engine_type=ENGINE)
        with pytest.raises(JobFailed) as info:
            job.wait()
        assert info.value.err_code == 31002
