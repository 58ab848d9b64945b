"""Ctrl-C at every phase of a %%linkis cell leaves no running job and no half-bound variable."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.magics import LinkisInterrupted, LinkisMagics
from linkis_magic.protocol import JobStatus
from tests.support.double import EXEC_ID, LinkisDouble
from tests.support.proxy import Fault, FaultProxy
from tests.support.sandbox import SandboxProcess, start_sandbox
from tests.support.scripts import TASK_ID, offline_entrance
from tests.support.shell import configure, interrupt_when
from tests.support.wait import WaitTimeout, wait_until

LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"
SQL = "spark-3.2.1"


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox with a single worker, so a second job really waits in the queue."""
    box = start_sandbox(tmp_path_factory.mktemp("one-worker"), "--workers", "1")
    yield box
    box.stop()


@pytest.fixture
def direct(one_worker: SandboxProcess) -> Iterator[LinkisClient]:
    with LinkisClient(one_worker.url, user="alice", password="alice-secret") as client:
        yield client


def unfinished(client: LinkisClient, creator: str) -> list[int]:
    """Task IDs of this creator that are not terminal once kills had up to 10 s to land."""

    def open_ids() -> list[int]:
        page = client.tasks(creator=creator, page_size=50)
        return [t.task_id for t in page.tasks if not t.status.is_terminal]

    with contextlib.suppress(WaitTimeout):
        wait_until(lambda: not open_ids(), timeout=10, interval=0.1)
    return open_ids()


@pytest.mark.usefixtures("clean_magics")
class TestInterruptEveryPhase:
    """Each phase: KeyboardInterrupt re-raised, nothing left running, -o NAME not bound."""

    def run(self, shell: Any, line: str, code: str, sent: threading.Event) -> None:
        with pytest.raises(KeyboardInterrupt):
            shell.run_cell_magic("linkis", line, code)
        assert sent.is_set()

    def test_during_submit(
        self, shell: Any, one_worker: SandboxProcess, direct: LinkisClient
    ) -> None:
        creator = "int" + uuid.uuid4().hex[:8]

        def policy(m: str, p: str, n: int) -> Fault | None:
            return Fault.DELAY if "entrance/submit" in p else None

        with FaultProxy(one_worker.url, policy, delay=3.0) as proxy:
            configure(shell, proxy.url)
            thread, sent = interrupt_when(
                lambda: direct.tasks(creator=creator).total > 0  # the gateway has the job
            )
            self.run(shell, f"sql -c {creator} -o v_submit", LONG_QUERY, sent)
            thread.join(5)
        assert direct.tasks(creator=creator).total == 1
        assert unfinished(direct, creator) == []
        assert "v_submit" not in shell.user_ns

    def test_while_queued(
        self, shell: Any, one_worker: SandboxProcess, direct: LinkisClient
    ) -> None:
        creator = "int" + uuid.uuid4().hex[:8]
        blocker = direct.submit(LONG_QUERY, engine_type=SQL, creator=creator)
        try:
            m = configure(shell, one_worker.url)
            waiting = {JobStatus.INITED, JobStatus.SCHEDULED, JobStatus.WAIT_FOR_RETRY}

            def queued() -> bool:
                run = m.session.last_run
                return run is not None and run.job.state in waiting

            thread, sent = interrupt_when(queued)
            self.run(shell, f"sql -c {creator} -o v_queued", "select 1 as x", sent)
            thread.join(5)
            assert m.session.last_run is not None
            assert m.session.last_run.job.status() is JobStatus.CANCELLED
        finally:
            blocker.kill()
        assert unfinished(direct, creator) == []
        assert "v_queued" not in shell.user_ns

    def test_while_running(
        self, shell: Any, one_worker: SandboxProcess, direct: LinkisClient
    ) -> None:
        creator = "int" + uuid.uuid4().hex[:8]
        m = configure(shell, one_worker.url)

        def running() -> bool:
            run = m.session.last_run
            return run is not None and run.job.state is JobStatus.RUNNING

        thread, sent = interrupt_when(running)
        self.run(shell, f"sql -c {creator} -o v_running", LONG_QUERY, sent)
        thread.join(5)
        assert unfinished(direct, creator) == []
        assert m.session.last_run is not None
        assert m.session.last_run.job.status() is JobStatus.CANCELLED
        assert "v_running" not in shell.user_ns

    def test_while_loading_pages(
        self, shell: Any, one_worker: SandboxProcess, direct: LinkisClient
    ) -> None:
        creator = "int" + uuid.uuid4().hex[:8]

        def policy(m: str, p: str, n: int) -> Fault | None:
            # held until the proxy stops: the Ctrl-C lands while the page is being loaded
            return Fault.HOLD if "filesystem/openFile" in p else None

        with FaultProxy(one_worker.url, policy) as proxy:
            m = configure(shell, proxy.url)
            thread, sent = interrupt_when(lambda: proxy.count("GET", "filesystem/openFile") > 0)
            self.run(shell, f"sql -c {creator} -o v_loading", "select 5 as x", sent)
            thread.join(5)
        assert unfinished(direct, creator) == []
        assert m.session.last_run is not None
        assert direct.task(m.session.last_run.job.task_id or 0).status is JobStatus.SUCCEED
        assert "v_loading" not in shell.user_ns


class TestOfflineEntrance:
    """The gateway cannot route calls to the job's entrance (errCode 11011): the job is followed
    through jobhistory, Ctrl-C gives up after the grace, and the cell says what to do."""

    @pytest.fixture
    def offline(self, gw: LinkisDouble) -> LinkisDouble:
        offline_entrance(gw)
        return gw

    def test_ctrl_c_ends_the_cell_saying_the_kill_was_not_delivered(
        self,
        shell: Any,
        offline: LinkisDouble,
        connect: Callable[..., LinkisMagics],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        magics = connect(offline.url)

        def followed() -> bool:  # running, and seen through jobhistory
            run = magics.session.last_run
            return run is not None and len(offline.calls("GET", f"jobhistory/{TASK_ID}/get")) > 1

        thread, sent = interrupt_when(followed)
        with pytest.raises(LinkisInterrupted) as info:
            shell.run_cell_magic("linkis", "sql -o v_offline", "select 1")
        thread.join(5)
        assert sent.is_set()
        message = str(info.value)
        assert f"taskID {TASK_ID} may still be running" in message
        assert "the kill could not be delivered" in message and "11011" in message
        assert f"%linkis kill {TASK_ID}" in message and "%linkis history" in message
        assert "\n" not in message
        assert "v_offline" not in shell.user_ns
        kills = offline.calls("GET", f"entrance/{EXEC_ID}/kill")
        assert 1 <= len(kills) <= 6  # once, then once a second within the grace
        out = capsys.readouterr().out
        assert out.count("could not reach the job's entrance") == 1  # the notice, once
        assert "Following the job through jobhistory now." in out
