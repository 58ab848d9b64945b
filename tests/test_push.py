"""``LinkisClient.push`` against the sandbox: types round-trip, every mode, errors, cleanup.

The sandbox runs the load job's Spark SQL on DuckDB (``parquet.`hdfs:///...` `` read through
read_parquet); the spark group pushes into real Spark (tests/sandbox/engines/spark). After
every push, successful or not, the user's HDFS root holds no upload directory.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from linkis_magic._push import write_parts
from linkis_magic.client import LinkisClient
from linkis_magic.errors import ConfigurationError, GatewayError, JobFailed
from tests.support.proxy import FaultProxy
from tests.support.sandbox import USERS, SandboxProcess, running_sandbox

ENGINE = "spark-2.4.3"  # runs on DuckDB in a sandbox without --spark-master


def typed_frame(rows: int = 3) -> pd.DataFrame:
    """Every type the round trip promises, with a missing value in each column, in the dtypes
    ``%%linkis -o`` gives back."""
    base = pd.DataFrame(
        {
            "i": pd.array([1, None, -3], dtype="Int64"),
            "f": [1.5, None, 2.25],
            "d": [Decimal("1.50"), None, Decimal("-22.25")],
            "b": pd.array([True, None, False], dtype="boolean"),
            "s": pd.array(["a", None, '华东, "q"'], dtype="string"),
            "day": pd.Series(
                [dt.datetime(2024, 1, 1), None, dt.datetime(1999, 12, 31)], dtype="datetime64[s]"
            ),
            "ts": pd.Series(
                [dt.datetime(2024, 1, 1, 10, 11, 12, 123456), None, dt.datetime(2000, 2, 29)],
                dtype="datetime64[us]",
            ),
        }
    )
    return pd.concat([base] * (rows // 3 or 1), ignore_index=True).iloc[:rows]


def table_name() -> str:
    return "push_" + uuid.uuid4().hex[:10]


def pull(client: LinkisClient, sql: str) -> pd.DataFrame:
    job = client.submit(sql, engine_type=ENGINE)
    job.wait(60)
    (frame,) = job.frames()
    return frame


def leftovers(client: LinkisClient) -> list[str]:
    """Upload directories still in the user's HDFS root."""
    entries = client.files(client.user_root("hdfs")) or []
    return [e.name for e in entries if e.name.startswith("linkis_magic_push_")]


@pytest.fixture
def alice(sandbox_client: LinkisClient) -> Iterator[LinkisClient]:
    yield sandbox_client
    assert leftovers(sandbox_client) == []


class TestRoundTrip:
    """push then pull gives an equal frame, dtypes included."""

    def test_types(self, alice: LinkisClient) -> None:
        name = table_name()
        frame = typed_frame()
        job = alice.push(frame, f"default.{name}", engine_type=ENGINE)
        assert job.state is not None and job.state.value == "Succeed"
        back = pull(alice, f"select * from default.{name}")
        pd.testing.assert_frame_equal(back, frame)

    def test_many_parts(self, sandbox: SandboxProcess) -> None:
        frame = pd.DataFrame({"n": pd.array(range(20_000), dtype="Int64"), "s": "x" * 40})
        name = table_name()
        with (
            FaultProxy(sandbox.url) as proxy,
            LinkisClient(proxy.url, user="alice", password=USERS["alice"]) as client,
        ):
            seen: list[tuple[int, int]] = []
            client.push(frame, name, engine_type=ENGINE, part_bytes=64 * 1024,
                        on_progress=lambda s, t: seen.append((s, t)))  # fmt: skip
            uploads = proxy.count("POST", "filesystem/upload")
            assert uploads >= 3  # one request per part, each part <= part_bytes
            total = seen[-1][1]
            assert seen[0] == (0, total) and seen[-1] == (total, total)
            sent = [s for s, _ in seen]
            assert sent == sorted(set(sent))  # growing, each figure once
            back = pull(client, f"select count(*) c, sum(n) s from {name}")
            assert back["c"].tolist() == [20_000] and back["s"].tolist() == [sum(range(20_000))]
            assert leftovers(client) == []

    def test_aware_and_unsigned_and_categorical(self, alice: LinkisClient) -> None:
        name = table_name()
        frame = pd.DataFrame(
            {
                "u": pd.Series([1, 2], dtype="uint32"),
                "c": pd.Categorical(["x", "y"]),
                "t": pd.to_datetime(["2024-01-01 10:00", "2024-06-01 00:30"]).tz_localize(
                    "Europe/Berlin"
                ),
            }
        )
        alice.push(frame, name, engine_type=ENGINE)
        back = pull(alice, f"select * from {name} order by u")
        assert back["u"].tolist() == [1, 2] and back["c"].tolist() == ["x", "y"]
        assert back["t"].tolist() == [pd.Timestamp("2024-01-01 09:00"),
                                      pd.Timestamp("2024-05-31 22:30")]  # fmt: skip


