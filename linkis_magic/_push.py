"""What ``LinkisClient.push`` sends: a DataFrame as Parquet parts, and the Spark SQL loading them.

No I/O with the gateway here (the client does that); this module decides the file format and
the statements, so both can be read and tested on their own.

Parquet as Spark 2.4 reads it (docs/linkis-protocol.md §16):

* timestamps are written as INT96, Spark 2.x's own default output type
  (``spark.sql.parquet.outputTimestampType``) and the one encoding every Spark and Hive
  release reads as TIMESTAMP. pyarrow's default (INT64 nanoseconds, and for naive values a
  logical type without the legacy "converted type") is read by Spark 2.4 as a plain bigint
  or refused; INT96 carries nanoseconds and no time zone, and Spark (session time zone UTC)
  shows the wall-clock value that was written. Time-zone aware columns are written as UTC.
* unsigned integers become the next wider signed type (Spark has none); ``float16`` becomes
  ``float32``; categoricals become their values.
* a ``datetime64[s]`` column holding only midnights is a DATE: that is what pulling a DATE
  column gives (``%%linkis -o``), so a pulled frame pushes back with the same types; Python
  ``datetime.date`` values are dates too.
* each part is at most ``PART_BYTES`` (128 MiB), far below Linkis's shipped 500 MB multipart
  cap; the frame is converted slice by slice, so the client never holds a second copy of it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linkis_magic._validate import check_name
from linkis_magic.errors import ConfigurationError

__all__ = [
    "CHUNK_BYTES",
    "MODES",
    "PART_BYTES",
    "PushMode",
    "PushPlan",
    "check_frame",
    "check_partition",
    "check_push_engine",
    "push_sql",
    "write_parts",
]

PushMode = Literal["create", "replace", "append"]
MODES: tuple[PushMode, ...] = ("create", "replace", "append")
PART_BYTES = 128 * 1024 * 1024
"""The largest Parquet part one upload request carries."""
CHUNK_BYTES = 8 * 1024 * 1024
"""Frame memory converted to Arrow and written (one row group) at a time."""
_COLUMN = re.compile(r"^[A-Za-z0-9_]+$")
_UNSAFE = re.compile(r"['\\`\x00-\x1f\x7f]")  # would end or escape a SQL string literal
_UNSIGNED = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64(),
             pa.uint64(): pa.int64()}  # fmt: skip


def check_push_engine(engine_type: Any) -> str:
    """The engine label of a push job: it must be Spark (the job reads ``parquet.`dir` ``)."""
    if not isinstance(engine_type, str) or not engine_type.strip():
        raise ConfigurationError("push needs a Spark engine, -e spark-<version> (e.g. spark-2.4.3)")
    label = engine_type.strip()
    if label.split("-", 1)[0].lower() != "spark":
        raise ConfigurationError(
            f"push needs a Spark engine, -e spark-<version> (got {label!r}): the load job "
            "reads the uploaded Parquet files with Spark SQL"
        )
    return label


def check_partition(text: str | None) -> tuple[str, str] | None:
    """``K=V`` -> (column, value) for a static partition, or None."""
    if text is None:
        return None
    key, sep, value = text.partition("=")
    if not sep or not _COLUMN.fullmatch(key.strip()) or not value or _UNSAFE.search(value):
        raise ConfigurationError(
            f"--partition expects K=V (a column name of letters, digits and _, and a value "
            f"without quotes, backslashes or control characters), got {text!r}"
        )
    return key.strip(), value


def check_frame(frame: Any, partition: tuple[str, str] | None = None) -> pd.DataFrame:
    """A DataFrame with at least one column, named as Hive allows, unique ignoring case."""
    if not isinstance(frame, pd.DataFrame):
        raise ConfigurationError(f"push expects a pandas DataFrame, got {type(frame).__name__}")
    names = [str(c) for c in frame.columns]
    if not names:
        raise ConfigurationError("push: the DataFrame has no columns")
    bad = [c for c in frame.columns if not isinstance(c, str) or not _COLUMN.fullmatch(c)]
    if bad:
        raise ConfigurationError(
            f"push: column names must be letters, digits and _ (Hive's rule); rename {bad!r}"
        )
    lowered = [n.lower() for n in names]
    dupes = sorted({n for n in lowered if lowered.count(n) > 1})
    if dupes:
        raise ConfigurationError(f"push: column names differ only in case: {dupes}")
    if partition is not None and partition[0].lower() in lowered:
        raise ConfigurationError(
            f"push: --partition {partition[0]} is also a column of the frame; drop the column "
            "(its value comes from --partition)"
        )
    return frame


# -- Parquet --------------------------------------------------------------------------------


def _is_midnight_seconds(series: pd.Series) -> bool:
    dtype = series.dtype
    if not isinstance(dtype, pd.api.types.DatetimeTZDtype) and str(dtype) == "datetime64[s]":
        values = series.dropna()
        return bool((values == values.dt.normalize()).all())
    return False


def _arrow_type(series: pd.Series, inferred: pa.DataType) -> pa.DataType:
    """The Parquet-friendly type of a column (see the module docstring)."""
    if pa.types.is_dictionary(inferred):
        inferred = inferred.value_type
    if inferred in _UNSIGNED:
        return _UNSIGNED[inferred]
    if pa.types.is_float16(inferred):
        return pa.float32()
    if pa.types.is_timestamp(inferred):
        if _is_midnight_seconds(series):
            return pa.date32()
        return pa.timestamp(inferred.unit)  # aware values: as UTC wall clock
    if pa.types.is_large_string(inferred) or pa.types.is_string_view(inferred):
        return pa.string()
    if pa.types.is_null(inferred):
        return pa.string()  # an all-missing column: nullable strings, as Spark says void
    if pa.types.is_duration(inferred) or pa.types.is_interval(inferred):
        raise ConfigurationError(
            f"push: column {series.name!r} holds time spans ({inferred}), which Hive tables "
            "cannot store; convert it (e.g. to seconds)"
        )
    return inferred


def _slice_table(frame: pd.DataFrame, schema: pa.Schema | None) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if schema is None:
        fields = [
            pa.field(name, _arrow_type(frame[name], table.schema.field(name).type))
            for name in table.column_names
        ]
        schema = pa.schema(fields)
    return table.cast(schema, safe=True).replace_schema_metadata(None)


@dataclass(frozen=True)
class PushPlan:
    """The parts written for one push, and their total size."""

    parts: list[Path]
    total_bytes: int
    rows: int


def _slices(frame: pd.DataFrame, rows_per: int) -> Iterator[pd.DataFrame]:
    if not len(frame):
        yield frame  # an empty frame still makes one (empty) part with the columns
    for start in range(0, len(frame), rows_per):
        yield frame.iloc[start : start + rows_per]


def _write_part(
    rows: pd.DataFrame, path: Path, schema: pa.Schema | None, rows_per_chunk: int
) -> pa.Schema:
    """One part file, converted and written ``rows_per_chunk`` rows (one row group) at a time."""
    writer: pq.ParquetWriter | None = None
    try:
        for chunk in _slices(rows, rows_per_chunk):
            table = _slice_table(chunk, schema)
            schema = schema or table.schema
            if writer is None:
                writer = pq.ParquetWriter(
                    path,
                    schema,
                    compression="snappy",
                    # dictionaries only where they pay: a dictionary of a high-cardinality
                    # number column costs several times the chunk's memory and saves nothing
                    use_dictionary=[f.name for f in schema if pa.types.is_string(f.type)],
                    use_deprecated_int96_timestamps=True,
                    store_schema=False,
                )
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    assert schema is not None
    return schema


def write_parts(
    frame: pd.DataFrame,
    directory: Path,
    *,
    part_bytes: int = PART_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
) -> PushPlan:
    """Write ``frame`` as ``part_00000.parquet``, ... in ``directory`` (each <= part_bytes).

    Names keep to letters, digits and ``_`` plus the extension, the file-name rule Linkis
    defines for uploads (not enforced upstream, but forks may, docs/linkis-protocol.md §15.2).

    A part holds about half its size in frame memory (Parquet of a frame is rarely bigger
    than the frame; INT96 timestamps are the largest case at 1.5x), converted a few MiB at a
    time; a part that still comes out too big is written again as two halves. One schema for
    every part (fixed by the first chunk, so a later chunk of nulls keeps the column's type).
    """
    if part_bytes < 1024:
        raise ConfigurationError(f"part_bytes must be at least 1024, got {part_bytes}")
    per_row = max(float(frame.memory_usage(deep=True, index=False).sum()) / max(len(frame), 1), 1)
    rows_per_part = max(int(part_bytes / 2 / per_row), 1)
    rows_per_chunk = max(int(min(chunk_bytes, part_bytes / 2) / per_row), 1)
    schema: pa.Schema | None = None
    parts: list[Path] = []
    pending = list(_slices(frame, rows_per_part))
    pending.reverse()
    while pending:
        piece = pending.pop()
        path = directory / f"part_{len(parts):05d}.parquet"
        schema = _write_part(piece, path, schema, rows_per_chunk)
        size = path.stat().st_size
        if size > part_bytes:
            if len(piece) <= 1:
                raise ConfigurationError(
                    f"push: one row is larger than the part size ({size} > {part_bytes} bytes)"
                )
            path.unlink()
            half = math.ceil(len(piece) / 2)
            pending.extend([piece.iloc[half:], piece.iloc[:half]])
            continue
        parts.append(path)
    total = sum(p.stat().st_size for p in parts)
    return PushPlan(parts, total, len(frame))


# -- SQL ------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return f"`{name}`"


def push_sql(
    database: str | None,
    table: str,
    mode: PushMode,
    source: str,
    *,
    exists: bool | None,
    partition: tuple[str, str] | None = None,
) -> str:
    """The Spark SQL of the load job (statements separated by ``;``).

    ``exists`` is what the metadata service said about the table (None: it could not say).
    create: ``CREATE TABLE ... USING parquet AS SELECT`` (fails if the table exists);
    replace: drop and create again, or with a partition overwrite just that partition (of an
    existing table, or one the metadata service could not see: the table is never dropped);
    append: ``INSERT INTO`` (creating the table when it does not exist).
    A ``USING parquet`` table is stored Hive-compatibly in the metastore, so Hive reads it.
    """
    check_name(table, "table")
    target = f"{_quote(database)}.{_quote(table)}" if database else _quote(table)
    src = f"parquet.`{source}`"
    if "`" in source:
        raise ConfigurationError(f"the upload directory must not contain a backtick: {source!r}")
    if partition is not None:
        key, value = partition
        select = f"SELECT *, '{value}' AS {_quote(key)} FROM {src}"
        create = f"CREATE TABLE {target} USING parquet PARTITIONED BY ({_quote(key)}) AS {select}"
        part = f" PARTITION ({_quote(key)}='{value}')"
    else:
        create = f"CREATE TABLE {target} USING parquet AS SELECT * FROM {src}"
        part = ""
    if mode == "create":
        return create
    if mode == "replace":
        if partition is not None and exists is not False:  # unknown: never drop the table
            return f"INSERT OVERWRITE TABLE {target}{part} SELECT * FROM {src}"
        return f"DROP TABLE IF EXISTS {target};\n{create}"
    if mode == "append":
        if exists is False:
            return create
        return f"INSERT INTO {target}{part} SELECT * FROM {src}"
    raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
