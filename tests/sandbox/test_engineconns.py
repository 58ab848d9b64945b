"""engineconns.py: a user's jobs run on engines that start on first use, are reused, idle out
and die when killed (docs/linkis-protocol.md §14.2, §14.3).

Every test uses a creator of its own, so the engines it sees are its own even on the shared
sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.sandbox.nodes import instance, label
from tests.support.sandbox import SandboxProcess
from tests.support.wait import wait_until

PY = "python-python3"
LONG_SQL = "select count(*) from range(100000000000) t(x) where x % 7 = 3"
PID_THEN_SLEEP = "import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(60)"


def _pid(api: Any, job: dict[str, Any]) -> int:
    lines = api.wait_for_log(job, "INFO pid ")
    return int(next(x for x in lines if "INFO pid " in x).rsplit(" ", 1)[1])


def _gone(api: Any, creator: str, engine: str) -> bool:
    return engine not in [instance(e) for e in api.engines(creator)]


class TestReuse:
    """The first job of (user, creator, engineType) starts an engine; the next ones reuse it."""

    def test_second_job_reuses_the_engine(self, alice: Any) -> None:
        first, state = alice.run("select 1 as x", userCreator="alice-Reuse")
        assert state == "Succeed"
        engine, reused = alice.engine_of(first)
        assert not reused
        assert any(f"Engine {engine} started (pid " in line for line in alice.log_all(first))
        second, state = alice.run("select 2 as x", userCreator="alice-Reuse")
        assert state == "Succeed"
        assert alice.engine_of(second) == (engine, True)
        assert not any("Starting engine" in line for line in alice.log_all(second))
        (listed,) = alice.engines("Reuse")
        assert instance(listed) == engine
        assert listed["nodeStatus"] == "Unlock"
        assert listed["nodeTaskInfo"]["succeedTasks"] == 2
        assert listed["nodeTaskInfo"]["runningTasks"] == 0

    def test_jobhistory_records_the_engine(self, alice: Any) -> None:
        first, _ = alice.run("select 1", userCreator="alice-History")
        second, _ = alice.run("select 2", userCreator="alice-History")
        engine, _ = alice.engine_of(first)
        tasks = [alice.task(job["taskID"]) for job in (first, second)]
        assert [t["engineInstance"] for t in tasks] == [engine, engine]
        assert [t["isReuse"] for t in tasks] == [False, True]
        assert tasks[0]["ticketId"] == alice.engines("History")[0]["ticketId"]

    def test_creators_and_engine_types_have_their_own_engines(self, alice: Any) -> None:
        jobs = [
            alice.run("select 1", userCreator="alice-KindA")[0],
            alice.run("select 1", userCreator="alice-KindB")[0],
            alice.run("select 1", engine_type="hive-3.1.3", userCreator="alice-KindA")[0],
            alice.run("select 1", engine_type="hive-3.1.3", userCreator="alice-KindA")[0],
        ]
        engines = [alice.engine_of(job) for job in jobs]
        assert [reused for _, reused in engines] == [False, False, False, True]
        assert len({engine for engine, _ in engines}) == 3
        types = {label(e, "engineType")["stringValue"] for e in alice.engines("KindA")}
        assert types == {"spark-3.2.1", "hive-3.1.3"}
        assert len(alice.engines("KindB")) == 1

    def test_a_busy_engine_is_not_shared(self, alice: Any) -> None:
        """Like Linkis, a job that finds its engine busy starts another one."""
        busy = alice.submit(PID_THEN_SLEEP, "python", PY, userCreator="alice-Busy")
        try:
            _pid(alice, busy)
            other, state = alice.run(
                "print('meanwhile')", "python", engine_type=PY, userCreator="alice-Busy"
            )
            assert state == "Succeed"
            assert alice.engine_of(other)[0] != alice.engine_of(busy)[0]
            statuses = sorted(e["nodeStatus"] for e in alice.engines("Busy"))
            assert statuses == ["Busy", "Unlock"]
        finally:
            alice.get(f"/entrance/{busy['execID']}/kill", taskID=busy["taskID"])
        assert alice.wait(busy) == "Cancelled"


class TestEngineState:
    """What an engine holds is the user's: temp tables and Python variables stay in it."""

    def test_temp_tables_live_in_the_users_engine(self, alice: Any, bob: Any) -> None:
        created, state = alice.run(
            "create or replace temp table scratch as select 7 as n;"
            "create or replace table shared_by_alice as select 8 as n",
            userCreator="alice-Temp",
        )
        assert state == "Succeed", alice.log_all(created)
        seen, state = alice.run("select n from scratch", userCreator="alice-Temp")
        assert state == "Succeed"
        assert alice.open_file(alice.result_paths(seen)[0])["fileContent"] == [["7"]]
        theirs, state = bob.run("select n from scratch", userCreator="bob-Temp")
        assert state == "Failed"
        assert bob.task(theirs["taskID"])["errCode"] == 41002
        try:
            table, state = bob.run("select n from shared_by_alice", userCreator="bob-Temp")
            assert state == "Succeed"  # tables are everyone's, as before
            assert bob.open_file(bob.result_paths(table)[0])["fileContent"] == [["8"]]
        finally:
            alice.run("drop table if exists shared_by_alice", userCreator="alice-Temp")

    def test_python_variables_stay_in_the_engine(self, alice: Any) -> None:
        first, _ = alice.run(
            "import os\nanswer = 41\nprint('pid', os.getpid())",
            "python",
            engine_type=PY,
            userCreator="alice-Vars",
        )
        second, state = alice.run(
            "import os\nprint(answer + 1, os.getpid())",
            "python",
            engine_type=PY,
            userCreator="alice-Vars",
        )
        assert state == "Succeed", alice.log_all(second)
        (path,) = alice.result_paths(second)
        assert alice.open_file(path)["fileContent"] == [[f"42 {_pid(alice, first)}"]]

    def test_sys_exit_ends_only_the_cell(self, alice: Any) -> None:
        failed, state = alice.run(
            "import sys\nsys.exit(3)", "python", engine_type=PY, userCreator="alice-Exit"
        )
        assert state == "Failed"
        assert alice.task(failed["taskID"])["errDesc"] == "python exited with code 3"
        after, state = alice.run(
            "print('still here')", "python", engine_type=PY, userCreator="alice-Exit"
        )
        assert state == "Succeed"
        assert alice.engine_of(after) == (alice.engine_of(failed)[0], True)


