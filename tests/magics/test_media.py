"""A cell's HTML, picture and IO result sets shown as such, in order with its tables.

Against a loopback Linkis answering in the shapes of docs/linkis-protocol.md §6.6 (every type),
and against the sandbox, whose Python engine turns ``plt.show()`` into Linkis's HTML chart.
"""

from __future__ import annotations

import base64
from typing import Any

from IPython.utils.capture import capture_output

from linkis_magic import ResultKind
from linkis_magic.client import LinkisClient
from tests.support.double import EXEC_ID, LinkisDouble, task_data
from tests.support.scripts import TASK_ID, ResultFile, ResultServer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()
CHART = (
    "<div style='width:auto;height:auto'><img src=data:image/png;base64,"
    f"{PNG_B64} style='width=auto;height:auto'><div>"
)
ROOT = "hdfs:///tmp/linkis/result/2024-01-01/IDE/alice/7"


def succeed_with(gw: LinkisDouble, files: list[ResultFile]) -> None:
    """A job that succeeds at once with ``files`` as its result sets."""
    gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": TASK_ID})
    gw.on("GET", f"entrance/{EXEC_ID}/status", {"status": "Succeed", "execID": EXEC_ID})
    gw.on("GET", f"entrance/{EXEC_ID}/log", {"fromLine": 1, "log": ["", "", "", ""]})
    gw.on("GET", f"jobhistory/{TASK_ID}/get", task_data(TASK_ID, result_location=ROOT))
    server = ResultServer(gw, ROOT)
    for file in files:
        server.add(file)


def bundles(cap: Any) -> list[dict[str, Any]]:
    return [out.data for out in cap.outputs]


class TestEveryKindAgainstLinkisShapes:
    """HTML as text/html, a picture as image/png, IO as a note, text printed, tables bound."""

    def test_only_media_are_displayed_and_nothing_is_bound(
        self, shell: Any, gw: LinkisDouble, connect: Any
    ) -> None:
        succeed_with(
            gw,
            [
                ResultFile("_0.dolphin", [], [["hello"]], type="1"),
                ResultFile("_1.dolphin", [], [[CHART]], type="5"),
                ResultFile("_2.dolphin", [], [[PNG_B64]], type="4"),
                ResultFile("_3.dolphin", [], [["x"], ["y"]], type="3"),
            ],
        )
        connect(gw.url)
        shell.user_ns.pop("media", None)
        with capture_output() as cap:
            value = shell.run_cell_magic("linkis", "py -q -o media", "plt.show()")
        assert value is None and "media" not in shell.user_ns
        with capture_output() as cap:
            value = shell.run_cell_magic("linkis", "py -o media", "plt.show()")
        assert value is None
        html, picture, io = bundles(cap)
        assert html["text/html"] == CHART
        assert html["text/plain"].startswith("[result set 1: HTML, ")
        assert "\n" not in html["text/plain"] and "base64" not in html["text/plain"]
        assert base64.b64decode(picture["image/png"]) == PNG
        assert picture["text/plain"].startswith("[result set 2: picture, ")
        assert set(io) == {"text/plain"} and "IO" in io["text/plain"]
        assert "hello" in cap.stdout and "no table result set" in cap.stderr

    def test_tables_and_charts_show_in_result_set_order_and_o_binds_tables(
        self, shell: Any, gw: LinkisDouble, connect: Any
    ) -> None:
        succeed_with(
            gw,
            [
                ResultFile("_0.dolphin", [("n", "int")], [["1"], ["2"]]),
                ResultFile("_1.dolphin", [], [[CHART]], type="5"),
                ResultFile("_2.dolphin", [("s", "string")], [["a"]]),
            ],
        )
        connect(gw.url)
        with capture_output() as cap:
            value = shell.run_cell_magic("linkis", "py -o mixed", "show(df); plt.show()")
        assert value is None  # shown here already, in order: the tables are not shown twice
        first, chart, last = bundles(cap)
        assert first["text/plain"].startswith("result set 0 · 2 rows")
        assert last["text/plain"].startswith("result set 2 · 1 rows")
        assert chart["text/html"] == CHART
        mixed = shell.user_ns["mixed"]
        assert [len(f) for f in mixed] == [2, 1] and mixed.indexes == (0, 2)

    def test_tables_with_text_keep_the_table_as_the_cells_value(
        self, shell: Any, gw: LinkisDouble, connect: Any
    ) -> None:
        succeed_with(
            gw,
            [
                ResultFile("_0.dolphin", [], [["note"]], type="1"),
                ResultFile("_1.dolphin", [("n", "int")], [["1"]]),
            ],
        )
        connect(gw.url)
        with capture_output() as cap:
            value = shell.run_cell_magic("linkis", "", "select 1")
        assert list(value["n"]) == [1]  # text alone does not change how tables show
        assert cap.outputs == [] and "note" in cap.stdout


class TestSandboxCharts:
    """A %%linkis py job's plt.show() is a chart in the cell, and its PNG in the Python API."""

    def test_plt_show_is_an_img_in_the_cell(
        self, shell: Any, magics: Any, alice: LinkisClient
    ) -> None:
        code = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [2, 3, 1])\nplt.show()"
        with capture_output() as cap:
            value = shell.run_cell_magic("linkis", "py", code)
        assert value is None
        (chart,) = bundles(cap)
        assert chart["text/html"].startswith("<div style='width:auto;height:auto'><img src=data:")
        assert (
            chart["text/plain"].startswith("[result set 0: HTML, ")
            and "1 image" in chart["text/plain"]
        )
        (result,) = alice.job(magics.session.last_run.job.task_id).results()
        assert result.kind is ResultKind.HTML and result.image is not None
        assert result.image.startswith(b"\x89PNG")
