"""Spark engine connections (engines/spark.py, engineconns.py): a session of its own on the
shared SparkContext, reused by the next job, and killEngineConn cancels its running Spark job
(docs/linkis-protocol.md §14.2, §14.3). Raw HTTP, creators of their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.nodes import instance, label
from tests.support.sandbox import SandboxProcess
from tests.support.wait import wait_until

pytestmark = pytest.mark.spark

ENGINE = "spark-3.5.0"
LONG = "select count(*) from range(0, 20000000000, 1, 4) where id % 7 = 3"


@pytest.fixture(scope="module")
def api(spark_sandbox: SandboxProcess, login: Callable[..., Any]) -> Any:
    """alice on the Spark sandbox, with the shared SparkSession already started."""
    alice = login(spark_sandbox, "alice")
    job = alice.submit("select 1", engine_type=ENGINE, userCreator="alice-Warm")
    assert alice.wait(job, timeout=180) == "Succeed"
    return alice


def _run(api: Any, code: str, creator: str) -> tuple[dict[str, Any], str]:
    job = api.submit(code, engine_type=ENGINE, userCreator=f"alice-{creator}")
    return job, api.wait(job, timeout=120)


class TestSparkEngines:
    """A Spark engine appears in the list, is reused, and keeps its temp views."""

    def test_engine_is_listed_and_reused(self, api: Any, spark_sandbox: SandboxProcess) -> None:
        first, state = _run(api, "create or replace temp view mine as select 5 as n", "SparkEng")
        assert state == "Succeed", api.log_all(first)
        engine, reused = api.engine_of(first)
        assert not reused
        second, state = _run(api, "select n from mine", "SparkEng")
        assert state == "Succeed", api.log_all(second)
        assert api.engine_of(second) == (engine, True)
        assert api.open_file(api.result_paths(second)[0])["fileContent"] == [["5"]]
        (listed,) = api.engines("SparkEng")
        assert instance(listed) == engine
        assert label(listed, "engineType")["stringValue"] == ENGINE
        assert listed["nodeTaskInfo"]["succeedTasks"] == 2
        # the driver JVM holds it: a process of its own, not the sandbox's
        assert listed["identifier"].isdigit()
        assert int(listed["identifier"]) != spark_sandbox.proc.pid
        asked = listed["nodeResource"]["maxResource"]
        assert asked["cores"] == 2 and asked["memory"] == 1 << 30  # local[2], driver 1g

    def test_temp_views_are_the_engines_own(self, api: Any) -> None:
        _run(api, "create or replace temp view private_view as select 1 as n", "ViewA")
        other, state = _run(api, "select n from private_view", "ViewB")
        assert state == "Failed", api.log_all(other)


class TestKillSparkEngine:
    """killEngineConn cancels the engine's running Spark job; the next job starts anew."""

    def test_kill_cancels_the_running_spark_job(self, api: Any) -> None:
        _run(api, "create or replace temp view before_kill as select 1 as n", "SparkKill")
        job = api.submit(LONG, engine_type=ENGINE, userCreator="alice-SparkKill")

        def running() -> bool:
            data = api.get(f"/entrance/{job['execID']}/progress").json()["data"]
            return any(stage["runningTasks"] > 0 for stage in data["progressInfo"])

        wait_until(running, timeout=120, what="the Spark job to run tasks")
        engine, reused = api.engine_of(job)
        assert reused
        reply = api.kill_engine(engine)
        assert reply.status_code == 200, reply.text
        assert reply.json()["message"] == "Kill engineConn succeed."
        assert api.wait(job, timeout=120) == "Cancelled"
        assert engine not in [instance(e) for e in api.engines("SparkKill")]
        after, state = _run(api, "select n from before_kill", "SparkKill")
        assert state == "Failed"  # the temp view went with the engine's session
        new_engine, reused = api.engine_of(after)
        assert not reused and new_engine != engine
