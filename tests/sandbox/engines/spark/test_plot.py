"""linkis_magic.viz on real Spark (spark group): the plot and profile SQL runs on Spark SQL as
written (no transpiling), and the answers match what the rows say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib
import pytest

from linkis_magic import viz
from linkis_magic.client import LinkisClient
from linkis_magic.protocol import JobStatus
from tests.support.sandbox import SandboxProcess

matplotlib.use("Agg")
pytestmark = pytest.mark.spark

ENGINE = "spark-3.5.0"
# 1000 rows: v = id % 50 (every 10th row NULL), g = 'k' || (id % 3)
CREATE = (
    "create table viz_t using parquet as select id,"
    " case when id % 10 = 0 then null else cast(id % 50 as double) end as v,"
    " concat('k', cast(id % 3 as string)) as g from range(1000)"
)


@pytest.fixture(scope="module")
def spark_client(spark_sandbox: SandboxProcess) -> Iterator[LinkisClient]:
    with LinkisClient(spark_sandbox.url, user="alice", password="alice-secret") as client:
        job = client.submit("drop table if exists viz_t; " + CREATE, engine_type=ENGINE)
        assert job.wait() is JobStatus.SUCCEED
        yield client


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_histogram_boxplot_bar_and_profile_on_spark(spark_client: LinkisClient) -> None:
    hist: Any = viz.plot(spark_client, "histogram", "viz_t", ["v"], bins=5, engine=ENGINE)
    assert sum(p.get_height() for p in hist.patches) == 900
    assert hist.get_legend().get_texts()[0].get_text() == "v (100 NULLs)"
    box: Any = viz.plot(spark_client, "boxplot", "viz_t", ["v"], engine=ENGINE)
    assert box.get_xticklabels()[0].get_text().endswith("100 NULLs")
    bar: Any = viz.plot(spark_client, "bar", "viz_t", ["g"], top=2, engine=ENGINE)
    assert bar.get_title() == "g in viz_t: top 2 of 3 values, 0 NULLs"
    stats = viz.profile(spark_client, "viz_t", engine=ENGINE)
    assert stats.loc["nulls", "v"] == 100 and stats.loc["count", "id"] == 1000
    assert stats.loc["distinct", "g"] == 3 and stats.loc["max", "v"] == 49
