"""The `.dolphin` byte layout, its type names, and how values are rendered as text.

Section numbers (§) refer to docs/linkis-protocol.md; the file format is its §6:

    b"dolphin" + INT10(type) + metadata record + data records ...

Table records use the "line" encoding: INT10(L) + INT10(len(C)) + C + b1 + ... + bn where C
is the comma-terminated list of the fields' UTF-8 byte lengths and L = 10 + len(C) + the
fields' bytes. Text-like records are INT10(len(b)) + b.

Values are stored already rendered the way Linkis shows them when it reads a file back
(§6.5: doubles without exponent, timestamps without a trailing ".0", ...). `render_value`
does that for one Python value, `render_arrow` for a whole Arrow column, and `encode_batch`
builds the records of a whole record batch without per-row Python.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAGIC = b"dolphin"
TEXT = 1
TABLE = 2
IO = 3
PICTURE = 4
HTML = 5
TEXT_LIKE = (TEXT, PICTURE, HTML)

NULL_TOKEN = "LINKIS_NULL"
"""How 1.5+ writers store a SQL NULL (and what `null_value` asks for JSON null)."""
OLD_NULL_TOKEN = "NULL"
"""How <=1.4 writers stored a SQL NULL; also the reported comment of a column without one."""

HEADER_LEN = len(MAGIC) + 10
MAX_READ_RECORD = 20 * 1024 * 1024
"""Readers refuse records above 20 MiB (`linkis.resultset.read.row.max.str`)."""

BATCH_ROWS = 131_072
"""Rows per record batch when writing and reading Arrow data."""

PathLike = str | os.PathLike[str]


class DolphinFormatError(ValueError):
    """The file is not a well-formed `.dolphin` result set (message says where it breaks)."""


class EmptyResultError(DolphinFormatError):
    """The `.dolphin` file has 0 bytes (openFile answers HTTP 206 / status 4, code 51000)."""

    code = 51000


# --------------------------------------------------------------------------------------------
# Type names (§6.4)


def normalize_type(stored: str) -> str:
    """Map a stored dataType to the name openFile reports, following Linkis' DataType table."""
    s = (stored or "").strip().lower()
    if s in ("void", "null"):
        return "void"
    if s in ("string", "boolean"):
        return s
    for prefix in ("short", "long", "bigint"):
        if s.startswith(prefix):
            return prefix
    if s.startswith("int") or s == "smallint":
        return "int"
    for prefix in ("float", "double", "varchar", "char"):
        if s.startswith(prefix):
            return prefix
    if s in ("date", "timestamp", "binary"):
        return s
    if s == "decimal" or re.match(r"^decimal\(\s*\d*\s*,\s*\d*\s*\)", s):
        return "decimal"
    for prefix in ("array", "map", "list", "struct"):
        if s.startswith(prefix):
            return prefix
    return "string"


def linkis_type_for_arrow(arrow_type: pa.DataType) -> str:
    """The dataType a Linkis writer stores for a column of this Arrow type.

    Note that some stored names (``tinyint``) are reported as ``string`` by readers.
    """
    t = arrow_type
    if pa.types.is_dictionary(t):
        return linkis_type_for_arrow(t.value_type)
    if pa.types.is_null(t):
        return "void"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t):
        return "tinyint"
    if pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "short"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "int"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "float"
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary"
    if pa.types.is_map(t):
        return "map"
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    ):
        return "array"
    if pa.types.is_struct(t):
        return "struct"
    return "string"


STRING_LIKE = frozenset({"string", "char", "varchar", "array", "map", "list", "struct", "binary"})
"""Reported types whose cells are raw text: a literal "NULL" or "" is a value there."""
NEVER_BLANK = frozenset(
    {"boolean", "short", "int", "long", "bigint", "float", "double", "decimal", "date", "timestamp"}
)
"""Reported types whose canonical cells (our writers' files) are never blank nor "NULL", so
reading them skips those checks."""


# --------------------------------------------------------------------------------------------
# Rendering values the way Linkis shows them (§6.5)


