"""Reader and writer of Linkis `.dolphin` result-set files (REFERENCE §6).

This is the only place in the sandbox that knows the byte layout, so the gateway's openFile,
fileInfo and resultsetToExcel all see exactly what a Linkis engine would have written:

    b"dolphin" + INT10(type) + metadata record + data records ...

Table records use the "line" encoding: INT10(L) + INT10(len(C)) + C + b1 + ... + bn where C
is the comma-terminated list of the fields' UTF-8 byte lengths. Text-like records are
INT10(len(b)) + b.

Values are stored already rendered the way Linkis renders them when it reads a file back
(§6.5: doubles without exponent, timestamps without a trailing ".0", ...), so reading our own
files is a pure pass-through; files from elsewhere are normalized on read.

Speed: `write_arrow` renders whole record batches with pyarrow.compute (no per-row Python,
batches encoded on a few threads) and writes two hidden sidecars: `.<name>.idx` with the byte
offset of every data record (so `read_page` seeks straight to a page) and `.<name>.arrow`, an
Arrow IPC copy of the stored cell strings (so exports skip parsing). Without them the file is
scanned once (the offsets are then remembered) and cut into columns with numpy. The `.dolphin`
file stays the source of truth: a sidecar whose stamp (size, mtime, inode) does not match is
ignored. Every name starting with "." in a result directory is ours and must stay hidden.

Writes are atomic (hidden temporary file + rename), so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import decimal
import json
import math
import mmap
import os
import re
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "COLUMNS_SUFFIX",
    "HTML",
    "IO",
    "MAGIC",
    "NULL_TOKEN",
    "OLD_NULL_TOKEN",
    "PICTURE",
    "SIDECAR_PREFIX",
    "SIDECAR_SUFFIX",
    "TABLE",
    "TEXT",
    "DolphinFormatError",
    "EmptyResultError",
    "columns_sidecar_path",
    "count_rows",
    "is_sidecar_name",
    "iter_batches",
    "linkis_type_for_arrow",
    "normalize_type",
    "parallel_map",
    "read_arrow",
    "read_header",
    "read_page",
    "render_value",
    "sidecar_path",
    "write_arrow",
    "write_table",
    "write_text",
]

MAGIC = b"dolphin"
TEXT = 1
TABLE = 2
IO = 3
PICTURE = 4
HTML = 5
_TEXT_LIKE = (TEXT, PICTURE, HTML)

NULL_TOKEN = "LINKIS_NULL"
"""How 1.5+ writers store a SQL NULL (and what `null_value` asks for JSON null)."""
OLD_NULL_TOKEN = "NULL"
"""How <=1.4 writers stored a SQL NULL; also the reported comment of a column without one."""

_NULL_BYTES = NULL_TOKEN.encode()
_HEADER_LEN = len(MAGIC) + 10
_MAX_READ_RECORD = 20 * 1024 * 1024
"""Readers refuse records above 20 MiB (`linkis.resultset.read.row.max.str`)."""

SIDECAR_PREFIX = "."
SIDECAR_SUFFIX = ".idx"
COLUMNS_SUFFIX = ".arrow"
_SIDECAR_MAGIC = b"DLPHIDX3"
# magic, dolphin size, mtime_ns, inode, n records, flags, size of the columns sidecar
_SIDECAR_HEAD = struct.Struct("<8sqqqqqq")
_FLAG_CANONICAL = 1
"""Set by our writers: every value is already in §6.5 form, so readers skip normalization."""
_FLAG_COLUMNS = 2
"""A `.<name>.arrow` Arrow IPC file holds the stored cell strings column by column."""

_BATCH_ROWS = 131_072
_POW10 = 10 ** np.arange(19, dtype=np.int64)


class DolphinFormatError(ValueError):
    """The file is not a well-formed `.dolphin` result set (message says where it breaks)."""


class EmptyResultError(DolphinFormatError):
    """The `.dolphin` file has 0 bytes (openFile answers HTTP 206 / status 4, code 51000)."""

    code = 51000


PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------------------------
# Types (§6.4)


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


_STRING_LIKE = frozenset({"string", "char", "varchar", "array", "map", "list", "struct", "binary"})
"""Reported types whose cells are raw text: a literal "NULL" or "" is a value there."""
_NEVER_BLANK = frozenset(
    {"boolean", "short", "int", "long", "bigint", "float", "double", "decimal", "date", "timestamp"}
)
"""Reported types whose canonical cells (our writers' files) are never blank nor "NULL", so
reading them skips those checks."""


# --------------------------------------------------------------------------------------------
# Rendering values the way Linkis shows them (§6.5)


def _double_text(x: float) -> str:
    """Java NumberFormat, no grouping, <= 30 fraction digits (StorageUtils.doubleToString)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return np.format_float_positional(x, precision=30, unique=True, fractional=True, trim="-")


def _float_text(x: float) -> str:
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


def _timestamp_text(v: _dt.datetime) -> str:
    """Java `Timestamp.toString` with the trailing ".0" removed."""
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    nanos = v.microsecond * 1000 + int(getattr(v, "nanosecond", 0))
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text


def _decimal_text(v: decimal.Decimal) -> str:
    text = format(v, "f")
    return text[1:] if text.startswith("-") and v.is_zero() else text


def _json_default(v: object) -> object:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, decimal.Decimal):
        return _decimal_text(v)
    if isinstance(v, _dt.datetime):
        return _timestamp_text(v)
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
            return _float_text(float(value))
        return _double_text(float(value))
    if isinstance(value, decimal.Decimal):
        return _decimal_text(value)
    if isinstance(value, _dt.datetime):
        return _timestamp_text(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


# --------------------------------------------------------------------------------------------
# Writing


def _int10(n: int) -> bytes:
    if not 0 <= n <= 9_999_999_999:
        raise DolphinFormatError(f"length {n} does not fit the 10-digit record prefix")
    return b"%010d" % n


def _line_record(fields: Sequence[str | None]) -> bytes:
    parts = [_NULL_BYTES if f is None else f.encode("utf-8") for f in fields]
    index = b"".join(b"%d," % len(p) for p in parts)
    body = b"".join(parts)
    return _int10(10 + len(index) + len(body)) + _int10(len(index)) + index + body


def _text_record(line: str) -> bytes:
    data = line.encode("utf-8")
    return _int10(len(data)) + data


def sidecar_path(path: PathLike) -> Path:
    """Hidden index next to a result file: `_0.dolphin` -> `._0.dolphin.idx`."""
    p = Path(path)
    return p.with_name(f"{SIDECAR_PREFIX}{p.name}{SIDECAR_SUFFIX}")


def columns_sidecar_path(path: PathLike) -> Path:
    """Hidden Arrow IPC copy of the stored cells: `_0.dolphin` -> `._0.dolphin.arrow`."""
    p = Path(path)
    return p.with_name(f"{SIDECAR_PREFIX}{p.name}{COLUMNS_SUFFIX}")


def is_sidecar_name(name: str) -> bool:
    """True for names getDirFileTrees must hide: sidecars and in-progress temporaries.

    All of them start with "." (result files never do), so the rule is: hide dot-files.
    """
    return name.startswith(SIDECAR_PREFIX)


def _hidden_tmp(target: Path) -> Path:
    """A temporary name next to `target` that listings hide (it starts with ".")."""
    name = target.name.lstrip(".")
    return target.with_name(f".{name}.tmp{os.getpid()}-{threading.get_ident()}")


@contextlib.contextmanager
def _atomic(path: PathLike) -> Iterator[BinaryIO]:
    """Write to a hidden temporary file and rename it over `path` only when complete, so a
    reader (openFile racing a running job) never sees a half-written or truncated file."""
    target = Path(path)
    tmp = _hidden_tmp(target)
    try:
        with open(tmp, "wb") as fh:
            yield fh
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _drop_columns_sidecar(path: PathLike) -> None:
    with contextlib.suppress(FileNotFoundError):
        columns_sidecar_path(path).unlink()


def _write_sidecar(
    path: PathLike,
    offsets: np.ndarray[Any, np.dtype[np.int64]],
    *,
    canonical: bool = True,
    stamp: tuple[int, int, int] | None = None,
    columns_size: int = -1,
) -> None:
    """Record every data record's byte offset, stamped with the file's size, mtime and inode
    (atomic rewrites change the inode even when size and a coarse mtime do not).

    The temporary name is hidden too (starts with "." and ends with ".idx").
    """
    if stamp is None:
        st = os.stat(path)
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
    side = sidecar_path(path)
    tmp = _hidden_tmp(side)
    flags = (_FLAG_CANONICAL if canonical else 0) | (_FLAG_COLUMNS if columns_size >= 0 else 0)
    with open(tmp, "wb") as fh:
        fh.write(_SIDECAR_HEAD.pack(_SIDECAR_MAGIC, *stamp, len(offsets), flags, columns_size))
        fh.write(np.ascontiguousarray(offsets, dtype="<i8").tobytes())
    os.replace(tmp, side)


def _columns_check(columns: Sequence[tuple[str, str]]) -> None:
    if not columns:
        raise ValueError("a table result set needs at least one column")
    for col in columns:
        if len(col) != 2 or not all(isinstance(x, str) for x in col):
            raise ValueError(f"columns must be (name, dataType) string pairs, got {col!r}")


def _metadata_record(columns: Sequence[tuple[str, str]]) -> bytes:
    flat: list[str | None] = []
    for name, data_type in columns:
        flat += [name, data_type, None]
    return _line_record(flat)


def write_table(
    path: PathLike,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[object | None]],
) -> int:
    """Write a TABLE result set from Python values; returns the number of rows written."""
    _columns_check(columns)
    _drop_columns_sidecar(path)
    types = [t for _, t in columns]
    n_cols = len(columns)
    offsets: list[int] = []
    with _atomic(path) as fh:
        fh.write(MAGIC + _int10(TABLE) + _metadata_record(columns))
        pos = fh.tell()
        buf: list[bytes] = []
        size = 0
        for row in rows:
            if len(row) != n_cols:
                raise ValueError(
                    f"row {len(offsets) + 1} has {len(row)} values but there are {n_cols} columns"
                )
            rec = _line_record([render_value(v, t) for v, t in zip(row, types, strict=True)])
            offsets.append(pos)
            pos += len(rec)
            buf.append(rec)
            size += len(rec)
            if size > 1 << 20:
                fh.write(b"".join(buf))
                buf.clear()
                size = 0
        fh.write(b"".join(buf))
    _write_sidecar(path, np.asarray(offsets, dtype=np.int64))
    return len(offsets)


