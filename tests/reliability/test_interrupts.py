"""Ctrl-C at every phase of a %%linkis cell leaves no running job and no half-bound variable."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.testing import globalipapp

from linkis_magic.client import LinkisClient
from linkis_magic.magics import LinkisMagics
from linkis_magic.protocol import JobStatus
from tests.conftest import SandboxProcess, start_sandbox
from tests.reliability.proxy import Fault, FaultProxy

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


@pytest.fixture(scope="module")
def shell() -> Any:
    ip = globalipapp.start_ipython() or globalipapp.get_ipython()
    ip.run_line_magic("load_ext", "linkis_magic")
    return ip


def magics_for(shell: Any, url: str) -> LinkisMagics:
    (m,) = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
    m.drop_client()
    shell.run_line_magic("config", f"LinkisMagics.gateway_url = {url!r}")
    shell.run_line_magic("config", "LinkisMagics.user = 'alice'")
    shell.run_line_magic("config", "LinkisMagics.password = 'alice-secret'")
    return m


@pytest.fixture
def reset_magics(shell: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in list(os.environ):
        if var.startswith("LINKIS_"):
            monkeypatch.delenv(var)
    yield
    (m,) = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
    for name in m.SETTING_TRAITS:
        setattr(m, name, None)
    m.runs.clear()
    m.drop_client()


def interrupt_when(condition: Callable[[], bool]) -> tuple[threading.Thread, threading.Event]:
    """SIGINT the main thread once ``condition`` holds (checked every 20 ms, for 30 s)."""
    sent = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if condition():
                os.kill(os.getpid(), signal.SIGINT)
                sent.set()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, sent


def unfinished(client: LinkisClient, creator: str) -> list[int]:
    """Task IDs of this creator that are not terminal, after giving kills a moment to land."""
    deadline = time.monotonic() + 10
    while True:
        page = client.tasks(creator=creator, page_size=50)
        open_ids = [t.task_id for t in page.tasks if not t.status.is_terminal]
        if not open_ids or time.monotonic() > deadline:
            return open_ids
        time.sleep(0.1)


@pytest.mark.usefixtures("reset_magics")
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
            magics_for(shell, proxy.url)
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
            m = magics_for(shell, one_worker.url)
            waiting = {JobStatus.INITED, JobStatus.SCHEDULED, JobStatus.WAIT_FOR_RETRY}

            def queued() -> bool:
                run = m.last_run
                return run is not None and run.job.state in waiting

            thread, sent = interrupt_when(queued)
            self.run(shell, f"sql -c {creator} -o v_queued", "select 1 as x", sent)
            thread.join(5)
            assert m.last_run is not None
            assert m.last_run.job.status() is JobStatus.CANCELLED
        finally:
            blocker.kill()
        assert unfinished(direct, creator) == []
        assert "v_queued" not in shell.user_ns

    def test_while_running(
        self, shell: Any, one_worker: SandboxProcess, direct: LinkisClient
    ) -> None:
        creator = "int" + uuid.uuid4().hex[:8]
        m = magics_for(shell, one_worker.url)

        def running() -> bool:
            run = m.last_run
            return run is not None and run.job.state is JobStatus.RUNNING

        thread, sent = interrupt_when(running)
        self.run(shell, f"sql -c {creator} -o v_running", LONG_QUERY, sent)
        thread.join(5)
        assert unfinished(direct, creator) == []
        assert m.last_run is not None
        assert m.last_run.job.status() is JobStatus.CANCELLED
        assert "v_running" not in shell.user_ns

    def test_while_loading_pages(
        self, shell: Any, one_worker: SandboxProcess, direct: LinkisClient
    ) -> None:
        creator = "int" + uuid.uuid4().hex[:8]

        def policy(m: str, p: str, n: int) -> Fault | None:
            return Fault.DELAY if "filesystem/openFile" in p else None

        with FaultProxy(one_worker.url, policy, delay=3.0) as proxy:
            m = magics_for(shell, proxy.url)
            thread, sent = interrupt_when(lambda: proxy.count("GET", "filesystem/openFile") > 0)
            self.run(shell, f"sql -c {creator} -o v_loading", "select 5 as x", sent)
            thread.join(5)
        assert unfinished(direct, creator) == []
        assert m.last_run is not None
        assert direct.task(m.last_run.job.task_id or 0).status is JobStatus.SUCCEED
        assert "v_loading" not in shell.user_ns
