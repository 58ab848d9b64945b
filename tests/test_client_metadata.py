"""The Hive metadata calls against the loopback double: shapes, key spellings, missing service.

Section numbers (§) refer to docs/linkis-protocol.md.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import ConfigurationError, MetadataUnavailable, RequestFailedError
from linkis_magic.protocol import ColumnInfo
from tests.support.double import LinkisDouble, Reply, envelope, error, routing_error
from tests.support.scripts import DEMO_SCHEMA, MetadataServer


class TestShapes:
    """§13.1-§13.4: the code's key names, epoch seconds, booleans, null columns."""

    def test_databases_tables_columns(self, gw: LinkisDouble, client: LinkisClient) -> None:
        MetadataServer(gw, DEMO_SCHEMA)
        assert client.databases() == ["default", "sales"]
        dept, emp, emp_v = client.tables("default")  # sorted by name (§13.2)
        assert (emp.name, emp.database, emp.is_view, emp.created_by) == (
            "emp", "default", False, "alice",
        )  # fmt: skip
        assert emp.created_at == datetime.fromtimestamp(1700000000, tz=timezone.utc)
        assert emp.last_access_at is None  # 0 means never (§13.2)
        assert emp_v.is_view and dept.name == "dept"
        assert client.columns("sales", "orders") == [
            ColumnInfo("order_id", "bigint"),
            ColumnInfo("total", "double"),
            ColumnInfo("day", "date"),
        ]
        assert [t.name for t in client.catalog()["sales"]] == ["orders"]
        assert gw.calls("GET", "datasource/columns")[0].param("table") == "orders"

    def test_the_documentations_key_names_are_read_too(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        MetadataServer(gw, DEMO_SCHEMA, docs_keys=True)
        assert client.databases() == ["default", "sales"]
        assert [t.name for t in client.tables("default")] == ["dept", "emp", "emp_v"]

    def test_missing_or_invisible_is_empty_not_an_error(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        MetadataServer(gw, DEMO_SCHEMA)
        assert client.tables("nope") == []
        assert client.columns("default", "nope") == []  # `columns: null` (§13.3)

    def test_partition_keys_and_string_booleans(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on(
            "GET",
            "datasource/columns",
            {
                "columns": [
                    {"columnName": "v", "columnType": "string", "partitioned": "false"},
                    {"columnName": "ds", "columnType": "string", "columnComment": "day",
                     "partitioned": True},
                ]
            },
        )  # fmt: skip
        v, ds = client.columns("db", "t")
        assert not v.partitioned and ds.partitioned and ds.comment == "day"

    def test_names_are_checked_before_sending(self, gw: LinkisDouble, client: LinkisClient) -> None:
        with pytest.raises(ConfigurationError, match="database"):
            client.tables(" ")
        with pytest.raises(ConfigurationError, match="table"):
            client.columns("default", "a\nb")
        assert gw.requests == []


class TestNoMetadataService:
    """A gateway without the routes says so in one clear error; real errors stay errors."""

    def test_404_is_metadata_unavailable(self, gw: LinkisDouble, client: LinkisClient) -> None:
        with pytest.raises(MetadataUnavailable, match=r"no metadata service.*404"):
            client.databases()

    def test_a_routing_error_is_metadata_unavailable(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on("GET", "datasource/dbs", routing_error("/api/rest_j/v1/datasource/dbs"))
        with pytest.raises(MetadataUnavailable, match="11011"):
            client.databases()

    def test_a_metastore_failure_is_the_gateways_error(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on("GET", "datasource/dbs", error("Failed to get database(获取数据库失败)"))
        with pytest.raises(RequestFailedError, match="Failed to get database"):
            client.databases()

    def test_a_plain_text_404_body(self, gw: LinkisDouble, client: LinkisClient) -> None:
        gw.on("GET", "datasource/tables", Reply.text("Not Found", status=404))
        with pytest.raises(MetadataUnavailable):
            client.tables("default")
        gw.on("GET", "datasource/all", envelope({"dbs": []}))
        assert client.catalog() == {}