def write_text(path: PathLike, lines: Iterable[str], *, type_code: int = TEXT) -> int:
    """Write a TEXT (or PICTURE/HTML) result set, one record per line; returns the count."""
    if type_code not in _TEXT_LIKE:
        raise ValueError(f"type_code must be one of {_TEXT_LIKE} for text records, got {type_code}")
    _drop_columns_sidecar(path)
    offsets: list[int] = []
    with _atomic(path) as fh:
        fh.write(MAGIC + _int10(type_code) + _text_record(OLD_NULL_TOKEN))
        pos = fh.tell()
        for line in lines:
            if not isinstance(line, str):
                raise TypeError(f"text result lines must be str, got {type(line).__name__}")
            rec = _text_record(line)
            offsets.append(pos)
            pos += len(rec)
            fh.write(rec)
    _write_sidecar(path, np.asarray(offsets, dtype=np.int64))
    return len(offsets)


def _python_strings(arr: pa.Array, fn: Callable[[Any], str | None]) -> pa.Array:
    return pa.array([None if v is None else fn(v) for v in arr.to_pylist()], pa.string())


def _strip_fraction_zeros(s: pa.Array) -> pa.Array:
    """'10:00:00.500000' -> '10:00:00.5', '10:00:00.000000' -> '10:00:00' (Timestamp.toString
    minus ".0"); the zeros trim stops at the dot, so the seconds are never touched."""
    return pc.ascii_rtrim(pc.ascii_rtrim(s, "0"), ".")


