"""A gateway that stops answering mid-job: ridden out while it comes back, a clear error when not.

The gateway is the real sandbox behind the fault proxy (tests/support/proxy.py); "down" means
the proxy resets every connection, as a gateway restarting behind a load balancer does. The job
is a sandbox Python job that holds at files the test creates, so the outage happens while the job
runs and lines are logged while the client cannot see them: every step waits for a state (a
snapshot, a file the job wrote), none for a duration.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.display import TextDisplay, WidgetDisplay
from linkis_magic.errors import JobWaitTimeout, TransportError
from linkis_magic.job import JobSnapshot
from linkis_magic.protocol import JobStatus
from tests.support.proxy import Fault, FaultProxy
from tests.support.sandbox import SandboxProcess

PY = "python-python3"
STEP = 60.0  # upper bound for one awaited state; a healthy run takes a fraction of it


def held_job(before: Path, release: Path, during: Path, finish: Path) -> str:
    """Python code printing three lines per phase, holding until the test creates a file."""
    return f"""
import os, time

def hold(path):
    while not os.path.exists(path):
        time.sleep(0.02)

for i in range(3):
    print("before", i)
open({str(before)!r}, "w").close()
hold({str(release)!r})
for i in range(3):
    print("during", i)
open({str(during)!r}, "w").close()
hold({str(finish)!r})
for i in range(3):
    print("after", i)
"""


def wait_for(check: Callable[[], bool], what: str) -> None:
    """Wait until ``check()`` holds (a state), polling; fail naming ``what`` after STEP."""
    done = threading.Event()
    for _ in range(int(STEP / 0.02)):
        if check():
            return
        done.wait(0.02)
    raise AssertionError(f"never saw: {what}")


class Recorder:
    """on_update for wait(): keeps every snapshot, feeds both displays, flags the outage."""

    def __init__(self) -> None:
        self.snaps: list[JobSnapshot] = []
        self.text = TextDisplay(on_kill=None, title="outage", min_interval=0.0)
        self.widget = WidgetDisplay(on_kill=None, title="outage", min_interval=0.0)
        self.notices: list[str] = []  # the widget's notice line after each snapshot
        self.unreachable = threading.Event()
        self.answering = threading.Event()

    def __call__(self, snap: JobSnapshot) -> None:
        self.snaps.append(snap)
        self.text.update(snap)
        self.widget.update(snap)
        self.notices.append(self.widget.notice.value)
        if snap.unreachable_since is not None:
            self.unreachable.set()
        elif self.unreachable.is_set():
            self.answering.set()


class TestGatewayOutage:
    """wait() rides out a gateway that comes back and gives up cleanly on one that does not."""

    def test_gateway_down_mid_job_and_back(
        self, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Results load, every log line arrives once, the outage is said once and cleared."""
        before, release, during, finish = (tmp_path / n for n in ("b", "r", "d", "f"))
        down = threading.Event()
        problems: list[BaseException] = []
        seen = Recorder()

        def policy(method: str, path: str, n: int) -> Fault | None:
            return Fault.RESET if down.is_set() else None

        def control() -> None:
            try:
                wait_for(before.exists, "the job's first lines")
                down.set()  # the gateway goes away while the job runs ...
                release.touch()  # ... and the job logs lines the client cannot see yet
                wait_for(seen.unreachable.is_set, "the display saying unreachable")
                wait_for(during.exists, "the job's lines during the outage")
                down.clear()  # the gateway is back
                wait_for(seen.answering.is_set, "the display clearing the outage")
            except BaseException as exc:
                problems.append(exc)
                down.clear()
            finally:
                release.touch()
                finish.touch()

        code = held_job(before, release, during, finish)
        with (
            FaultProxy(sandbox.url, policy) as proxy,
            LinkisClient(proxy.url, user="alice", password="alice-secret", retries=1) as client,
        ):
            job = client.submit(
                code, run_type="python", engine_type=PY, creator="out" + uuid.uuid4().hex[:6]
            )
            controller = threading.Thread(target=control, daemon=True)
            controller.start()
            assert job.wait(timeout=STEP * 4, on_update=seen) is JobStatus.SUCCEED
            controller.join(STEP)
            assert problems == []
            assert proxy.faults() > 0  # the outage really happened to the polls
            results = job.results()

        expected = [f"{phase} {i}" for phase in ("before", "during", "after") for i in range(3)]
        logged = [e for e in expected for line in job.log_lines if line.endswith(e)]
        assert logged == expected  # every line once, in order
        assert (results[0].text or "").split() == " ".join(expected).split()
        shown = [line for s in seen.snaps for line in s.new_log_lines]
        assert shown == job.log_lines  # the displays got each line once
        out = capsys.readouterr().out
        assert out.count("gateway unreachable since") == 1
        assert out.count("gateway answering again") == 1
        assert any("gateway unreachable since" in v and ", retrying" in v for v in seen.notices)
        assert "unreachable" not in seen.notices[-1]
        assert seen.snaps[-1].unreachable_since is None

    def test_gateway_gone_for_good(self, sandbox: SandboxProcess, tmp_path: Path) -> None:
        """After gateway_outage_timeout: TransportError naming the task and %linkis attach."""
        before, release, during, finish = (tmp_path / n for n in ("b", "r", "d", "f"))
        down = threading.Event()
        proxy = FaultProxy(sandbox.url, lambda m, p, n: Fault.RESET if down.is_set() else None)
        proxy.start()
        client = None
        try:
            client = LinkisClient(
                proxy.url,
                user="alice",
                password="alice-secret",
                retries=1,
                gateway_outage_timeout=2,
            )
            job = client.submit(
                held_job(before, release, during, finish), run_type="python", engine_type=PY
            )
            wait_for(before.exists, "the job running")
            down.set()  # from now on every request is reset, for good
            seen = Recorder()
            # The wait's own timeout is far beyond the outage timeout: ending with the outage
            # error (not JobWaitTimeout) shows the setting, not the wait, ended it.
            with pytest.raises(TransportError) as info:
                job.wait(timeout=STEP, on_update=seen)
            assert not isinstance(info.value, JobWaitTimeout)
            message = str(info.value)
            assert f"Linkis job {job.task_id}" in message
            assert f"%linkis attach {job.task_id}" in message
            assert "gateway_outage_timeout is 2 s" in message
            assert seen.unreachable.is_set()
        finally:
            finish.touch()
            release.touch()
            proxy.stop()
            if client is not None:
                client.close()
        with LinkisClient(sandbox.url, user="alice", password="alice-secret") as direct:
            again = direct.job(job.task_id or 0)
            assert again.wait(timeout=STEP) is JobStatus.SUCCEED  # it ran on, untouched


