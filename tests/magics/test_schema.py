"""``%linkis databases | tables | columns``: DataFrames from the gateway's Hive metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from linkis_magic.errors import MetadataUnavailable
from tests.support.double import LinkisDouble
from tests.support.scripts import DEMO_SCHEMA, MetadataServer


@pytest.fixture
def metadata(gw: LinkisDouble, connect: Callable[..., Any]) -> MetadataServer:
    server = MetadataServer(gw, DEMO_SCHEMA)
    connect(gw.url)
    return server


class TestSchemaCommands:
    """Each command returns a DataFrame; --refresh asks the gateway again."""

    def test_databases(self, shell: Any, metadata: MetadataServer) -> None:
        frame = shell.run_line_magic("linkis", "databases")
        assert isinstance(frame, pd.DataFrame)
        assert frame["database"].tolist() == ["default", "sales"]

    def test_tables_default_database_like_and_refresh(
        self, shell: Any, metadata: MetadataServer
    ) -> None:
        frame = shell.run_line_magic("linkis", "tables")
        assert frame["table"].tolist() == ["dept", "emp", "emp_v"]
        assert frame["isView"].tolist() == [False, False, True]
        assert str(frame["createdAt"].dtype).startswith("datetime64")
        assert shell.run_line_magic("linkis", "tables --like 'EMP*'")["table"].tolist() == [
            "emp",
            "emp_v",
        ]
        assert shell.run_line_magic("linkis", "tables sales")["table"].tolist() == ["orders"]
        calls = metadata.calls["tables"]
        shell.run_line_magic("linkis", "tables")
        assert metadata.calls["tables"] == calls  # cached
        shell.run_line_magic("linkis", "tables --refresh")
        assert metadata.calls["tables"] == calls + 1

    def test_columns_with_or_without_a_database(self, shell: Any, metadata: MetadataServer) -> None:
        frame = shell.run_line_magic("linkis", "columns emp")
        assert frame.to_dict("list") == {
            "column": ["id", "name", "dept", "salary"],
            "type": ["int", "string", "string", "decimal(10,2)"],
            "comment": [None] * 4,
            "partitioned": [False] * 4,
        }
        assert shell.run_line_magic("linkis", "columns sales.orders")["column"].tolist() == [
            "order_id",
            "total",
            "day",
        ]
        assert shell.run_line_magic("linkis", "columns sales.nope").empty

    @pytest.mark.usefixtures("metadata")
    def test_usage_errors_send_nothing(self, shell: Any, gw: LinkisDouble) -> None:
        before = len(gw.requests)
        with pytest.raises(UsageError, match="the following arguments are required"):
            shell.run_line_magic("linkis", "columns")
        with pytest.raises(UsageError, match="table must be a non-empty name"):
            shell.run_line_magic("linkis", "columns sales.")
        assert len(gw.requests) == before

    def test_a_gateway_without_the_service_says_so(
        self, shell: Any, gw: LinkisDouble, connect: Callable[..., Any]
    ) -> None:
        connect(gw.url)
        with pytest.raises(MetadataUnavailable, match="this gateway has no metadata service"):
            shell.run_line_magic("linkis", "databases")
