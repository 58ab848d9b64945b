"""The CSV fast path: big tables streamed through ``resultsetToExcel`` and parsed by Arrow.

Why it is more than one download (docs/linkis-protocol.md §5.7, §10.15):

* The export is not RFC 4180 (no quoting): the header, the field count of every line and the row
  count (``fileInfo``) are checked, and any mismatch raises :class:`CsvMismatch` so the caller
  reads ``openFile`` pages instead.
* The export writes NULL *and* the empty string as ``nullValue``: cells of string columns that
  come back as our sentinel are re-read from the few ``openFile`` pages that hold them (or the
  whole table falls back when they are everywhere).
* The download runs on a helper thread writing into a pipe that pyarrow's streaming CSV reader
  consumes, so parsing overlaps the transfer and the CSV text is never held whole.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from linkis_magic.protocol import Column
from linkis_magic.results._source import NULL_VALUE, PAGE_SIZE, ResultSource
from linkis_magic.results._typing import (
    STRING_DTYPE,
    CastFailed,
    cast,
    decimal_column,
    kind_of,
    null_markers,
)

__all__ = ["CSV_NULL", "CsvMismatch", "load_csv"]

CSV_NULL = "\x01LINKIS_MAGIC_NULL\x01"  # export: marks NULL (and "") cells; control chars keep
# it away from real data, and a real value equal to it is resolved from openFile anyway
CSV_SEPARATOR = "\t"  # resultsetToExcel knows "," and tab; tabs are rarer inside values
PATCH_PAGE_FRACTION = 0.25  # more pages than this to resolve NULL-vs-"": read all pages


class CsvMismatch(Exception):
    """The CSV export does not describe the result set faithfully: use openFile pages."""


def load_csv(
    client: ResultSource, path: str, columns: tuple[Column, ...], want: int
) -> pd.DataFrame:
    """Stream the export, parse it in batches while it downloads, validate, type, patch NULLs.

    The download runs on a helper thread writing into a pipe that pyarrow's streaming CSV
    reader consumes, so parsing overlaps the transfer and the CSV text is never held whole.
    """
    ncols = len(columns)
    if ncols == 0:
        raise CsvMismatch("no columns")
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
        except CsvMismatch:
            source.close()  # unblocks the download (broken pipe) before we wait for it
            thread.join()
            if failures and not isinstance(failures[0], OSError):
                raise CsvMismatch(f"export failed: {failures[0]}") from failures[0]
            raise
    finally:
        source.close()
        thread.join()
    if failures:
        raise CsvMismatch(f"export failed: {failures[0]}") from failures[0]
    if count != want:
        raise CsvMismatch(f"CSV has {count} rows, fileInfo says {want}")
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
        raise CsvMismatch(f"header {header[:200]!r} is not {expected[:200]!r}")
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
    sinks = [_Sink(kind_of(c.data_type), want) for c in columns]
    # Numbers and dates are typed by the parser itself (Arrow's cast parsers, so the same
    # values parse or fail as with a cast afterwards); the missing-value markers become
    # nulls there. Text stays text: its markers are resolved below.
    convert_options = pacsv.ConvertOptions(
        column_types={
            name: _PARSED_TYPES.get(sink.kind, pa.string())
            for name, sink in zip(names, sinks, strict=True)
        },
        null_values=[*["NULL", ""], CSV_NULL],
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
                raise CsvMismatch(f"CSV has more than the {want} rows fileInfo reports")
            for i, sink in enumerate(sinks):
                col = batch.column(i)
                if sink.kind == "string":
                    hits = pc.equal(col, CSV_NULL)
                    if pc.any(hits).as_py():
                        ambiguous[i].append(pc.add(pc.indices_nonzero(hits), count))
                sink.add(col, count)
            count += batch.num_rows
    except (pa.ArrowInvalid, CastFailed) as exc:
        raise CsvMismatch(str(exc)[:300]) from exc
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
            self.chunks.append(col if self.kind == "string" else null_markers(col, CSV_NULL))
            return
        if pa.types.is_string(col.type):
            typed = cast(self.kind, null_markers(col, CSV_NULL))
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
            return decimal_column(chunked) if self.kind == "decimal" else chunked
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
            return pd.array(values, dtype=STRING_DTYPE)
        return values.to_pandas()
    return values


def _patch_from_pages(
    client: ResultSource,
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
        raise CsvMismatch(f"NULL/empty cells of text columns spread over {len(pages)} pages")
    page_rows: dict[int, list[list[str | None]]] = {}
    for page in sorted(pages):
        fetched = client.open_file(path, page=page, page_size=PAGE_SIZE, null_value=NULL_VALUE)
        if fetched.columns and len(fetched.columns) != len(columns):
            raise CsvMismatch("openFile page has another column count")
        page_rows[page] = fetched.rows
    out = list(arrays)
    for i, rows_idx in patches.items():
        values: list[str | None] = []
        for row in rows_idx.to_pylist():
            page, offset = divmod(row, PAGE_SIZE)
            rows = page_rows[page + 1]
            if offset >= len(rows) or i >= len(rows[offset]):
                raise CsvMismatch(f"row {row} missing from openFile page {page + 1}")
            values.append(rows[offset][i])
        mask = pa.array(
            pc.is_in(pa.array(range(total), pa.int64()), value_set=rows_idx), pa.bool_()
        )
        combined = arrays[i].combine_chunks()
        out[i] = pa.chunked_array(
            [pc.replace_with_mask(combined, mask, pa.array(values, combined.type))]
        )
    return out
