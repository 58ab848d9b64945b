"""``%linkis engines``: the caller's engine connections as a DataFrame, and stopping them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from linkis_magic.errors import RequestFailedError
from tests.support.double import LinkisDouble, Reply, Request, envelope, error
from tests.support.scripts import engine_node

LIST = "linkisManager/listUserEngines"
KILL = "linkisManager/killEngineConn"
REFUSED = "You have no permission to kill EngineConn ServiceInstance(linkis-cg-engineconn, {}, 0)"


@pytest.fixture
def engines(gw: LinkisDouble, connect: Callable[..., Any]) -> LinkisDouble:
    gw.on(
        "GET",
        LIST,
        {
            "engines": [
                engine_node("10.0.0.12:38121"),
                engine_node("10.0.0.13:40000", engine_type="python-python3", status="Busy"),
            ]
        },
    )

    def kill(req: Request) -> Reply:
        instance = req.json()["instance"]
        if instance == "10.0.0.13:40000":
            return error(REFUSED.format(instance))
        return envelope({}, message="Kill engineConn succeed.")

    gw.on("POST", KILL, kill)
    connect(gw.url)
    return gw


class TestEnginesCommand:
    """A DataFrame of engines; kill one or all; refusals are counted and shown."""

    def test_list(self, shell: Any, engines: LinkisDouble) -> None:
        frame = shell.run_line_magic("linkis", "engines")
        assert isinstance(frame, pd.DataFrame)
        assert frame["instance"].tolist() == ["10.0.0.12:38121", "10.0.0.13:40000"]
        assert frame["engineType"].tolist() == ["spark-3.2.1", "python-python3"]
        assert frame["creator"].tolist() == ["IDE", "IDE"]
        assert frame["memory GiB"].tolist() == [6.0, 6.0] and frame["cores"].tolist() == [3, 3]
        idle, busy = frame["idle for"].tolist()
        assert idle > pd.Timedelta(0) and pd.isna(busy)  # only the idle engine is "idle for"

    def test_kill_one(
        self, shell: Any, engines: LinkisDouble, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_line_magic("linkis", "engines kill 10.0.0.12:38121")
        assert "Kill requested for engine 10.0.0.12:38121" in capsys.readouterr().out
        (call,) = engines.calls("POST", KILL)
        assert call.json()["instance"] == "10.0.0.12:38121"

    def test_kill_someone_elses_is_the_gateways_refusal(
        self, shell: Any, engines: LinkisDouble
    ) -> None:
        with pytest.raises(RequestFailedError, match="no permission to kill EngineConn"):
            shell.run_line_magic("linkis", "engines kill 10.0.0.13:40000")

    def test_kill_all_counts(
        self, shell: Any, engines: LinkisDouble, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shell.run_line_magic("linkis", "engines kill --all")
        out = capsys.readouterr().out
        assert "Kill requested for 1 engine(s); 1 refused." in out
        assert "refused: 10.0.0.13:40000" in out
        assert len(engines.calls("POST", KILL)) == 2

    @pytest.mark.parametrize(
        ("line", "needle"),
        [
            ("engines kill", "give one INSTANCE"),
            ("engines kill a:1 --all", "give one INSTANCE"),
            ("engines --all", "go with 'kill'"),
            ("engines stop", "invalid choice"),
        ],
    )
    def test_usage_errors_send_nothing(
        self, shell: Any, engines: LinkisDouble, line: str, needle: str
    ) -> None:
        before = len(engines.requests)
        with pytest.raises(UsageError, match=needle):
            shell.run_line_magic("linkis", line)
        assert len(engines.requests) == before