class TestKillEngine:
    """killEngineConn ends the running job Cancelled and releases what the engine holds."""

    def test_kill_engine_running_a_query(self, alice: Any) -> None:
        job = alice.submit(LONG_SQL, userCreator="alice-KillSql")
        alice.wait_for_log(job, "Executing statement 1/1")
        engine, _ = alice.engine_of(job)
        assert alice.engines("KillSql")[0]["nodeStatus"] == "Busy"
        reply = alice.kill_engine(engine)
        assert reply.status_code == 200, reply.text
        assert reply.json()["message"] == "Kill engineConn succeed."
        assert reply.json()["data"] == {}
        assert alice.wait(job) == "Cancelled"
        assert alice.task(job["taskID"])["status"] == "Cancelled"
        assert any(f"engine {engine} was stopped" in line for line in alice.log_all(job))
        assert _gone(alice, "KillSql", engine)
        after, state = alice.run("select 1", userCreator="alice-KillSql")
        assert state == "Succeed"
        new_engine, reused = alice.engine_of(after)
        assert not reused and new_engine != engine

    def test_kill_closes_the_duckdb_connection(self, alice: Any) -> None:
        alice.run(
            "create or replace temp table gone_soon as select 1 as n", userCreator="alice-Conn"
        )
        _, state = alice.run("select n from gone_soon", userCreator="alice-Conn")
        assert state == "Succeed"
        (engine,) = [instance(e) for e in alice.engines("Conn")]
        assert alice.kill_engine(engine).status_code == 200
        after, state = alice.run("select n from gone_soon", userCreator="alice-Conn")
        assert state == "Failed"  # the temp table went with the engine's connection
        assert alice.task(after["taskID"])["errCode"] == 41002
        assert alice.engine_of(after)[1] is False

    def test_kill_python_engine_stops_its_process(
        self, alice: Any, alive: Callable[[int], bool]
    ) -> None:
        job = alice.submit(PID_THEN_SLEEP, "python", PY, userCreator="alice-KillPy")
        pid = _pid(alice, job)
        (listed,) = alice.engines("KillPy")
        assert listed["identifier"] == str(pid)
        assert alice.kill_engine(instance(listed)).status_code == 200
        assert alice.wait(job) == "Cancelled"
        wait_until(lambda: not alive(pid), what=f"engine process {pid} to exit")
        assert _gone(alice, "KillPy", instance(listed))
        after = alice.submit(
            "import os\nprint('pid', os.getpid())", "python", PY, userCreator="alice-KillPy"
        )
        assert alice.wait(after) == "Succeed"
        assert _pid(alice, after) != pid
        assert alice.engine_of(after)[0] != instance(listed)

    def test_kill_idle_python_engine(self, alice: Any, alive: Callable[[int], bool]) -> None:
        job, _ = alice.run(
            "import os\nprint('pid', os.getpid())",
            "python",
            engine_type=PY,
            userCreator="alice-IdlePy",
        )
        pid = _pid(alice, job)
        assert alive(pid)
        (engine,) = [instance(e) for e in alice.engines("IdlePy")]
        assert alice.kill_engine(engine).status_code == 200
        wait_until(lambda: not alive(pid), what=f"engine process {pid} to exit")
        assert alice.engines("IdlePy") == []

    def test_job_kill_on_python_stops_the_engine(
        self, alice: Any, alive: Callable[[int], bool]
    ) -> None:
        """Python cannot be interrupted reliably: a job's kill takes its engine with it."""
        job = alice.submit(PID_THEN_SLEEP, "python", PY, userCreator="alice-JobKill")
        pid = _pid(alice, job)
        alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job) == "Cancelled"
        assert not alive(pid)
        assert alice.engines("JobKill") == []