def _render_arrow(arr: pa.Array) -> pa.Array:
    """Render one column to Linkis text (string array; nulls kept as nulls)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return _render_arrow(arr.dictionary_decode())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_string(t):
        return arr
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pc.cast(arr, pa.string())
    if (
        pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_decimal(t)
        or pa.types.is_date(t)
    ):
        return pc.cast(arr, pa.string())
    if pa.types.is_float64(t):
        s = pc.cast(arr, pa.string())
        odd = pc.or_(pc.match_substring(s, "e"), pc.is_nan(arr))  # 1.5e+10, nan
        odd = pc.fill_null(pc.or_(odd, pc.is_inf(arr)), False)
        if pc.any(odd).as_py():
            fixed = _python_strings(pc.filter(arr, odd), _double_text)
            s = pc.replace_with_mask(s, odd, fixed)
        return s
    if pa.types.is_floating(t):
        return _python_strings(arr, _float_text)
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            arr = pc.local_timestamp(arr)
        s = pc.cast(arr, pa.string())
        return s if t.unit == "s" else _strip_fraction_zeros(s)
    if pa.types.is_time(t):
        s = pc.cast(arr, pa.string())
        return s if t.unit == "s" else _strip_fraction_zeros(s)
    return _python_strings(arr, lambda v: render_value(v))


def _fill(arr: pa.Array, text: str) -> pa.Array:
    return pc.fill_null(arr, text) if arr.null_count else arr


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


def _encode_batch(
    batch: pa.RecordBatch,
) -> tuple[pa.Array, np.ndarray[Any, Any], list[pa.Array]]:
    """All records of a batch as one string array (contiguous bytes), the record end offsets
    and the stored cell strings per column."""
    cols = [_fill(_render_arrow(c), NULL_TOKEN) for c in batch.columns]
    lens = [pc.binary_length(c) for c in cols]
    len_texts = [_int_text(n) for n in lens]
    index_len = pa.scalar(len(cols), pa.int32())  # one comma per field
    for text in len_texts:
        index_len = pc.add(index_len, pc.binary_length(text))
    total = pc.add(index_len, 10)
    for n in lens:
        total = pc.add(total, n)
    index = [part for text in len_texts for part in (text, ",")]
    records = pc.binary_join_element_wise(
        _int_text(total, 10), _int_text(index_len, 10), *index, *cols, ""
    )
    offsets = np.frombuffer(records.buffers()[1], dtype=np.int32)[
        records.offset : records.offset + len(records) + 1
    ]
    return records, offsets, cols


_T = TypeVar("_T")
_R = TypeVar("_R")


def parallel_map(fn: Callable[[_T], _R], items: Iterable[_T], workers: int = 0) -> Iterator[_R]:
    """`map` over threads, in order, with at most `workers` + 1 results held in memory.

    pyarrow.compute releases the GIL, so batches really are encoded in parallel.
    """
    workers = workers or min(4, os.cpu_count() or 1)
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="dolphin") as pool:
        pending: deque[Future[_R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()


def _rebatch(table: pa.Table, rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of `rows` rows whatever the table's chunking (Spark hands over 10,000-row
    chunks): per-batch costs are paid a few times per million rows, and the columns sidecar
    keeps big batches for exports. Only one batch is copied at a time."""
    for start in range(0, table.num_rows, rows):
        part = table.slice(start, rows)
        if any(column.num_chunks > 1 for column in part.columns):
            part = part.combine_chunks()
        yield from (b for b in part.to_batches() if b.num_rows)