def double_text(x: float) -> str:
    """Java NumberFormat, no grouping, <= 30 fraction digits (StorageUtils.doubleToString)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return np.format_float_positional(x, precision=30, unique=True, fractional=True, trim="-")


def float_text(x: float) -> str:
    """Java `Float.toString`: plain in [1e-3, 1e7), else computerized scientific notation."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    f = np.float32(x)
    a = abs(float(f))
    if a == 0.0 or 1e-3 <= a < 1e7:
        return np.format_float_positional(f, unique=True, trim="0")
    mantissa, _, exp = np.format_float_scientific(f, unique=True, trim="0").partition("e")
    return f"{mantissa}E{int(exp)}"


def timestamp_text(v: _dt.datetime) -> str:
    """Java `Timestamp.toString` with the trailing ".0" removed."""
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    nanos = v.microsecond * 1000 + int(getattr(v, "nanosecond", 0))
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text


def decimal_text(v: decimal.Decimal) -> str:
    text = format(v, "f")
    return text[1:] if text.startswith("-") and v.is_zero() else text


def _json_default(v: object) -> object:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, decimal.Decimal):
        return decimal_text(v)
    if isinstance(v, _dt.datetime):
        return timestamp_text(v)
    return str(v)


def render_value(value: object, data_type: str = "string") -> str | None:
    """The text Linkis stores/shows for a Python value in a column of `data_type` (None = NULL)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if normalize_type(data_type) == "float":
            return float_text(float(value))
        return double_text(float(value))
    if isinstance(value, decimal.Decimal):
        return decimal_text(value)
    if isinstance(value, _dt.datetime):
        return timestamp_text(value)
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


def _python_strings(arr: pa.Array, fn: Callable[[Any], str | None]) -> pa.Array:
    return pa.array([None if v is None else fn(v) for v in arr.to_pylist()], pa.string())


def _strip_fraction_zeros(s: pa.Array) -> pa.Array:
    """'10:00:00.500000' -> '10:00:00.5', '10:00:00.000000' -> '10:00:00' (Timestamp.toString
    minus ".0"); the zeros trim stops at the dot, so the seconds are never touched."""
    return pc.ascii_rtrim(pc.ascii_rtrim(s, "0"), ".")


_LOOKUP_MIN_ROWS = 4096
"""Shorter date columns are simply cast (a lookup table would not pay)."""


def _render_days(days: pa.Array) -> pa.Array:
    """Dates (int32 days since 1970-01-01, nulls kept) as Arrow's cast renders them.

    The dates of a column span few days compared to its rows (a year has 366), so when the
    span is small each day of it is rendered once and taken per row.
    """
    bounds = pc.min_max(days).as_py()
    lo, hi = bounds["min"], bounds["max"]
    if lo is None or hi - lo + 1 > max(len(days) // 4, 1):
        return pc.cast(days.cast(pa.date32()), pa.string())
    table = pc.cast(pa.array(np.arange(lo, hi + 1, dtype=np.int32)).cast(pa.date32()), pa.string())
    return table.take(pc.subtract(days, pa.scalar(lo, pa.int32())))


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z", "+00:00", "Etc/Universal", "Zulu"})
"""Zones whose local time is UTC: their timestamps need no conversion (DuckDB's TIMESTAMPTZ
arrives as Etc/UTC)."""


def string_offsets(arr: pa.Array) -> np.ndarray[Any, Any]:
    """The ``len(arr) + 1`` offsets of a string array's cells into its data buffer (int32, or
    int64 for large_string), without a copy: cell i is ``data[offsets[i]:offsets[i + 1]]``."""
    raw = arr.buffers()[1]
    if raw is None:
        return np.zeros(len(arr) + 1, np.int32)
    dtype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    return np.frombuffer(raw, dtype=dtype)[arr.offset : arr.offset + len(arr) + 1]


def string_bytes(arr: pa.Array, count: int | None = None) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """The UTF-8 bytes of the first ``count`` cells (all by default) back to back, without a
    copy (``.data`` is the memoryview to write). Null cells add no bytes."""
    n = len(arr) if count is None else count
    if n == 0:
        return np.empty(0, np.uint8)
    offsets = string_offsets(arr)
    first, last = int(offsets[0]), int(offsets[n])
    data = arr.buffers()[2]
    if data is None or last == first:
        return np.empty(0, np.uint8)
    return np.frombuffer(data, dtype=np.uint8, count=last - first, offset=first)


def _has_letters(text: pa.Array) -> bool:
    """Whether a cast number holds an exponent or spells nan/inf: any byte above "9" (plain
    renderings are digits, "-" and "." only), found with one vectorized max."""
    data = string_bytes(text)
    return bool(len(data)) and int(data.max()) > ord("9")


def _render_timestamps(arr: pa.Array) -> pa.Array:
    """Naive timestamps as Timestamp.toString minus ".0". Whole seconds (the common case)
    are cast to second precision first, which renders without a fraction to trim; the safe
    cast refuses as soon as one value has a fraction."""
    unit = arr.type.unit
    if unit != "s":
        try:
            arr = arr.cast(pa.timestamp("s"))
        except pa.ArrowInvalid:
            return _strip_fraction_zeros(pc.cast(arr, pa.string()))
    return pc.cast(arr, pa.string())


def render_arrow(arr: pa.Array) -> pa.Array:
    """Render one column to Linkis text (string array; nulls kept as nulls)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return render_arrow(arr.dictionary_decode())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_string(t):
        return arr
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_date32(t) and len(arr) >= _LOOKUP_MIN_ROWS:
        return _render_days(arr.cast(pa.int32()))
    if (
        pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_decimal(t)
        or pa.types.is_date(t)
    ):
        return pc.cast(arr, pa.string())
    if pa.types.is_float64(t):
        s = pc.cast(arr, pa.string())
        if not _has_letters(s):  # plain decimals only: the common case, one byte scan
            return s
        odd = pc.or_(pc.match_substring(s, "e"), pc.is_nan(arr))  # 1.5e+10, nan
        odd = pc.fill_null(pc.or_(odd, pc.is_inf(arr)), False)
        if pc.any(odd).as_py():
            fixed = _python_strings(pc.filter(arr, odd), double_text)
            s = pc.replace_with_mask(s, odd, fixed)
        return s
    if pa.types.is_floating(t):
        return _python_strings(arr, float_text)
    if pa.types.is_timestamp(t):
        if t.tz in _UTC_NAMES:
            arr = arr.cast(pa.timestamp(t.unit))  # UTC wall time: the same numbers, no tz
        elif t.tz is not None:
            arr = pc.local_timestamp(arr)
        return _render_timestamps(arr)
    if pa.types.is_time(t):
        s = pc.cast(arr, pa.string())
        return s if t.unit == "s" else _strip_fraction_zeros(s)
    return _python_strings(arr, render_value)


