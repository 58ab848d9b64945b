"""The linkis-magic JupyterLab / Notebook 7 extension (labextension/), as a user meets it.

`%%linkis` cell bodies are highlighted by runType, other cells are not touched, and Format
SQL rewrites the body only, keeping `${var}` / `{{ expr }}`, in one undo step. Every check
runs in JupyterLab and in Notebook 7 (both served by the session's Jupyter server).

Tokens are identified by the `tok-*` classes the extension adds (CodeMirror's class
highlighter): `tok-keyword`, `tok-string`, `tok-comment`. A check that something is NOT
highlighted only runs after a positive marker of the same state is on screen, so it cannot
pass merely because highlighting has not happened yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import UI_TIMEOUT_MS, Notebook, expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator

    from tests.browser.conftest import NotebookFactory

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _ui_timeout() -> Iterator[None]:
    """Every expectation here waits as long as the rest of the browser group's UI waits."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=UI_TIMEOUT_MS)
    yield
    playwright_expect.set_options(timeout=5_000)  # Playwright's default


FRONTENDS = ["lab", "notebook7"]
FORMAT_COMMAND = "linkis-magic:format-sql"
BODY = "select 'text' -- note\n# hash\n// slash"
SQL_CELL = (
    "%%linkis sql -o df\n"
    "select a, b as bee from tbl_${dt} where k = {{ n + 1 }} and s = '${s}' -- note"
)
SQL_FORMATTED = (
    "%%linkis sql -o df\n"
    "SELECT\n  a,\n  b AS bee\nFROM\n  tbl_${dt}\n"
    "WHERE\n  k = {{ n + 1 }}\n  AND s = '${s}' -- note"
)
SQL_FORMATTED_LOWER = (
    "%%linkis sql -o df\n"
    "select\n  a,\n  b as bee\nfrom\n  tbl_${dt}\n"
    "where\n  k = {{ n + 1 }}\n  and s = '${s}' -- note"
)


def open_in(factory: NotebookFactory, frontend: str, cells: list[str]) -> Notebook:
    """Write a notebook with `cells` and open it in JupyterLab or in Notebook 7.

    The page joins the factory's list, so it is closed (and its kernel shut down) after the
    test, and screenshotted into test-artifacts/ when the test fails.
    """
    name = factory.write(cells)
    context = factory.browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    shots = _shots_dir()
    notebook = Notebook(factory.lab, page, name, shots)
    factory.opened.append(notebook)
    if frontend == "lab":
        page.goto(factory.lab.page_url(name))
    else:
        page.goto(f"{factory.lab.url}/notebooks/{name}?token={factory.lab.token}")
    expect(notebook.cell(len(cells) - 1).locator(".cm-content")).to_be_visible()
    return notebook


def _shots_dir() -> Path | None:
    import os

    from tests.browser.conftest import SCREENSHOTS_ENV

    shots = os.environ.get(SCREENSHOTS_ENV)
    return Path(shots).resolve() if shots else None


def line(nb: Notebook, cell: int, index: int) -> Locator:
    return nb.cell(cell).locator(".cm-content .cm-line").nth(index)


def token(nb: Notebook, cell: int, index: int, kind: str, text: str) -> Locator:
    """The `kind` tokens (keyword, string, comment) reading exactly `text` on that line."""
    return line(nb, cell, index).locator(f".tok-{kind}", has_text=exactly(text))


def editor_text(nb: Notebook, cell: int) -> Locator:
    return nb.cell(cell).locator(".cm-content")


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


def expect_sql_body(nb: Notebook, cell: int) -> None:
    """Lines 1-3 of BODY as SQL: keyword, string, `--` comment; `#` and `//` are not."""
    expect(token(nb, cell, 1, "comment", "-- note")).to_have_count(1)
    expect(token(nb, cell, 1, "keyword", "select")).to_have_count(1)
    expect(token(nb, cell, 1, "string", "'text'")).to_have_count(1)
    expect(line(nb, cell, 2).locator(".tok-comment")).to_have_count(0)
    expect(line(nb, cell, 3).locator(".tok-comment")).to_have_count(0)


def expect_python_body(nb: Notebook, cell: int) -> None:
    """Lines 1-3 of BODY as Python: `#` comments; `select` and `--` are not SQL."""
    expect(token(nb, cell, 2, "comment", "# hash")).to_have_count(1)
    expect(token(nb, cell, 1, "string", "'text'")).to_have_count(1)
    expect(line(nb, cell, 1).locator(".tok-comment")).to_have_count(0)
    expect(line(nb, cell, 1).locator(".tok-keyword")).to_have_count(0)