def write_arrow(path: PathLike, table: pa.Table | pa.RecordBatch) -> int:
    """Write a TABLE result set from Arrow data (vectorized); returns the number of rows.

    Besides the `.dolphin` file this writes two hidden sidecars (see `is_sidecar_name`): the
    record offsets and an Arrow IPC file of the stored cell strings, which lets exports and
    big reads skip parsing. Both are ignored as soon as the `.dolphin` file changes.
    """
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    columns = [(f.name, linkis_type_for_arrow(f.type)) for f in table.schema]
    _columns_check(columns)
    _drop_columns_sidecar(path)
    schema = pa.schema([pa.field(f"c{i}", pa.string()) for i in range(len(columns))])
    cols_tmp = _hidden_tmp(columns_sidecar_path(path))
    starts: list[np.ndarray[Any, Any]] = []
    rows = 0
    try:
        with (
            _atomic(path) as fh,
            pa.OSFile(str(cols_tmp), "wb") as sink,
            pa.ipc.new_file(sink, schema) as ipc,
        ):
            fh.write(MAGIC + _int10(TABLE) + _metadata_record(columns))
            pos = fh.tell()
            batches = _rebatch(table, _BATCH_ROWS)
            for batch, (records, ends, cells) in parallel_map(
                lambda b: (b, _encode_batch(b)), batches
            ):
                first, last = int(ends[0]), int(ends[-1])
                fh.write(memoryview(records.buffers()[2])[first:last])
                ipc.write_batch(pa.RecordBatch.from_arrays(cells, schema=schema))
                starts.append(ends[:-1].astype(np.int64) - first + pos)
                pos += last - first
                rows += batch.num_rows
        os.replace(cols_tmp, columns_sidecar_path(path))
    finally:
        with contextlib.suppress(FileNotFoundError):
            cols_tmp.unlink()
    _write_sidecar(
        path,
        np.concatenate(starts) if starts else np.empty(0, np.int64),
        columns_size=columns_sidecar_path(path).stat().st_size,
    )
    return rows


# --------------------------------------------------------------------------------------------
# Reading


