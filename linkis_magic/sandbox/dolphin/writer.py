"""Writing `.dolphin` result sets: from Python rows, text lines, or Arrow data (vectorized).

Every write is atomic (hidden temporary file + rename), so a reader racing a running job
never sees half a file, and leaves the index sidecar; `write_arrow` also leaves the columns
sidecar (see `sidecars`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from linkis_magic.sandbox.dolphin import sidecars
from linkis_magic.sandbox.dolphin.format import (
    BATCH_ROWS,
    MAGIC,
    OLD_NULL_TOKEN,
    TABLE,
    TEXT,
    TEXT_LIKE,
    PathLike,
    check_columns,
    encode_batch,
    int10,
    line_record,
    linkis_type_for_arrow,
    metadata_record,
    render_value,
    text_record,
)
from linkis_magic.sandbox.parallel import default_workers, ordered_map


@contextlib.contextmanager
def _atomic(path: PathLike) -> Iterator[BinaryIO]:
    """Write to a hidden temporary file and rename it over `path` only when complete, so a
    reader (openFile racing a running job) never sees a half-written or truncated file."""
    target = Path(path)
    tmp = sidecars.hidden_tmp(target)
    try:
        with open(tmp, "wb") as fh:
            yield fh
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_table(
    path: PathLike,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[object | None]],
) -> int:
    """Write a TABLE result set from Python values; returns the number of rows written."""
    check_columns(columns)
    sidecars.drop_columns(path)
    types = [t for _, t in columns]
    n_cols = len(columns)
    offsets: list[int] = []
    with _atomic(path) as fh:
        fh.write(MAGIC + int10(TABLE) + metadata_record(columns))
        pos = fh.tell()
        buf: list[bytes] = []
        size = 0
        for row in rows:
            if len(row) != n_cols:
                raise ValueError(
                    f"row {len(offsets) + 1} has {len(row)} values but there are {n_cols} columns"
                )
            rec = line_record([render_value(v, t) for v, t in zip(row, types, strict=True)])
            offsets.append(pos)
            pos += len(rec)
            buf.append(rec)
            size += len(rec)
            if size > 1 << 20:
                fh.write(b"".join(buf))
                buf.clear()
                size = 0
        fh.write(b"".join(buf))
    sidecars.write_index(path, np.asarray(offsets, dtype=np.int64))
    return len(offsets)


def write_text(path: PathLike, lines: Iterable[str], *, type_code: int = TEXT) -> int:
    """Write a TEXT (or PICTURE/HTML) result set, one record per line; returns the count."""
    if type_code not in TEXT_LIKE:
        raise ValueError(f"type_code must be one of {TEXT_LIKE} for text records, got {type_code}")
    sidecars.drop_columns(path)
    offsets: list[int] = []
    with _atomic(path) as fh:
        fh.write(MAGIC + int10(type_code) + text_record(OLD_NULL_TOKEN))
        pos = fh.tell()
        for line in lines:
            if not isinstance(line, str):
                raise TypeError(f"text result lines must be str, got {type(line).__name__}")
            rec = text_record(line)
            offsets.append(pos)
            pos += len(rec)
            fh.write(rec)
    sidecars.write_index(path, np.asarray(offsets, dtype=np.int64))
    return len(offsets)


_MIN_SPLIT_ROWS = 16_384
"""Smallest batch a mid-sized table is split into so that every thread gets one."""


def _batch_rows(rows: int) -> int:
    """Rows per batch: BATCH_ROWS, or fewer so a table of 100,000 rows still keeps every
    `ordered_map` thread busy (and its exports, which read the columns sidecar's batches)."""
    share = -(-rows // default_workers())
    return min(BATCH_ROWS, max(_MIN_SPLIT_ROWS, share))


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

    Besides the `.dolphin` file this writes both sidecars: the record offsets and an Arrow
    IPC file of the stored cell strings. Both are ignored as soon as the `.dolphin` file
    changes.
    """
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    columns = [(f.name, linkis_type_for_arrow(f.type)) for f in table.schema]
    check_columns(columns)
    sidecars.drop_columns(path)
    schema = pa.schema(
        [pa.field(name, pa.string()) for name in sidecars.column_names(len(columns))]
    )
    cols_path = sidecars.columns_path(path)
    cols_tmp = sidecars.hidden_tmp(cols_path)
    starts: list[np.ndarray[Any, Any]] = []
    rows = 0
    try:
        with (
            _atomic(path) as fh,
            pa.OSFile(str(cols_tmp), "wb") as sink,
            pa.ipc.new_file(sink, schema) as ipc,
        ):
            fh.write(MAGIC + int10(TABLE) + metadata_record(columns))
            pos = fh.tell()
            batches = _rebatch(table, _batch_rows(table.num_rows))
            for batch, (records, ends, cells) in ordered_map(
                lambda b: (b, encode_batch(b)), batches
            ):
                first, last = int(ends[0]), int(ends[-1])
                fh.write(memoryview(records.buffers()[2])[first:last])
                ipc.write_batch(pa.RecordBatch.from_arrays(cells, schema=schema))
                starts.append(ends[:-1].astype(np.int64) - first + pos)
                pos += last - first
                rows += batch.num_rows
        os.replace(cols_tmp, cols_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            cols_tmp.unlink()
    sidecars.write_index(
        path,
        np.concatenate(starts) if starts else np.empty(0, np.int64),
        columns_size=cols_path.stat().st_size,
    )
    return rows
