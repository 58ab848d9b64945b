"""Result sets -> pandas: every page, typed by metadata, NULLs kept, a CSV fast path for big tables.

Why this module is more than one ``openFile`` call (REFERENCE §5, §6, §10):

* Result files list lexicographically (``_10`` before ``_2``): sort by the number.
* ``openFile`` pages have no total (``totalPage`` is always 0): read fixed-size pages until a
  short/empty one. Nothing is capped silently; ``limit`` is the only cap and
  :attr:`ResultSet.truncated` says when it cut something.
* Every cell is a string. ``nullValue=LINKIS_NULL`` (1.5+) turns NULLs into JSON null; older
  servers send the text ``"NULL"``, which we treat as missing in non-string columns.
* Big tables (more than :data:`FAST_PATH_ROWS` rows) are streamed with ``resultsetToExcel`` as
  tab-separated text and parsed by pyarrow's C++ CSV reader in batches. That CSV is not
  RFC 4180 (no quoting), so the header, the field count of every line and the row count
  (``fileInfo``) are checked, and any mismatch falls back to ``openFile`` pages. The export
  writes NULL *and* the empty string as ``nullValue``; cells of string columns that come back
  as our sentinel are therefore re-read from the few ``openFile`` pages that hold them (or the
  whole table falls back when they are everywhere).
* Typing is done on Arrow arrays (pyarrow compute casts), not cell by cell in Python.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from linkis_magic.protocol import Column, result_index

if TYPE_CHECKING:
    from linkis_magic.client import LinkisClient

__all__ = ["ResultSet", "frame_from_rows", "load_results"]

_log = logging.getLogger(__name__)

PAGE_SIZE = 5000  # openFile rows per page (the Linkis default; accepted by every release)
FAST_PATH_ROWS = 20000  # tables with more rows are streamed as CSV
NULL_VALUE = "LINKIS_NULL"  # openFile: NULL cells come back as JSON null (1.5+)
CSV_NULL = "\x01LINKIS_MAGIC_NULL\x01"  # export: marks NULL (and "") cells; control chars keep
# it away from real data, and a real value equal to it is resolved from openFile anyway
CSV_SEPARATOR = "\t"  # resultsetToExcel knows "," and tab; tabs are rarer inside values
PATCH_PAGE_FRACTION = 0.25  # more pages than this to resolve NULL-vs-"": read all pages

TEXT_TYPES = frozenset({"1", "3", "4", "5", "script/text"})

_INT = frozenset({"int", "integer", "tinyint", "smallint", "short", "bigint", "long"})
_FLOAT = frozenset({"float", "double", "real"})
_DECIMAL = frozenset({"decimal", "bigdecimal", "numeric"})
_BOOL = frozenset({"boolean", "bool"})
_DATE = frozenset({"date"})
_TIMESTAMP = frozenset({"timestamp", "datetime"})

_STRING_DTYPE = pd.StringDtype("pyarrow")
_TYPES_MAPPER: dict[pa.DataType, Any] = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): _STRING_DTYPE,
    pa.large_string(): _STRING_DTYPE,
}


@dataclass(frozen=True, eq=False)
class ResultSet:
    """One ``_N.dolphin`` result set: a typed DataFrame (tables) or text (everything else).

    ``rows`` is the number of rows (or text lines) loaded; ``truncated`` is True when
    ``limit`` stopped the loading before the end of the result set.
    """

    index: int
    path: str
    type: str
    frame: pd.DataFrame | None
    text: str | None
    columns: tuple[Column, ...]
    rows: int
    truncated: bool


class _CsvMismatch(Exception):
    """The CSV export does not describe the result set faithfully: use openFile pages."""


# ---------------------------------------------------------------------------------- loading


def load_results(
    client: LinkisClient, result_location: str, *, limit: int | None = None
) -> list[ResultSet]:
    """Load every result set under ``result_location`` in numeric order, completely.

    ``limit`` caps the rows loaded per result set (``ResultSet.truncated`` tells when it did).
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 rows or None, got {limit!r}")
    entries = client.dir_tree(result_location)
    if not entries:
        return []
    found = []
    for entry in entries:
        if not entry.is_leaf:
            continue
        index = result_index(entry.name)
        if index is not None:
            found.append((index, entry.name, entry.path))
    found.sort()
    loaded = (_load_one(client, path, index, limit) for index, _, path in found)
    return [rs for rs in loaded if rs is not None]


