"""Charts in JupyterLab: a ``%%linkis py`` job's ``plt.show()`` is an <img> in the cell output,
and ``%linkis plot`` draws a histogram aggregated by the sandbox; both survive a save.

The sandbox's Python engine writes ``plt.show()`` as Linkis's HTML result set (a base64 PNG in
an ``<img>``, docs/linkis-protocol.md §6.6); the magic displays it as text/html with a one-line
text/plain placeholder for plain frontends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nbformat
import pytest

from tests.browser.conftest import expect

if TYPE_CHECKING:
    from tests.browser.conftest import NotebookFactory

pytestmark = pytest.mark.browser

LOAD = "%load_ext linkis_magic"
CHART = """\
%%linkis py
import matplotlib.pyplot as plt
plt.figure(figsize=(5, 3))
plt.bar(["north", "south", "east", "west"], [12, 7, 9, 4], color="#4c72b0")
plt.title("orders by region (drawn by the Linkis job)")
plt.show()"""
PLOT = "%linkis plot histogram emp sal --bins 6"


class TestCharts:
    """The job's chart renders as an image; the saved text/plain is a one-line placeholder."""

    def test_python_job_chart_is_an_img(self, notebook: NotebookFactory) -> None:
        """The <img> decodes (non-zero natural width) and the notebook saves HTML + placeholder."""
        nb = notebook([LOAD, CHART, PLOT])
        nb.run_cell(0)
        nb.wait_done(0)
        nb.run_cell(1)
        nb.wait_done(1)
        expect(nb.output(1).locator(".linkis-job .linkis-header")).to_contain_text("Succeed")
        img = nb.output(1).locator(
            '[data-mime-type="text/html"] img[src^="data:image/png;base64,"]'
        )
        expect(img).to_have_count(1)
        expect(img).to_be_visible()
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("(i) => i.naturalWidth") > 100
        # HTML source is never shown as text
        assert "base64" not in (nb.output(1).inner_text() or "")
        nb.screenshot("chart-python", nb.cell(1))

        nb.run_cell(2)
        nb.wait_done(2)
        figure = nb.output(2).locator('[data-mime-type="image/png"] img')
        expect(figure).to_have_count(1)
        expect(figure).to_be_visible()
        nb.screenshot("plot-histogram", nb.cell(2))

        nb.save()
        saved = nbformat.read(nb.path, as_version=4)
        charts = [
            out
            for out in saved.cells[1].outputs
            if "text/html" in out.get("data", {})
            and "<img src=data:image/png;base64," in out["data"]["text/html"]
        ]
        assert len(charts) == 1, [out.get("data", {}).keys() for out in saved.cells[1].outputs]
        plain = charts[0]["data"]["text/plain"]
        assert plain.startswith("[result set 0: HTML, ") and "1 image" in plain
        assert "\n" not in plain.strip() and "<" not in plain
        nb.no_widget_errors()