class _Reader:
    """An opened `.dolphin` file: header parsed, data start known, bytes memory-mapped."""

    def __init__(self, path: PathLike) -> None:
        self.path = path
        self.columns_size = -1
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            self.size = st.st_size
            self.mtime_ns = st.st_mtime_ns
            self.inode = st.st_ino
            if self.size == 0:
                raise EmptyResultError(f"The file:{os.fspath(path)} is empty")
            # Memory-mapped: a page read touches only the pages it needs.
            self.data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        head = self.data[:_HEADER_LEN]
        if len(head) < _HEADER_LEN or not head.startswith(MAGIC):
            raise DolphinFormatError(
                f"{os.fspath(path)} is not a .dolphin result set (it must start with 'dolphin'"
                " and a 10-digit type code)"
            )
        self.type_code = self._int(len(MAGIC), "type code")
        self.table = self.type_code == TABLE
        if self.type_code not in (TEXT, TABLE, PICTURE, HTML):
            raise DolphinFormatError(
                f"{os.fspath(path)}: result type {self.type_code} is not supported "
                "(1 text, 2 table, 4 picture, 5 html)"
            )
        meta, self.data_start = self._record(_HEADER_LEN)
        if meta is None:
            raise DolphinFormatError(f"{os.fspath(path)}: the metadata record is missing")
        self.meta = meta

    def _int(self, pos: int, what: str) -> int:
        digits = self.data[pos : pos + 10]
        if len(digits) != 10 or not digits.isdigit():
            raise DolphinFormatError(
                f"{os.fspath(self.path)}: expected a 10-digit {what} at byte {pos}, "
                f"found {digits[:10]!r}"
            )
        return int(digits)

    def _record(self, pos: int) -> tuple[list[str] | None, int]:
        """Parse one record at `pos`: (fields, next position), or (None, pos) at the end."""
        data = self.data
        if self.size - pos < 10:
            return None, pos
        length = self._int(pos, "record length")
        end = pos + 10 + length
        if length > _MAX_READ_RECORD:
            raise DolphinFormatError(
                f"{os.fspath(self.path)}: record at byte {pos} is {length} bytes, over the "
                "20 MiB read limit"
            )
        if end > self.size:
            raise DolphinFormatError(
                f"{os.fspath(self.path)}: record at byte {pos} needs {length} bytes, "
                f"only {self.size - pos - 10} remain (truncated file?)"
            )
        if not self.table:
            return [data[pos + 10 : end].decode("utf-8", "replace")], end
        index_len = self._int(pos + 10, "column index length")
        q = pos + 20 + index_len
        try:
            lens = [int(x) for x in data[pos + 20 : q].split(b",")[:-1]]
        except ValueError:
            lens = [-1]
        if q > end or any(n < 0 for n in lens) or q + sum(lens) != end:
            raise DolphinFormatError(
                f"{os.fspath(self.path)}: record at byte {pos} has a column index that does "
                "not match its length"
            )
        fields = []
        for n in lens:
            fields.append(data[q : q + n].decode("utf-8", "replace"))
            q += n
        return fields, end

    def iter_records(self, start: int | None = None) -> Iterator[tuple[int, list[str]]]:
        pos = self.data_start if start is None else start
        while True:
            fields, nxt = self._record(pos)
            if fields is None:
                return
            yield pos, fields
            pos = nxt

    def offsets(self, stop: int | None = None) -> tuple[np.ndarray[Any, Any], bool]:
        """Byte offsets of the data records (at least the first `stop` ones when given) and
        whether the values are known canonical (written by us)."""
        side = self._sidecar()
        if side is not None:
            return side
        starts = self._scan(stop)
        offsets = np.asarray(starts, dtype=np.int64)
        if stop is None or len(starts) < stop:
            # Remember the full scan; the stamp predates it, so a racing writer's file is
            # seen as changed and rescanned.
            with contextlib.suppress(OSError):
                _write_sidecar(
                    self.path,
                    offsets,
                    canonical=False,
                    stamp=(self.size, self.mtime_ns, self.inode),
                )
        return offsets, False

    def _scan(self, stop: int | None) -> list[int]:
        """Walk the record length prefixes only (no field decoding); a tight loop."""
        data, size, pos = self.data, self.size, self.data_start
        limit = -1 if stop is None else stop
        starts: list[int] = []
        append = starts.append
        while size - pos >= 10 and len(starts) != limit:
            append(pos)
            try:
                length = int(data[pos : pos + 10])
            except ValueError:
                length = -1
            if length < 0:
                self._int(pos, "record length")  # raises with the details
            pos += 10 + length
        if pos > size:
            raise DolphinFormatError(
                f"{os.fspath(self.path)}: the last record is truncated (file ends at "
                f"byte {size}, record needs {pos})"
            )
        return starts

    def _sidecar(self) -> tuple[np.ndarray[Any, Any], bool] | None:
        try:
            raw = sidecar_path(self.path).read_bytes()
        except OSError:
            return None
        if len(raw) < _SIDECAR_HEAD.size:
            return None
        magic, size, mtime_ns, inode, count, flags, columns_size = _SIDECAR_HEAD.unpack_from(raw)
        if (
            magic != _SIDECAR_MAGIC
            or size != self.size
            or mtime_ns != self.mtime_ns
            or inode != self.inode
            or len(raw) != _SIDECAR_HEAD.size + 8 * count
        ):
            return None
        offsets = np.frombuffer(raw, dtype="<i8", offset=_SIDECAR_HEAD.size)
        if count and (offsets[0] != self.data_start or offsets[-1] >= self.size):
            return None
        self.columns_size = columns_size if flags & _FLAG_COLUMNS else -1
        return offsets, bool(flags & _FLAG_CANONICAL)

    def stored_columns(self) -> pa.ipc.RecordBatchFileReader | None:
        """The Arrow IPC copy of the stored cells, when the index vouches for it."""
        if self.columns_size < 0 or not self.table:
            return None
        cols_path = columns_sidecar_path(self.path)
        try:
            if cols_path.stat().st_size != self.columns_size:
                return None
            reader = pa.ipc.open_file(pa.memory_map(str(cols_path)))
        except (OSError, pa.ArrowInvalid):
            return None
        if reader.schema.names != [f"c{i}" for i in range(len(self.meta) // 3)]:
            return None
        return reader

    def columns(self) -> list[tuple[str, str, str]]:
        meta = self.meta
        if not self.table:
            raise DolphinFormatError("not a table result set")
        if not meta or len(meta) % 3:
            raise DolphinFormatError(
                f"{os.fspath(self.path)}: table metadata has {len(meta)} fields; it must be "
                "(name, type, comment) triples"
            )
        cols = []
        for i in range(0, len(meta), 3):
            name, stored, comment = meta[i : i + 3]
            if comment == NULL_TOKEN:
                comment = OLD_NULL_TOKEN
            cols.append((name, normalize_type(stored), comment))
        return cols

    def text_metadata(self) -> str:
        value = self.meta[0]
        return OLD_NULL_TOKEN if value == NULL_TOKEN else value


def read_header(path: PathLike) -> tuple[int, list[tuple[str, str, str]] | str]:
    """(type code, columns as (name, reported dataType, comment)) or (type code, text metadata)."""
    r = _Reader(path)
    if r.table:
        return r.type_code, r.columns()
    return r.type_code, r.text_metadata()


def count_rows(path: PathLike) -> int:
    """Number of data records (fileInfo's rowNumber with pageSize=-1)."""
    r = _Reader(path)
    return len(r.offsets()[0])


# ---- value normalization on read (files not written by us) ---------------------------------

_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)")
_DECIMAL_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(\.[0-9]{1,9})?"
)
_INT_RANGE = {"short": 1 << 15, "int": 1 << 31, "long": 1 << 63, "bigint": 1 << 63}


def _java_float(text: str) -> float | None:
    s = text.strip(" \t\n\r\x0b\x0c")
    if not _FLOAT_RE.fullmatch(s):
        return None
    s = s.rstrip("fFdD") if not s.endswith("NaN") else s
    return float(s.replace("Infinity", "inf"))


