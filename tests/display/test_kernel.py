"""The widget display inside a real ipykernel driven by nbclient: saved state and Kill clicks."""

from __future__ import annotations

import inspect
import textwrap
import threading
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.support import snapshots
from tests.support.wait import wait_until

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# The snapshot factories from the unit tests, sent to the kernel as source.
SETUP = "\n".join(
    [
        "from collections.abc import Sequence",
        "from typing import Any",
        inspect.getsource(snapshots.make_snap),
        inspect.getsource(snapshots.table_result),
    ]
)


def notebook(*sources: str) -> Any:
    nb = new_notebook(cells=[new_code_cell(textwrap.dedent(s)) for s in sources])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def client_for(nb: Any, path: Path) -> NotebookClient:
    return NotebookClient(
        nb, timeout=30, kernel_name="python3", resources={"metadata": {"path": str(path)}}
    )


class Models:
    """Saved widget models looked up by model name and CSS class."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def get(self, ref: str) -> dict[str, Any]:
        return self.state[ref.removeprefix("IPY_MODEL_")]  # type: ignore[no-any-return]

    def find(self, model_name: str, css: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (mid, m["state"])
            for mid, m in self.state.items()
            if m["model_name"] == model_name and css in m["state"].get("_dom_classes", ())
        ]

    def job_box(self, title: str) -> dict[str, Any]:
        for _, box in self.find("VBoxModel", "linkis-job"):
            header = self.get(box["children"][0])["state"]
            if f"<b>{title}</b>" in header["value"]:
                return box
        raise AssertionError(f"no job widget titled {title!r}")


class TestSavedNotebook:
    """A notebook run by nbclient keeps the final widget state and a readable static output."""

    def test_final_state_and_text_plain(self, tmp_path: Path) -> None:
        """Failed job: red bar, disabled Kill, escaped red log; outputs carry the summary text."""
        nb = notebook(
            SETUP,
            """
            from linkis_magic.display import WidgetDisplay, frontend_mode
            print("mode:", frontend_mode())
            failing = WidgetDisplay(on_kill=lambda: None, title="failing")
            failing.show()
            kept = WidgetDisplay(on_kill=lambda: None, title="kept", static_on_finish=False)
            kept.show()
            """,
            """
            BAD = "2024-01-01 10:00:00.000 ERROR <b>Table</b> not found"
            failing.update(make_snap("Running", progress=0.4,
                                     stages=[("s1", 3, 0, 1, 4), ("s2", 0, 1, 1, 5)],
                                     tail=["INFO start", BAD]))
            failing.finish(make_snap("Failed", progress=0.4, elapsed=5.0, err_code=21304,
                                     err_desc="Table not found",
                                     stages=[("s1", 4, 0, 0, 4), ("s2", 0, 2, 0, 5)],
                                     tail=["INFO start", BAD]))
            kept.update(make_snap("Running", progress=0.5))
            kept.finish(make_snap("Succeed", elapsed=2.0), [table_result(1, 7, 3)])
            """,
        )
        client_for(nb, tmp_path).execute()
        nbformat.validate(nb)

        setup_outputs = nb.cells[1].outputs
        assert setup_outputs[0]["text"] == "mode: widget\n"
        failing_out, kept_out = setup_outputs[1], setup_outputs[2]
        # the failing display's output was replaced in place by the static card
        assert set(failing_out["data"]) == {"text/plain", "text/html"}
        assert failing_out["data"]["text/plain"] == (
            "failing: Failed in 5.0s | errCode 21304: Table not found"
        )
        card = failing_out["data"]["text/html"]
        assert "&lt;b&gt;Table&lt;/b&gt;" in card
        assert card.count('class="linkis-stage"') == 2
        # the kept display is still a widget whose text fallback is the summary
        assert kept_out["data"]["text/plain"] == (
            "kept: Succeed in 2.0s | result 1: 7 rows × 3 columns"
        )
        models = Models(nb.metadata.widgets[WIDGET_STATE]["state"])
        kept_box_id = kept_out["data"][WIDGET_VIEW]["model_id"]
        assert models.job_box("kept") is models.get(kept_box_id)["state"]

        box = models.job_box("failing")
        children = (models.get(c) for c in box["children"])
        header, _notice, bar_row, stages, _resources, log, summary, _errors = children
        assert ">Failed</span>" in header["state"]["value"]
        bar, kill = (models.get(c)["state"] for c in bar_row["state"]["children"])
        assert (bar["bar_style"], bar["value"]) == ("danger", 0.4)
        assert kill["disabled"] is True
        assert kill["_dom_classes"] == ["linkis-kill"]
        rows = [models.get(c)["state"] for c in stages["state"]["children"]]
        assert len(rows) == 2
        s2_label, s2_bar, s2_counts = (models.get(c)["state"] for c in rows[1]["children"])
        assert s2_label["value"] == "s2"
        assert (s2_bar["value"], s2_bar["max"], s2_bar["bar_style"]) == (0, 5, "danger")
        assert s2_counts["value"] == "0 succeeded / 0 running / 2 failed / 5 total"
        assert "linkis-log-error" in log["state"]["value"]
        assert "<b>Table" not in log["state"]["value"]
        assert "errCode 21304" in summary["state"]["value"]

        kept_bar = models.get(models.job_box("kept")["children"][2])["state"]["children"][0]
        assert models.get(kept_bar)["state"]["bar_style"] == "success"

    def test_finished_view_is_calm(self, tmp_path: Path) -> None:
        """The saved state of a finished job: state once, short execID, no running tasks."""
        nb = notebook(
            SETUP,
            """
            from linkis_magic.display import WidgetDisplay
            d = WidgetDisplay(on_kill=lambda: None, title="calm", static_on_finish=False)
            d.show()
            d.update(make_snap("Running", progress=0.78, stages=[("s1", 78, 0, 22, 100)]))
            d.finish(make_snap("Succeed", elapsed=0.6), [table_result(0, 3, 2)])
            """,
        )
        client_for(nb, tmp_path).execute()
        out = nb.cells[1].outputs[0]
        assert out["data"]["text/plain"] == "calm: Succeed in 0.6s | result 0: 3 rows × 2 columns"
        models = Models(nb.metadata.widgets[WIDGET_STATE]["state"])
        header, _notice, _bar_row, stages, _resources, _log, summary, _errors = (
            models.get(c)["state"] for c in models.job_box("calm")["children"]
        )
        assert summary["value"] == "result 0: 3 rows × 2 columns"
        assert "execID IDE_alice_spark_0</span>" in header["value"]
        assert 'title="exec_id018007linkis-cg-entranceb0:9104IDE_alice_spark_0"' in header["value"]
        (row,) = (models.get(c)["state"] for c in stages["children"])
        counts = models.get(row["children"][2])["state"]
        assert counts["value"] == "100 succeeded / 0 running / 0 failed / 100 total"


class TestResultFramesValue:
    """A ResultFrames cell value reaches the notebook as titled HTML tables and as text."""

    def test_execute_result(self, tmp_path: Path) -> None:
        """execute_result carries text/html with one dataframe table per frame, in order."""
        nb = notebook(
            """
            import pandas as pd
            from linkis_magic.display import ResultFrames
            frames = ResultFrames([pd.DataFrame({"k": [0, 1, 2], "n": [4, 5, 6]}),
                                   pd.DataFrame({"tag": ["done"]})], [0, 1])
            frames
            """
        )
        client_for(nb, tmp_path).execute()
        (out,) = nb.cells[0].outputs
        assert out["output_type"] == "execute_result"
        html = out["data"]["text/html"]
        assert html.count('class="dataframe"') == 2
        first = html.index("result set 0 · 3 rows × 2 columns")
        second = html.index("result set 1 · 1 rows × 1 columns")
        assert first < second < html.index("done")
        assert out["data"]["text/plain"].startswith("result set 0 · 3 rows × 2 columns\n")


class TestKillWhileAwaiting:
    """A frontend click on Kill reaches on_kill while the cell is still awaiting."""

    def test_click_during_async_cell(self, tmp_path: Path) -> None:
        """The comm_msg click runs the handler mid-cell; the waiting cell sees the flag."""
        nb = notebook(
            """
            import asyncio, threading
            from linkis_magic.display import WidgetDisplay
            killed = threading.Event()
            d = WidgetDisplay(on_kill=killed.set, title="blocking")
            d.show()
            """,
            """
            print("awaiting", flush=True)
            for _ in range(400):  # a guard (~20 s): the test clicks once it reads "awaiting"
                if killed.is_set():
                    break
                await asyncio.sleep(0.05)
            print("killed during cell:", killed.is_set())
            """,
            "print(d.kill_button.disabled, d.kill_button.description)",
        )
        client = client_for(nb, tmp_path)
        sent: list[str] = []

        def kill_button() -> str | None:
            for comm_id, state in list(client.widget_state.items()):
                if state.get("_model_name") == "ButtonModel" and "linkis-kill" in state.get(
                    "_dom_classes", ()
                ):
                    return comm_id
            return None

        def awaiting() -> bool:
            """The second cell has started and is awaiting (nbclient appends outputs live)."""
            return any("awaiting" in out.get("text", "") for out in list(nb.cells[1].outputs))

        def click() -> None:
            comm_id = wait_until(kill_button, timeout=15, what="the Kill button")
            wait_until(awaiting, timeout=15, what="the second cell to be awaiting")
            msg = client.kc.session.msg(
                "comm_msg",
                {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}},
            )
            client.kc.shell_channel.send(msg)
            sent.append(comm_id)

        with client.setup_kernel():
            client.execute_cell(nb.cells[0], 0)
            clicker = threading.Thread(target=click)
            clicker.start()
            client.execute_cell(nb.cells[1], 1)
            clicker.join(timeout=20)
            client.execute_cell(nb.cells[2], 2)
        assert sent, "the Kill button never appeared in the widget state"
        printed = "".join(out["text"] for out in nb.cells[1].outputs)
        assert printed == "awaiting\nkilled during cell: True\n"
        assert nb.cells[2].outputs[0]["text"] == "True Killing…\n"
