"""Tab completion in a `%%linkis` cell as a JupyterLab user gets it, from the session's sandbox.

The sandbox has the demo tables (emp, dept, sales). Completion answers from the catalog the
extension fills in the background after `%load_ext`, so the first Tab may come before the
names are there: the tests press Tab again until they are (bounded by the UI timeout).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import UI_TIMEOUT_MS, expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator

    from tests.browser.conftest import Notebook, NotebookFactory

pytestmark = pytest.mark.browser

LOAD = "%load_ext linkis_magic"
COMPLETER = ".jp-Completer"


def editor(nb: Notebook, index: int) -> Locator:
    return nb.cell(index).locator(".cm-content")


def type_into(nb: Notebook, index: int, text: str) -> None:
    """Click into cell `index`'s editor and type `text` as a user would (line by line)."""
    editor(nb, index).click()
    nb.page.keyboard.press("ControlOrMeta+a")
    nb.page.keyboard.press("Delete")
    for i, line in enumerate(text.split("\n")):
        if i:
            nb.page.keyboard.press("Enter")
            nb.page.keyboard.press("Home")
        nb.page.keyboard.type(line)


def tab_until(nb: Notebook, done: re.Pattern[str], index: int) -> None:
    """Press Tab until cell `index` shows `done` (its text or the completer's items)."""
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    popup = nb.page.locator(COMPLETER)
    while True:
        nb.page.keyboard.press("Tab")
        nb.page.wait_for_timeout(700)
        seen = (editor(nb, index).inner_text() or "") + "\n"
        if popup.count() and popup.first.is_visible():
            seen += popup.first.inner_text()
        if done.search(seen):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Tab never offered {done.pattern!r}; last seen:\n{seen}")
        if popup.count() and popup.first.is_visible():
            nb.page.keyboard.press("Escape")  # a popup without the names yet: ask again


class TestSchemaCompletion:
    def test_a_table_name_after_from(self, notebook: NotebookFactory) -> None:
        """`from em` + Tab offers `emp` (the only table starting so) and takes it."""
        nb = notebook([LOAD, ""])
        nb.run_cell(0)
        nb.wait_done(0)
        type_into(nb, 1, "%%linkis\nselect * from em")
        tab_until(nb, re.compile(r"from emp\b|^emp$", re.M), 1)
        popup = nb.page.locator(COMPLETER)
        if popup.count() and popup.first.is_visible():
            items = popup.first.locator(".jp-Completer-item")
            assert [items.nth(i).get_attribute("data-value") for i in range(items.count())] == [
                "emp"
            ]
            nb.page.keyboard.press("Enter")  # take the one suggestion
        expect(editor(nb, 1)).to_contain_text("select * from emp")
        assert "from empemp" not in (editor(nb, 1).inner_text() or "")

    def test_columns_after_an_alias(self, notebook: NotebookFactory) -> None:
        """`select e.` in a cell that reads `from emp e` offers emp's columns."""
        nb = notebook([LOAD, ""])
        nb.run_cell(0)
        nb.wait_done(0)
        tail = " from emp e where e.sal > 1000"
        type_into(nb, 1, "%%linkis\nselect e." + tail)
        for _ in tail:
            nb.page.keyboard.press("ArrowLeft")
        tab_until(nb, re.compile(r"ename[\s\S]*empno|empno[\s\S]*ename"), 1)
        items = nb.page.locator(f"{COMPLETER} .jp-Completer-item")
        names = {(items.nth(i).get_attribute("data-value") or "") for i in range(items.count())}
        assert {"empno", "ename", "job", "sal", "deptno"} <= names, names
        assert "sales" not in names  # tables are not offered after `alias.`
        nb.screenshot("completion", nb.cell(1), nb.page.locator(COMPLETER).first)