def _load_one(client: LinkisClient, path: str, index: int, limit: int | None) -> ResultSet | None:
    page_size = PAGE_SIZE if limit is None else max(1, min(PAGE_SIZE, limit + 1))
    first = client.open_file(path, page=1, page_size=page_size, null_value=NULL_VALUE)
    if not first.type and not first.rows:
        return None  # an empty file: the client already issued Linkis's 206 warning
    if first.type != "2":
        return _load_text(client, path, index, first.type, first.rows, page_size, limit)
    columns = tuple(first.columns)
    if len(first.rows) >= page_size and (limit is None or limit >= FAST_PATH_ROWS):
        total = client.file_info(path, page_size=-1).row_number
        want = total if limit is None else min(total, limit)
        if want > FAST_PATH_ROWS:
            try:
                frame = _load_csv(client, path, columns, want)
            except _CsvMismatch as exc:
                _log.info("CSV fast path not usable for %s (%s); reading pages", path, exc)
            else:
                return ResultSet(index, path, "2", frame, None, columns, want, total > want)
    chunks, count, truncated = _read_pages(client, path, len(columns), first.rows, page_size, limit)
    frame = _frame_from_chunks(columns, chunks)
    return ResultSet(index, path, "2", frame, None, columns, count, truncated)


def _read_pages(
    client: LinkisClient,
    path: str,
    ncols: int,
    first_rows: list[list[str | None]],
    page_size: int,
    limit: int | None,
) -> tuple[list[list[pa.Array]], int, bool]:
    """Read pages 2, 3, ... after page 1 until a short page; returns Arrow string chunks."""
    chunks: list[list[pa.Array]] = []
    count = 0
    truncated = False
    rows = first_rows
    page = 1
    while True:
        if limit is not None and count + len(rows) > limit:
            rows = rows[: limit - count]
            truncated = True
        if rows:
            chunks.append(_arrow_columns(ncols, rows))
            count += len(rows)
        if truncated or len(rows) < page_size:
            return chunks, count, truncated
        page += 1
        rows = client.open_file(path, page=page, page_size=page_size, null_value=NULL_VALUE).rows


def _load_text(
    client: LinkisClient,
    path: str,
    index: int,
    kind: str,
    first_rows: list[list[str | None]],
    page_size: int,
    limit: int | None,
) -> ResultSet:
    chunks, count, truncated = _read_pages(client, path, 1, first_rows, page_size, limit)
    lines: list[str] = []
    for (chunk,) in chunks:
        lines.extend("" if line is None else line for line in chunk.to_pylist())
    return ResultSet(index, path, kind, None, "\n".join(lines), (), count, truncated)


# ---------------------------------------------------------------------------------- CSV path


