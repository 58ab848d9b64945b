"""The `%%linkis` live widget as a user sees it in JupyterLab, against the session's sandbox.

Selectors are the CSS classes display.py puts on its parts. While the job runs the output
is the live ipywidgets VBox (`.linkis-job`, with `.linkis-progress`, `.linkis-stage` rows,
`.linkis-log`, `.linkis-kill`, `.linkis-summary`); when it ends display.py swaps the output
for a static HTML card (`.linkis-job.linkis-static`) using the same classes. Both carry the
state badge in `.linkis-header`, so tests read the state from there.

A check of the live widget needs a job that is still running when the page draws it: such
jobs read a `gate` (tests/browser/conftest.py) and stay Running until the test releases
them, or (to be killed) run for minutes. The widget's header is redrawn at every update (its
elapsed time moves), so a test never holds on to a node inside it across two calls: it
measures the header in one `evaluate` on the job view, which is not redrawn.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING

import nbformat
import pytest

from tests.browser.conftest import expect
from tests.support import snapshots

if TYPE_CHECKING:
    from playwright.sync_api import Locator

    from tests.browser.conftest import Gate, Notebook, NotebookFactory

pytestmark = pytest.mark.browser

LOAD = "%load_ext linkis_magic"
# Three groups of a filtered range (3 rows x 2 columns), held Running by a gate: format with
# gate=gate.name.
GATED = """\
%%linkis -o df
select x % 3 as k, count(*) as n
from range(1000) t(x), {gate} g where x % 7 = 3
group by k order by k"""
# The same shape, ungated: for checks of the final state only.
SMALL = """\
%%linkis -o df
select x % 3 as k, count(*) as n
from range(1000) t(x) where x % 7 = 3
group by k order by k"""
# Minutes of work, its progress moving by a percent every few seconds: the test kills it
# once it has seen two steps, long before it could end. (The filter matters: DuckDB answers
# a bare count(*) over range() from statistics, instantly.)
LONG = """\
%%linkis
select count(*) as n from range(30000000000) t(x) where x % 7 = 3"""
# One row x 2 columns, held Running by a gate: format with gate=gate.name.
BACKGROUND = """\
%%linkis --background -o bg
select count(*) as n, 'done' as tag
from range(1000) t(x), {gate} g where x % 7 = 3"""
FAILING = """\
%%linkis
select * from h7_no_such_table"""
# Two statements, two table result sets (_0 and _1, docs/linkis-protocol.md §5.6).
TWO_TABLES = """\
%%linkis -o frames
select x % 3 as k, count(*) as n
from range(1000) t(x) where x % 7 = 3
group by k order by k;
select 'done' as tag, 2 as m"""
# The display's snapshot factories, sent to the kernel as source (as tests/display does).
FACTORIES = "\n".join(
    [
        "from collections.abc import Sequence",
        "from typing import Any",
        inspect.getsource(snapshots.make_snap),
        inspect.getsource(snapshots.table_result),
        "from linkis_magic.display import WidgetDisplay",
    ]
)
# Two displays driven by hand: one kept as a widget, one replaced by its static card; a
# mid-run poll with running tasks, then a final snapshot without stages.
DRIVEN = [
    'kept = WidgetDisplay(on_kill=lambda: None, title="kept", static_on_finish=False)\nkept.show()',
    'card = WidgetDisplay(on_kill=lambda: None, title="card")\ncard.show()',
    """\
running = make_snap("Running", progress=0.78, stages=[("s1", 78, 0, 22, 100)])
kept.update(running)
card.update(running)""",
    """\
