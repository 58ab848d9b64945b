"""engines/spark.py on a real standalone cluster: ``--spark-master spark://127.0.0.1:PORT``
with one master and one worker started from the installed pyspark (tests/support/
spark_cluster.py). The local[2] progress and type tests run unchanged against it; kill and
"the work ran on the worker" are checked here."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.sandbox.engines.spark.test_spark as local
from linkis_magic.client import LinkisClient
from linkis_magic.protocol import JobStatus
from tests.support.sandbox import USERS, SandboxProcess, start_sandbox
from tests.support.spark_cluster import SparkCluster, spark_cluster
from tests.support.wait import wait_until

# The module's first test also pays for the cluster's start and the warm-up job (bounded at
# 90 s each below), which on two busy cores alone can take the default 120 s.
pytestmark = [pytest.mark.spark, pytest.mark.timeout(360)]

ENGINE = local.ENGINE


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkCluster]:
    """A master and one worker (2 cores, 1 GiB) on loopback, stopped after the module."""
    with spark_cluster(tmp_path_factory.mktemp("spark-cluster"), cores=2, memory="1g") as c:
        yield c


@pytest.fixture(scope="module")
def cluster_sandbox(
    cluster: SparkCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxProcess]:
    """A sandbox whose spark-* jobs run on the cluster, its SparkSession already started (the
    first job waits for the executor), so the tests below see a warm application."""
    # Executors start Python workers with the driver's interpreter (same pyspark, same minor).
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    box = start_sandbox(
        tmp_path_factory.mktemp("spark-cluster-sandbox"),
        "--spark-master",
        cluster.master_url,
        env=env,
    )
    try:
        with LinkisClient(box.url, user="alice", password=USERS["alice"]) as c:
            assert c.submit("select 1", engine_type=ENGINE).wait(timeout=90) is JobStatus.SUCCEED
        yield box
    finally:
        box.stop()


@pytest.fixture
def client(cluster_sandbox: SandboxProcess) -> Iterator[LinkisClient]:
    with LinkisClient(cluster_sandbox.url, user="alice", password=USERS["alice"]) as c:
        yield c


def printed(client: LinkisClient, code: str) -> str:
    """What a py cell printed on the sandbox's Spark driver (``spark``/``sc`` in scope)."""
    job = client.submit(code, run_type="py", engine_type=ENGINE)
    assert job.wait(timeout=60) is JobStatus.SUCCEED
    (result,) = job.results()
    assert result.text is not None
    return result.text.strip()


class TestProgress(local.TestProgress):
    """The local[2] progress test on the cluster: a join with a shuffle reports one entry per
    Spark job, with task counts seen part-way and at their totals."""


class TestTypes(local.TestTypes):
    """The local[2] type round-trip on the cluster: every Spark type comes back typed."""


class TestKill:
    """A kill stops the Spark job group on the executor, not only the job's state."""

    def test_kill_cancels_the_job_and_frees_the_executor(self, client: LinkisClient) -> None:
        """The killed job ends Cancelled, and the next job on the same application's two
        cores succeeds."""
        job = client.submit(
            "select count(*) from range(0, 20000000000, 1, 4) where id % 7 = 3",
            engine_type=ENGINE,
        )
        wait_until(
            lambda: any(st.running for st in job.progress().stages),
            timeout=60,
            interval=0.1,
            what="a running stage on the executor",
        )
        assert job.status() is JobStatus.RUNNING
        job.kill()
        state = wait_until(
            lambda: (s := job.status()).is_terminal and s,
            timeout=60,
            interval=0.05,
            what="the killed job to end",
        )
        assert state is JobStatus.CANCELLED
        # the executor's cores are free again: the next job's tasks get them
        assert printed(client, "print(spark.range(10).count())") == "10"


class TestRanOnTheWorker:
    """The sandbox's application has an executor on the worker, and its tasks run there."""

    def test_executor_on_the_worker_runs_the_tasks(
        self, client: LinkisClient, cluster: SparkCluster
    ) -> None:
        app_id, master = printed(client, "print(sc.applicationId, sc.master)").split()
        assert master == cluster.master_url

        (app,) = [a for a in cluster.master_json()["activeapps"] if a["id"] == app_id]
        assert app["name"] == "linkis-sandbox" and app["state"] == "RUNNING"
        (worker,) = cluster.master_json()["workers"]
        assert worker["coresused"] > 0

        executors = [e for e in cluster.worker_json()["executors"] if e["appid"] == app_id]
        assert executors, cluster.worker_json()

        # A standalone executor runs in <worker dir>/<app id>/<executor id>; so do its tasks.
        cwds = ast.literal_eval(
            printed(
                client,
                "import os\n"
                "print(sorted(set(sc.parallelize(range(8), 4)"
                ".map(lambda _: os.getcwd()).collect())))",
            )
        )
        app_dir = (cluster.work_dir / app_id).resolve()
        assert cwds and all(Path(cwd).resolve().parent == app_dir for cwd in cwds), cwds
        assert {Path(cwd).name for cwd in cwds} <= {str(e["id"]) for e in executors}
