"""The resource line: the YARN applications a job holds, in every display.

One line per application (queue, cores, memory in GiB, application id) and the job's share of
its queue's cores and memory as two small bars (Linkis reports the shares for the whole job, as
fractions: docs/linkis-protocol.md §14.1). Nothing at all when the job holds no application.
The text display prints the lines once each time they change.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from linkis_magic.display import (
    TextDisplay,
    WidgetDisplay,
    resource_lines,
    resources_html,
    summary_html,
)
from tests.support.snapshots import make_resources, make_snap, table_result

APP = "application_1700000000000_0001"
APP2 = "application_1700000000000_0002"
ONE = make_resources((APP, "default", 8, 4))
LINE = f"queue default · 4 cores · 8.0 GiB · {APP} · 25% of queue cores, 12% of memory"
TWO = make_resources((APP, "root.etl", 8, 4), (APP2, "root.etl", 2.5, 1), core_share=0.8)


def visible(markup: str) -> str:
    """The text a browser shows for ``markup`` (tags dropped, entities decoded, spaces folded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def rows(markup: str, css: str = "linkis-yarn-app") -> list[str]:
    """The visible text of every ``<div class="css">`` row."""
    return [visible(r) for r in re.findall(rf'<div class="{css}">(.*?)</div>', markup)]


def bars(markup: str) -> dict[str, str]:
    """Share bars by kind ("cores", "memory") -> their fill width."""
    found = re.findall(
        r'class="linkis-share linkis-share-(\w+)".*?class="linkis-share-bar" '
        r'style="[^"]*width:([\d.]+%)',
        markup,
    )
    return dict(found)


class TestLines:
    """What a resource line says, in text and in HTML."""

    def test_one_application(self) -> None:
        """Queue, cores, GiB, application id, then the job's shares of the queue."""
        assert resource_lines(ONE) == [LINE]
        markup = resources_html(ONE)
        assert rows(markup) == [f"queue default · 4 cores · 8.0 GiB · {APP} cores 25% memory 12%"]
        assert bars(markup) == {"cores": "25.0%", "memory": "12.0%"}
        assert f'<span class="linkis-app-id" style="font-family:monospace">{APP}</span>' in markup

    def test_several_applications_share_one_total(self) -> None:
        """One row per application; the shares are the job's, so they go on a total row."""
        assert resource_lines(TWO) == [
            f"queue root.etl · 4 cores · 8.0 GiB · {APP}",
            f"queue root.etl · 1 cores · 2.5 GiB · {APP2}",
            "total 5 cores · 10.5 GiB · 80% of queue cores, 12% of memory",
        ]
        markup = resources_html(TWO)
        assert rows(markup) == [
            f"queue root.etl · 4 cores · 8.0 GiB · {APP}",
            f"queue root.etl · 1 cores · 2.5 GiB · {APP2}",
        ]
        assert rows(markup, "linkis-yarn-total") == [
            "total 5 cores · 10.5 GiB cores 80% memory 12%"
        ]
        assert bars(markup) == {"cores": "80.0%", "memory": "12.0%"}

    @pytest.mark.parametrize("resources", [None, make_resources()], ids=["none", "no-apps"])
    def test_nothing_without_applications(self, resources: Any) -> None:
        """No application: no line, no markup (so no box and no heading either)."""
        assert resource_lines(resources) == []
        assert resources_html(resources) == ""

    def test_unknown_shares_have_no_bars(self) -> None:
        """A gateway without shares: the application line alone; one share: that one only."""
        bare = make_resources((APP, "default", 8, 4), core_share=None, memory_share=None)
        assert resource_lines(bare) == [f"queue default · 4 cores · 8.0 GiB · {APP}"]
        assert bars(resources_html(bare)) == {}
        memory_only = make_resources((APP, None, 0.5, 1), core_share=None, memory_share=0.3)
        assert resource_lines(memory_only) == [f"1 cores · 0.5 GiB · {APP} · 30% of queue memory"]
        assert bars(resources_html(memory_only)) == {"memory": "30.0%"}

    def test_shares_beyond_the_queue_and_slivers(self) -> None:
        """Shares are fractions that can pass 1: the bar stops full and turns red."""
        over = make_resources((APP, "default", 8, 4), core_share=1.3, memory_share=0.004)
        assert resource_lines(over)[0].endswith("130% of queue cores, <1% of memory")
        markup = resources_html(over)
        assert bars(markup) == {"cores": "100.0%", "memory": "0.4%"}
        assert "background:#c62828" in markup
        calm = resources_html(ONE)
        assert "background:#c62828" not in calm and "background:#ef6c00" not in calm

    def test_gateway_text_is_escaped(self) -> None:
        """Queue names and application ids are gateway data: escaped, never markup."""
        markup = resources_html(make_resources(("<b>x</b>", "<i>q</i>", 1, 1)))
        assert "<b>" not in markup and "<i>" not in markup
        assert "&lt;b&gt;x&lt;/b&gt;" in markup


class TestWidget:
    """The live widget shows the line while the job runs and keeps it when it ends."""

    def test_line_while_running(self) -> None:
        """A snapshot with YARN applications fills the resource box and shows it."""
        d = WidgetDisplay(on_kill=None)
        d.update(make_snap(progress=0.4, resources=ONE))
        assert d.resources in d.widget.children
        assert d.resources._dom_classes == ("linkis-resources",)
        assert d.resources.layout.display != "none"
        assert rows(d.resources.value) == [
            f"queue default · 4 cores · 8.0 GiB · {APP} cores 25% memory 12%"
        ]
        assert bars(d.resources.value) == {"cores": "25.0%", "memory": "12.0%"}

    def test_nothing_without_resources(self) -> None:
        """No YARN application: the box stays hidden and empty, before and after the end."""
        d = WidgetDisplay(on_kill=None, static_on_finish=False)
        d.update(make_snap(progress=0.4))
        assert (d.resources.value, d.resources.layout.display) == ("", "none")
        d.finish(make_snap("Succeed"), [])
        assert (d.resources.value, d.resources.layout.display) == ("", "none")

    def test_line_follows_changes(self) -> None:
        """A second application appears: a row each, and the shares move to the total row."""
        d = WidgetDisplay(on_kill=None, min_interval=0)
        d.update(make_snap(resources=ONE))
        d.update(make_snap(progress=0.5, resources=TWO))
        assert len(rows(d.resources.value)) == 2
        assert rows(d.resources.value, "linkis-yarn-total")

    def test_kept_widget_keeps_the_last_line(self) -> None:
        """The final snapshot may come without metrics: the finished view keeps the last line."""
        d = WidgetDisplay(on_kill=None, static_on_finish=False)
        d.update(make_snap(progress=0.4, resources=ONE))
        d.finish(make_snap("Succeed"), [])
        assert d.resources.layout.display != "none"
        assert f"4 cores · 8.0 GiB · {APP}" in visible(d.resources.value)

    def test_static_card_shows_the_line(self, shell: Any) -> None:
        """The card that replaces the widget (and stays in the saved notebook) has it too."""
        d = WidgetDisplay(on_kill=lambda: None, title="job")
        with capture_output() as cap:
            d.show()
            d.update(make_snap(progress=0.4, resources=ONE))
            d.finish(make_snap("Succeed"), [table_result(0, 3, 2)])
        card = cap.outputs[-1].data["text/html"]
        assert card.count('class="linkis-resources"') == 1
        assert rows(card) == [f"queue default · 4 cores · 8.0 GiB · {APP} cores 25% memory 12%"]
        assert bars(card) == {"cores": "25.0%", "memory": "12.0%"}
        # the line sits between the stage rows' place and the log, before the summary
        assert card.index("linkis-resources") < card.index("linkis-summary")
        assert "resources" not in cap.outputs[-1].data["text/plain"]

    def test_static_card_without_resources(self, shell: Any) -> None:
        """No application: the card has no resource box at all."""
        d = WidgetDisplay(on_kill=lambda: None)
        with capture_output() as cap:
            d.show()
            d.finish(make_snap("Succeed"), [])
        assert "linkis-resources" not in cap.outputs[-1].data["text/html"]

    def test_summary_html_from_a_snapshot_alone(self) -> None:
        """summary_html reads the snapshot's resources unless given others."""
        assert "linkis-resources" in summary_html(make_snap("Succeed", resources=ONE))
        assert "linkis-resources" not in summary_html(make_snap("Succeed"))
        given = summary_html(make_snap("Succeed"), resources=TWO)
        assert len(rows(given)) == 2


class TestText:
    """Text mode prints the resource lines once, and again only when they change."""

    def run(self, snaps: list[Any]) -> list[str]:
        d = TextDisplay(on_kill=None, min_interval=0)
        with capture_output() as cap:
            for snap in snaps[:-1]:
                d.update(snap)
            d.finish(snaps[-1], [])
        return [line for line in cap.stdout.splitlines() if "resources:" in line]

    def test_printed_once_per_change(self) -> None:
        """Ticks with the same applications print nothing new; a change prints the new line."""
        more = make_resources((APP, "default", 12, 6), core_share=0.4, memory_share=0.18)
        printed = self.run(
            [
                make_snap(progress=0.1, resources=ONE),
                make_snap(progress=0.2, resources=ONE),
                make_snap(progress=0.3, resources=ONE),
                make_snap(progress=0.5, resources=more),
                make_snap(progress=0.6, resources=more),
                make_snap("Succeed", resources=None),
            ]
        )
        assert printed == [
            f"  resources: {LINE}",
            f"  resources: queue default · 6 cores · 12.0 GiB · {APP} · 40% of queue cores, "
            "18% of memory",
        ]

    def test_several_applications(self) -> None:
        """One line per application, then the total with the shares."""
        assert self.run([make_snap(resources=TWO), make_snap("Succeed", resources=TWO)]) == [
            f"  resources: queue root.etl · 4 cores · 8.0 GiB · {APP}",
            f"  resources: queue root.etl · 1 cores · 2.5 GiB · {APP2}",
            "  resources: total 5 cores · 10.5 GiB · 80% of queue cores, 12% of memory",
        ]

    def test_nothing_without_resources(self) -> None:
        """A job with no YARN application prints no resource line."""
        assert self.run([make_snap(progress=0.5), make_snap("Succeed")]) == []
