"""Column types in Hive's spelling, from DuckDB types and from Spark types.

`datasource/columns` reports `columnType` as the Hive metastore stores it: `int`, `bigint`,
`string`, `decimal(10,2)`, `array<string>`, `map<string,int>`, `struct<a:int,b:string>`
(docs/linkis-protocol.md §13.3). Both engines' types go through the one table below
(`HIVE_SCALARS`, keyed by DuckDB's type ids and Spark's `typeName()`s) and the one set of
composite spellings (`array<…>`, `map<…>`, `struct<…>`, `uniontype<…>`).

| DuckDB | Spark | Hive |
|---|---|---|
| BOOLEAN | boolean | boolean |
| TINYINT | byte | tinyint |
| SMALLINT, UTINYINT | short | smallint |
| INTEGER, USMALLINT | integer | int |
| BIGINT, UINTEGER | long | bigint |
| UBIGINT | | decimal(20,0) |
| HUGEINT, UHUGEINT | | decimal(38,0) |
| FLOAT / DOUBLE | float / double | float / double |
| DECIMAL(p,s) | decimal(p,s) | decimal(p,s) |
| VARCHAR (TEXT, JSON), UUID, ENUM, TIME, INTERVAL, BIT, BIGNUM | string, interval… | string |
| | char(n) / varchar(n) | char(n) / varchar(n) |
| DATE | date | date |
| TIMESTAMP[_S/_MS/_NS], TIMESTAMPTZ | timestamp, timestamp_ntz | timestamp |
| BLOB | binary | binary |
| T[], T[n] | array | array<t> |
| MAP(K, V) | map | map<k,v> |
| STRUCT(a T, ...) | struct | struct<a:t,...> |
| UNION(a T, ...) | | uniontype<t,...> |
| "NULL" | void | void |

Unsigned and huge integers widen to the smallest Hive type that holds every value; types
Hive has no column type for become `string`, as their values read back as text. A struct
field name that is not a plain identifier is quoted with backticks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

HIVE_SCALARS: dict[str, str] = {
    "boolean": "boolean",
    "tinyint": "tinyint",
    "byte": "tinyint",
    "smallint": "smallint",
    "short": "smallint",
    "utinyint": "smallint",
    "integer": "int",
    "usmallint": "int",
    "bigint": "bigint",
    "long": "bigint",
    "uinteger": "bigint",
    "ubigint": "decimal(20,0)",
    "hugeint": "decimal(38,0)",
    "uhugeint": "decimal(38,0)",
    "float": "float",
    "double": "double",
    "varchar": "string",
    "string": "string",
    "uuid": "string",
    "enum": "string",
    "time": "string",
    "time with time zone": "string",
    "time_ns": "string",
    "interval": "string",
    "daytimeinterval": "string",
    "yearmonthinterval": "string",
    "bit": "string",
    "bignum": "string",
    "varint": "string",
    "variant": "string",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_s": "timestamp",
    "timestamp_ms": "timestamp",
    "timestamp_ns": "timestamp",
    "timestamp with time zone": "timestamp",
    "timestamp_ntz": "timestamp",
    "blob": "binary",
    "binary": "binary",
    "null": "void",
    "void": "void",
}
"""Scalar types of either engine (DuckDB `DuckDBPyType.id`, Spark `DataType.typeName()`)."""

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def hive_decimal(precision: int, scale: int) -> str:
    return f"decimal({precision},{scale})"


def hive_array(element: str) -> str:
    return f"array<{element}>"


def hive_map(key: str, value: str) -> str:
    return f"map<{key},{value}>"


def hive_struct(fields: Iterable[tuple[str, str]]) -> str:
    parts = [f"{_field_name(name)}:{kind}" for name, kind in fields]
    return f"struct<{','.join(parts)}>"


def hive_union(members: Iterable[str]) -> str:
    return f"uniontype<{','.join(members)}>"


def _field_name(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name):
        return name
    return "`" + name.replace("`", "``") + "`"


def from_duckdb(duck_type: Any) -> str:
    """The Hive spelling of a `duckdb.DuckDBPyType` (unknown types: `string`)."""
    kind = str(duck_type.id).lower()
    if kind == "decimal":
        params = dict(duck_type.children)
        return hive_decimal(int(params["precision"]), int(params["scale"]))
    if kind in ("list", "array"):
        return hive_array(from_duckdb(duck_type.children[0][1]))
    if kind == "map":
        (_, key), (_, value) = duck_type.children
        return hive_map(from_duckdb(key), from_duckdb(value))
    if kind == "struct":
        return hive_struct((name, from_duckdb(child)) for name, child in duck_type.children)
    if kind == "union":
        # the first child is the union's tag, not a member
        return hive_union(from_duckdb(child) for _, child in duck_type.children[1:])
    return HIVE_SCALARS.get(kind, "string")


def from_spark(spark_type: Any, metadata: dict[str, Any] | None = None) -> str:
    """The Hive spelling of a `pyspark.sql.types.DataType` (unknown: Spark's own
    `simpleString()`, which is what Spark writes into a Hive metastore)."""
    kind = spark_type.typeName()
    if kind == "string" and metadata and "__CHAR_VARCHAR_TYPE_STRING" in metadata:
        # a char(n)/varchar(n) column that Spark reads as string keeps its declared type
        return str(metadata["__CHAR_VARCHAR_TYPE_STRING"]).lower()
    if kind == "decimal":
        return hive_decimal(spark_type.precision, spark_type.scale)
    if kind in ("char", "varchar"):
        return f"{kind}({spark_type.length})"
    if kind == "array":
        return hive_array(from_spark(spark_type.elementType))
    if kind == "map":
        return hive_map(from_spark(spark_type.keyType), from_spark(spark_type.valueType))
    if kind == "struct":
        return hive_struct((f.name, from_spark(f.dataType, f.metadata)) for f in spark_type.fields)
    return HIVE_SCALARS.get(kind) or str(spark_type.simpleString())
