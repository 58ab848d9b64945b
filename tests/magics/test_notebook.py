"""Real kernels driven by nbclient: the quickstart notebook, the Kill button, kernel interrupt."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import shutil
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

from linkis_magic.client import LinkisClient
from linkis_magic.protocol import JobStatus
from tests.support.double import ALICE_PASSWORD, EXEC_ID, LinkisDouble
from tests.support.scripts import TASK_ID, offline_entrance
from tests.support.wait import await_until, wait_until

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No LINKIS_* settings, and private XDG dirs so the embedded sandbox state is ours."""
    for var in list(os.environ):
        if var.startswith("LINKIS_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "run").mkdir(mode=0o700)
    return tmp_path


@pytest.fixture
def alice(sandbox: Any) -> Iterator[LinkisClient]:
    with LinkisClient(sandbox.url, user="alice", password="alice-secret") as client:
        yield client


def outputs_text(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
        else:
            data = out.get("data", {})
            parts.append(str(data.get("text/plain", "")))
    return "\n".join(parts)


class TestQuickstart:
    """notebooks/quickstart.ipynb runs top to bottom on the embedded sandbox."""

    def test_runs_with_no_gateway_configured(self, clean_env: Path) -> None:
        work = clean_env / "nb"
        work.mkdir()
        shutil.copy(QUICKSTART, work / "quickstart.ipynb")
        nb = nbformat.read(work / "quickstart.ipynb", as_version=4)
        for cell in nb.cells:
            assert cell.get("outputs", []) == [], "the notebook is saved with outputs"
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}
        ).execute()
        code = [c for c in nb.cells if c.cell_type == "code"]
        errors = [
            (c.source.splitlines()[0], o["ename"])
            for c in code
            for o in c.outputs
            if o.get("output_type") == "error"
        ]
        assert errors == [("%%linkis", "JobFailed")]
        failing = next(c for c in code if "raises-exception" in c.metadata.get("tags", []))
        assert "table_that_does_not_exist" in outputs_text(failing)
        texts = [outputs_text(c) for c in code]
        joined = "\n".join(texts)
        assert joined.count(": started the local sandbox at http://127.0.0.1:") == 1
        # df.dtypes, the shapes of two result sets, the re-attached background result
        assert "Int64" in texts[2]
        assert "[(1, 2), (3, 2)]" in texts[4]
        assert "hello from the Linkis python engine" in joined
        attached = next(t for c, t in zip(code, texts, strict=True) if "linkis attach" in c.source)
        assert "multiples_of_3" in attached and "6666667" in attached
        # schema browsing and the engines the tour's jobs ran on
        by_source = {c.source.strip(): t for c, t in zip(code, texts, strict=True)}
        assert {"emp", "dept", "sales"} <= set(by_source["%linkis tables"].split())
        assert "empno" in by_source["%linkis columns emp"]
        # charts: the python job's plt.show() as an <img>, plots as matplotlib figures
        chart = next(c for c in code if c.source.startswith("%%linkis py\nimport matplotlib"))
        html = [o["data"]["text/html"] for o in chart.outputs if "text/html" in o.get("data", {})]
        assert any("<img src=data:image/png;base64," in h for h in html), outputs_text(chart)
        for line in ("%linkis plot histogram emp sal --bins 6", "%linkis plot bar emp job --top 3"):
            plot = next(c for c in code if c.source == line)
            assert any("image/png" in o.get("data", {}) for o in plot.outputs), by_source[line]
            assert "<Axes" in by_source[line]
        profile = by_source["%linkis profile emp -o emp_profile"]
        assert "distinct" in profile and "comm" in profile
        # push, then a join with the pushed table
        assert "Pushed 3 rows of targets to default.dept_targets (replace)." in joined
        payroll = next(t for c, t in zip(code, texts, strict=True) if "-o payroll" in c.source)
        assert "ACCOUNTING" in payroll and "12000.0" in payroll and "2024-01-02" in payroll
        assert "datetime64[s]" in by_source["payroll.dtypes"]
        engines = by_source["%linkis engines"]
        assert "spark-" in engines and "python" in engines and "Unlock" in engines
        # the optional Spark section: real per-Spark-job progress rows, or a visible note
        start, query, head = code[-3:]
        assert "k" in outputs_text(head) and "200000" in outputs_text(head)
        if importlib.util.find_spec("pyspark") is None:
            assert "needs pyspark" in outputs_text(start)
        else:
            assert "spark-* on Spark local[2]" in outputs_text(start)
            card = json.dumps(query.outputs)
            rows = re.findall(r"jobId-\d+\(linkis-spark-\d+\)", card)
            assert rows, card[:2000]
            assert re.search(r"(\d+) succeeded / 0 running / 0 failed / \1 total", card)
        # the sandbox this kernel started (in our private dirs) is gone with the kernel
        log = clean_env / "data" / "linkis-magic" / "sandbox" / "sandbox.log"
        url = re.search(r"http://127\.0\.0\.1:(\d+)", log.read_text(encoding="utf-8"))
        assert url is not None and url.group(0) in joined
        assert not (clean_env / "run" / "linkis-magic" / "sandbox.json").exists()
        port = int(url.group(1))

        def refused() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            except ConnectionRefusedError:
                return True
            return False

        # the kernel sent it SIGTERM on its way out; a Spark session takes a while to stop
        wait_until(refused, timeout=60, interval=0.2, what="the kernel's sandbox to stop")

    def test_saved_without_outputs(self) -> None:
        raw = json.loads(QUICKSTART.read_text(encoding="utf-8"))
        nbformat.validate(nbformat.reads(json.dumps(raw), as_version=4))
        for cell in raw["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def run_long_cell(
    tmp_path: Path,
    act: Callable[[NotebookClient], Awaitable[None]],
    cell: str = f"%%linkis\n{LONG_QUERY}",
) -> tuple[Any, list[str]]:
    """Run a blocking cell (a long query) in a real kernel while `act` runs alongside it.

    Everything happens on one asyncio loop in this thread: ZMQ sockets are not thread-safe,
    so the simulated click must go out on the loop that also reads the kernel's replies.
    """
    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext linkis_magic"),
            new_code_cell(cell),
            new_code_cell(
                "_m = [c for c in get_ipython().configurables "
                "if type(c).__name__ == 'LinkisMagics'][0]\n"
                "_r = _m.session.last_run\n"
                "print(_r.job.task_id, _r.job.exec_id, 'v' in globals())"
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )

    async def main() -> None:
        async with client.async_setup_kernel():
            await client.async_execute_cell(nb.cells[0], 0)
            blocking = asyncio.ensure_future(client.async_execute_cell(nb.cells[1], 1))
            try:
                await act(client)
            except BaseException:
                await ensure_async(client.km.interrupt_kernel())  # do not leave it blocking
                raise
            with pytest.raises(CellExecutionError):
                await blocking
            await client.async_execute_cell(nb.cells[2], 2)  # the kernel carries on

    run_in_own_loop(main)
    return nb, nb.cells[2].outputs[0]["text"].split()