def set_first_line(nb: Notebook, cell: int, old_tail: str, new_tail: str) -> None:
    """Edit the magic line as a user would: click it, go to its end, retype the runType."""
    line(nb, cell, 0).click()
    nb.page.keyboard.press("End")
    for _ in old_tail:
        nb.page.keyboard.press("Backspace")
    nb.page.keyboard.type(new_tail)
    expect(line(nb, cell, 0)).to_have_text(exactly(f"%%linkis {new_tail}"))


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_body_is_highlighted_by_runtype_on_open(notebook: NotebookFactory, frontend: str) -> None:
    nb = open_in(
        notebook,
        frontend,
        [f"%%linkis\n{BODY}", f"%%linkis -o df --var a=1 hql\n{BODY}", f"x = 1\n{BODY}"],
    )
    # The default runType and hql: SQL from the moment the notebook opens.
    expect_sql_body(nb, 0)
    expect_sql_body(nb, 1)
    # A plain Python cell in the same notebook keeps Python highlighting.
    expect_python_body(nb, 2)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_switching_the_runtype_rehighlights(notebook: NotebookFactory, frontend: str) -> None:
    nb = open_in(notebook, frontend, [f"%%linkis py\n{BODY}", f"select = 1\n{BODY}"])
    expect_python_body(nb, 0)

    set_first_line(nb, 0, "py", "sql")
    expect_sql_body(nb, 0)

    set_first_line(nb, 0, "sql", "scala")
    expect(token(nb, 0, 3, "comment", "// slash")).to_have_count(1)
    expect(line(nb, 0, 1).locator(".tok-comment")).to_have_count(0)
    expect(line(nb, 0, 2).locator(".tok-comment")).to_have_count(0)

    set_first_line(nb, 0, "scala", "sh")
    expect(token(nb, 0, 2, "comment", "# hash")).to_have_count(1)
    expect(line(nb, 0, 1).locator(".tok-comment")).to_have_count(0)
    expect(line(nb, 0, 3).locator(".tok-comment")).to_have_count(0)

    set_first_line(nb, 0, "sh", "py")
    expect_python_body(nb, 0)

    # The other cell never changed: Python all along.
    expect_python_body(nb, 1)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_format_sql_rewrites_the_body_and_undoes_in_one_step(
    notebook: NotebookFactory, frontend: str
) -> None:
    nb = open_in(notebook, frontend, [SQL_CELL, "x = 1"])
    variables = nb.cell(0).locator(".cm-linkis-variable")
    # Marked wherever they stand: in a name, alone, inside a string (Linkis substitutes all).
    expect(variables).to_have_text(["${dt}", "{{ n + 1 }}", "${s}"])

    editor_text(nb, 0).click()
    button = nb.cell(0).locator(f'.jp-cell-toolbar jp-button[data-command="{FORMAT_COMMAND}"]')
    expect(button).to_be_visible()
    if frontend == "lab":
        nb.screenshot("highlighting", nb.cell(0))
    if frontend == "lab":
        button.click()
    else:
        nb.page.keyboard.press("Alt+Shift+F")
    expect(editor_text(nb, 0)).to_have_text(exactly(SQL_FORMATTED), use_inner_text=True)
    # Still SQL after the rewrite, variables still marked.
    expect(token(nb, 0, 1, "keyword", "SELECT")).to_have_count(1)
    expect(variables).to_have_text(["${dt}", "{{ n + 1 }}", "${s}"])

    # One undo step brings the cell back exactly as it was.
    editor_text(nb, 0).click()
    nb.page.keyboard.press("ControlOrMeta+z")
    expect(editor_text(nb, 0)).to_have_text(exactly(SQL_CELL), use_inner_text=True)

    # The button is only there for %%linkis SQL cells.
    editor_text(nb, 1).click()
    expect(nb.cell(1)).to_have_class(re.compile(r"\bjp-mod-active\b"))
    toolbar = nb.cell(1).locator(".jp-cell-toolbar")
    expect(toolbar.locator('jp-button[data-command="notebook:duplicate-below"]')).to_be_visible()
    expect(toolbar.locator(f'jp-button[data-command="{FORMAT_COMMAND}"]')).to_be_hidden()


def test_settings_switch_highlighting_off_and_set_the_keyword_case(
    notebook: NotebookFactory,
) -> None:
    lab = notebook.lab

    def put(raw: str) -> None:
        reply = lab.api("PUT", "/lab/api/settings/linkis-magic:plugin", json={"raw": raw})
        assert reply.status_code == 204, reply.text[:300]

    put('{"highlighting": false, "keywordCase": "lower"}')
    try:
        nb = open_in(notebook, "lab", [SQL_CELL])
        # JupyterLab's own highlighting is there (its spans), the extension's classes are not.
        expect(line(nb, 0, 1).locator("span")).not_to_have_count(0)
        expect(nb.cell(0).locator("[class*='tok-'], .cm-linkis-variable")).to_have_count(0)

        editor_text(nb, 0).click()
        nb.page.keyboard.press("Alt+Shift+F")
        expect(editor_text(nb, 0)).to_have_text(exactly(SQL_FORMATTED_LOWER), use_inner_text=True)
    finally:
        put("{}")
