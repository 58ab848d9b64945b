"""The browser harness itself: Lab renders ipywidgets, so widget failures elsewhere are ours."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import expect

if TYPE_CHECKING:
    from tests.browser.conftest import NotebookFactory

pytestmark = pytest.mark.browser

PLAIN_WIDGET = """\
import ipywidgets as w
bar = w.IntProgress(value=7, max=10)
bar.add_class("h7-probe")
bar
"""


class TestHarness:
    """A plain ipywidgets widget renders live in this Lab, with its lab extension active."""

    def test_plain_widget_renders_and_updates(self, notebook: NotebookFactory) -> None:
        """The probe bar renders at 70 %, follows a kernel-side update, and the kernel idles."""
        nb = notebook([PLAIN_WIDGET, "bar.value = 10\nbar.bar_style = 'success'"])
        nb.run_cell(0)
        bar = nb.output(0).locator(".h7-probe.widget-hprogress .progress-bar")
        expect(bar).to_have_attribute("style", re.compile(r"\bwidth: 70%"))
        nb.run_cell(1)
        expect(bar).to_have_class(re.compile(r"\bprogress-bar-success\b"))
        expect(bar).to_have_attribute("style", re.compile(r"\bwidth: 100%"))
        nb.no_widget_errors()
        nb.wait_done(1)
        nb.wait_idle()
