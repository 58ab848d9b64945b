"""Engines and resources against the loopback double: YARN use, engine lists, engine kills.

Section numbers (§) refer to docs/linkis-protocol.md.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import RequestFailedError
from linkis_magic.protocol import YarnApp
from tests.support.double import EXEC_ID, LinkisDouble, Reply, envelope, error
from tests.support.scripts import engine_node, yarn_progress

WITH_RESOURCE = f"entrance/{EXEC_ID}/progressWithResource"
PROGRESS = f"entrance/{EXEC_ID}/progress"


class TestProgressWithResource:
    """§14.1: yarnMetrics when the job holds YARN applications, yarnResource null when not."""

    def test_yarn_applications_and_queue_shares(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on("GET", WITH_RESOURCE, yarn_progress(("application_1_0042", 4, 3)))
        progress = client.progress(EXEC_ID, with_resources=True)
        assert progress.progress == 0.4 and progress.stages[0].total == 10
        assert progress.resources is not None
        assert progress.resources.apps == (
            YarnApp("application_1_0042", "root.analytics", 4 * 2**30, 3, 2, "RUNNING"),
        )
        assert (progress.resources.core_share, progress.resources.memory_share) == (0.06, 0.3)

    def test_no_yarn_application(self, gw: LinkisDouble, client: LinkisClient) -> None:
        gw.on("GET", WITH_RESOURCE, yarn_progress())
        assert client.progress(EXEC_ID, with_resources=True).resources is None
        gw.on("GET", WITH_RESOURCE, {**yarn_progress(), "yarnMetrics": {"yarnResource": []}})
        assert client.progress(EXEC_ID, with_resources=True).resources is None  # 1.1.1-1.1.2

    @pytest.mark.parametrize(
        "answer",
        [Reply.text("Not Found", status=404), error("no such route")],
        ids=["404", "status-1"],
    )
    def test_older_gateway_still_gives_progress(
        self, gw: LinkisDouble, client: LinkisClient, answer: Reply
    ) -> None:
        """The client finds out once that the route is missing; every call returns a Progress."""
        gw.on("GET", WITH_RESOURCE, answer)
        gw.on("GET", PROGRESS, {"progress": 0.5, "progressInfo": [], "execID": EXEC_ID})
        for _ in range(3):
            assert client.progress(EXEC_ID, with_resources=True).progress == 0.5
        assert len(gw.calls("GET", WITH_RESOURCE)) == 1
        assert len(gw.calls("GET", PROGRESS)) == 3

    def test_job_error_after_the_route_answered_is_raised(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        """Once the route has answered, a status-1 reply is about the job, not the gateway."""
        gw.on("GET", WITH_RESOURCE, yarn_progress(), error("no such job"))
        client.progress(EXEC_ID, with_resources=True)
        with pytest.raises(RequestFailedError, match="no such job"):
            client.progress(EXEC_ID, with_resources=True)


class TestEngines:
    """§14.2-§14.3: the caller's engines from labels; kills, refusals."""

    def test_engines_read_labels_and_skip_engine_managers(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on(
            "GET",
            "linkisManager/listUserEngines",
            {
                "engines": [
                    engine_node("10.0.0.12:38121"),
                    engine_node("10.0.0.12:9102", application="linkis-cg-engineconnmanager"),
                    engine_node("10.0.0.13:40000", engine_type="python-python3", status=None),
                ]
            },
        )
        spark, python = client.engines()
        assert (spark.instance, spark.engine_type, spark.creator, spark.status) == (
            "10.0.0.12:38121",
            "spark-3.2.1",
            "IDE",
            "Unlock",
        )
        assert spark.started == datetime.fromtimestamp(1709280000, tz=timezone.utc)
        assert (spark.memory, spark.cores) == (6 * 2**30, 3)  # driver + YARN
        assert spark.manager == "10.0.0.12:9102" and spark.running_tasks == 0
        assert python.status is None and python.engine_type == "python-python3"

    def test_kill_engine_sends_the_instance_once(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on(
            "POST",
            "linkisManager/killEngineConn",
            envelope({}, message="Kill engineConn succeed."),
        )
        assert client.kill_engine("10.0.0.12:38121") == "Kill engineConn succeed."
        (call,) = gw.calls("POST", "linkisManager/killEngineConn")
        assert call.json() == {
            "applicationName": "linkis-cg-engineconn",
            "instance": "10.0.0.12:38121",
        }

    def test_someone_elses_engine_is_refused(self, gw: LinkisDouble, client: LinkisClient) -> None:
        message = (
            "You have no permission to kill EngineConn "
            "ServiceInstance(linkis-cg-engineconn, 10.0.0.9:1, 0)"
        )
        gw.on("POST", "linkisManager/killEngineConn", error(message))
        with pytest.raises(RequestFailedError, match="no permission to kill EngineConn"):
            client.kill_engine("10.0.0.9:1")
        assert len(gw.calls("POST", "linkisManager/killEngineConn")) == 1  # never resent