class TestOtherUsers:
    """Another user's engine is refused and keeps running."""

    def test_kill_of_another_users_engine_is_refused(self, alice: Any, bob: Any) -> None:
        job, _ = bob.run("select 1", userCreator="bob-Refuse")
        engine, _ = bob.engine_of(job)
        assert engine not in [instance(e) for e in alice.engines()]
        reply = alice.kill_engine(engine, application_name="my-app")
        assert reply.status_code == 400
        body = reply.json()
        assert body["status"] == 1 and body["data"] == {}
        assert body["message"] == (
            f"You have no permission to kill EngineConn ServiceInstance(my-app, {engine}, 0)"
        )
        assert [instance(e) for e in bob.engines("Refuse")] == [engine]
        again, state = bob.run("select 2", userCreator="bob-Refuse")
        assert state == "Succeed"
        assert bob.engine_of(again) == (engine, True)


class TestIdleOut:
    """An engine idle for --engine-idle-timeout seconds stops; the next job starts a new one."""

    def test_idle_engines_stop(
        self,
        start_extra: Callable[..., SandboxProcess],
        login: Callable[..., Any],
        alive: Callable[[int], bool],
    ) -> None:
        api = login(start_extra("--engine-idle-timeout", "0.5"), "alice")
        sql, _ = api.run("select 1")
        py, _ = api.run("import os\nprint('pid', os.getpid())", "python", engine_type=PY)
        pid = _pid(api, py)
        wait_until(lambda: api.engines() == [], what="the idle engines to stop")
        wait_until(lambda: not alive(pid), what=f"the idle python engine {pid} to exit")
        after, state = api.run("select 1")
        assert state == "Succeed"
        engine, reused = api.engine_of(after)
        assert not reused and engine != api.engine_of(sql)[0]