kept.finish(make_snap("Succeed", elapsed=0.6), [table_result(0, 3, 2)])
card.finish(make_snap("Succeed", elapsed=0.6), [table_result(0, 3, 2)])""",
]
# A well-formed execID's parts (docs/linkis-protocol.md §3.1): the header shows the short id.
SHORT_EXEC_ID = re.compile(r"^execID IDE_alice_spark_\d+$")
FULL_EXEC_ID = re.compile(r"^exec_id\d{6}linkis-cg-entrance\S+IDE_alice_spark_\d+$")
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'
# A stage row with tasks still running (a gated statement reports them until released).
RUNNING_TASKS = re.compile(r"\b[1-9]\d* running\b")

# The header's ids and boxes, read in one go: the header may be redrawn between two calls.
_HEADER_JS = """(job) => {
    const header = job.querySelector('.linkis-header');
    const badge = header.querySelector('.linkis-badge');
    const execId = header.querySelector('.linkis-exec-id');
    const box = (el) => {
        const r = el.getBoundingClientRect();
        return {y: r.y, height: r.height};
    };
    return {
        text: header.innerText,
        ids: header.querySelector('.linkis-ids').textContent,
        execId: execId.textContent,
        title: execId.getAttribute('title'),
        badge: box(badge),
        execIdBox: box(execId),
    };
}"""

# The summed width (in %) of every progress bar inside the job widget.
_BAR_TOTAL_JS = """(job) => [...job.querySelectorAll('.widget-hprogress .progress-bar')]
    .reduce((sum, bar) => sum + (parseFloat(bar.style.width) || 0), 0)"""


def job(nb: Notebook, cell: int) -> Locator:
    """The job view in the output of `cell`: the live widget, or the static card after it."""
    return nb.output(cell).locator(".linkis-job")


def live(nb: Notebook, cell: int) -> Locator:
    """The live widget only (the static card has no progress widget)."""
    return nb.output(cell).locator(".linkis-job:has(.linkis-progress)")


def state(nb: Notebook, cell: int) -> Locator:
    return job(nb, cell).locator(".linkis-header")


def log_text(view: Locator) -> str:
    """All text of the log pane (textContent: the static card folds a successful log)."""
    text: str = view.locator(".linkis-log").text_content() or ""
    return text


def bar_total(view: Locator) -> float:
    total: float = view.evaluate(_BAR_TOTAL_JS)
    return total


def wait_progress_moves(view: Locator) -> None:
    """Wait until some bar of the live widget shows progress, then until the bars move on."""
    handle = view.element_handle()
    page = view.page
    page.wait_for_function(f"(job) => ({_BAR_TOTAL_JS})(job) > 0", arg=handle)
    first = bar_total(view)
    page.wait_for_function(f"([job, first]) => ({_BAR_TOTAL_JS})(job) > first", arg=[handle, first])


def run_load(nb: Notebook) -> None:
    nb.run_cell(0)
    nb.wait_done(0)


def check_header_ids(view: Locator) -> None:
    """taskID and the short execID on the badge's line; the full execID is the hover title.

    ``view`` is the job view (``.linkis-job``): it stays while its header is redrawn, so the
    header is read inside one ``evaluate`` on it (see the module docstring).
    """
    expect(view.locator(".linkis-header .linkis-exec-id")).to_have_text(SHORT_EXEC_ID)
    header = view.evaluate(_HEADER_JS)
    assert SHORT_EXEC_ID.match(header["execId"]), header
    assert FULL_EXEC_ID.match(header["title"] or ""), header
    assert re.search(r"taskID \d+ · execID", header["ids"]), header
    assert "exec_id" not in header["text"], header
    badge, ids = header["badge"], header["execIdBox"]
    assert badge["height"] > 0 and ids["height"] > 0, header
    middle = ids["y"] + ids["height"] / 2
    assert badge["y"] <= middle <= badge["y"] + badge["height"], header  # one line


def check_said_once(view: Locator, state_name: str, summary: str) -> None:
    """The header says title and state; the summary line only the outcome."""
    expect(view.locator(".linkis-summary")).to_have_text(summary)
    text = view.inner_text()
    assert text.count(state_name) == 1, text
    title = view.locator(".linkis-header b").first.inner_text()
    assert text.count(title) == 1, text


class TestQuery:
    """A query shows a live widget, then its summary and the DataFrame."""

    def test_query_renders_live_widget_and_table(
        self, notebook: NotebookFactory, gate: Gate
    ) -> None:
        """Stage rows and log fill in, the state ends Succeed and `df` displays as a table."""
        nb = notebook([LOAD, GATED.format(gate=gate.name)])
        run_load(nb)
        nb.run_cell(1)
        view = live(nb, 1)
        expect(view).to_be_visible()
        expect(view.locator(".linkis-header")).to_contain_text("Running")
        expect(view.locator(".linkis-stage").first).to_contain_text(RUNNING_TASKS)
        expect(view.locator(".linkis-log pre")).not_to_be_empty()
        # the sandbox has no YARN: no resource line, not even an empty box
        expect(view.locator(".linkis-resources")).to_be_hidden()
        nb.no_widget_errors()
        gate.release()
        nb.wait_done(1)
        expect(state(nb, 1)).to_contain_text("Succeed")
        card = job(nb, 1)
        expect(card).to_have_class(re.compile(r"\blinkis-static\b"))
        expect(card.locator(".linkis-summary")).to_contain_text("3 rows × 2 columns")
        check_said_once(card, "Succeed", "result 0: 3 rows × 2 columns")
        check_header_ids(card)
        expect(card.locator(".linkis-resources")).to_have_count(0)
        nb.screenshot("widget-finished", nb.cell(1))
        assert log_text(card).strip(), "the log pane stayed empty"
        table = nb.output(1).locator("table.dataframe")
        expect(table).to_be_visible()
        expect(table.locator("thead")).to_contain_text("k")
        expect(table.locator("thead")).to_contain_text("n")
        expect(table.locator("tbody tr")).to_have_count(3)
        assert nb.output(1).locator(STDERR).count() == 0
        nb.no_widget_errors()
        # Loading the extension is silent (no warnings on stderr in the user's notebook).
        assert nb.output(0).locator(STDERR).count() == 0, nb.output(0).inner_text()
        # A finished job's stage rows show every task done, not the last mid-run poll.
        stage_text = card.locator(".linkis-stage").first.inner_text()
        counts = re.search(r"(\d+) succeeded / 0 running / 0 failed / (\d+) total", stage_text)
        assert counts and counts.group(1) == counts.group(2), stage_text


class TestKill:
    """The Kill button stops a job while its cell is still blocking."""

    def test_kill_while_blocking(self, notebook: NotebookFactory) -> None:
        """Progress moves, Kill makes the state Cancelled, the cell fails short, kernel idles."""
        nb = notebook([LOAD, LONG])
        run_load(nb)
        nb.run_cell(1)
        view = live(nb, 1)
        expect(view.locator(".linkis-header")).to_contain_text("Running")
        check_header_ids(view)
        wait_progress_moves(view)
        nb.screenshot("widget-running", nb.cell(1))
        button = view.locator("button.linkis-kill")
        expect(button).to_be_enabled()
        button.click()
        expect(state(nb, 1)).to_contain_text("Cancelled")
        nb.wait_done(1)
        error = nb.output(1).locator(STDERR)
        expect(error).to_contain_text("Cancelled")
        text = error.inner_text()
        assert "Traceback" not in text
        assert len(text.strip().splitlines()) <= 10, text
        expect(nb.output(1).locator(".linkis-kill")).to_have_count(0)
        # "was cancelled" would only repeat the badge: the card has no summary line
        expect(job(nb, 1).locator(".linkis-summary")).to_have_count(0)
        expect(job(nb, 1).locator(".linkis-stage")).to_contain_text(" 0 running ")
        nb.no_widget_errors()
        nb.wait_idle()
        nb.screenshot("widget-killed", nb.cell(1))


class TestBackground:
    """`--background` returns at once and binds the variable when the job ends."""

    def test_background_job_keeps_updating(self, notebook: NotebookFactory, gate: Gate) -> None:
        """Another cell runs while the widget keeps updating; `bg` exists only after Succeed."""
        nb = notebook(
            [
                LOAD,
                BACKGROUND.format(gate=gate.name),
                'print("bg bound:", "bg" in globals())',
                "bg",
            ]
        )
        run_load(nb)
        nb.run_cell(1)
        nb.wait_done(1)  # the cell has returned ...
        view = live(nb, 1)
        expect(view).to_be_visible()  # ... while the job's live widget is still there
        nb.run_cell(2)
        nb.wait_done(2)
        expect(nb.output(2)).to_contain_text("bg bound: False")
        expect(view.locator(".linkis-stage").first).to_contain_text(RUNNING_TASKS)
        nb.screenshot("widget-background", nb.page.locator(".jp-NotebookPanel .jp-Notebook"))
        gate.release()  # with no cell running, the widget follows the job to its end
        expect(state(nb, 1)).to_contain_text("Succeed")
        expect(job(nb, 1).locator(".linkis-summary")).to_contain_text("1 rows × 2 columns")
        nb.run_cell(3)
        nb.wait_done(3)
        table = nb.output(3).locator("table.dataframe")
        expect(table).to_contain_text("done")
        expect(table.locator("tbody tr")).to_have_count(1)
        nb.no_widget_errors()


class TestFailure:
    """A failing query explains itself in the widget and fails the cell."""

    def test_failed_query_shows_error(self, notebook: NotebookFactory) -> None:
        """errCode/errDesc appear, error log lines are highlighted, the cell has an error."""
        nb = notebook([LOAD, FAILING])
        run_load(nb)
        nb.run_cell(1)
        nb.wait_done(1)
        expect(state(nb, 1)).to_contain_text("Failed")
        view = job(nb, 1)
        # the summary line is the error alone: the header already says "Failed"
        expect(view.locator(".linkis-summary")).to_have_text(re.compile(r"^errCode \d+: "))
        expect(view.locator(".linkis-summary")).to_contain_text("h7_no_such_table")
        highlighted = view.locator(".linkis-log .linkis-log-error")
        expect(highlighted.first).to_be_visible()
        expect(highlighted.filter(has_text="h7_no_such_table").first).to_be_visible()
        red = highlighted.first.evaluate("(el) => getComputedStyle(el).color")
        assert red == "rgb(198, 40, 40)", red
        error = nb.output(1).locator(STDERR)
        expect(error).to_contain_text(re.compile(r"errCode \d+: .*h7_no_such_table"))
        assert "Traceback" not in error.inner_text()
        nb.no_widget_errors()
        nb.wait_idle()
        nb.screenshot("widget-failed", nb.cell(1))


class TestSavedNotebook:
    """A saved notebook reopened later shows a static summary, not a dead widget."""

    def test_reopened_notebook_shows_summary(self, notebook: NotebookFactory) -> None:
        """After save, kernel shutdown and a fresh page, the summary and table still show."""
        nb = notebook([LOAD, SMALL])
        run_load(nb)
        nb.run_cell(1)
        nb.wait_done(1)
        expect(state(nb, 1)).to_contain_text("Succeed")
        nb.save()
        saved = nbformat.read(nb.path, as_version=4)
        kinds = [set(out.get("data", {})) for out in saved.cells[1].outputs]
        assert any("text/html" in k for k in kinds), kinds
        nb.page.context.close()
        nb.lab.delete_sessions(nb.name)

        again = notebook.reopen(nb.name, wait_kernel=False)
        output = again.output(1)
        expect(output.locator(".linkis-job.linkis-static .linkis-header")).to_contain_text(
            "Succeed"
        )
        expect(output.locator(".linkis-summary")).to_contain_text("3 rows × 2 columns")
        check_said_once(output.locator(".linkis-job"), "Succeed", "result 0: 3 rows × 2 columns")
        check_header_ids(output.locator(".linkis-job"))  # the title survives Lab's sanitizer
        expect(output.locator("table.dataframe tbody tr")).to_have_count(3)
        expect(output.locator(".linkis-kill")).to_have_count(0)
        again.no_widget_errors()
        again.screenshot("saved-summary", again.cell(1))


class TestFinishedView:
    """A finished job says its state once and never shows running tasks."""

    def test_rows_settle_when_the_job_ends(self, notebook: NotebookFactory) -> None:
        """A row last polled at 78/22 reads 100 succeeded / 0 running once the job succeeds.

        The displays are driven with snapshots (the factories of tests/display) because the
        sandbox's own final progress read already has every task done: this checks the display
        itself, in the kept widget and in the static card that replaces one.
        """
        nb = notebook([FACTORIES, *DRIVEN])
        for cell in range(4):
            nb.run_cell(cell)
            nb.wait_done(cell)
        for cell in (1, 2):
            expect(live(nb, cell).locator(".linkis-stage")).to_contain_text("22 running")
        nb.run_cell(4)
        nb.wait_done(4)
        done = "100 succeeded / 0 running / 0 failed / 100 total"
        kept = live(nb, 1)
        expect(kept.locator(".linkis-stage")).to_have_text(re.compile(rf"s1\s*{done}"))
        expect(kept.locator(".linkis-header")).to_contain_text("Succeed")
        check_said_once(kept, "Succeed", "result 0: 3 rows × 2 columns")
        check_header_ids(kept)
        card = nb.output(2).locator(".linkis-job.linkis-static")
        expect(card.locator(".linkis-stage")).to_have_text(re.compile(rf"s1\s*{done}"))
        check_said_once(card, "Succeed", "result 0: 3 rows × 2 columns")
        check_header_ids(card)
        nb.no_widget_errors()


class TestResultFrames:
    """`-o frames` with two table result sets shows two tables, each under its index."""

    def test_two_tables_with_their_indexes(self, notebook: NotebookFactory) -> None:
        """The cell's value shows each table under its heading; `frames` is still a list."""
        check = (
            "print(type(frames).__name__, isinstance(frames, list), len(frames), frames[1].tag[0])"
        )
        nb = notebook([LOAD, TWO_TABLES, check])
        run_load(nb)
        nb.run_cell(1)
        nb.wait_done(1)
        expect(state(nb, 1)).to_contain_text("Succeed")
        shown = nb.output(1).locator(".linkis-frames .linkis-frame")
        expect(shown).to_have_count(2)
        expect(shown.locator(".linkis-frame-heading")).to_have_text(
            ["result set 0 · 3 rows × 2 columns", "result set 1 · 1 rows × 2 columns"]
        )
        expect(shown.nth(0).locator("table.dataframe tbody tr")).to_have_count(3)
        expect(shown.nth(1).locator("table.dataframe")).to_contain_text("done")
        # the tables replace the text/plain list repr of DataFrames
        assert nb.output(1).locator('[data-mime-type="text/plain"]').count() == 0
        nb.screenshot("result-frames", nb.cell(1))
        nb.run_cell(2)
        nb.wait_done(2)
        expect(nb.output(2)).to_contain_text("ResultFrames True 2 done")
        nb.no_widget_errors()