# --------------------------------------------------------------------------------------------
# Record encoding (§6.3)


def int10(n: int) -> bytes:
    if not 0 <= n <= 9_999_999_999:
        raise DolphinFormatError(f"length {n} does not fit the 10-digit record prefix")
    return b"%010d" % n


_NULL_BYTES = NULL_TOKEN.encode()


def line_record(fields: Sequence[str | None]) -> bytes:
    """One table record (None is stored as the NULL token)."""
    parts = [_NULL_BYTES if f is None else f.encode("utf-8") for f in fields]
    index = b"".join(b"%d," % len(p) for p in parts)
    body = b"".join(parts)
    return int10(10 + len(index) + len(body)) + int10(len(index)) + index + body


def text_record(line: str) -> bytes:
    data = line.encode("utf-8")
    return int10(len(data)) + data


def check_columns(columns: Sequence[tuple[str, str]]) -> None:
    if not columns:
        raise ValueError("a table result set needs at least one column")
    for col in columns:
        if len(col) != 2 or not all(isinstance(x, str) for x in col):
            raise ValueError(f"columns must be (name, dataType) string pairs, got {col!r}")


def metadata_record(columns: Sequence[tuple[str, str]]) -> bytes:
    """The (name, type, comment) triples of a table; comments are always NULL here."""
    flat: list[str | None] = []
    for name, data_type in columns:
        flat += [name, data_type, None]
    return line_record(flat)


_LOOKUP_SPAN = 4096
"""Widest range of lengths rendered through a lookup table (beyond it, a plain cast)."""


