"""push into real Spark (spark group): the load job's Spark SQL runs natively, reading the
uploaded Parquet parts (INT96 timestamps) from the sandbox's HDFS directory."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobFailed
from tests.support.sandbox import USERS, SandboxProcess

pytestmark = pytest.mark.spark

ENGINE = "spark-3.5.0"


@pytest.fixture(scope="module")
def client(spark_sandbox: SandboxProcess) -> Iterator[LinkisClient]:
    with LinkisClient(spark_sandbox.url, user="alice", password=USERS["alice"]) as c:
        yield c


def pull(client: LinkisClient, sql: str) -> pd.DataFrame:
    job = client.submit(sql, engine_type=ENGINE)
    job.wait(120)
    (frame,) = job.frames()
    return frame


def leftovers(client: LinkisClient) -> list[str]:
    entries = client.files(client.user_root("hdfs")) or []
    return [e.name for e in entries if e.name.startswith("linkis_magic_push_")]


class TestPushIntoSpark:
    """Types round-trip through Spark; modes and partitions are Spark's own SQL."""

    def test_types_round_trip(self, client: LinkisClient) -> None:
        name = "sp_push_" + uuid.uuid4().hex[:8]
        frame = pd.DataFrame(
            {
                "i": pd.array([1, None, -3], dtype="Int64"),
                "f": [1.5, None, 2.25],
                "d": [Decimal("1.50"), None, Decimal("-22.25")],
                "b": pd.array([True, None, False], dtype="boolean"),
                "s": pd.array(["a", None, "华东"], dtype="string"),
                "day": pd.Series(
                    [dt.datetime(2024, 1, 1), None, dt.datetime(1999, 12, 31)],
                    dtype="datetime64[s]",
                ),
                "ts": pd.Series(
                    [dt.datetime(2024, 1, 1, 10, 11, 12, 123456), None, dt.datetime(2000, 2, 29)],
                    dtype="datetime64[us]",
                ),
            }
        )
        client.push(frame, f"default.{name}", engine_type=ENGINE)
        back = pull(client, f"select * from default.{name} order by i nulls last")
        expected = frame.iloc[[2, 0, 1]].reset_index(drop=True)
        pd.testing.assert_frame_equal(back, expected)
        assert leftovers(client) == []

    def test_modes_and_partition(self, client: LinkisClient) -> None:
        name = "sp_push_" + uuid.uuid4().hex[:8]
        client.push(pd.DataFrame({"x": [1, 2]}), name, partition="ds=a", engine_type=ENGINE)
        client.push(pd.DataFrame({"x": [3]}), name, mode="append", partition="ds=b",
                    engine_type=ENGINE)  # fmt: skip
        client.push(pd.DataFrame({"x": [9]}), name, mode="replace", partition="ds=a",
                    engine_type=ENGINE)  # fmt: skip
        back = pull(client, f"select x, ds from {name} order by x")
        assert back.values.tolist() == [[3, "b"], [9, "a"]]
        with pytest.raises(JobFailed):
            client.push(pd.DataFrame({"x": ["text"], "y": [1]}), name, mode="append",
                        partition="ds=c", engine_type=ENGINE)  # fmt: skip
        assert leftovers(client) == []
