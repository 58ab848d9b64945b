"""Job against a scripted loopback Linkis: the cases a healthy sandbox never produces."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobCancelled, JobFailed, JobWaitTimeout, TransportError
from linkis_magic.job import Job, JobSnapshot
from linkis_magic.protocol import JobStatus
from tests.support.clock import FakeClock
from tests.support.double import EXEC_ID, LinkisDouble, Reply, Request, envelope, error
from tests.support.scripts import (
    LOG_PATH,
    TASK_ID,
    LogScript,
    LongJob,
    ResultFile,
    ResultServer,
    StatusAfterKill,
    task_doc,
)

STATUS = f"entrance/{EXEC_ID}/status"
PROGRESS = f"entrance/{EXEC_ID}/progress"
LOG = f"entrance/{EXEC_ID}/log"
KILL = f"entrance/{EXEC_ID}/kill"
HISTORY = f"jobhistory/{TASK_ID}/get"
GONE = "The job you just executed has ended. This interface no longer provides a query."


def states(*names: str) -> list[dict[str, str]]:
    return [{"status": n, "execID": EXEC_ID} for n in names]


def running_for(
    seconds: float, clock: FakeClock, final: str = "Succeed"
) -> Callable[[Request], Reply]:
    """Status replies: Running for ``seconds`` of virtual time from the first call, then ``final``.

    Long enough to outlive the status-only polls right after submit, so the job's Running
    ticks also read log and progress.
    """
    first: list[float] = []

    def reply(_req: Request) -> Reply:
        first.append(clock.now())
        state = final if first[-1] - first[0] >= seconds else "Running"
        return envelope({"status": state, "execID": EXEC_ID})

    return reply


def spark_job_ending_after(
    seconds: float, clock: FakeClock, before: list[str], after: list[str]
) -> tuple[Callable[[Request], Reply], Callable[[Request], Reply]]:
    """Status and progress replies of a Spark job Running for ``seconds``: progress lists
    the completed Spark jobs ``before`` until the status said Succeed, then ``after``."""
    status = running_for(seconds, clock)
    ended: list[bool] = []

    def tracked(req: Request) -> Reply:
        reply = status(req)
        ended.append(b"Succeed" in reply.body)
        return reply

    def progress(_req: Request) -> Reply:
        done = {"succeedTasks": 2, "failedTasks": 0, "runningTasks": 0, "totalTasks": 2}
        stages = [{"id": name, **done} for name in (after if any(ended) else before)]
        return envelope({"progress": 1.0 if stages else 0.0, "progressInfo": stages,
                         "execID": EXEC_ID})  # fmt: skip

    return tracked, progress


def no_progress(gw: LinkisDouble) -> None:
    gw.on("GET", PROGRESS, {"progress": 0.5, "progressInfo": [], "execID": EXEC_ID})


def make_job(client: LinkisClient, clock: FakeClock) -> Job:
    """A Job on the double that waits by the virtual clock."""
    return Job(client, EXEC_ID, TASK_ID, clock=clock)


@pytest.fixture
def clock() -> FakeClock:
    """Virtual time for the job under test (sleeps advance it at once)."""
    return FakeClock()


def log_held_until_listed(gw: LinkisDouble) -> list[bool]:
    """A job that Succeeds with one result set, whose final log reply is held until the
    result directory was listed; the returned list records, per log read, whether the
    listing came first (within a bound, not a duration)."""
    script = LogScript(["one", "two"])
    listed = threading.Event()
    overlapped: list[bool] = []

    def log(req: Request) -> Reply:
        overlapped.append(listed.wait(timeout=30))
        return script(req)

    class Listing(ResultServer):
        def _tree(self, req: Request) -> Reply:
            listed.set()
            return super()._tree(req)

    gw.on("GET", STATUS, *states("Succeed"))
    gw.on("GET", LOG, log)
    gw.on("GET", HISTORY, task_doc("Succeed"))
    Listing(gw).add(ResultFile("_0.dolphin", [("x", "int")], [["1"]]))
    return overlapped


class TestStates:
    """Which states end wait() and how (docs/linkis-protocol.md §3.4)."""

    def test_wait_for_retry_is_not_terminal(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, *states("Running", "WaitForRetry", "Running", "Succeed"))
        gw.on("GET", LOG, LogScript(["a"]))
        gw.on("GET", HISTORY, task_doc("Succeed"))
        no_progress(gw)
        assert make_job(client, clock).wait() is JobStatus.SUCCEED
        assert len(gw.calls("GET", STATUS)) == 4

    def test_timeout_is_a_failure(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, *states("Timeout"))
        gw.on("GET", LOG, LogScript([]))
        gw.on("GET", HISTORY, task_doc("Timeout", err_code=13001, err_desc="too slow"))
        with pytest.raises(JobFailed) as info:
            make_job(client, clock).wait()
        assert info.value.state == "Timeout"
        assert info.value.err_code == 13001

    def test_failed_job_reports_err_code_desc_and_error_lines(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        lines = [
            "2024-01-01 10:00:00.001 INFO Your job is accepted",
            "2024-01-01 10:00:01.001 ERROR Table or view not found: nope",
            "Sorry. Your job completed with a status Failed.",
        ]
        gw.on("GET", STATUS, *states("Running", "Failed"))
        gw.on("GET", LOG, LogScript(lines))
        gw.on("GET", HISTORY, task_doc("Failed", err_code=42001, err_desc="Table not found"))
        no_progress(gw)
        with pytest.raises(JobFailed) as info:
            make_job(client, clock).wait()
        exc = info.value
        assert (exc.err_code, exc.err_desc, exc.task_id) == (42001, "Table not found", TASK_ID)
        assert exc.error_lines == (lines[1],)
        assert "42001" in str(exc) and "Table or view not found" in str(exc)

    def test_status_lag_waits_for_jobhistory(
        self, gw: LinkisDouble, client: LinkisClient, results: ResultServer, clock: FakeClock
    ) -> None:
        """The entrance says Succeed before the DB row has its resultLocation."""
        results.add(ResultFile("_0.dolphin", [("x", "int")], [["1"]]))
        gw.on("GET", STATUS, *states("Succeed"))
        gw.on("GET", LOG, LogScript(["done"]))
        gw.on(
            "GET",
            HISTORY,
            task_doc("Running", result_location=None),
            task_doc("Running", result_location=None),
            task_doc("Succeed"),
        )
        job = make_job(client, clock)
        assert job.wait() is JobStatus.SUCCEED
        assert job.frames()[0]["x"].tolist() == [1]
        assert len(gw.calls("GET", HISTORY)) >= 3

    def test_wait_timeout_leaves_the_job_running(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, *states("Running"))
        gw.on("GET", LOG, LogScript([]))
        no_progress(gw)
        with pytest.raises(JobWaitTimeout) as info:
            make_job(client, clock).wait(timeout=0.2)
        assert info.value.state == "Running"
        assert gw.calls("GET", KILL) == []


class TestLog:
    """The log follows the fromLine cursor: every line once, few calls."""

    def test_cursor_is_echoed_and_no_line_is_lost_or_repeated(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        lines = [f"2024-01-01 10:00:00.001 INFO line {i}" for i in range(2000)]
        script = LogScript(lines, reveal=700)

        def status(_req: Request) -> Reply:  # the job ends once its log is all written
            done = script.available >= len(lines)
            return envelope({"status": "Succeed" if done else "Running", "execID": EXEC_ID})

        gw.on("GET", STATUS, status)
        gw.on("GET", LOG, script)
        gw.on("GET", HISTORY, task_doc("Succeed", result_location=None))
        no_progress(gw)
        job = make_job(client, clock)
        seen: list[str] = []
        job.wait(on_update=lambda snap: seen.extend(snap.new_log_lines))
        assert job.log_lines == lines
        assert seen == lines
        assert script.from_lines[0] == 1
        assert all(size >= 1000 for size in script.sizes)
        assert len(script.from_lines) <= 5
        # every request continues where the previous reply left off
        assert script.from_lines == sorted(set(script.from_lines))

    def test_forgotten_job_switches_to_jobhistory_and_openlog(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        lines = [f"line {i}" for i in range(30)]
        script = LogScript(lines, reveal=10)
        gone = error(GONE)
        gw.on("GET", STATUS, *states("Running"), gone)
        gw.on("GET", LOG, script, gone)
        gw.on("GET", PROGRESS, gone)
        gw.on("GET", HISTORY, task_doc("Running"), task_doc("Succeed", result_location=None))
        gw.on("GET", "filesystem/openLog", script.open_log)
        job = make_job(client, clock)
        assert job.wait() is JobStatus.SUCCEED
        assert job.log_lines == lines
        assert [r.param("path") for r in gw.calls("GET", "filesystem/openLog")] == [LOG_PATH]

    def test_reattach_without_exec_id_uses_jobhistory(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        script = LogScript(["only line"])
        gw.on("GET", HISTORY, task_doc("Succeed", result_location=None, exec_id=None))
        gw.on("GET", "filesystem/openLog", script.open_log)
        job = Job(client, None, TASK_ID)
        assert job.wait() is JobStatus.SUCCEED
        assert job.log_lines == ["only line"]
        assert gw.calls("GET", STATUS) == []

    def test_snapshot_new_lines_are_the_ones_after_the_cursor(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, running_for(0.15, clock))
        gw.on("GET", LOG, LogScript(["a", "b", "c"], reveal=2))
        gw.on("GET", HISTORY, task_doc("Succeed", result_location=None))
        no_progress(gw)
        job = make_job(client, clock)
        job.wait()
        first = job.snapshot()
        assert first.new_log_lines == ("a", "b", "c")
        assert first.log_count == 3
        second = job.snapshot(first.log_count)
        assert second.new_log_lines == ()
        assert job.snapshot().new_log_lines == ("a", "b", "c")  # reading consumes nothing
        assert second.log_tail == ("a", "b", "c")
        assert second.done and second.state is JobStatus.SUCCEED
        assert second.progress == 1.0


class TestProgress:
    """Progress and stages reach the snapshots."""

    def test_stages_are_reported(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, running_for(0.15, clock))
        gw.on("GET", LOG, LogScript([]))
        gw.on("GET", HISTORY, task_doc("Succeed", result_location=None))
        info = [
            {"id": "job-1", "succeedTasks": 4, "failedTasks": 0, "runningTasks": 2, "totalTasks": 8}
        ]
        gw.on("GET", PROGRESS, {"progress": 0.5, "progressInfo": info, "execID": EXEC_ID})
        snaps: list[JobSnapshot] = []
        make_job(client, clock).wait(on_update=snaps.append)
        running = [s for s in snaps if s.state is JobStatus.RUNNING and s.stages]
        assert running and running[0].progress == 0.5
        assert running[0].stages[0].succeeded == 4 and running[0].stages[0].total == 8


class TestCancel:
    """cancel events and interrupts kill the job and wait for Cancelled."""

    def test_cancel_event_kills_and_raises_job_cancelled(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        fake = StatusAfterKill(gw)
        gw.on("GET", STATUS, fake.status)
        gw.on("GET", KILL, fake.kill)
        gw.on("GET", HISTORY, fake.history)
        gw.on("GET", LOG, LogScript([]))
        no_progress(gw)
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(JobCancelled) as info:
            make_job(client, clock).wait(cancel=cancel)
        assert info.value.state == "Cancelled"
        kills = gw.calls("GET", KILL)
        assert len(kills) == 1 and kills[0].param("taskID") == str(TASK_ID)

    def test_keyboard_interrupt_from_on_update_kills_then_reraises(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        fake = StatusAfterKill(gw)
        gw.on("GET", STATUS, fake.status)
        gw.on("GET", KILL, fake.kill)
        gw.on("GET", HISTORY, fake.history)
        gw.on("GET", LOG, LogScript(["x"]))
        no_progress(gw)

        def interrupt(snap: JobSnapshot) -> None:
            raise KeyboardInterrupt

        job = make_job(client, clock)
        with pytest.raises(KeyboardInterrupt):
            job.wait(on_update=interrupt)
        assert len(gw.calls("GET", KILL)) == 1
        assert job.state is JobStatus.CANCELLED

    def test_failed_kill_does_not_hide_the_interrupt(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, *states("Running"))
        gw.on("GET", KILL, error("You have no permission to kill this job"))
        gw.on("GET", LOG, LogScript(["x"]))
        no_progress(gw)

        def interrupt(snap: JobSnapshot) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt) as info:
            make_job(client, clock).wait(on_update=interrupt)
        notes = getattr(info.value, "__notes__", [])
        assert any("no permission" in note for note in notes) or not hasattr(info.value, "add_note")

    def test_network_error_in_wait_kills_and_reraises_it(
        self, gw: LinkisDouble, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, *states("Running"), Reply.connection_reset())
        gw.on("GET", KILL, {"execID": EXEC_ID})
        gw.on("GET", LOG, LogScript([]))
        no_progress(gw)
        client = LinkisClient(gw.url, user="alice", password="alice-secret", retries=0)
        with client, pytest.raises(TransportError):
            make_job(client, clock).wait()
        assert len(gw.calls("GET", KILL)) == 1


class TestFinalProgress:
    """The last snapshot shows every stage's final task counts, not a mid-run poll."""

    def test_stage_counts_are_refreshed_when_the_job_ends(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        def stage(done: int, running: int) -> dict[str, object]:
            info = {"id": "job-1", "succeedTasks": done, "failedTasks": 0}
            return {**info, "runningTasks": running, "totalTasks": 100}

        gw.on("GET", STATUS, running_for(0.15, clock))
        gw.on(
            "GET",
            PROGRESS,
            {"progress": 0.78, "progressInfo": [stage(78, 22)], "execID": EXEC_ID},
            {"progress": 1.0, "progressInfo": [stage(100, 0)], "execID": EXEC_ID},
        )
        gw.on("GET", LOG, LogScript(["a"]))
        gw.on("GET", HISTORY, task_doc("Succeed"))
        job = make_job(client, clock)
        job.wait()
        (final,) = job.snapshot().stages
        assert (final.succeeded, final.running, final.total) == (100, 0, 100)
        assert job.snapshot().progress == 1.0

    def test_stages_that_started_after_the_last_poll_are_shown(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        """A Spark join runs several Spark jobs: the last poll saw the first one complete;
        the end shows the second as well."""

        status, progress = spark_job_ending_after(
            0.15, clock, before=["jobId-1"], after=["jobId-1", "jobId-2"]
        )
        gw.on("GET", STATUS, status)
        gw.on("GET", PROGRESS, progress)
        gw.on("GET", LOG, LogScript(["a"]))
        gw.on("GET", HISTORY, task_doc("Succeed"))
        job = make_job(client, clock)
        job.wait()
        assert [st.id for st in job.snapshot().stages] == ["jobId-1", "jobId-2"]

    def test_stages_are_shown_when_the_one_poll_came_before_them(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        """A warm Spark engine runs a join in under a second: the one progress poll saw no
        Spark job yet, and the end still shows them all."""
        status, progress = spark_job_ending_after(0.15, clock, before=[], after=["jobId-1"])
        gw.on("GET", STATUS, status)
        gw.on("GET", PROGRESS, progress)
        gw.on("GET", LOG, LogScript(["a"]))
        gw.on("GET", HISTORY, task_doc("Succeed"))
        job = make_job(client, clock)
        job.wait()
        assert len(gw.calls("GET", PROGRESS)) >= 2  # the mid-run poll, then the final read
        assert [st.id for st in job.snapshot().stages] == ["jobId-1"]


class TestPollingBudget:
    """A job that finishes at once is seen at once; status calls do not pile up."""

    def test_fast_job_needs_one_status_call(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, *states("Succeed"))
        gw.on("GET", LOG, LogScript(["one"]))
        gw.on("GET", HISTORY, task_doc("Succeed", result_location=None))
        job = make_job(client, clock)
        job.wait()
        assert len(gw.calls("GET", STATUS)) == 1
        assert len(gw.calls("GET", LOG)) == 1
        assert gw.calls("GET", PROGRESS) == []

    def test_short_job_polls_status_only_until_it_ends(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        """Right after submit only the status is asked (every 10 ms); the log is read once at
        the end, progress never: a 30 ms job costs a handful of small calls."""
        gw.on("GET", STATUS, *states("Running", "Running", "Succeed"))
        gw.on("GET", LOG, LogScript(["one", "two"]))
        gw.on("GET", HISTORY, task_doc("Succeed", result_location=None))
        no_progress(gw)
        client.login()  # done before submit in real use; a cold first login can take 50 ms
        job = make_job(client, clock)
        job.wait()
        assert len(gw.calls("GET", STATUS)) == 3
        assert len(gw.calls("GET", LOG)) == 1
        assert gw.calls("GET", PROGRESS) == []
        assert job.log_lines == ["one", "two"]

    def test_the_call_that_sees_the_end_brings_the_result_location(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        """Right after submit jobhistory is read beside the status, so a quick job's end and
        its resultLocation come in one round trip; its last log lines are read on the side
        and are all there once anyone looks."""
        gw.on("GET", STATUS, *states("Running", "Succeed"))
        gw.on("GET", LOG, LogScript(["one", "two"]))
        gw.on("GET", HISTORY, task_doc("Running", result_location=None), task_doc("Succeed"))
        ResultServer(gw).add(ResultFile("_0.dolphin", [("x", "int")], [["1"]]))
        job = make_job(client, clock)
        assert job.wait() is JobStatus.SUCCEED
        assert len(gw.calls("GET", HISTORY)) == 2 == len(gw.calls("GET", STATUS))
        assert job.log_lines == ["one", "two"]
        assert job.frames()[0]["x"].tolist() == [1]
        assert len(gw.calls("GET", HISTORY)) == 2  # the listing needed no other read
        assert len(gw.calls("GET", LOG)) == 1

    def test_results_list_the_directory_while_the_last_log_lines_come_in(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        """frames() on a running job: the final log read does not hold up the listing (the
        log reply is held until getDirFileTrees arrived), and the log is complete after."""
        overlapped = log_held_until_listed(gw)
        job = make_job(client, clock)
        assert job.frames()[0]["x"].tolist() == [1]
        assert overlapped == [True]
        assert job.log_lines == ["one", "two"]

    def test_wait_then_results_lists_the_directory_beside_the_final_log(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        """The magic's way (wait with a display, then results): the result directory is
        listed while the last log lines are read, once."""
        overlapped = log_held_until_listed(gw)
        job = make_job(client, clock)
        snaps: list[JobSnapshot] = []
        assert job.wait(on_update=snaps.append) is JobStatus.SUCCEED
        assert overlapped == [True] and snaps[-1].log_tail == ("one", "two")
        assert job.frames()[0]["x"].tolist() == [1]
        assert len(gw.calls("GET", "filesystem/getDirFileTrees")) == 1

    def test_a_failed_job_lists_nothing(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, *states("Failed"))
        gw.on("GET", LOG, LogScript(["2024-01-01 10:00:00.001 ERROR boom"]))
        gw.on("GET", HISTORY, task_doc("Failed", err_code=1, err_desc="boom"))
        with pytest.raises(JobFailed):
            make_job(client, clock).wait()
        assert gw.calls("GET", "filesystem/getDirFileTrees") == []

    def test_an_attached_job_does_not_read_jobhistory_on_every_tick(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        gw.on("GET", STATUS, running_for(20.0, clock))
        gw.on("GET", LOG, LogScript(["a"]))
        gw.on("GET", HISTORY, task_doc("Succeed"))
        no_progress(gw)
        job = Job(client, EXEC_ID, TASK_ID, submitted_at=clock.now(), clock=clock)
        job.status()  # someone asked already: not a fresh wait
        job.wait()
        assert len(gw.calls("GET", STATUS)) > 10
        assert len(gw.calls("GET", HISTORY)) == 1  # the settling read at the end


class TestFinishing:
    """Once every task is done the end is near: the job is polled closely again."""

    def test_polls_tighten_when_progress_reaches_all_tasks_done(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        tasks_done_at, ends_at = 1.5, 5.0  # virtual seconds: then only the result write is left
        answers: list[tuple[str, float]] = []

        def status(_req: Request) -> Reply:
            state = "Succeed" if clock.elapsed() >= ends_at else "Running"
            answers.append(("status", clock.elapsed()))
            return envelope({"status": state, "execID": EXEC_ID})

        def progress(_req: Request) -> Reply:
            elapsed = clock.elapsed()
            done = 100 if elapsed >= tasks_done_at else min(99, int(elapsed * 60))
            answers.append(("all done" if done == 100 else "progress", elapsed))
            info = {"id": "job-1", "succeedTasks": done, "failedTasks": 0}
            info |= {"runningTasks": 100 - done, "totalTasks": 100}
            return envelope({"progress": done / 100, "progressInfo": [info], "execID": EXEC_ID})

        gw.on("GET", STATUS, status)
        gw.on("GET", PROGRESS, progress)
        gw.on("GET", LOG, LogScript(["a"]))
        gw.on("GET", HISTORY, task_doc("Succeed"))
        assert make_job(client, clock).wait() is JobStatus.SUCCEED
        seen_done = next(t for kind, t in answers if kind == "all done")
        running_after = [t for kind, t in answers if kind == "status" and seen_done <= t < ends_at]
        # The plain schedule (1.5x growth, capped at 1 s) polls about every second by now:
        # at most 3 status calls in this window. Restarting at 0.1 s gives 6-7.
        assert len(running_after) >= 5, answers


class TestLongJobs:
    """A ten-minute job on the virtual clock: a few hundred calls, the end still seen soon."""

    @pytest.mark.parametrize("wrap_up", [0.5, 5.0, 30.0])
    def test_staged_job_is_seen_ending_within_a_second(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock, wrap_up: float
    ) -> None:
        """Its stages' pace tells when every task will be done; a poll is planned then and
        the finishing beat sees the end, however short the result write."""
        script = LongJob(gw, clock, duration=600.0, stages=5, wrap_up=wrap_up)
        client.login()
        before = len(gw.calls())
        job = Job(client, EXEC_ID, TASK_ID, submitted_at=clock.now(), clock=clock)
        assert job.wait() is JobStatus.SUCCEED
        assert job.frames()[0]["x"].tolist() == [1]
        assert len(gw.calls()) - before <= 400  # about 1,800 at one of each a second
        assert script.seen_end_at is not None
        assert script.seen_end_at - script.ends_at <= 1.0
        assert [st.succeeded for st in job.snapshot().stages] == [100] * 5
        assert len(job.log_lines) == 1800  # three lines a second, none lost on sparse reads

    def test_job_without_stages_is_seen_ending_within_five_percent_of_its_age(
        self, gw: LinkisDouble, client: LinkisClient, clock: FakeClock
    ) -> None:
        script = LongJob(gw, clock, duration=600.0)
        client.login()
        before = len(gw.calls())
        job = Job(client, EXEC_ID, TASK_ID, submitted_at=clock.now(), clock=clock)
        job.wait()
        job.results()
        assert len(gw.calls()) - before <= 300
        assert script.seen_end_at is not None
        assert script.seen_end_at - script.ends_at <= 0.05 * 600.0
        assert len(gw.calls("GET", STATUS)) <= 130


def test_double_routes_need_auth(gw: LinkisDouble) -> None:
    """Sanity: the double refuses unauthenticated calls, so the client really logged in above."""
    import requests

    reply = requests.get(gw.url + "/api/rest_j/v1/" + STATUS, timeout=5)
    assert reply.status_code == 401