class TestOutageSetting:
    """gateway_outage_timeout is checked where it is given and reaches every job."""

    def test_client_default_and_job_override(self, sandbox: SandboxProcess) -> None:
        with LinkisClient(sandbox.url, user="alice", password="alice-secret") as client:
            assert client.gateway_outage_timeout == 300
        with LinkisClient(
            sandbox.url, user="alice", password="alice-secret", gateway_outage_timeout=7
        ) as client:
            job = client.submit("select 1 as x", engine_type="spark-3.2.1")
            assert job.gateway_outage_timeout == 7
            assert job.wait(timeout=STEP, gateway_outage_timeout=1) is JobStatus.SUCCEED

    @pytest.mark.parametrize("bad", [0, -1, float("inf"), "5"])
    def test_bad_values_say_what_to_fix(self, sandbox: SandboxProcess, bad: object) -> None:
        from linkis_magic.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="gateway_outage_timeout must be"):
            LinkisClient(sandbox.url, user="alice", gateway_outage_timeout=bad)  # type: ignore[arg-type]
        with LinkisClient(sandbox.url, user="alice", password="alice-secret") as client:
            job = client.submit("select 1 as x", engine_type="spark-3.2.1")
            with pytest.raises(ConfigurationError, match="gateway_outage_timeout must be"):
                job.wait(timeout=STEP, gateway_outage_timeout=bad)  # type: ignore[arg-type]
            job.wait(timeout=STEP)
