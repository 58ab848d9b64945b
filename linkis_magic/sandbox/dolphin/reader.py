"""Reading `.dolphin` result sets: headers, row counts, openFile pages, Arrow batches.

The file is memory-mapped, so a page read touches only the pages it needs. Record offsets
come from the index sidecar when it matches the file; otherwise the file is scanned once
(the offsets are then remembered in an index marked non-canonical). Big pages and exports are
cut into Arrow string columns with numpy (`_split_columns`), or read back from the lines
sidecar when the writer left one; small pages and ragged records go row by row.
Section numbers (§) refer to docs/linkis-protocol.md.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkis_magic.sandbox.dolphin import sidecars
from linkis_magic.sandbox.dolphin.format import (
    BATCH_ROWS,
    HEADER_LEN,
    HTML,
    MAGIC,
    MAX_READ_RECORD,
    NULL_TOKEN,
    OLD_NULL_TOKEN,
    PICTURE,
    TABLE,
    TEXT,
    DolphinFormatError,
    EmptyResultError,
    PathLike,
    normalize_type,
)
from linkis_magic.sandbox.dolphin.values import NullPolicy, apply_policy
from linkis_magic.sandbox.parallel import ordered_map

_POW10 = 10 ** np.arange(19, dtype=np.int64)


class _File:
    """An opened `.dolphin` file: header parsed, data start known, bytes memory-mapped.

    A context manager: the mapping is closed on exit (every reader here uses `with`)."""

    def __init__(self, path: PathLike) -> None:
        self.path = path
        self.index: sidecars.Index | None = None
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            self.size = st.st_size
            self.stamp: sidecars.Stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
            if self.size == 0:
                raise EmptyResultError(f"The file:{os.fspath(path)} is empty")
            # Memory-mapped: a page read touches only the pages it needs.
            self.data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._parse_header()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> _File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Unmap the file. Arrays cut from it are copies (`take`), so nothing refers to the
        mapping once a read has returned."""
        self.data.close()

    def _parse_header(self) -> None:
        path = self.path
        head = self.data[:HEADER_LEN]
        if len(head) < HEADER_LEN or not head.startswith(MAGIC):
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
        meta, self.data_start = self._record(HEADER_LEN)
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
        if length > MAX_READ_RECORD:
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
        self.index = sidecars.read_index(self.path, self.stamp, self.data_start)
        if self.index is not None:
            return self.index.offsets, self.index.canonical
        starts = self._scan(stop)
        offsets = np.asarray(starts, dtype=np.int64)
        if stop is None or len(starts) < stop:
            # Remember the full scan; the stamp predates it, so a racing writer's file is
            # seen as changed and rescanned.
            with contextlib.suppress(OSError):
                sidecars.write_index(self.path, offsets, canonical=False, stamp=self.stamp)
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

    def stored_lines(self) -> tuple[sidecars.Lines, mmap.mmap] | None:
        """The lines sidecar, when the index read by `offsets` vouches for it (the caller
        closes the mapping)."""
        if self.index is None or not self.table:
            return None
        return sidecars.open_lines(self.path, self.index)

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
    with _File(path) as r:
        if r.table:
            return r.type_code, r.columns()
        return r.type_code, r.text_metadata()


def count_rows(path: PathLike) -> int:
    """Number of data records (fileInfo's rowNumber with pageSize=-1)."""
    with _File(path) as r:
        return len(r.offsets()[0])


def _kinds(r: _File, n_fields: int) -> list[str]:
    kinds = [c[1] for c in r.columns()] if r.table else ["string"]
    return kinds + ["string"] * (n_fields - len(kinds))


def read_page(
    path: PathLike, page: int, page_size: int, null_value: str | None
) -> list[list[str | None]]:
    """Rows of one 1-based page as openFile returns them (text results: one-element rows)."""
    if page < 1 or page_size < 1:
        raise ValueError(f"page and page_size must be >= 1, got page={page} size={page_size}")
    with _File(path) as r:
        return _page(r, page, page_size, null_value)


