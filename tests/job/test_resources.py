"""A job's YARN use from progressWithResource, and gateways that do not have it (§14.1).

One progress call per poll tick; an older gateway is found out by the client once (that one call
then asks the plain route too). Runs on the virtual clock (tests/support/clock.py).
"""

from __future__ import annotations

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.job import Job, JobSnapshot
from linkis_magic.protocol import JobStatus
from tests.support.clock import FakeClock
from tests.support.double import EXEC_ID, LinkisDouble, Reply, Request, envelope, error
from tests.support.scripts import TASK_ID, LogScript, task_doc, yarn_progress

STATUS = f"entrance/{EXEC_ID}/status"
PROGRESS = f"entrance/{EXEC_ID}/progress"
WITH_RESOURCE = f"entrance/{EXEC_ID}/progressWithResource"
LOG = f"entrance/{EXEC_ID}/log"
HISTORY = f"jobhistory/{TASK_ID}/get"


class Jobs:
    """entrance status for one job at a time: Running for ``seconds`` on its own clock."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.seconds = 0.0

    def start(self, seconds: float) -> FakeClock:
        self.clock, self.seconds = FakeClock(), seconds
        return self.clock

    def status(self, _req: Request) -> Reply:
        state = "Succeed" if self.clock.elapsed() >= self.seconds else "Running"
        return envelope({"status": state, "execID": EXEC_ID})


JOBS = Jobs()


@pytest.fixture
def job_gateway(gw: LinkisDouble) -> LinkisDouble:
    gw.on("GET", STATUS, JOBS.status)
    gw.on("GET", LOG, LogScript(["line"]))
    gw.on("GET", HISTORY, task_doc("Succeed", result_location=None))
    gw.on("GET", PROGRESS, {"progress": 0.5, "progressInfo": [], "execID": EXEC_ID})
    return gw


def follow(client: LinkisClient, gw: LinkisDouble, seconds: float = 8.0) -> list[JobSnapshot]:
    clock = JOBS.start(seconds)
    snaps: list[JobSnapshot] = []
    Job(client, EXEC_ID, TASK_ID, clock=clock).wait(on_update=snaps.append)
    return snaps


class TestResources:
    """Snapshots carry the YARN applications; the plain route is never asked as well."""

    def test_snapshots_carry_yarn_applications(
        self, job_gateway: LinkisDouble, client: LinkisClient
    ) -> None:
        job_gateway.on("GET", WITH_RESOURCE, yarn_progress(("application_1_0042", 4, 3)))
        snaps = follow(client, job_gateway)
        held = [s.resources for s in snaps if s.resources is not None]
        assert held and held[0].apps[0].application_id == "application_1_0042"
        assert held[0].apps[0].memory == 4 * 2**30
        assert job_gateway.calls("GET", PROGRESS) == []

    def test_a_job_without_yarn_has_no_resources(
        self, job_gateway: LinkisDouble, client: LinkisClient
    ) -> None:
        job_gateway.on("GET", WITH_RESOURCE, yarn_progress())
        snaps = follow(client, job_gateway)
        assert all(s.resources is None for s in snaps)
        assert any(s.stages for s in snaps)


class TestOlderGateways:
    """404 or a status-1 envelope for progressWithResource: keep using progress."""

    @pytest.mark.parametrize(
        "answer",
        [Reply.text("Not Found", status=404), error("no such route")],
        ids=["404", "status-1"],
    )
    def test_probed_once_per_client_then_progress(
        self, job_gateway: LinkisDouble, client: LinkisClient, answer: Reply
    ) -> None:
        job_gateway.on("GET", WITH_RESOURCE, answer)
        first = follow(client, job_gateway)
        assert len(job_gateway.calls("GET", WITH_RESOURCE)) == 1
        assert any(s.stages == () and s.progress == 0.5 for s in first)
        progress_calls = len(job_gateway.calls("GET", PROGRESS))
        assert progress_calls >= 1
        follow(client, job_gateway)  # a second job on the same client
        assert len(job_gateway.calls("GET", WITH_RESOURCE)) == 1  # not asked again
        assert len(job_gateway.calls("GET", PROGRESS)) > progress_calls
        assert all(s.state is not JobStatus.FAILED for s in first)