def _normalize(kind: str, s: str) -> str:
    """What Linkis' DataType.toValue + valueToString make of a stored cell (failures: as is)."""
    if kind == "boolean":
        low = s.lower()
        return low if low in ("true", "false") else s
    if kind in _INT_RANGE:
        if _INT_RE.fullmatch(s):
            v = int(s)
            limit = _INT_RANGE[kind]
            if -limit <= v < limit:
                return str(v)
        return s
    if kind in ("float", "double"):
        f = _java_float(s)
        if f is None:
            return s
        return _double_text(f) if kind == "double" else _float_text(f)
    if kind == "decimal":
        return _decimal_text(decimal.Decimal(s)) if _DECIMAL_RE.fullmatch(s) else s
    if kind == "date":
        m = _DATE_RE.fullmatch(s)
        if m:
            try:
                return _dt.date(*(int(g) for g in m.groups())).isoformat()
            except ValueError:
                return s
        return s
    if kind == "timestamp":
        m = _TS_RE.fullmatch(s)
        if m:
            try:
                y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
                ts = _dt.datetime(y, mo, d, h, mi, sec)
            except ValueError:
                return s
            text = _timestamp_text(ts)
            frac = (m.group(7) or ".")[1:].ljust(9, "0").rstrip("0")
            return f"{text}.{frac}" if frac else text
        return s
    return s


class _NullPolicy:
    """The nullValue rules of openFile/resultsetToExcel (REFERENCE §5.3, §5.7)."""

    def __init__(self, null_value: str | None, *, export: bool = False) -> None:
        self.keep_none = null_value == NULL_TOKEN
        if export:
            repl = "" if null_value is None or null_value.upper() == "BLANK" else null_value
            self.null_repl: str | None = repl
            self.empty_repl = repl
        elif null_value is None or null_value == "" or null_value.upper() == "BLANK":
            self.null_repl, self.empty_repl = OLD_NULL_TOKEN, ""
        else:
            self.null_repl = self.empty_repl = null_value

    def cell(self, kind: str, raw: str, canonical: bool) -> str | None:
        # DataType.toValue: tokens and (for typed columns) "NULL"/blank become null.
        value: str | None
        if raw == NULL_TOKEN or kind == "void":
            value = None
        elif kind in _STRING_LIKE:
            value = raw
        elif raw.upper() == OLD_NULL_TOKEN or not raw.strip():
            value = None
        else:
            value = raw if canonical else _normalize(kind, raw)
        # ResultsetFileSource.shuffle: null/"NULL" -> nullValue, "" -> nullValue.
        if self.keep_none:
            return value
        if value is None or value == OLD_NULL_TOKEN:
            return self.null_repl
        if value == "":
            return self.empty_repl
        return value


def _kinds(r: _Reader, n_fields: int) -> list[str]:
    kinds = [c[1] for c in r.columns()] if r.table else ["string"]
    return kinds + ["string"] * (n_fields - len(kinds))


def read_page(
    path: PathLike, page: int, page_size: int, null_value: str | None
) -> list[list[str | None]]:
    """Rows of one 1-based page as openFile returns them (text results: one-element rows)."""
    if page < 1 or page_size < 1:
        raise ValueError(f"page and page_size must be >= 1, got page={page} size={page_size}")
    r = _Reader(path)
    first = (page - 1) * page_size
    offsets, canonical = r.offsets(stop=first + page_size)
    if first >= len(offsets):
        return []
    if not r.table:
        out_text: list[list[str | None]] = []
        for _, fields in r.iter_records(int(offsets[first])):
            out_text.append(list(fields))
            if len(out_text) == page_size:
                break
        return out_text
    policy = _NullPolicy(null_value)
    kinds = [c[1] for c in r.columns()]
    page_offsets = offsets[first : first + page_size]
    if len(page_offsets) > 64:  # big pages: cut columns with numpy, as exports do
        raw = _split_columns(r, page_offsets, len(kinds), canonical)
        if raw is not None:
            cols = [
                _apply_policy(policy, k, a, canonical).to_pylist()
                for k, a in zip(kinds, raw, strict=True)
            ]
            return [list(row) for row in zip(*cols, strict=True)]
    out: list[list[str | None]] = []
    for _, fields in r.iter_records(int(offsets[first])):
        if len(fields) > len(kinds):
            kinds = _kinds(r, len(fields))
        out.append([policy.cell(k, v, canonical) for k, v in zip(kinds, fields, strict=False)])
        if len(out) == page_size:
            break
    return out


