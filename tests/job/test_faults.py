"""Jobs through a fault-injecting proxy (tests/support/proxy.py) in front of a real sandbox."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.faults import compare, run_batch
from linkis_magic.client import LinkisClient
from linkis_magic.errors import (
    JobCancelled,
    JobFailed,
    JobWaitTimeout,
    ProtocolError,
    TransportError,
)
from linkis_magic.protocol import JobStatus
from tests.support.proxy import Fault, FaultProxy, Policy, random_get_faults
from tests.support.sandbox import SandboxProcess, start_sandbox
from tests.support.wait import wait_until

SQL = "spark-3.2.1"
PY = "python-python3"


def creator() -> str:
    return "rel" + uuid.uuid4().hex[:8]


def alice(url: str, **kwargs: object) -> LinkisClient:
    return LinkisClient(url, user="alice", password="alice-secret", **kwargs)  # type: ignore[arg-type]


def only(method: str, path_part: str, fault: Fault, times: int = 10**9) -> Policy:
    """A policy that applies ``fault`` to the first ``times`` matching requests."""
    left = [times]

    def policy(m: str, p: str, n: int) -> Fault | None:
        if m == method and path_part in p and left[0] > 0:
            left[0] -= 1
            return fault
        return None

    return policy


class TestFaultyBatch:
    """A batch through 10% resets and 10% 503s gives exactly what the clean batch gives.

    No path is faulted more than twice, fewer times than the clients retry (3): with rolls
    alone a request now and then fails four times running and its job rightly errors, which
    would make the outcome a matter of chance.
    """

    @pytest.mark.parametrize(
        "jobs", [20, pytest.param(100, marks=pytest.mark.slow)], ids=["small", "full"]
    )
    def test_same_results_logs_states_and_submit_count(
        self, sandbox: SandboxProcess, jobs: int
    ) -> None:
        tag = creator()
        policy = random_get_faults(reset=0.1, unavailable=0.1, seed=11, max_per_path=2)
        with FaultProxy(sandbox.url) as clean_proxy, FaultProxy(sandbox.url, policy) as proxy:
            clean, _ = run_batch(
                clean_proxy.url, "alice-secret", jobs=jobs, clients=5, creator=tag + "c"
            )
            faulty, _ = run_batch(proxy.url, "alice-secret", jobs=jobs, clients=5, creator=tag)
            with alice(sandbox.url) as direct:
                verdict = compare(direct, clean, faulty, creator=tag, proxy=proxy)
            assert proxy.faults() > jobs // 2  # the network really was hostile
        assert verdict.problems == []
        assert verdict.completed == verdict.submitted == jobs
        assert verdict.server_submits == jobs
        assert {o.state for o in faulty} == {"Succeed", "Failed"}


class TestChosenFaults:
    """Each fault on a chosen request is absorbed where that is safe, reported where not."""

    @pytest.mark.parametrize(
        "fault",
        [
            Fault.RESET,
            Fault.RESET_MID,
            Fault.RESET_BODY,
            Fault.DROP,
            Fault.STATUS_502,
            Fault.STATUS_503,
            Fault.STATUS_504,
        ],
    )
    def test_polls_survive_repeated_faults(self, sandbox: SandboxProcess, fault: Fault) -> None:
        policy = only("GET", "/status", fault, times=6)  # more than the adapter's 3 retries
        with FaultProxy(sandbox.url, policy) as proxy, alice(proxy.url) as client:
            job = client.submit("select 7 as x", engine_type=SQL, creator=creator())
            assert job.wait(timeout=60) is JobStatus.SUCCEED
            assert job.frames()[0]["x"].tolist() == [7]
            assert proxy.count("GET", "/status", forwarded=False) >= 7

    def test_delay_within_read_timeout_is_just_slower(self, sandbox: SandboxProcess) -> None:
        policy = only("GET", "filesystem/openFile", Fault.DELAY, times=1)
        with FaultProxy(sandbox.url, policy, delay=0.3) as proxy, alice(proxy.url) as client:
            job = client.submit("select 8 as x", engine_type=SQL, creator=creator())
            assert job.frames()[0]["x"].tolist() == [8]

    def test_no_reply_within_read_timeout_is_retried(self, sandbox: SandboxProcess) -> None:
        """A GET whose reply never comes times out and is sent again. The read timeout is
        short only for this test's sake, yet far above what the sandbox needs for the other
        requests: the held reply is what times out, however slow the machine."""
        policy = only("GET", "jobhistory/", Fault.HOLD, times=1)
        with (
            FaultProxy(sandbox.url, policy) as proxy,
            alice(proxy.url, timeout=(5.0, 3.0)) as client,
        ):
            job = client.submit("select 9 as x", engine_type=SQL, creator=creator())
            assert job.frames()[0]["x"].tolist() == [9]
            assert proxy.count("GET", "jobhistory/") >= 2  # the held one, then the retry

    @pytest.mark.parametrize("fault", [Fault.RESET_MID, Fault.RESET_BODY, Fault.STATUS_503])
    def test_submit_is_never_sent_twice(self, sandbox: SandboxProcess, fault: Fault) -> None:
        tag = creator()
        policy = only("POST", "entrance/submit", fault, times=1)
        with FaultProxy(sandbox.url, policy) as proxy, alice(proxy.url) as client:
            expected_error = ProtocolError if fault is Fault.STATUS_503 else TransportError
            with pytest.raises(expected_error) as info:
                client.submit("select 1", engine_type=SQL, creator=tag)
            assert "alice-secret" not in str(info.value)
            assert proxy.count("POST", "entrance/submit", forwarded=False) == 1
        with alice(sandbox.url) as direct:
            expected = 0 if fault is Fault.STATUS_503 else 1
            assert direct.tasks(creator=tag).total == expected

    def test_submit_connection_refused_is_a_clear_transport_error(
        self, sandbox: SandboxProcess
    ) -> None:
        proxy = FaultProxy(sandbox.url).start()
        url = proxy.url
        proxy.stop()  # nothing listens on that port any more
        with (
            LinkisClient(url, user="alice", password="alice-secret", retries=1) as client,
            pytest.raises(TransportError, match="could not talk to the Linkis gateway"),
        ):
            client.submit("select 1", engine_type=SQL)


@pytest.fixture
def own_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """A sandbox of this test's own (it is restarted or shortened)."""
    box = start_sandbox(tmp_path, "--session-timeout", "1")
    yield box
    box.stop()


