"""catalog/types.py: DuckDB and Spark column types in Hive's spelling
(docs/linkis-protocol.md §13.3)."""

from __future__ import annotations

import duckdb
import pytest

from linkis_magic.sandbox.catalog.types import from_duckdb, from_spark

DUCKDB_TO_HIVE = [
    ("BOOLEAN", "boolean"),
    ("TINYINT", "tinyint"),
    ("SMALLINT", "smallint"),
    ("INTEGER", "int"),
    ("BIGINT", "bigint"),
    ("UTINYINT", "smallint"),
    ("USMALLINT", "int"),
    ("UINTEGER", "bigint"),
    ("UBIGINT", "decimal(20,0)"),
    ("HUGEINT", "decimal(38,0)"),
    ("UHUGEINT", "decimal(38,0)"),
    ("FLOAT", "float"),
    ("DOUBLE", "double"),
    ("DECIMAL(10,2)", "decimal(10,2)"),
    ("DECIMAL(38,0)", "decimal(38,0)"),
    ("VARCHAR", "string"),
    ("TEXT", "string"),
    ("VARCHAR(20)", "string"),
    ("JSON", "string"),
    ("UUID", "string"),
    ("ENUM('a', 'b')", "string"),
    ("TIME", "string"),
    ("INTERVAL", "string"),
    ("BIT", "string"),
    ("DATE", "date"),
    ("TIMESTAMP", "timestamp"),
    ("TIMESTAMP_S", "timestamp"),
    ("TIMESTAMP_MS", "timestamp"),
    ("TIMESTAMP_NS", "timestamp"),
    ("TIMESTAMP WITH TIME ZONE", "timestamp"),
    ("BLOB", "binary"),
    ("INTEGER[]", "array<int>"),
    ("INTEGER[3]", "array<int>"),
    ("VARCHAR[][]", "array<array<string>>"),
    ("MAP(VARCHAR, INTEGER)", "map<string,int>"),
    ("STRUCT(a INTEGER, b VARCHAR)", "struct<a:int,b:string>"),
    ('STRUCT("b c" INTEGER)', "struct<`b c`:int>"),
    (
        "STRUCT(x MAP(INTEGER, STRUCT(y DOUBLE[])))",
        "struct<x:map<int,struct<y:array<double>>>>",
    ),
    ("UNION(n INTEGER, s VARCHAR)", "uniontype<int,string>"),
    ('"NULL"', "void"),
]


@pytest.mark.parametrize(("duck", "hive"), DUCKDB_TO_HIVE)
def test_duckdb_types(duck: str, hive: str) -> None:
    with duckdb.connect() as con:
        assert from_duckdb(con.type(duck)) == hive


def test_every_duckdb_type_has_a_hive_spelling() -> None:
    """A type the table does not know still maps to something a Hive client can read."""
    with duckdb.connect() as con:
        assert from_duckdb(con.type("GEOMETRY")) == "string"


def test_spark_types() -> None:
    types = pytest.importorskip("pyspark.sql.types")
    struct = types.StructType(
        [
            types.StructField("x", types.IntegerType()),
            types.StructField("y z", types.StringType()),
        ]
    )
    cases = [
        (types.BooleanType(), "boolean"),
        (types.ByteType(), "tinyint"),
        (types.ShortType(), "smallint"),
        (types.IntegerType(), "int"),
        (types.LongType(), "bigint"),
        (types.FloatType(), "float"),
        (types.DoubleType(), "double"),
        (types.DecimalType(10, 2), "decimal(10,2)"),
        (types.StringType(), "string"),
        (types.CharType(3), "char(3)"),
        (types.VarcharType(10), "varchar(10)"),
        (types.DateType(), "date"),
        (types.TimestampType(), "timestamp"),
        (types.TimestampNTZType(), "timestamp"),
        (types.BinaryType(), "binary"),
        (types.NullType(), "void"),
        (types.DayTimeIntervalType(), "string"),
        (types.ArrayType(types.IntegerType()), "array<int>"),
        (types.MapType(types.StringType(), types.LongType()), "map<string,bigint>"),
        (struct, "struct<x:int,`y z`:string>"),
    ]
    assert [from_spark(t) for t, _ in cases] == [hive for _, hive in cases]
    declared = {"__CHAR_VARCHAR_TYPE_STRING": "varchar(10)"}
    assert from_spark(types.StringType(), declared) == "varchar(10)"