def iter_batches(
    path: PathLike,
    *,
    limit: int | None = None,
    null_value: str | None = NULL_TOKEN,
    export: bool = False,
    batch_rows: int = _BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """The first `limit` rows (all if None) as record batches of string columns.

    Null rules are those of openFile (`export=False`) or resultsetToExcel (`export=True`);
    with `null_value="LINKIS_NULL"` SQL NULLs are Arrow nulls. Text results give one column
    named "text". Vectorized (numpy) when every record has one field per column; fields
    beyond the metadata's columns are dropped here (read_page keeps them).
    """
    r = _Reader(path)
    offsets, canonical = r.offsets(stop=limit)
    if limit is not None:
        offsets = offsets[: max(limit, 0)]
    policy = _NullPolicy(null_value, export=export)
    if r.table:
        cols = r.columns()
        names = [c[0] for c in cols]
        kinds = [c[1] for c in cols]
    else:
        names, kinds = ["text"], ["string"]
    if not len(offsets):
        yield pa.RecordBatch.from_arrays([pa.array([], pa.string())] * len(names), names=names)
        return

    def make(chunk: np.ndarray[Any, Any]) -> pa.RecordBatch:
        if not r.table:
            lines = [f[0] for _, f in _take(r, chunk)]
            return pa.RecordBatch.from_arrays([pa.array(lines, pa.string())], names=names)
        raw = _split_columns(r, chunk, len(kinds), canonical)
        if raw is None:  # ragged records: per-row Python
            rows = [
                [policy.cell(k, v, canonical) for k, v in zip(kinds, f, strict=False)]
                + [None] * (len(kinds) - len(f))
                for _, f in _take(r, chunk)
            ]
            arrays = [pa.array([row[i] for row in rows], pa.string()) for i in range(len(kinds))]
        else:
            arrays = [
                _apply_policy(policy, k, a, canonical) for k, a in zip(kinds, raw, strict=True)
            ]
        return pa.RecordBatch.from_arrays(arrays, names=names)

    stored = r.stored_columns() if canonical else None
    if stored is not None:
        yield from parallel_map(
            lambda cells: pa.RecordBatch.from_arrays(
                [_apply_policy(policy, k, a, True) for k, a in zip(kinds, cells, strict=True)],
                names=names,
            ),
            _stored_chunks(stored, len(offsets)),
        )
        return
    chunks = (offsets[lo : lo + batch_rows] for lo in range(0, len(offsets), batch_rows))
    yield from parallel_map(make, chunks, 1 if not r.table else 0)


def _stored_chunks(reader: pa.ipc.RecordBatchFileReader, rows: int) -> Iterator[list[pa.Array]]:
    """The first `rows` rows of the columns sidecar, batch by batch (memory-mapped)."""
    for i in range(reader.num_record_batches):
        if rows <= 0:
            return
        batch = reader.get_batch(i)
        if batch.num_rows > rows:
            batch = batch.slice(0, rows)
        rows -= batch.num_rows
        yield list(batch.columns)


def read_arrow(
    path: PathLike,
    *,
    limit: int | None = None,
    null_value: str | None = NULL_TOKEN,
    export: bool = False,
) -> pa.Table:
    """`iter_batches` gathered into one table of string columns."""
    return pa.Table.from_batches(
        list(iter_batches(path, limit=limit, null_value=null_value, export=export))
    )


def _take(r: _Reader, offsets: np.ndarray[Any, Any]) -> Iterator[tuple[int, list[str]]]:
    if not len(offsets):
        return iter(())
    it = r.iter_records(int(offsets[0]))
    return (rec for _, rec in zip(range(len(offsets)), it, strict=False))


def _split_columns(
    r: _Reader, offsets: np.ndarray[Any, Any], n_cols: int, canonical: bool
) -> list[pa.Array] | None:
    """Cut the records at `offsets` into per-column string arrays (None: ragged or not UTF-8).

    No per-row Python: the length prefixes and the column indexes ("3,11,4,") are parsed with
    numpy, then the records are seen as one zero-copy string array over the mapped file
    (header, cell 1, ..., cell n, next header, ...) from which `take` picks each column.
    """
    n = len(offsets)
    if n == 0:
        return [pa.array([], pa.string()) for _ in range(n_cols)]
    buf = np.frombuffer(r.data, dtype=np.uint8)
    file_buf = pa.py_buffer(r.data)
    digits = np.arange(10, dtype=np.int64)

    def int10_at(pos: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        d = buf[pos[:, None] + digits].astype(np.int64) - 48
        if ((d < 0) | (d > 9)).any():
            raise DolphinFormatError(f"{os.fspath(r.path)}: bad 10-digit length prefix")
        return d @ _POW10[9::-1]

    rec_len = int10_at(offsets)
    if (rec_len > _MAX_READ_RECORD).any():
        return None  # the sequential reader raises the read-limit error
    rec_end = offsets + 10 + rec_len
    if int(rec_end[-1]) > r.size or (rec_end[:-1] != offsets[1:]).any():
        return None  # offsets do not chain: let the sequential reader explain
    idx_len = int10_at(offsets + 10)
    idx_start = offsets + 20
    data_start = idx_start + idx_len
    if (data_start > rec_end).any() or (idx_len == 0).any():
        return None
    # Column indexes: every record must hold exactly n_cols numbers, each ended by a comma.
    index = _slices(file_buf, idx_start, data_start)
    if not pc.all(pc.ends_with(index, ",")).as_py():
        return None
    parts = pc.split_pattern(pc.utf8_slice_codeunits(index, 0, -1), ",")
    bounds_ = pc.min_max(pc.list_value_length(parts)).as_py()
    if bounds_["min"] != n_cols or bounds_["max"] != n_cols:
        return None
    try:
        lens = pc.cast(pc.list_flatten(parts), pa.int64()).to_numpy().reshape(n, n_cols)
    except (pa.ArrowInvalid, ValueError):
        return None
    if (lens < 0).any():
        return None
    if (lens.sum(axis=1) != rec_end - data_start).any():
        raise DolphinFormatError(
            f"{os.fspath(r.path)}: a record's column index does not match its length"
        )
    # Boundaries of (header, cell 1, ..., cell n) per record, relative to the first record.
    base = int(offsets[0])
    bounds = np.empty((n, n_cols + 1), dtype=np.int64)
    bounds[:, 0] = offsets
    bounds[:, 1] = data_start
    if n_cols > 1:
        bounds[:, 2:] = data_start[:, None] + np.cumsum(lens[:, :-1], axis=1)
    flat = np.append(bounds.ravel(), rec_end[-1]) - base
    region = file_buf.slice(base, int(rec_end[-1]) - base)
    count = n * (n_cols + 1)
    if flat[-1] < (1 << 31) - 1:
        view: pa.Array = pa.StringArray.from_buffers(
            count, pa.py_buffer(flat.astype(np.int32)), region
        )
    else:
        view = pa.LargeStringArray.from_buffers(count, pa.py_buffer(flat), region)
    picks = np.arange(n, dtype=np.int64) * (n_cols + 1)
    columns = []
    for k in range(n_cols):
        col = pc.take(view, pa.array(picks + (k + 1)))
        if pa.types.is_large_string(col.type) and col.nbytes < (1 << 31) - 1:
            col = pc.cast(col, pa.string())
        if not canonical:
            try:
                col.validate(full=True)
            except pa.ArrowInvalid:
                return None
        columns.append(col)
    return columns


def _slices(
    file_buf: pa.Buffer, starts: np.ndarray[Any, Any], ends: np.ndarray[Any, Any]
) -> pa.Array:
    """A string array whose i-th value is file[starts[i]:ends[i]] (slices in file order).

    The slices and the gaps between them form one contiguous large_string array over the
    file buffer (zero copy); taking every other element compacts the slices.
    """
    n = len(starts)
    bounds = np.empty(2 * n, dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = ends
    view = pa.LargeStringArray.from_buffers(2 * n - 1, pa.py_buffer(bounds), file_buf)
    picked = pc.take(view, pa.array(np.arange(0, 2 * n, 2, dtype=np.int64)))
    return pc.cast(picked, pa.string())


def _apply_policy(policy: _NullPolicy, kind: str, raw: pa.Array, canonical: bool) -> pa.Array:
    """Vectorized `_NullPolicy.cell` over one column of raw stored strings."""
    is_null = pc.equal(raw, NULL_TOKEN)
    if kind == "void":
        is_null = pc.is_valid(raw)
    elif kind not in _STRING_LIKE and not (canonical and kind in _NEVER_BLANK):
        blank = pc.or_(pc.equal(pc.binary_length(raw), 0), pc.utf8_is_space(raw))
        null_text = pc.match_like(raw, OLD_NULL_TOKEN, ignore_case=True)
        is_null = pc.or_(pc.or_(is_null, null_text), blank)
        if not canonical:
            raw = _normalize_column(kind, raw)
    if pc.any(is_null).as_py():
        value = pc.if_else(is_null, pa.scalar(None, pa.string()), raw)
    else:
        value = raw
    if policy.keep_none:
        return value
    nullish = pc.or_kleene(pc.is_null(value), pc.equal(value, OLD_NULL_TOKEN))
    if pc.any(nullish).as_py():
        value = pc.if_else(nullish, pa.scalar(policy.null_repl, pa.string()), value)
    if policy.empty_repl != "":
        empty = pc.equal(pc.binary_length(value), 0)
        if pc.any(empty).as_py():
            value = pc.if_else(empty, pa.scalar(policy.empty_repl, pa.string()), value)
    return value


_CANONICAL_RE = {
    "boolean": r"^(true|false)$",
    "short": r"^-?(0|[1-9][0-9]{0,3})$",
    "int": r"^-?(0|[1-9][0-9]{0,8})$",
    "long": r"^-?(0|[1-9][0-9]{0,17})$",
    "bigint": r"^-?(0|[1-9][0-9]{0,17})$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,8}[1-9])?$",
    "decimal": r"^(0|-?[1-9][0-9]*)(\.[0-9]+)?$|^-0\.[0-9]*[1-9][0-9]*$",
    "double": r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$",
}


def _normalize_column(kind: str, raw: pa.Array) -> pa.Array:
    """Normalize only the cells that are not already in canonical form (rare: foreign files)."""
    pattern = _CANONICAL_RE.get(kind)
    odd = pc.is_valid(raw) if pattern is None else pc.invert(pc.match_substring_regex(raw, pattern))
    odd = pc.fill_null(odd, False)
    if kind == "double":
        # Plain decimals are canonical when they survive a float round trip unchanged.
        plain = pc.and_(pc.invert(odd), pc.is_valid(raw))
        if pc.any(plain).as_py():
            back = _render_arrow(pc.cast(pc.filter(raw, plain), pa.float64()))
            mismatch = pc.invert(pc.equal(back, pc.filter(raw, plain)))
            odd = pc.replace_with_mask(odd, plain, mismatch)
    if not pc.any(odd).as_py():
        return raw
    fixed = pa.array([_normalize(kind, v) for v in pc.filter(raw, odd).to_pylist()], pa.string())
    return pc.replace_with_mask(raw, odd, fixed)