class TestSessionsAndRestarts:
    """Expired sessions and sandbox restarts are recovered without user action."""

    def test_session_expiry_mid_job_logs_in_again(self, own_sandbox: SandboxProcess) -> None:
        with FaultProxy(own_sandbox.url) as proxy, alice(proxy.url) as client:
            job = client.submit(
                "import time; time.sleep(1.6); print('ok')",
                run_type="python",
                engine_type=PY,
                creator=creator(),
            )
            job.wait(timeout=60)
            time.sleep(1.3)  # idle past --session-timeout 1
            texts = [rs.text for rs in job.results()]
            assert any(t and "ok" in t for t in texts)
            assert proxy.count("POST", "user/login") >= 2

    def test_restart_mid_job_reattaches_by_task_id(self, tmp_path: Path) -> None:
        box = start_sandbox(tmp_path)
        port = box.url.rsplit(":", 1)[1]
        try:
            with alice(box.url) as client:
                job = client.submit(
                    "import time; time.sleep(30)", run_type="python", engine_type=PY
                )
                wait_until(lambda: job.status() is JobStatus.RUNNING, what="the job to be Running")
                box.stop()
                box = start_sandbox(tmp_path, "--port", port)
                # The old execID means nothing to the new entrance: the client logs in again,
                # falls back to jobhistory by taskID and ends in the state Linkis recorded.
                with pytest.raises((JobCancelled, JobFailed)) as info:
                    job.wait(timeout=60)
                assert info.value.task_id == job.task_id
                truth = client.task(job.task_id or 0).status
                assert truth.value == info.value.state
                again = client.job(job.task_id or 0)
                assert again.status() is truth
        finally:
            box.stop()

    def test_gateway_gone_for_good_fails_within_grace(self, tmp_path: Path) -> None:
        box = start_sandbox(tmp_path)
        try:
            with alice(box.url, retries=1) as client:
                job = client.submit(
                    "import time; time.sleep(30)", run_type="python", engine_type=PY
                )
                box.stop()
                job.gateway_outage_timeout = 1.0
                with pytest.raises(TransportError, match="unreachable") as info:
                    job.wait(timeout=60)
                assert f"client.job({job.task_id})" in str(info.value)
        finally:
            box.stop()

    def test_wait_timeout_while_unreachable_leaves_the_job_alone(
        self, sandbox: SandboxProcess
    ) -> None:
        cut = [False]

        def policy(m: str, p: str, n: int) -> Fault | None:
            return Fault.RESET if cut[0] else None

        with FaultProxy(sandbox.url, policy) as proxy, alice(proxy.url, retries=0) as client:
            job = client.submit("import time; time.sleep(30)", run_type="python", engine_type=PY)
            cut[0] = True  # the network goes away, the gateway does not
            with pytest.raises(JobWaitTimeout, match="gateway not answering"):
                job.wait(timeout=1.0)
        with alice(sandbox.url) as direct:
            assert not direct.task(job.task_id or 0).status.is_terminal  # not killed
            direct.kill(job.exec_id or "", task_id=job.task_id)