def _load_csv(
    client: LinkisClient, path: str, columns: tuple[Column, ...], want: int
) -> pd.DataFrame:
    """Stream the export, parse it in batches while it downloads, validate, type, patch NULLs.

    The download runs on a helper thread writing into a pipe that pyarrow's streaming CSV
    reader consumes, so parsing overlaps the transfer and the CSV text is never held whole.
    """
    ncols = len(columns)
    if ncols == 0:
        raise _CsvMismatch("no columns")
    # 1.7+ flattens newlines inside values to spaces unless asked not to; kept, they
    # break the row count and we fall back instead of returning altered text.
    options: dict[str, Any] = {"keep_newline": True}
    read_fd, write_fd = os.pipe()
    source = os.fdopen(read_fd, "rb", buffering=1 << 20)
    sink_file = os.fdopen(write_fd, "wb", buffering=1 << 20)
    failures: list[BaseException] = []

    def download() -> None:
        try:
            client.export_result(
                path,
                file_type="csv",
                dest=sink_file,
                limit=want,
                null_value=CSV_NULL,
                separator=CSV_SEPARATOR,
                **options,
            )
        except BaseException as exc:  # reported by the reading side below
            failures.append(exc)
        finally:
            with contextlib.suppress(OSError):
                sink_file.close()

    thread = threading.Thread(target=download, name="linkis-csv-export", daemon=True)
    thread.start()
    try:
        try:
            sinks, ambiguous, count = _parse_csv(source, columns, want)
        except _CsvMismatch:
            source.close()  # unblocks the download (broken pipe) before we wait for it
            thread.join()
            if failures and not isinstance(failures[0], OSError):
                raise _CsvMismatch(f"export failed: {failures[0]}") from failures[0]
            raise
    finally:
        source.close()
        thread.join()
    if failures:
        raise _CsvMismatch(f"export failed: {failures[0]}") from failures[0]
    if count != want:
        raise _CsvMismatch(f"CSV has {count} rows, fileInfo says {want}")
    arrays: list[Any] = [sink.finish() for sink in sinks]
    del sinks
    patches = {i: pa.concat_arrays(a) for i, a in enumerate(ambiguous) if a}
    if patches:
        arrays = _patch_from_pages(client, path, columns, arrays, patches, want)
    frame = pd.DataFrame(
        {f"c{i}": _as_pandas(a) for i, a in enumerate(arrays)},
        index=pd.RangeIndex(want),
        copy=False,
    )
    frame.columns = pd.Index([c.name for c in columns])
    result: pd.DataFrame = frame
    return result


