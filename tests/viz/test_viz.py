"""linkis_magic.viz against the sandbox: one aggregation job per plot or profile, NULLs counted.

The demo table ``emp`` has 14 rows; ``sal`` has no NULL, ``comm`` has 10 NULLs (4 values:
300, 500, 1400, 0), ``job`` has 5 distinct values (SALESMAN 4, CLERK 4, MANAGER 3, ANALYST 2,
PRESIDENT 1).
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
import pytest
import sqlglot

from linkis_magic.client import LinkisClient
from linkis_magic.errors import ConfigurationError
from linkis_magic.viz import PlotSpec, ProfileSpec, Source, plot, profile

matplotlib.use("Agg")

SPARK = "spark-3.2.1"
HIVE = "hive-2.3.3"


def heights(ax: Any) -> list[float]:
    return [patch.get_height() for patch in ax.patches]


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


class TestSql:
    """The queries are Hive and Spark SQL: both of sqlglot's parsers read every one."""

    @pytest.mark.parametrize("kind", ["histogram", "boxplot", "bar", "pie"])
    def test_every_plot_query_parses_as_hive_and_spark(self, kind: str) -> None:
        spec = PlotSpec.build(kind, "default.emp", ["sal"], where="deptno = 20")
        for dialect in ("hive", "spark"):
            (tree,) = sqlglot.parse(spec.sql(), read=dialect)
            assert tree is not None

    def test_profile_query_parses_as_hive_and_spark(self) -> None:
        spec = ProfileSpec.build("emp", {"sal": "decimal(7,2)", "job": "string", "tags": "array"})
        sql = spec.sql()
        assert "percentile_approx(cast(`sal` as double), 0.25)" in sql
        assert "approx_count_distinct(`job`)" in sql and "`tags`" in sql
        assert "min(`tags`)" not in sql  # complex types get count and nulls only
        for dialect in ("hive", "spark"):
            assert sqlglot.parse(sql, read=dialect)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"kind": "violin"}, "plot kind must be one of"),
            ({"table": None}, "either a \\[DB.\\]TABLE or --query"),
            ({"columns": []}, "needs a COLUMN"),
            ({"kind": "bar", "columns": ["a", "b"]}, "takes one COLUMN"),
            ({"bins": 0}, "--bins must be a whole number"),
            ({"kind": "pie", "top": 0}, "--top must be a whole number"),
            ({"where": " "}, "--where must be a SQL condition"),
            ({"table": "db.", "columns": ["a"]}, "table must be a non-empty name"),
        ],
    )
    def test_usage_errors(self, kwargs: dict[str, Any], message: str) -> None:
        args: dict[str, Any] = {"kind": "histogram", "table": "emp", "columns": ["sal"]}
        args.update(kwargs)
        kind, table, columns = args.pop("kind"), args.pop("table"), args.pop("columns")
        with pytest.raises(ConfigurationError, match=message):
            PlotSpec.build(kind, table, columns, **args)

    def test_non_numeric_columns_are_refused_for_histogram_and_boxplot(self) -> None:
        types = {"sal": "decimal(7,2)", "job": "string"}
        for kind in ("histogram", "boxplot"):
            with pytest.raises(ConfigurationError, match="'job' is string"):
                PlotSpec.build(kind, "emp", ["sal", "job"]).check_types(types)
        PlotSpec.build("bar", "emp", ["job"]).check_types(types)  # counts of any type
        with pytest.raises(ConfigurationError, match="no column 'nope'"):
            PlotSpec.build("pie", "emp", ["nope"]).check_types(types)

    def test_a_query_source_is_a_subquery_and_where_filters_it(self) -> None:
        source = Source.of(None, query="select sal from emp;", where="sal > 1000")
        assert source.relation() == (
            "(select * from (select sal from emp) linkis_q where sal > 1000) linkis_w"
        )
        assert Source.of("sales.orders").relation() == "`sales`.`orders`"


