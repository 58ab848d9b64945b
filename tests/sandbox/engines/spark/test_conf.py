"""``--spark-conf KEY=VALUE`` (sandbox/__main__.py, engines/spark.py): the settings reach the
shared SparkSession, over the sandbox's own defaults. One cheap local[1] sandbox of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.sandbox import start_sandbox

pytestmark = pytest.mark.spark

ENGINE = "spark-3.5.0"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, login: Callable[..., Any]) -> Iterator[Any]:
    """alice on a local[1] Spark sandbox started with --spark-conf settings: one overrides a
    sandbox default (shuffle partitions, 8), one Spark's own (the app name), one adds a driver
    JVM option next to the sandbox's."""
    box = start_sandbox(
        tmp_path_factory.mktemp("spark-conf-sandbox"),
        "--no-demo-data",
        "--spark-master",
        "local[1]",
        "--spark-conf",
        "spark.sql.shuffle.partitions=3",
        "--spark-conf",
        "spark.app.name=custom-name",
        "--spark-conf",
        "spark.driver.extraJavaOptions=-Dlinkis.sandbox.probe=given",
    )
    try:
        yield login(box, "alice")
    finally:
        box.stop()


def _run(api: Any, code: str, run_type: str = "sql") -> dict[str, Any]:
    job = api.submit(code, run_type, engine_type=ENGINE)
    assert api.wait(job, timeout=180) == "Succeed", api.log_all(job)
    return job


class TestSparkConf:
    """What --spark-conf sets is what the Spark session runs with."""

    def test_a_sandbox_default_is_overridden(self, api: Any) -> None:
        """The engine's own session (what its SQL runs with) has 3, not the sandbox's 8."""
        job = _run(api, "print(spark.sql('SET spark.sql.shuffle.partitions').first()[1])", "py")
        (path,) = api.result_paths(job)
        assert api.open_file(path)["fileContent"] == [["3"]]

    def test_spark_settings_reach_the_context_and_the_driver(self, api: Any) -> None:
        job = _run(
            api,
            "jvm = sc._jvm.java.lang.System\n"
            "print(sc.appName, sc.getConf().get('spark.sql.shuffle.partitions'),"
            " jvm.getProperty('linkis.sandbox.probe'))\n"
            "spark.range(10).count()\n",
            "py",
        )
        (path,) = api.result_paths(job)
        assert api.open_file(path)["fileContent"] == [["custom-name 3 given"]]
        # the sandbox's own driver option is still there: its driver log reaches the job's log
        assert any("[spark driver]" in line for line in api.log_all(job))
