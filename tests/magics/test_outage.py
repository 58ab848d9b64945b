"""A %%linkis cell whose gateway stops answering for longer than gateway_outage_timeout.

The gateway is the session's sandbox behind a fault proxy that resets every connection once the
test says so; the job is a Python job holding at a file, so the outage starts while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from linkis_magic.errors import TransportError
from linkis_magic.protocol import JobStatus
from tests.support.proxy import Fault, FaultProxy
from tests.support.wait import wait_until


class TestCellWhenTheGatewayIsGone:
    """The cell says the gateway is unreachable, then fails naming %linkis attach TASKID."""

    def test_outage_longer_than_the_setting_fails_the_cell(
        self,
        shell: Any,
        connect: Callable[..., Any],
        sandbox: Any,
        alice: Any,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        running, finish = tmp_path / "running", tmp_path / "finish"
        code = (
            "import os, time\n"
            f"open({str(running)!r}, 'w').close()\n"
            f"while not os.path.exists({str(finish)!r}):\n"
            "    time.sleep(0.02)\n"
            "print('done')\n"
        )
        down = threading.Event()
        with FaultProxy(sandbox.url, lambda m, p, n: Fault.RESET if down.is_set() else None) as gw:
            magics = connect(gw.url)
            shell.run_line_magic("config", "LinkisMagics.gateway_outage_timeout = 2")

            def cut_when_running() -> None:
                wait_until(running.exists, what="the job running")
                down.set()

            cutter = threading.Thread(target=cut_when_running, daemon=True)
            cutter.start()
            try:
                with pytest.raises(TransportError) as info:
                    shell.run_cell_magic("linkis", "python --timeout 120", code)
            finally:
                finish.touch()
                cutter.join(60)
            task_id = magics.session.last_run.job.task_id
            assert f"%linkis attach {task_id}" in str(info.value)
            assert "gateway_outage_timeout is 2 s" in str(info.value)
            assert "gateway unreachable since" in capsys.readouterr().out
        # the job was left alone: it ran on once released
        again = alice.job(task_id)
        assert again.wait(timeout=60) is JobStatus.SUCCEED