class TestPlotsOnTheSandbox:
    """Each plot is one job whose few rows are drawn; NULLs are in the legend or title."""

    def test_histogram_transfers_at_most_bins_plus_one_rows(
        self, sandbox_client: LinkisClient
    ) -> None:
        spec = PlotSpec.build("histogram", "emp", ["sal"], bins=4)
        job = sandbox_client.submit(spec.sql(), engine_type=SPARK)
        job.wait()
        (frame,) = job.frames()
        assert len(frame) <= 5 and int(frame["cnt"].sum()) == 14
        ax = spec.draw(frame)
        raw = sandbox_client.submit("select sal from emp", engine_type=SPARK)
        raw.wait()
        counts, edges = np.histogram(raw.frames()[0]["sal"].astype(float), bins=4)
        assert heights(ax) == list(counts)  # the same bins as numpy's over all the rows
        assert [patch.get_x() for patch in ax.patches] == pytest.approx(list(edges[:-1]))
        assert ax.get_legend().get_texts()[0].get_text() == "sal (0 NULLs)"

    @pytest.mark.parametrize("engine", [SPARK, HIVE])
    def test_histogram_counts_nulls_in_the_legend(
        self, sandbox_client: LinkisClient, engine: str
    ) -> None:
        ax = plot(sandbox_client, "histogram", "emp", ["comm"], bins=2, engine=engine)
        assert sum(heights(ax)) == 4
        assert ax.get_legend().get_texts()[0].get_text() == "comm (10 NULLs)"

    def test_two_columns_and_a_where(self, sandbox_client: LinkisClient) -> None:
        ax = plot(sandbox_client, "histogram", "emp", ["sal", "comm"], bins=3, where="deptno = 30")
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["sal (0 NULLs)", "comm (2 NULLs)"]
        assert sum(heights(ax)) == 6 + 4

    def test_boxplot_quartiles_whiskers_and_nulls(self, sandbox_client: LinkisClient) -> None:
        ax = plot(sandbox_client, "boxplot", "emp", ["sal", "comm"], engine=HIVE)
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels[0].startswith("sal\n") and labels[0].endswith("0 NULLs")
        assert labels[1].startswith("comm\n") and labels[1].endswith("10 NULLs")
        whiskers = [line.get_ydata() for line in ax.lines]
        flat = sorted({float(y) for data in whiskers for y in data})
        assert 0.0 in flat and 800.0 in flat  # the lowest whiskers reach the minimums

    def test_bar_keeps_the_top_values_and_says_the_nulls(
        self, sandbox_client: LinkisClient
    ) -> None:
        ax = plot(sandbox_client, "bar", "emp", ["job"], top=2)
        assert heights(ax) == [4, 4]
        assert ax.get_title() == "job in emp: top 2 of 5 values, 0 NULLs"
        ax = plot(sandbox_client, "bar", "emp", ["comm"], top=10)
        assert sorted(heights(ax)) == [1, 1, 1, 1, 10]  # four values and the NULL bar
        assert "10 NULLs" in ax.get_title()

    def test_pie_has_other_and_null_slices(self, sandbox_client: LinkisClient) -> None:
        ax = plot(sandbox_client, "pie", None, ["v"], top=1, query="select comm as v from emp")
        labels = [t.get_text() for t in ax.texts if not t.get_text().endswith("%")]
        assert labels[1:] == ["other (3 values)", "NULL"]
        assert ax.get_title() == "v in query: 14 rows, 10 NULLs"

    def test_a_string_column_for_a_histogram_fails_before_submitting(
        self, sandbox_client: LinkisClient
    ) -> None:
        before = sandbox_client.tasks(page_size=1).tasks
        with pytest.raises(ConfigurationError, match="'ename' is string"):
            plot(sandbox_client, "histogram", "emp", ["ename"])
        assert sandbox_client.tasks(page_size=1).tasks == before


class TestProfileOnTheSandbox:
    """One job: statistics as rows, the table's columns as columns."""

    def test_profile_of_emp(self, sandbox_client: LinkisClient) -> None:
        frame = profile(sandbox_client, "emp")
        assert list(frame.index) == [
            "count", "nulls", "distinct", "min", "max", "mean", "std", "25%", "50%", "75%",
        ]  # fmt: skip
        assert list(frame.columns)[:3] == ["empno", "ename", "job"]
        comm = frame["comm"]
        assert (comm["count"], comm["nulls"]) == (4, 10)
        assert float(comm["min"]) == 0 and float(comm["max"]) == 1400
        assert comm["mean"] == pytest.approx(550.0)
        assert frame["job"]["distinct"] == 5 and frame["job"]["mean"] is None
        assert frame["sal"]["25%"] <= frame["sal"]["50%"] <= frame["sal"]["75%"]

    def test_profile_with_where(self, sandbox_client: LinkisClient) -> None:
        frame = profile(sandbox_client, "emp", where="deptno = 10")
        assert frame["empno"]["count"] == 3 and frame["comm"]["nulls"] == 3
