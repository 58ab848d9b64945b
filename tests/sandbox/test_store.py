"""store.py: the SQLite job history behind jobhistory get/list."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from linkis_magic.sandbox.store import TaskStore, exec_id_for

INSTANCE = "127.0.0.1:9001"


def _row(store: TaskStore, user: str = "alice", **fields: object) -> int:
    values: dict[str, object] = {
        "instance": INSTANCE,
        "submit_user": user,
        "execute_user": user,
        "status": "Inited",
    }
    values.update(fields)
    return store.create(**values)


class TestRows:
    """taskIDs come from SQLite's autoincrement; rows update column by column."""

    def test_ids_increase_across_reopening(self, tmp_path: Path) -> None:
        store = TaskStore(tmp_path / "h.sqlite3")
        first, second = _row(store), _row(store)
        store.close()
        again = TaskStore(tmp_path / "h.sqlite3")
        third = _row(again)
        again.close()
        assert first < second < third

    def test_update_and_get(self, tmp_path: Path) -> None:
        store = TaskStore(tmp_path / "h.sqlite3")
        task_id = _row(store)
        store.update(task_id, status="Succeed", exec_id="IDE_alice_spark_1", progress=1.0)
        row = store.get(task_id)
        assert row is not None and row.status == "Succeed" and row.progress == 1.0
        assert store.get(task_id + 100) is None
        store.close()

    def test_unknown_columns_are_refused(self, tmp_path: Path) -> None:
        store = TaskStore(tmp_path / "h.sqlite3")
        with pytest.raises(KeyError, match="nope"):
            _row(store, nope=1)
        with pytest.raises(KeyError, match="nope"):
            store.update(_row(store), nope=1)
        store.close()


class TestList:
    """A user's own rows, newest first, one page at a time, with the total row count."""

    def test_own_rows_newest_first_with_total(self, tmp_path: Path) -> None:
        store = TaskStore(tmp_path / "h.sqlite3")
        mine = [_row(store, created_time=1000 + i) for i in range(5)]
        _row(store, user="bob", created_time=2000)
        rows, total = store.list("alice", page=1, page_size=2)
        assert total == 5
        assert [r.id for r in rows] == mine[::-1][:2]
        rows, _ = store.list("alice", page=3, page_size=2)
        assert [r.id for r in rows] == [mine[0]]
        store.close()

    def test_filters(self, tmp_path: Path) -> None:
        store = TaskStore(tmp_path / "h.sqlite3")
        failed = _row(store, status="Failed", run_type="sql", created_time=10)
        _row(store, status="Succeed", run_type="python", created_time=20)
        assert [r.id for r in store.list("alice", statuses=["Failed", ""])[0]] == [failed]
        assert [r.id for r in store.list("alice", filters={"run_type": "sql"})[0]] == [failed]
        assert store.list("alice", start_ms=15)[1] == 1
        assert store.list("alice", end_ms=15)[1] == 1
        assert [r.id for r in store.list("alice", task_id=failed)[0]] == [failed]
        store.close()


class TestTaskObject:
    """to_task gives every jobhistory key, numbers for ids and dates, a string progress."""

    def test_shape(self, tmp_path: Path) -> None:
        store = TaskStore(tmp_path / "h.sqlite3")
        task_id = _row(store, exec_id="IDE_alice_spark_1", progress=0.5, created_time=100)
        store.update(task_id, end_time=350, engine_start_time=150)
        row = store.get(task_id)
        assert row is not None
        task = row.to_task()
        store.close()
        assert task["taskID"] == task_id and task["progress"] == "0.5"
        assert task["strongerExecId"] == exec_id_for(INSTANCE, "IDE_alice_spark_1")
        assert task["strongerExecId"].startswith("exec_id018014linkis-cg-entrance127.0.0.1:9001")
        assert task["costTime"] == 250 and task["requestSpendTime"] == 200
        assert task["labels"] == [] and task["canRetry"] is False


class TestEngineColumns:
    """The engine a job ran on is kept (§4.1 engineInstance, isReuse, ticketId, ecmInstance),
    also in a history file written before those columns existed."""

    def test_engine_of_a_task(self, tmp_path: Path) -> None:
        store = TaskStore(tmp_path / "h.sqlite3")
        task_id = _row(store)
        store.update(
            task_id,
            engine_instance="127.0.0.1:40001",
            ecm_instance=INSTANCE,
            ticket_id="t-1",
            is_reuse=1,
        )
        row = store.get(task_id)
        store.close()
        assert row is not None
        task = row.to_task()
        assert task["engineInstance"] == "127.0.0.1:40001" and task["isReuse"] is True
        assert task["ecmInstance"] == INSTANCE and task["ticketId"] == "t-1"

    def test_older_history_file_gets_the_columns(self, tmp_path: Path) -> None:
        path = tmp_path / "h.sqlite3"
        store = TaskStore(path)
        task_id = _row(store)
        store.close()
        db = sqlite3.connect(path)
        for column in ("engine_instance", "ecm_instance", "ticket_id", "is_reuse"):
            db.execute(f"ALTER TABLE tasks DROP COLUMN {column}")
        db.commit()
        db.close()
        store = TaskStore(path)
        old = store.get(task_id)
        store.update(task_id, engine_instance="127.0.0.1:40002")
        new = store.get(task_id)
        store.close()
        assert old is not None and old.to_task()["engineInstance"] is None
        assert old.to_task()["isReuse"] is None
        assert new is not None and new.to_task()["engineInstance"] == "127.0.0.1:40002"