def _parse_csv(
    source: Any, columns: tuple[Column, ...], want: int
) -> tuple[list[_Sink], list[list[pa.Array]], int]:
    """Check the header, then parse every line into the column sinks; count the rows."""
    header = source.readline().rstrip(b"\n").rstrip(b"\r")
    expected = "\t".join(c.name for c in columns).encode("utf-8")
    if header != expected:
        raise _CsvMismatch(f"header {header[:200]!r} is not {expected[:200]!r}")
    names = [f"c{i}" for i in range(len(columns))]
    reader_options = pacsv.ReadOptions(column_names=names, block_size=4 << 20, encoding="utf8")
    parse_options = pacsv.ParseOptions(
        delimiter="\t",
        quote_char=False,
        escape_char=False,
        double_quote=False,
        newlines_in_values=False,
        ignore_empty_lines=False,
    )
    sinks = [_Sink(_kind(c.data_type), want) for c in columns]
    # Numbers and dates are typed by the parser itself (Arrow's cast parsers, so the same
    # values parse or fail as with a cast afterwards); the missing-value markers become
    # nulls there. Text stays text: its markers are resolved below.
    convert_options = pacsv.ConvertOptions(
        column_types={
            name: _PARSED_TYPES.get(sink.kind, pa.string())
            for name, sink in zip(names, sinks, strict=True)
        },
        null_values=[*_MARKERS.to_pylist(), CSV_NULL],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    ambiguous: list[list[pa.Array]] = [[] for _ in columns]
    count = 0
    try:
        reader = pacsv.open_csv(
            source,
            read_options=reader_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
        for batch in reader:
            if count + batch.num_rows > want:
                raise _CsvMismatch(f"CSV has more than the {want} rows fileInfo reports")
            for i, sink in enumerate(sinks):
                col = batch.column(i)
                if sink.kind == "string":
                    hits = pc.equal(col, CSV_NULL)
                    if pc.any(hits).as_py():
                        ambiguous[i].append(pc.add(pc.indices_nonzero(hits), count))
                sink.add(col, count)
            count += batch.num_rows
    except (pa.ArrowInvalid, _CastFailed) as exc:
        raise _CsvMismatch(str(exc)[:300]) from exc
    return sinks, ambiguous, count


_NUMPY_DTYPES = {
    "int": np.dtype("int64"),
    "float": np.dtype("float64"),
    "bool": np.dtype("bool"),
    "date": np.dtype("datetime64[s]"),
    "timestamp": np.dtype("datetime64[us]"),
}


_PARSED_TYPES = {"int": pa.int64(), "float": pa.float64(), "date": pa.date32()}
"""Kinds the CSV reader converts while parsing (see `_parse_csv`)."""


class _Sink:
    """Collects one column of the CSV stream straight into its final storage.

    Numbers, booleans and dates go into NumPy arrays allocated once for the known row count
    (fileInfo), so the peak memory is the final frame plus one parsed batch; text stays Arrow
    (what the pandas string dtype stores anyway); decimals are typed once at the end because
    their scale is only known then.
    """

    def __init__(self, kind: str, rows: int) -> None:
        self.kind = kind
        self.chunks: list[pa.Array] = []
        self.data: np.ndarray[Any, Any] | None = None
        self.mask: np.ndarray[Any, Any] | None = None
        dtype = _NUMPY_DTYPES.get(kind)
        if dtype is not None:
            self.data = np.empty(rows, dtype=dtype)
            if kind in ("int", "bool"):
                self.mask = np.zeros(rows, dtype=bool)

    def add(self, col: pa.Array, offset: int) -> None:
        if self.data is None:
            self.chunks.append(col if self.kind == "string" else _null_markers(col, CSV_NULL))
            return
        if pa.types.is_string(col.type):
            typed = _cast(self.kind, _null_markers(col, CSV_NULL))
        elif self.kind == "date":
            typed = pc.cast(col, pa.timestamp("s"))
        else:
            typed = col  # typed by the CSV reader
        end = offset + len(typed)
        if self.mask is not None and typed.null_count:
            self.mask[offset:end] = typed.is_null().to_numpy(zero_copy_only=False)
            typed = typed.fill_null(False if self.kind == "bool" else 0)
        self.data[offset:end] = typed.to_numpy(zero_copy_only=False)

    def finish(self) -> Any:
        if self.data is None:
            chunked = pa.chunked_array(self.chunks, type=pa.string())
            self.chunks = []
            return _decimal(chunked) if self.kind == "decimal" else chunked
        if self.kind == "int":
            assert self.mask is not None
            return pd.arrays.IntegerArray(self.data, self.mask)
        if self.kind == "bool":
            assert self.mask is not None
            return pd.arrays.BooleanArray(self.data, self.mask)
        return self.data


def _as_pandas(values: Any) -> Any:
    """Arrow leftovers (text, decimals) -> pandas arrays; NumPy/pandas arrays pass through."""
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            return pd.array(values, dtype=_STRING_DTYPE)
        return values.to_pandas()
    return values


def _patch_from_pages(
    client: LinkisClient,
    path: str,
    columns: tuple[Column, ...],
    arrays: list[pa.ChunkedArray],
    patches: dict[int, pa.Array],
    total: int,
) -> list[pa.ChunkedArray]:
    """Resolve sentinel cells of string columns (NULL or "") from the openFile pages holding them.

    The export cannot tell NULL from "" (both become ``nullValue``); openFile with
    ``nullValue=LINKIS_NULL`` can. Only the pages that contain such cells are read.
    """
    all_rows = pa.concat_arrays(list(patches.values()))
    pages = pc.unique(pc.add(pc.divide(all_rows, PAGE_SIZE), 1)).to_pylist()
    total_pages = -(-total // PAGE_SIZE)
    if len(pages) > max(2, PATCH_PAGE_FRACTION * total_pages):
        raise _CsvMismatch(f"NULL/empty cells of text columns spread over {len(pages)} pages")
    page_rows: dict[int, list[list[str | None]]] = {}
    for page in sorted(pages):
        fetched = client.open_file(path, page=page, page_size=PAGE_SIZE, null_value=NULL_VALUE)
        if fetched.columns and len(fetched.columns) != len(columns):
            raise _CsvMismatch("openFile page has another column count")
        page_rows[page] = fetched.rows
    out = list(arrays)
    for i, rows_idx in patches.items():
        values: list[str | None] = []
        for row in rows_idx.to_pylist():
            page, offset = divmod(row, PAGE_SIZE)
            rows = page_rows[page + 1]
            if offset >= len(rows) or i >= len(rows[offset]):
                raise _CsvMismatch(f"row {row} missing from openFile page {page + 1}")
            values.append(rows[offset][i])
        mask = pa.array(
            pc.is_in(pa.array(range(total), pa.int64()), value_set=rows_idx), pa.bool_()
        )
        combined = arrays[i].combine_chunks()
        out[i] = pa.chunked_array(
            [pc.replace_with_mask(combined, mask, pa.array(values, combined.type))]
        )
    return out


# ---------------------------------------------------------------------------------- typing


class _CastFailed(Exception):
    pass


def _kind(data_type: str | None) -> str:
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


def _null_markers(arr: Any, extra: str | None = None) -> Any:
    """Non-string columns: ``"NULL"`` (servers before 1.5) and ``""`` are missing values."""
    markers = _MARKERS if extra is None else pa.array(["NULL", "", extra], pa.string())
    hits = pc.is_in(arr, value_set=markers)
    if not pc.any(hits).as_py():
        return arr
    return pc.if_else(hits, pa.scalar(None, arr.type), arr)


def _cast(kind: str, arr: Any) -> Any:
    """Cast one string column to its kind; a value that does not parse raises _CastFailed."""
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
        raise _CastFailed(str(exc)) from exc
    return arr


def _decimal(arr: pa.ChunkedArray) -> pa.ChunkedArray | pd.api.extensions.ExtensionArray:
    """Decimal text -> Arrow decimal with the widest scale found (to_pandas gives Decimals)."""
    arr = _null_markers(arr)
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
        return _decimal(arr)
    try:
        return _cast(kind, _null_markers(arr))
    except _CastFailed:
        return arr


def _arrow_columns(ncols: int, rows: Sequence[Sequence[str | None]]) -> list[pa.Array]:
    """Rows (lists of str|None) -> one Arrow string array per column (extra fields kept)."""
    width = max((len(r) for r in rows), default=ncols)
    if any(len(r) != width for r in rows) or width < ncols:
        width = max(width, ncols)
        rows = [list(r) + [None] * (width - len(r)) for r in rows]
    if not rows:
        return [pa.array([], pa.string()) for _ in range(width)]
    return [pa.array(col, pa.string()) for col in zip(*rows, strict=True)]


def _frame_from_chunks(columns: tuple[Column, ...], chunks: list[list[pa.Array]]) -> pd.DataFrame:
    width = max([len(columns)] + [len(c) for c in chunks])
    arrays = []
    for i in range(width):
        parts = [c[i] if i < len(c) else pa.nulls(len(c[0]), pa.string()) for c in chunks]
        kind = _kind(columns[i].data_type) if i < len(columns) else "string"
        arrays.append(_typed_column(kind, pa.chunked_array(parts, type=pa.string())))
    return _to_pandas(columns, arrays)


def frame_from_rows(
    columns: Sequence[Column], rows: Iterable[Sequence[str | None]]
) -> pd.DataFrame:
    """Rows of strings/None (openFile ``fileContent``) -> a DataFrame typed per DESIGN "Types".

    Fields beyond the metadata (REFERENCE §6.3 keeps them) become extra text columns.
    """
    cols = tuple(columns)
    rows = list(rows)
    return _frame_from_chunks(cols, [_arrow_columns(len(cols), rows)] if rows else [])


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