def run_in_own_loop(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``main()`` with asyncio.run on a fresh thread.

    Playwright's sync API (the browser group's session fixture) keeps an event loop running
    on the main thread, where asyncio.run() refuses to start; a thread has none.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # handed back to the test thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="nbclient-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def kill_button_id(client: NotebookClient) -> str | None:
    for comm_id, state in list(client.widget_state.items()):
        if state.get("_model_name") == "ButtonModel" and state.get("description") == "Kill":
            return comm_id
    return None


def newest_task_running(alice: LinkisClient) -> bool:
    page = alice.tasks(page_size=1)
    return bool(page.tasks) and page.tasks[0].status is JobStatus.RUNNING


class TestKillWhileBlocking:
    """The Kill button and a kernel interrupt both stop a blocking %%linkis cell's job."""

    @pytest.fixture
    def env(self, sandbox: Any, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.setenv("LINKIS_GATEWAY_URL", sandbox.url)
        monkeypatch.setenv("LINKIS_USER", "alice")
        monkeypatch.setenv("LINKIS_PASSWORD", "alice-secret")
        return clean_env

    def test_kill_button_click(self, env: Path, alice: LinkisClient) -> None:
        async def click(client: NotebookClient) -> None:
            await await_until(lambda: kill_button_id(client) is not None)
            await await_until(lambda: newest_task_running(alice))
            msg = client.kc.session.msg(
                "comm_msg",
                {
                    "comm_id": kill_button_id(client),
                    "data": {"method": "custom", "content": {"event": "click"}},
                },
            )
            client.kc.shell_channel.send(msg)

        nb, (task_id, exec_id, _bound) = run_long_cell(env, click)
        error = next(o for o in nb.cells[1].outputs if o["output_type"] == "error")
        assert error["ename"] == "JobCancelled"
        assert "Cancelled" in "\n".join(error["traceback"])
        assert alice.status(exec_id, task_id=int(task_id)) is JobStatus.CANCELLED

    def test_kernel_interrupt(self, env: Path, alice: LinkisClient) -> None:
        async def interrupt(client: NotebookClient) -> None:
            await await_until(lambda: kill_button_id(client) is not None)
            await await_until(lambda: newest_task_running(alice))
            await ensure_async(client.km.interrupt_kernel())

        nb, (task_id, exec_id, _bound) = run_long_cell(env, interrupt)
        error = next(o for o in nb.cells[1].outputs if o["output_type"] == "error")
        assert error["ename"] == "LinkisInterrupted"
        assert "Interrupted: Linkis job" in error["evalue"]
        assert error["traceback"] == [f"LinkisInterrupted: {error['evalue']}"]
        assert alice.status(exec_id, task_id=int(task_id)) is JobStatus.CANCELLED


def error_output(cell: Any) -> Any:
    return next(o for o in cell.outputs if o["output_type"] == "error")


class TestOfflineEntranceInKernel:
    """The gateway cannot route to the job's entrance (errCode 11011): the Kill button and a
    kernel interrupt still end the blocking cell after the grace, saying in one line that the
    job may still run and what to do; the routing message is shown once; nothing is bound."""

    @pytest.fixture
    def env(self, gw: LinkisDouble, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        offline_entrance(gw)
        monkeypatch.setenv("LINKIS_GATEWAY_URL", gw.url)
        monkeypatch.setenv("LINKIS_USER", "alice")
        monkeypatch.setenv("LINKIS_PASSWORD", ALICE_PASSWORD)
        return clean_env

    @staticmethod
    def followed(gw: LinkisDouble) -> Callable[[], bool]:
        return lambda: len(gw.calls("GET", f"jobhistory/{TASK_ID}/get")) > 1

    def check(self, nb: Any, bound: str, ename: str) -> str:
        error = error_output(nb.cells[1])
        assert error["ename"] == ename
        line = error["traceback"][-1] if ename == "KillUnconfirmed" else error["evalue"]
        assert f"taskID {TASK_ID} may still be running" in line
        assert "could not be delivered" in line
        assert f"%linkis kill {TASK_ID}" in line
        assert bound == "False"
        return json.dumps(nb.cells[1].outputs)

    def test_kill_button(self, env: Path, gw: LinkisDouble) -> None:
        async def click(client: NotebookClient) -> None:
            await await_until(lambda: kill_button_id(client) is not None)
            await await_until(self.followed(gw))
            msg = client.kc.session.msg(
                "comm_msg",
                {
                    "comm_id": kill_button_id(client),
                    "data": {"method": "custom", "content": {"event": "click"}},
                },
            )
            client.kc.shell_channel.send(msg)

        nb, (_task, _exec, bound) = run_long_cell(env, click, "%%linkis -o v\nselect 1")
        outputs = self.check(nb, bound, "KillUnconfirmed")
        assert len(error_output(nb.cells[1])["traceback"]) == 1  # one line, no traceback
        # the finished card keeps the routing notice, once
        assert outputs.count("could not reach the job") == 1
        assert 1 <= len(gw.calls("GET", f"entrance/{EXEC_ID}/kill")) <= 6

    def test_kernel_interrupt_in_text_mode(
        self, env: Path, gw: LinkisDouble, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LINKIS_DISPLAY", "text")

        async def interrupt(client: NotebookClient) -> None:
            await await_until(self.followed(gw))
            await ensure_async(client.km.interrupt_kernel())

        nb, (_task, _exec, bound) = run_long_cell(env, interrupt, "%%linkis -o v\nselect 1")
        outputs = self.check(nb, bound, "LinkisInterrupted")
        assert outputs.count("could not reach the job") == 1  # the text notice, printed once
        assert "Following the job through jobhistory now." in outputs


class TestBackgroundInKernel:
    """In a kernel: --background keeps a live Kill button; direct calls stay synchronous."""

    def test_kill_button_of_a_background_job_and_direct_call(
        self, sandbox: Any, clean_env: Path, alice: LinkisClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LINKIS_GATEWAY_URL", sandbox.url)
        monkeypatch.setenv("LINKIS_USER", "alice")
        monkeypatch.setenv("LINKIS_PASSWORD", "alice-secret")
        nb = new_notebook(
            cells=[
                new_code_cell("%load_ext linkis_magic"),
                new_code_cell(f"%%linkis --background -o never\n{LONG_QUERY}"),
                new_code_cell(
                    "_m = [c for c in get_ipython().configurables "
                    "if type(c).__name__ == 'LinkisMagics'][0]\n"
                    "_r = _m.session.last_run\n"
                    "assert _r.done.wait(60)\n"
                    "print(_r.job.state.value, _r.job.task_id, _r.job.exec_id, "
                    "'never' in globals())"
                ),
                new_code_cell(
                    "v = get_ipython().run_cell_magic('linkis', '-q', 'select 1 as a')\n"
                    "print(type(v).__name__, v['a'].tolist())"
                ),
                new_code_cell("%%linkis -e spark\nselect 1"),
                new_code_cell("%config LinkisMagics.display = 'text'"),
                new_code_cell("%%linkis\nselect 1 as a"),
                new_code_cell("print(_m.use_awaited_cells(), In[-2].splitlines()[0][:40])"),
            ]
        )
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        client = NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(clean_env)}}
        )

        async def main() -> None:
            async with client.async_setup_kernel():
                await client.async_execute_cell(nb.cells[0], 0)
                await client.async_execute_cell(nb.cells[1], 1)  # returns at once
                await await_until(lambda: kill_button_id(client) is not None)
                await await_until(lambda: newest_task_running(alice))
                msg = client.kc.session.msg(
                    "comm_msg",
                    {
                        "comm_id": kill_button_id(client),
                        "data": {"method": "custom", "content": {"event": "click"}},
                    },
                )
                client.kc.shell_channel.send(msg)
                await client.async_execute_cell(nb.cells[2], 2)
                await client.async_execute_cell(nb.cells[3], 3)
                with pytest.raises(CellExecutionError):
                    await client.async_execute_cell(nb.cells[4], 4)
                for index in (5, 6, 7):
                    await client.async_execute_cell(nb.cells[index], index)

        run_in_own_loop(main)
        name, task_id, exec_id, bound = nb.cells[2].outputs[0]["text"].split()
        assert (name, bound) == ("Cancelled", "False")
        assert alice.status(exec_id, task_id=int(task_id)) is JobStatus.CANCELLED
        assert nb.cells[3].outputs[0]["text"].strip() == "DataFrame [1]"
        usage = outputs_text(nb.cells[4])  # IPython prints usage errors, no traceback
        assert "UsageError" in usage and "spark-2.4.3" in usage
        assert "Traceback" not in usage
        # text display on request: no widget, no awaited rewrite, plain lines
        text_run = outputs_text(nb.cells[6])
        assert "Succeed" in text_run and "widget-view" not in json.dumps(nb.cells[6].outputs)
        shown = nb.cells[7].outputs[0]["text"]
        assert shown.startswith("False get_ipython().run_cell_magic('linkis',")
