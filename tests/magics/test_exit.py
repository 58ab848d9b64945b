"""Nothing is left running when the kernel goes: a real kernel, shut down mid-job."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from linkis_magic.client import LinkisClient
from linkis_magic.protocol import JobStatus
from tests.support.wait import wait_until

LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"


@pytest.fixture
def alice(sandbox: Any) -> Iterator[LinkisClient]:
    with LinkisClient(sandbox.url, user="alice", password="alice-secret") as client:
        yield client


@pytest.fixture
def kernel(sandbox: Any) -> Iterator[KernelManager]:
    """A python3 kernel whose magics talk to the sandbox as alice, in text display mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKIS_")}
    env.update(
        LINKIS_GATEWAY_URL=sandbox.url,
        LINKIS_USER="alice",
        LINKIS_PASSWORD="alice-secret",
        LINKIS_DISPLAY="text",
    )
    manager = KernelManager(kernel_name="python3")
    manager.shutdown_wait_time = 30.0  # the kernel's own exit, not a SIGKILL, is under test
    manager.start_kernel(env=env)
    try:
        yield manager
    finally:
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


def run(manager: KernelManager, code: str) -> str:
    """Execute ``code`` in the kernel; its stdout (an error fails the test)."""
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        out: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("ERROR " + msg["content"]["evalue"])

        reply = client.execute_interactive(code, timeout=60, output_hook=hook)
        text = "".join(out)
        assert reply["content"]["status"] == "ok", text
        return text
    finally:
        client.stop_channels()


def start_background_job(manager: KernelManager, alice: LinkisClient, *config: str) -> Any:
    """Load the extension, start a long --background job, wait until the gateway runs it."""
    run(manager, "%load_ext linkis_magic\n" + "\n".join(config))
    run(manager, f"%%linkis --background -q\n{LONG_QUERY}")
    text = run(
        manager,
        "_m = [c for c in get_ipython().configurables if type(c).__name__ == 'LinkisMagics'][0]\n"
        "print(_m.session.last_run.job.task_id)",
    )
    task_id = int(text.split()[-1])
    wait_until(lambda: alice.task(task_id).status is JobStatus.RUNNING, timeout=60, what="Running")
    return task_id


class TestKernelExit:
    """Shutting a kernel down kills its running jobs, unless kill_on_exit is off."""

    def test_shutdown_kills_a_background_job(
        self, kernel: KernelManager, alice: LinkisClient
    ) -> None:
        task_id = start_background_job(kernel, alice)
        kernel.shutdown_kernel(now=False)  # shutdown_request, as JupyterLab sends it
        assert not kernel.is_alive()
        wait_until(
            lambda: alice.task(task_id).status is JobStatus.CANCELLED,
            timeout=10,
            what=lambda: f"Cancelled, not {alice.task(task_id).status}",
        )

    def test_kill_on_exit_off_keeps_the_job_running(
        self, kernel: KernelManager, alice: LinkisClient
    ) -> None:
        task_id = start_background_job(kernel, alice, "%config LinkisMagics.kill_on_exit = False")
        kernel.shutdown_kernel(now=False)
        assert not kernel.is_alive()
        try:
            assert alice.task(task_id).status is JobStatus.RUNNING
        finally:
            alice.job(task_id).kill()
            wait_until(lambda: alice.task(task_id).status is JobStatus.CANCELLED, timeout=60)


class TestSessionShutdown:
    """What the exit hook says: one line per running job, killed or how to re-attach."""

    def test_each_running_job_is_killed_and_named(
        self, shell: Any, magics: Any, alice: LinkisClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        shell.run_cell_magic("linkis", "--background -q", LONG_QUERY)
        run = magics.session.last_run
        wait_until(lambda: run.job.state is JobStatus.RUNNING, what="Running")
        with caplog.at_level("WARNING", logger="linkis_magic"):
            lines = magics.on_exit()
        assert lines == [
            f"Linkis job taskID {run.job.task_id} killed on kernel exit (state Cancelled)"
        ]
        assert lines[0] in caplog.text
        assert alice.task(run.job.task_id).status is JobStatus.CANCELLED

    def test_kill_on_exit_off_says_how_to_reattach(
        self, shell: Any, magics: Any, alice: LinkisClient
    ) -> None:
        shell.run_cell_magic("linkis", "--background -q", LONG_QUERY)
        run = magics.session.last_run
        wait_until(lambda: run.job.state is JobStatus.RUNNING, what="Running")
        magics.kill_on_exit = False
        try:
            (line,) = magics.on_exit()
            assert f"%linkis attach {run.job.task_id}" in line
            assert alice.task(run.job.task_id).status is JobStatus.RUNNING
        finally:
            magics.kill_on_exit = True
            run.request_cancel()
            assert run.done.wait(60)
