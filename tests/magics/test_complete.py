"""Tab completion in %%linkis cells, through the shell's own completer (IPython's API).

The gateway is the loopback double serving Hive metadata (tests/support/scripts.py); names
arrive through the catalog cache, so a test waits (wait_until) for the Tab that has them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from IPython.core.completer import provisionalcompleter

from linkis_magic.magics._parse import cell_parser
from tests.support.double import LinkisDouble
from tests.support.scripts import DEMO_SCHEMA, MetadataServer
from tests.support.wait import wait_until


def complete(shell: Any, text: str, cursor: int | None = None) -> list[str]:
    """What IPython offers at ``cursor`` (default: the end) of a cell ``text``."""
    with provisionalcompleter():
        found = shell.Completer.completions(text, len(text) if cursor is None else cursor)
        return [c.text for c in found]


def eventually(shell: Any, text: str, wanted: str, after: str | None = None) -> list[str]:
    """Tab (at the end of ``after``'s first occurrence, else at the end) until ``wanted`` is
    offered: the first Tab may only start the fetch."""
    cursor = len(text) if after is None else text.index(after) + len(after)
    return wait_until(
        lambda: (lambda got: got if wanted in got else None)(complete(shell, text, cursor)),
        what=f"{wanted!r} among the completions at {cursor} of {text!r}",
    )


@pytest.fixture
def metadata(gw: LinkisDouble, connect: Callable[..., Any]) -> MetadataServer:
    server = MetadataServer(gw, DEMO_SCHEMA)
    connect(gw.url)
    return server


class TestMagicLine:
    """Options, runTypes and engine labels on the %%linkis line."""

    @pytest.mark.usefixtures("clean_magics")
    def test_options_run_types_engines(self, shell: Any) -> None:
        assert "--engine" in complete(shell, "%%linkis --eng")
        assert "--background" in complete(shell, "%%linkis sql --b")
        assert complete(shell, "%%linkis hq") == ["hql"]
        engines = complete(shell, "%%linkis sql -e sp")
        assert "spark-2.4.3" in engines and all(e.startswith("sp") for e in engines)
        assert complete(shell, "%%linkis --api v") == ["v1", "v0"]

    @pytest.mark.usefixtures("clean_magics")
    def test_every_cell_option_is_offered_and_only_those(self, shell: Any) -> None:
        """The options come from the cell's own parser: a new option cannot be forgotten."""
        declared = {
            max(action.option_strings, key=len)
            for action in cell_parser()._actions
            if action.option_strings
        }
        assert set(complete(shell, "%%linkis --")) == declared


@pytest.mark.usefixtures("metadata")
class TestSqlBody:
    """Schema names where SQL expects them; Python's names never in a SQL body."""

    def test_tables_after_from(self, shell: Any) -> None:
        got = eventually(shell, "%%linkis\nselect * from em", "emp")
        assert "emp_v" in got and "dept" not in got
        assert "default" in complete(shell, "%%linkis\nselect * from ")

    def test_tables_after_a_database(self, shell: Any) -> None:
        assert eventually(shell, "%%linkis\nselect * from sales.o", "orders") == ["orders"]

    def test_columns_after_an_alias_anywhere_in_the_cell(self, shell: Any) -> None:
        text = "%%linkis\nselect e. from emp e join dept d on e.dept = d.dept"
        got = eventually(shell, text, "salary", after="select e.")
        assert got == ["id", "name", "dept", "salary"]  # table order, not alphabetical
        text = "%%linkis\nselect d.c from emp e join dept d"
        assert eventually(shell, text, "city", after="d.c") == ["city"]

    def test_columns_of_referenced_tables_in_clauses(self, shell: Any) -> None:
        text = "%%linkis\nselect id, na from emp where 1 = 1"
        assert "name" in eventually(shell, text, "name", after="id, na")
        text = "%%linkis\nselect * from sales.orders where to"
        assert "total" in eventually(shell, text, "total")
        group = "%%linkis\nselect count(*) from emp group by de"
        assert "dept" in eventually(shell, group, "dept")

    def test_keywords_in_the_users_case(self, shell: Any) -> None:
        assert "select" in complete(shell, "%%linkis\nsel")
        assert "SELECT" in complete(shell, "%%linkis\nSEL")

    def test_python_names_are_suppressed_in_sql(self, shell: Any) -> None:
        shell.user_ns["end_of_python"] = 1
        got = complete(shell, "%%linkis\nselect en")
        assert "end" in got and "end_of_python" not in got and "enumerate" not in got

    def test_python_cells_keep_python_completion(self, shell: Any) -> None:
        shell.user_ns["python_only_name"] = 1
        assert "python_only_name" in complete(shell, "%%linkis python\npython_only")


class TestSlowAndMissingMetadata:
    """A slow gateway never holds a Tab; the next Tab has the names. No service: keywords."""

    def test_a_tab_does_not_wait_for_a_slow_gateway(
        self, shell: Any, gw: LinkisDouble, connect: Callable[..., Any]
    ) -> None:
        gate = threading.Event()
        server = MetadataServer(gw, DEMO_SCHEMA, gate=gate)
        connect(gw.url)
        try:
            # The gateway is held: the Tab comes back while it still holds, offering nothing
            # but what was typed (which keeps Python's own names out of a SQL cell).
            assert complete(shell, "%%linkis\nselect * from em") == ["em"]
            assert server.calls.get("tables") == 1 and not gate.is_set()
            assert complete(shell, "%%linkis\nselect * from em") == ["em"]  # no new request
            assert server.calls.get("tables") == 1
        finally:
            gate.set()
        assert "emp" in eventually(shell, "%%linkis\nselect * from em", "emp")

    def test_no_metadata_service_means_keywords_only(
        self, shell: Any, gw: LinkisDouble, connect: Callable[..., Any]
    ) -> None:
        connect(gw.url)  # the double has no datasource routes: 404
        assert complete(shell, "%%linkis\nselect * from em") == ["em"]
        wait_until(lambda: shell.user_ns is not None and _unavailable(shell), what="404 seen")
        assert complete(shell, "%%linkis\nsel") == ["select"]
        before = len(gw.requests)
        complete(shell, "%%linkis\nselect * from em")
        assert len(gw.requests) == before  # no more calls to a gateway without the service


def _unavailable(shell: Any) -> bool:
    from tests.support.shell import magics_of

    catalog = magics_of(shell).session.catalog()
    return catalog.unavailable