def _int_text(values: pa.Array, width: int = 0) -> pa.Array:
    """Decimal text of non-negative ints, zero-padded to `width`.

    Field and record lengths span narrow ranges, so rendering each distinct value once and
    taking from that table beats casting every cell (the encoder's hottest step after the
    values themselves).
    """
    if len(values) == 0:
        return pa.array([], pa.string())
    bounds = pc.min_max(values).as_py()
    lo, hi = int(bounds["min"]), int(bounds["max"])
    if hi - lo > _LOOKUP_SPAN:
        text = pc.cast(values, pa.string())
        return pc.utf8_lpad(text, width=width, padding="0") if width else text
    fmt = f"{{:0{width}d}}"
    table = pa.array([fmt.format(v) for v in range(lo, hi + 1)], pa.string())
    return table.take(pc.subtract(values, pa.scalar(lo, values.type)) if lo else values)


_PREFIX_KEYS = 1 << 20
"""Largest mixed-radix key space of field-length combinations tabulated directly."""
_PREFIX_DISTINCT = 4096
"""Most distinct field-length combinations per batch rendered as whole record prefixes."""


def _field_lengths(col: pa.Array) -> np.ndarray[Any, np.dtype[np.int32]]:
    """UTF-8 byte length of every cell of a string array, from its offsets buffer."""
    return np.diff(string_offsets(col))


def _record_prefixes(lens: list[np.ndarray[Any, np.dtype[np.int32]]]) -> pa.Array | None:
    """Every record's INT10(L) + INT10(len(C)) + C, or None when there are too many kinds.

    The prefix depends only on the tuple of field lengths, and real columns have few of them
    (fixed-width dates, numbers of a few digit counts): each distinct tuple is rendered once
    and taken per row, so the join that builds the records has one argument per column
    instead of three. The key is built in int32 (it stays below _PREFIX_KEYS), in place.
    """
    n = len(lens[0])
    key = np.zeros(n, dtype=np.int32)
    part = np.empty(n, dtype=np.int32)
    lows: list[int] = []
    spans: list[int] = []
    radix = 1
    for length in lens:
        lo, hi = int(length.min()), int(length.max())
        span = hi - lo + 1
        if radix * span > _PREFIX_KEYS:
            return None
        if span > 1:
            np.subtract(length, lo, out=part)
            if radix > 1:
                part *= radix
            key += part
        lows.append(lo)
        spans.append(span)
        radix *= span
    seen = np.zeros(radix, dtype=bool)
    seen[key] = True
    codes = np.flatnonzero(seen)
    if len(codes) > _PREFIX_DISTINCT:
        return None
    slot = np.empty(radix, dtype=np.int32)
    slot[codes] = np.arange(len(codes), dtype=np.int32)
    texts = []
    for code in codes.tolist():
        fields = []
        for lo, span in zip(lows, spans, strict=True):
            code, digit = divmod(code, span)
            fields.append(lo + digit)
        index = "".join(f"{f}," for f in fields)
        index_len = len(index)  # ASCII digits and commas: characters are bytes
        texts.append(f"{10 + index_len + sum(fields):010d}{index_len:010d}{index}")
    return pa.array(texts, pa.string()).take(pa.array(slot[key]))


def encode_batch(
    batch: pa.RecordBatch,
) -> tuple[pa.Array, np.ndarray[Any, Any], list[pa.Array]]:
    """All records of a batch as one string array (contiguous bytes), the record end offsets
    and the stored cell strings per column."""
    cols = [pc.fill_null(render_arrow(c), NULL_TOKEN) for c in batch.columns]
    prefixes = _record_prefixes([_field_lengths(c) for c in cols]) if len(batch) else None
    if prefixes is not None:
        records = pc.binary_join_element_wise(prefixes, *cols, "")
    else:
        records = _join_records(cols)
    return records, string_offsets(records), cols


def _join_records(cols: list[pa.Array]) -> pa.Array:
    """The records of `cols` built field by field (any mix of field lengths)."""
    lens = [pc.binary_length(c) for c in cols]
    len_texts = [_int_text(n) for n in lens]
    index_len = pa.scalar(len(cols), pa.int32())  # one comma per field
    for text in len_texts:
        index_len = pc.add(index_len, pc.binary_length(text))
    total = pc.add(index_len, 10)
    for n in lens:
        total = pc.add(total, n)
    index = [part for text in len_texts for part in (text, ",")]
    return pc.binary_join_element_wise(
        _int_text(total, 10), _int_text(index_len, 10), *index, *cols, ""
    )
