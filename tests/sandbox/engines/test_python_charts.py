"""engines/python.py: plt.show(), show_matplotlib() and show() write result sets as Linkis's do."""

from __future__ import annotations

import base64
import re
from typing import Any

PY = "python-python3"
# Linkis's python engine: <div style='width:W;height:H'><img src=data:image/png;base64,...
# style='width=W;height:H'><div> (docs/linkis-protocol.md §6.6)
LINKIS_IMG = re.compile(
    r"^<div style='width:auto;height:auto'><img src=data:image/png;base64,([A-Za-z0-9+/=]+) "
    r"style='width=auto;height:auto'><div>$"
)


class TestCharts:
    """A Python job's charts become HTML result sets holding a base64 PNG."""

    def test_plt_show_writes_one_html_result_set_in_linkis_shape(self, alice: Any) -> None:
        job, state = alice.run(
            "import matplotlib.pyplot as plt\n"
            "print('drawing')\n"
            "plt.plot([1, 2, 3], [3, 1, 2])\n"
            "plt.show()\n"
            "print('done')",
            "python",
            engine_type=PY,
        )
        assert state == "Succeed", alice.log_all(job)
        paths = alice.result_paths(job)
        assert len(paths) == 3
        assert alice.open_file(paths[0])["fileContent"] == [["drawing"]]
        chart = alice.open_file(paths[1])
        assert chart["type"] == "5" and chart["metadata"] == "NULL"
        (line,) = chart["fileContent"]
        match = LINKIS_IMG.match(line[0])
        assert match, line[0][:120]
        assert base64.b64decode(match.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
        assert alice.open_file(paths[2])["fileContent"] == [["done"]]

    def test_show_matplotlib_of_a_figure_and_svg(self, alice: Any) -> None:
        job, state = alice.run(
            "import matplotlib\n"
            "matplotlib.use('Agg')\n"
            "from matplotlib.figure import Figure\n"
            "fig = Figure()\n"
            "fig.add_subplot().bar(['a', 'b'], [1, 2])\n"
            "show_matplotlib(fig)\n"
            "show_matplotlib(fig, fmt='svg')",
            "python",
            engine_type=PY,
        )
        assert state == "Succeed", alice.log_all(job)
        png, svg = (alice.open_file(p) for p in alice.result_paths(job))
        assert png["type"] == "5" and LINKIS_IMG.match(png["fileContent"][0][0])
        assert svg["type"] == "5" and "<svg" in svg["fileContent"][0][0]

    def test_show_of_a_dataframe_is_a_table_and_of_anything_else_text(self, alice: Any) -> None:
        job, state = alice.run(
            "import pandas as pd\nshow(pd.DataFrame({'n': [1, 2]}))\nshow('just words')",
            "python",
            engine_type=PY,
        )
        assert state == "Succeed", alice.log_all(job)
        table, text = (alice.open_file(p) for p in alice.result_paths(job))
        assert table["type"] == "2" and table["fileContent"] == [["1"], ["2"]]
        assert text["type"] == "1" and text["fileContent"] == [["just words"]]
