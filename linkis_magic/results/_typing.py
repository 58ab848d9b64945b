"""Typing: Linkis dataType names -> pandas dtypes, on Arrow arrays (docs/linkis-protocol.md §6.4).

Every cell arrives as a string (or null). The column's ``dataType`` decides the dtype: integer
types -> nullable ``Int64``, float/double -> ``float64``, decimal -> ``Decimal`` objects, boolean
-> ``boolean``, date/timestamp -> ``datetime64``, everything else -> Arrow-backed ``string``.
``"NULL"`` (servers before 1.5, §10.8) and ``""`` are missing values in non-string columns. The
casts run as pyarrow compute kernels, never cell by cell in Python; a column whose values do not
parse as its type stays text rather than failing the whole result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkis_magic.protocol import Column

__all__ = [
    "STRING_DTYPE",
    "CastFailed",
    "cast",
    "frame_from_chunks",
    "frame_from_rows",
    "kind_of",
    "null_markers",
]

_INT = frozenset({"int", "integer", "tinyint", "smallint", "short", "bigint", "long"})
_FLOAT = frozenset({"float", "double", "real"})
_DECIMAL = frozenset({"decimal", "bigdecimal", "numeric"})
_BOOL = frozenset({"boolean", "bool"})
_DATE = frozenset({"date"})
_TIMESTAMP = frozenset({"timestamp", "datetime"})

STRING_DTYPE = pd.StringDtype("pyarrow")
_TYPES_MAPPER: dict[pa.DataType, Any] = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): STRING_DTYPE,
    pa.large_string(): STRING_DTYPE,
}


class CastFailed(Exception):
    pass


def kind_of(data_type: str | None) -> str:
    """Map a Linkis dataType (``int``, ``decimal(10,2)``, ``varchar(20)``...) to a kind."""
    base = (data_type or "").strip().lower().split("(", 1)[0].strip()
    if base in _INT:
        return "int"
    if base in _FLOAT:
        return "float"
    if base in _DECIMAL:
        return "decimal"
    if base in _BOOL:
        return "bool"
    if base in _DATE:
        return "date"
    if base in _TIMESTAMP:
        return "timestamp"
    return "string"


_MARKERS = pa.array(["NULL", ""], pa.string())


def null_markers(arr: Any, extra: str | None = None) -> Any:
    """Non-string columns: ``"NULL"`` (servers before 1.5) and ``""`` are missing values."""
    markers = _MARKERS if extra is None else pa.array(["NULL", "", extra], pa.string())
    hits = pc.is_in(arr, value_set=markers)
    if not pc.any(hits).as_py():
        return arr
    return pc.if_else(hits, pa.scalar(None, arr.type), arr)


def cast(kind: str, arr: Any) -> Any:
    """Cast one string column to its kind; a value that does not parse raises CastFailed."""
    try:
        if kind == "int":
            return pc.cast(arr, pa.int64())
        if kind == "float":
            return pc.cast(arr, pa.float64())
        if kind == "bool":
            return pc.cast(pc.utf8_lower(arr), pa.bool_())
        if kind == "date":
            return pc.cast(pc.cast(arr, pa.date32()), pa.timestamp("s"))
        if kind == "timestamp":
            try:
                return pc.cast(arr, pa.timestamp("us"))
            except pa.ArrowInvalid:
                return pc.cast(arr, pa.timestamp("ns"))  # 7-9 fraction digits
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise CastFailed(str(exc)) from exc
    return arr


def decimal_column(arr: pa.ChunkedArray) -> pa.ChunkedArray | pd.api.extensions.ExtensionArray:
    """Decimal text -> Arrow decimal with the widest scale found (to_pandas gives Decimals)."""
    arr = null_markers(arr)
    valid = arr.drop_null()
    if len(valid) == 0:
        return pc.cast(arr, pa.decimal128(38, 0))
    digits = pc.utf8_ltrim(valid, characters="+-")
    dot = pc.find_substring(digits, ".")
    length = pc.utf8_length(digits)
    has_dot = pc.greater_equal(dot, 0)
    scale = int(pc.max(pc.if_else(has_dot, pc.subtract(pc.subtract(length, dot), 1), 0)).as_py())
    whole = int(pc.max(pc.if_else(has_dot, dot, length)).as_py())
    try:
        if whole + scale <= 38:
            return pc.cast(arr, pa.decimal128(38, scale))
        if whole + scale <= 76:
            return pc.cast(arr, pa.decimal256(76, scale))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    return _python_decimals(arr)


def _python_decimals(arr: pa.ChunkedArray) -> pa.ChunkedArray | pd.api.extensions.ExtensionArray:
    """Rare path (exponents, > 76 digits): a Decimal per cell; text if even that fails."""
    out: list[Decimal | None] = []
    for value in arr.to_pylist():
        try:
            out.append(None if value is None else Decimal(value))
        except InvalidOperation:
            return arr
    return pd.array(out, dtype=object)


def _typed_column(kind: str, arr: pa.ChunkedArray) -> Any:
    """Type one string column; a column whose values do not parse stays text."""
    if kind == "string":
        return arr
    if kind == "decimal":
        return decimal_column(arr)
    try:
        return cast(kind, null_markers(arr))
    except CastFailed:
        return arr


def arrow_columns(ncols: int, rows: Sequence[Sequence[str | None]]) -> list[pa.Array]:
    """Rows (lists of str|None) -> one Arrow string array per column (extra fields kept)."""
    width = max((len(r) for r in rows), default=ncols)
    if any(len(r) != width for r in rows) or width < ncols:
        width = max(width, ncols)
        rows = [list(r) + [None] * (width - len(r)) for r in rows]
    if not rows:
        return [pa.array([], pa.string()) for _ in range(width)]
    return [pa.array(col, pa.string()) for col in zip(*rows, strict=True)]


def frame_from_chunks(columns: tuple[Column, ...], chunks: list[list[pa.Array]]) -> pd.DataFrame:
    width = max([len(columns)] + [len(c) for c in chunks])
    arrays = []
    for i in range(width):
        parts = [c[i] if i < len(c) else pa.nulls(len(c[0]), pa.string()) for c in chunks]
        kind = kind_of(columns[i].data_type) if i < len(columns) else "string"
        arrays.append(_typed_column(kind, pa.chunked_array(parts, type=pa.string())))
    return _to_pandas(columns, arrays)


def frame_from_rows(
    columns: Sequence[Column], rows: Iterable[Sequence[str | None]]
) -> pd.DataFrame:
    """Rows of strings/None (openFile ``fileContent``) -> a typed DataFrame (see the module doc).

    Fields beyond the metadata (docs/linkis-protocol.md §6.3 keeps them) become extra text columns.
    """
    cols = tuple(columns)
    rows = list(rows)
    return frame_from_chunks(cols, [arrow_columns(len(cols), rows)] if rows else [])


def _to_pandas(columns: tuple[Column, ...], arrays: list[Any]) -> pd.DataFrame:
    """Arrow columns -> DataFrame with nullable ints/booleans and Arrow-backed strings."""
    names = [c.name for c in columns] + [f"_{i}" for i in range(len(columns), len(arrays))]
    keys = [f"c{i}" for i in range(len(arrays))]  # names may repeat: set them at the end
    is_arrow = [isinstance(a, (pa.Array, pa.ChunkedArray)) for a in arrays]
    arrow = [(k, a) for k, a, ok in zip(keys, arrays, is_arrow, strict=True) if ok]
    if arrow:
        table = pa.table([a for _, a in arrow], names=[k for k, _ in arrow])
        arrays = [
            None if ok else a for a, ok in zip(arrays, is_arrow, strict=True)
        ]  # let Arrow memory go
        frame = table.to_pandas(
            types_mapper=_TYPES_MAPPER.get, self_destruct=True, split_blocks=True
        )
        del table
    else:
        length = len(arrays[0]) if arrays else 0
        frame = pd.DataFrame(index=pd.RangeIndex(length))
    for key, arr, ok in zip(keys, arrays, is_arrow, strict=True):
        if not ok:
            frame[key] = arr
    if keys:
        frame = frame[keys]
    frame.columns = pd.Index(names)
    result: pd.DataFrame = frame
    return result