def _page(r: _File, page: int, page_size: int, null_value: str | None) -> list[list[str | None]]:
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
    policy = NullPolicy(null_value)
    kinds = [c[1] for c in r.columns()]
    page_offsets = offsets[first : first + page_size]
    if len(page_offsets) > 64:  # big pages: cut columns with numpy, as exports do
        raw = _split_columns(r, page_offsets, len(kinds), canonical)
        if raw is not None:
            cols = [
                apply_policy(policy, k, a, canonical).to_pylist()
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
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """The first `limit` rows (all if None) as record batches of string columns.

    Null rules are those of openFile (`export=False`) or resultsetToExcel (`export=True`);
    with `null_value="LINKIS_NULL"` SQL NULLs are Arrow nulls. Text results give one column
    named "text". Vectorized (numpy) when every record has one field per column; fields
    beyond the metadata's columns are dropped here (read_page keeps them).
    """
    sidecars.wait_lines(path)
    with _File(path) as r:
        yield from _batches(r, limit, NullPolicy(null_value, export=export), batch_rows)


def _batches(
    r: _File, limit: int | None, policy: NullPolicy, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    offsets, canonical = r.offsets(stop=limit)
    if limit is not None:
        offsets = offsets[: max(limit, 0)]
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
                apply_policy(policy, k, a, canonical) for k, a in zip(kinds, raw, strict=True)
            ]
        return pa.RecordBatch.from_arrays(arrays, names=names)

    stored = r.stored_lines() if canonical else None
    if stored is not None and not stored[0].splittable:
        stored[1].close()
        stored = None
    if stored is not None:
        lines, data = stored
        with data:
            yield from ordered_map(
                lambda cells: pa.RecordBatch.from_arrays(
                    [apply_policy(policy, k, a, True) for k, a in zip(kinds, cells, strict=True)],
                    names=names,
                ),
                sidecars.line_cells(data, lines.size, len(kinds), len(offsets)),
            )
        return
    chunks = (offsets[lo : lo + batch_rows] for lo in range(0, len(offsets), batch_rows))
    yield from ordered_map(make, chunks, 1 if not r.table else 0)


def export_lines(
    path: PathLike, rows: int, *, tab_separated: bool, keep_newline: bool
) -> Iterator[memoryview] | None:
    """The body of a CSV export of the first `rows` rows, straight from the lines our writer
    left (a file, or lines still being built, streamed from memory as they come); None when
    they are not exactly what rendering would produce, and nothing was read.

    They are when no cell needs the export's NULL/empty replacement, line breaks inside
    values are kept (`keep_newline`) or absent, and the export is tab-separated or no value
    holds a tab (the caller then swaps tabs for its separator byte-wise). The chunks are
    tab-joined lines; each is valid until the next one is asked for, and the files behind
    them are closed when the iterator ends (or is closed).
    """
    pending = sidecars.pending_lines(path)
    if pending is not None:
        if not _copyable(pending, tab_separated, keep_newline):
            return None
        return pending.stream(rows)
    sidecars.wait_lines(path)
    with _File(path) as r:
        offsets, canonical = r.offsets()
        stored = r.stored_lines() if canonical else None
    if stored is None:
        return None
    lines, data = stored
    length = lines.size
    if rows < len(offsets):
        length = -1 if lines.breaks else sidecars.line_end(data, lines.size, max(rows, 0))
    if length < 0 or not _copyable(lines, tab_separated, keep_newline):
        data.close()
        return None
    return _mapped(data, length)


def _copyable(
    lines: sidecars.Lines | sidecars.PendingLines, tab_separated: bool, keep_newline: bool
) -> bool:
    if not lines.clean or (lines.breaks and not keep_newline):
        return False
    return tab_separated or not lines.tabs


def _mapped(data: mmap.mmap, length: int) -> Iterator[memoryview]:
    """The first `length` bytes of a mapped lines file as one view; unmapped afterwards."""
    with data, memoryview(data) as whole, whole[:length] as view:
        yield view


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


def _take(r: _File, offsets: np.ndarray[Any, Any]) -> Iterator[tuple[int, list[str]]]:
    if not len(offsets):
        return iter(())
    it = r.iter_records(int(offsets[0]))
    return (rec for _, rec in zip(range(len(offsets)), it, strict=False))


def _split_columns(
    r: _File, offsets: np.ndarray[Any, Any], n_cols: int, canonical: bool
) -> list[pa.Array] | None:
    """Cut the records at `offsets` into per-column string arrays (None: ragged or not UTF-8).

    No per-row Python: the length prefixes and the column indexes ("3,11,4,") are parsed with
    numpy, then the records are seen as one zero-copy string array over the mapped file
    (header, cell 1, ..., cell n, next header, ...) from which `take` picks each column.
    """
    n = len(offsets)
    if n == 0:
        return [pa.array([], pa.string()) for _ in range(n_cols)]
    layout = _record_layout(r, offsets, n_cols)
    if layout is None:
        return None
    rec_end, data_start, lens = layout
    # Boundaries of (header, cell 1, ..., cell n) per record, relative to the first record.
    base = int(offsets[0])
    bounds = np.empty((n, n_cols + 1), dtype=np.int64)
    bounds[:, 0] = offsets
    bounds[:, 1] = data_start
    if n_cols > 1:
        bounds[:, 2:] = data_start[:, None] + np.cumsum(lens[:, :-1], axis=1)
    flat = np.append(bounds.ravel(), rec_end[-1]) - base
    region = pa.py_buffer(r.data).slice(base, int(rec_end[-1]) - base)
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


_Layout = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]


def _record_layout(r: _File, offsets: np.ndarray[Any, Any], n_cols: int) -> _Layout | None:
    """(record ends, data starts, field lengths as an n x n_cols array) of the records at
    `offsets`, parsed with numpy; None when they do not chain or hold other than n_cols
    fields (the sequential reader then explains or copes)."""
    n = len(offsets)
    buf = np.frombuffer(r.data, dtype=np.uint8)
    digits = np.arange(10, dtype=np.int64)

    def int10_at(pos: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        d = buf[pos[:, None] + digits].astype(np.int64) - 48
        if ((d < 0) | (d > 9)).any():
            raise DolphinFormatError(f"{os.fspath(r.path)}: bad 10-digit length prefix")
        return d @ _POW10[9::-1]

    rec_len = int10_at(offsets)
    if (rec_len > MAX_READ_RECORD).any():
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
    index = _slices(pa.py_buffer(r.data), idx_start, data_start)
    if not pc.all(pc.ends_with(index, ",")).as_py():
        return None
    parts = pc.split_pattern(pc.utf8_slice_codeunits(index, 0, -1), ",")
    counts = pc.min_max(pc.list_value_length(parts)).as_py()
    if counts["min"] != n_cols or counts["max"] != n_cols:
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
    return rec_end, data_start, lens


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
