"""Tab completion in a `%%linkis` cell as a JupyterLab user gets it, from the session's sandbox.

The sandbox has the demo tables (emp, dept, sales). Completion answers from the extension's
catalog cache, which a Tab fills in the background when it is empty (a Tab never waits for
a slow gateway: tests/magics/test_complete.py). So that one Tab has the names, the notebook
first lists the databases, tables and emp's columns, the commands that fill the same cache;
the test then waits for what the Tab shows, never for a while.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import UI_TIMEOUT_MS, expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator

    from tests.browser.conftest import Notebook, NotebookFactory

pytestmark = pytest.mark.browser

LOAD = "%load_ext linkis_magic"
# Fills the catalog cache completion reads; its output ends with emp's columns.
WARM = "%linkis databases\n%linkis tables\n%linkis columns emp"
COMPLETER = ".jp-Completer"
# What cell `index` shows: its editor's text, then the completer's items if it is open.
_SHOWN_JS = """([index, pattern]) => {
    const cell = document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')[index];
    let seen = (cell ? cell.querySelector('.cm-content').innerText : '') + '\\n';
    const popup = document.querySelector('.jp-Completer');
    if (popup && popup.getClientRects().length && !popup.classList.contains('lm-mod-hidden')) {
        seen += popup.innerText;
    }
    return new RegExp(pattern, 'm').test(seen);
}"""


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


def warm(nb: Notebook) -> None:
    """Load the extension and fill the catalog cache (wait until emp's columns are listed)."""
    for index in (0, 1):
        nb.run_cell(index)
        nb.wait_done(index)
    expect(nb.output(1)).to_contain_text("empno")


def tab(nb: Notebook, index: int, done: str) -> None:
    """Press Tab once and wait until cell `index` shows the regex `done` (multiline): in its
    text (a single match is inserted) or in the completer's items."""
    nb.page.keyboard.press("Tab")
    nb.page.wait_for_function(_SHOWN_JS, arg=[index, done], timeout=UI_TIMEOUT_MS)


class TestSchemaCompletion:
    def test_a_table_name_after_from(self, notebook: NotebookFactory) -> None:
        """`from em` + Tab offers `emp` (the only table starting so) and takes it."""
        nb = notebook([LOAD, WARM, ""])
        warm(nb)
        type_into(nb, 2, "%%linkis\nselect * from em")
        tab(nb, 2, r"from emp\b|^emp$")
        popup = nb.page.locator(COMPLETER)
        if popup.count() and popup.first.is_visible():
            items = popup.first.locator(".jp-Completer-item")
            assert [items.nth(i).get_attribute("data-value") for i in range(items.count())] == [
                "emp"
            ]
            nb.page.keyboard.press("Enter")  # take the one suggestion
        expect(editor(nb, 2)).to_contain_text("select * from emp")
        assert "from empemp" not in (editor(nb, 2).inner_text() or "")

    def test_columns_after_an_alias(self, notebook: NotebookFactory) -> None:
        """`select e.` in a cell that reads `from emp e` offers emp's columns."""
        nb = notebook([LOAD, WARM, ""])
        warm(nb)
        tail = " from emp e where e.sal > 1000"
        type_into(nb, 2, "%%linkis\nselect e." + tail)
        for _ in tail:
            nb.page.keyboard.press("ArrowLeft")
        tab(nb, 2, r"ename[\s\S]*empno|empno[\s\S]*ename")
        items = nb.page.locator(f"{COMPLETER} .jp-Completer-item")
        names = {(items.nth(i).get_attribute("data-value") or "") for i in range(items.count())}
        assert {"empno", "ename", "job", "sal", "deptno"} <= names, names
        assert "sales" not in names  # tables are not offered after `alias.`
        nb.screenshot("completion", nb.cell(2), nb.page.locator(COMPLETER).first)