class TestModes:
    """create, replace and append; a static partition."""

    def test_create_twice_fails_before_any_upload(self, sandbox: SandboxProcess) -> None:
        name = table_name()
        with (
            FaultProxy(sandbox.url) as proxy,
            LinkisClient(proxy.url, user="alice", password=USERS["alice"]) as client,
        ):
            client.push(pd.DataFrame({"x": [1]}), name, engine_type=ENGINE)
            before = len(proxy.seen)
            with pytest.raises(ConfigurationError, match=f"{name} already exists"):
                client.push(pd.DataFrame({"x": [2]}), name, engine_type=ENGINE)
            assert not [s for s in proxy.seen[before:] if "filesystem" in s.path]

    def test_replace_and_append(self, alice: LinkisClient) -> None:
        name = table_name()
        alice.push(pd.DataFrame({"x": [1, 2]}), name, engine_type=ENGINE)
        alice.push(pd.DataFrame({"y": ["a"], "z": [0.5]}), name, mode="replace", engine_type=ENGINE)
        alice.push(pd.DataFrame({"y": ["b"], "z": [1.5]}), name, mode="append", engine_type=ENGINE)
        back = pull(alice, f"select * from {name} order by y")
        assert back.columns.tolist() == ["y", "z"] and back["y"].tolist() == ["a", "b"]

    def test_append_creates_a_missing_table(self, alice: LinkisClient) -> None:
        name = table_name()
        alice.push(pd.DataFrame({"x": [7]}), name, mode="append", engine_type=ENGINE)
        assert pull(alice, f"select x from {name}")["x"].tolist() == [7]

    def test_append_with_another_schema_shows_the_engine_error(self, alice: LinkisClient) -> None:
        name = table_name()
        alice.push(pd.DataFrame({"x": [1]}), name, engine_type=ENGINE)
        frame = pd.DataFrame({"x": [1], "y": [2], "z": [3]})
        with pytest.raises(JobFailed) as info:
            alice.push(frame, name, mode="append", engine_type=ENGINE)
        assert "column" in str(info.value).lower()

    def test_partition(self, alice: LinkisClient) -> None:
        name = table_name()
        alice.push(pd.DataFrame({"x": [1, 2]}), name, partition="ds=2024-01-01", engine_type=ENGINE)
        alice.push(pd.DataFrame({"x": [3]}), name, mode="append", partition="ds=2024-01-02",
                   engine_type=ENGINE)  # fmt: skip
        alice.push(pd.DataFrame({"x": [9]}), name, mode="replace", partition="ds=2024-01-01",
                   engine_type=ENGINE)  # fmt: skip
        back = pull(alice, f"select x, ds from {name} order by x")
        assert back.values.tolist() == [[3, "2024-01-02"], [9, "2024-01-01"]]


class TestCleanup:
    """The upload directory goes, whether the push worked, failed, or was interrupted."""

    def test_interrupted_upload(self, alice: LinkisClient) -> None:
        name = table_name()
        calls: list[tuple[int, int]] = []

        def interrupt(sent: int, total: int) -> None:
            calls.append((sent, total))
            if len(calls) == 3:  # mid-upload, as Ctrl-C would arrive
                raise KeyboardInterrupt

        frame = pd.DataFrame({"s": [uuid.uuid4().hex * 4 for _ in range(60_000)]})
        with pytest.raises(KeyboardInterrupt):
            alice.push(frame, name, engine_type=ENGINE, part_bytes=2 << 20, on_progress=interrupt)
        sent, total = calls[-1]
        assert 0 < sent < total  # stopped with parts still to go
        assert name not in [t.name for t in alice.tables("default")]

    def test_interrupted_job(self, alice: LinkisClient) -> None:
        def interrupt(snapshot: Any) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            alice.push(pd.DataFrame({"x": [1]}), table_name(), engine_type=ENGINE,
                       on_update=interrupt)  # fmt: skip

    def test_failed_job(self, alice: LinkisClient) -> None:
        with pytest.raises(JobFailed):
            alice.push(pd.DataFrame({"x": [1]}), "no_such_db.t", engine_type=ENGINE)

    def test_upload_over_the_cap(self) -> None:
        with (
            running_sandbox("--upload-max-bytes", "8192") as box,
            LinkisClient(box.url, user="alice", password=USERS["alice"]) as client,
        ):
            frame = pd.DataFrame({"s": [uuid.uuid4().hex for _ in range(2000)]})
            with pytest.raises(GatewayError, match=r"exceeds the configured maximum \(8192\)"):
                client.push(frame, "big", engine_type=ENGINE)
            assert leftovers(client) == []
            assert "big" not in [t.name for t in client.tables("default")]


class TestParts:
    """The Parquet parts themselves: bounded, complete, typed for Spark 2.4."""

    def test_parts_are_bounded_and_complete(self, tmp_path: Path) -> None:
        frame = pd.DataFrame({"n": range(50_000), "s": [uuid.uuid4().hex for _ in range(50_000)]})
        plan = write_parts(frame, tmp_path, part_bytes=400_000, chunk_bytes=50_000)
        assert len(plan.parts) > 1 and all(p.stat().st_size <= 400_000 for p in plan.parts)
        assert plan.total_bytes == sum(p.stat().st_size for p in plan.parts)
        files = [pq.ParquetFile(p) for p in plan.parts]
        assert any(f.num_row_groups > 1 for f in files)  # converted a chunk at a time
        back = pa.concat_tables([f.read() for f in files]).to_pandas()
        assert back["n"].tolist() == list(range(50_000))

    def test_timestamps_are_int96_and_dates_date32(self, tmp_path: Path) -> None:
        plan = write_parts(typed_frame(), tmp_path)
        schema = pq.ParquetFile(plan.parts[0]).schema
        assert schema.column(6).physical_type == "INT96"
        assert str(schema.column(5).logical_type) == "Date"

    def test_an_empty_frame_keeps_its_columns(self, tmp_path: Path) -> None:
        plan = write_parts(typed_frame().iloc[:0], tmp_path)
        (part,) = plan.parts
        assert pq.read_table(part).column_names == list(typed_frame().columns)
