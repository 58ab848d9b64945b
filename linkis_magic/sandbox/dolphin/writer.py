"""Writing `.dolphin` result sets: from Python rows, text lines, or Arrow data (vectorized).

Every write is atomic (hidden temporary file + rename), so a reader racing a running job
never sees half a file, and leaves the index sidecar; `write_arrow` also leaves the lines
sidecar (see `sidecars`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkis_magic.sandbox.dolphin import sidecars
from linkis_magic.sandbox.dolphin.format import (
    BATCH_ROWS,
    MAGIC,
    NULL_TOKEN,
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
    string_bytes,
    string_offsets,
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
    sidecars.drop_lines(path)
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
    sidecars.drop_lines(path)
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


LINES_AFTER_BYTES = 512 << 20
"""Largest table (Arrow bytes) whose lines file is built after its `.dolphin` file: its
cells stay in memory until then. Bigger tables build both side by side, batch by batch."""


def write_arrow(
    path: PathLike, table: pa.Table | pa.RecordBatch, *, lines_after: bool = True
) -> int:
    """Write a TABLE result set from Arrow data (vectorized); returns the number of rows.

    Besides the `.dolphin` file this writes both sidecars: the record offsets and the lines
    (the stored cells tab-joined, with what exports need to know about them). Both are
    ignored as soon as the `.dolphin` file changes.

    With `lines_after` (and a table up to LINES_AFTER_BYTES), this returns as soon as the
    `.dolphin` file and its index are complete, and a thread builds the lines from the cells
    already rendered (`sidecars.PendingLines`): the job that wrote the result ends that much
    sooner, and an export arriving meanwhile streams the lines from memory as they are made.
    """
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    columns = [(f.name, linkis_type_for_arrow(f.type)) for f in table.schema]
    check_columns(columns)
    sidecars.drop_lines(path)
    after = lines_after and table.nbytes <= LINES_AFTER_BYTES
    lines_file = sidecars.lines_path(path)
    lines_tmp = sidecars.hidden_tmp(lines_file)
    starts: list[np.ndarray[Any, Any]] = []
    kept: deque[list[pa.Array]] = deque()  # each batch's cells, when the lines come after
    rows = 0
    flags = _CellFlags()
    try:
        with _atomic(path) as fh, _maybe_open(None if after else lines_tmp) as lines_out:
            fh.write(MAGIC + int10(TABLE) + metadata_record(columns))
            pos = fh.tell()
            batches = _rebatch(table, _batch_rows(table.num_rows))
            for encoded in ordered_map(_encode_records if after else _encode_both, batches):
                ends = encoded.ends
                first, last = int(ends[0]), int(ends[-1])
                fh.write(string_bytes(encoded.records).data)
                starts.append(ends[:-1].astype(np.int64) - first + pos)
                pos += last - first
                rows += len(ends) - 1
                flags = flags.merge(encoded.flags)
                if lines_out is None:
                    kept.append(encoded.cells)
                else:
                    assert encoded.lines is not None
                    _write_string_data(lines_out, encoded.lines)
        offsets = np.concatenate(starts) if starts else np.empty(0, np.int64)
        stamp = sidecars.stamp_of(path)
        if after:
            sidecars.write_index(path, offsets, stamp=stamp)
            pending = sidecars.PendingLines(flags.clean, flags.tabs, flags.breaks)
            sidecars.building_lines(path, pending)
            build = _LinesBuild(Path(path), offsets, stamp, kept, pending)
            threading.Thread(target=build.run, name="dolphin-lines", daemon=True).start()
            return rows
        os.replace(lines_tmp, lines_file)
        info = sidecars.Lines(
            size=lines_file.stat().st_size, clean=flags.clean, tabs=flags.tabs, breaks=flags.breaks
        )
        sidecars.write_index(path, offsets, stamp=stamp, lines=info)
    finally:
        with contextlib.suppress(FileNotFoundError):
            lines_tmp.unlink()
    return rows


@contextlib.contextmanager
def _maybe_open(path: Path | None) -> Iterator[BinaryIO | None]:
    if path is None:
        yield None
        return
    with open(path, "wb") as fh:
        yield fh


@dataclass
class _LinesBuild:
    """Builds the lines of a `.dolphin` file already written, on its own thread: in memory
    first (`pending`, for exports that come meanwhile), then as the lines file."""

    path: Path
    offsets: np.ndarray[Any, Any]
    stamp: sidecars.Stamp
    batches: deque[list[pa.Array]]
    pending: sidecars.PendingLines

    def _drain(self) -> Iterator[list[pa.Array]]:
        """The batches' cells, each batch let go of once handed out."""
        while self.batches:
            yield self.batches.popleft()

    def run(self) -> None:
        """Join every batch's lines, hand them to `pending`, and write the lines file.

        The file is a cache: when it cannot be written (the job's directory was removed,
        the disk is full) the lines still reach `pending` in full, so an export already
        streaming them completes; later exports read the records."""
        lines_file = sidecars.lines_path(self.path)
        tmp = sidecars.hidden_tmp(lines_file)
        out: BinaryIO | None = None
        failed = True
        try:
            with contextlib.suppress(OSError):
                out = open(tmp, "wb")  # noqa: SIM115 (closed below, or on the first failure)
            for lines in ordered_map(_lines, self._drain()):
                self.pending.add(lines)
                if out is not None:
                    try:
                        _write_string_data(out, lines)
                    except OSError:
                        out.close()
                        out = None
            failed = False
            if out is not None:
                out.close()
                out = None
                self._publish(tmp, lines_file)
        finally:
            if out is not None:
                out.close()
            self.batches.clear()
            with contextlib.suppress(OSError):
                tmp.unlink()
            sidecars.lines_built(self.path, self.pending, failed=failed)

    def _publish(self, tmp: Path, lines_file: Path) -> None:
        """Put the lines file in place and let the index vouch for it (not if the result was
        rewritten meanwhile: these are not its lines)."""
        try:
            if sidecars.stamp_of(self.path) != self.stamp:
                return
            os.replace(tmp, lines_file)
            info = sidecars.Lines(
                size=os.path.getsize(lines_file),
                clean=self.pending.clean,
                tabs=self.pending.tabs,
                breaks=self.pending.breaks,
            )
            sidecars.write_index(self.path, self.offsets, stamp=self.stamp, lines=info)
        except OSError:
            pass  # the directory went away: exports read the records


@dataclass(frozen=True)
class _CellFlags:
    """What the lines sidecar records about a result's cells (see `sidecars.Lines`)."""

    clean: bool = True
    tabs: bool = False
    breaks: bool = False

    def merge(self, other: _CellFlags) -> _CellFlags:
        return _CellFlags(
            self.clean and other.clean, self.tabs or other.tabs, self.breaks or other.breaks
        )


_MARKERS = pa.array([NULL_TOKEN, OLD_NULL_TOKEN, ""], pa.string())


def _is_plain_type(t: pa.DataType) -> bool:
    """Types whose rendering is never empty, blank, a NULL spelling, a tab or a line break."""
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
        or pa.types.is_date(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_time(t)
    )


def _flags(plain: list[bool], nulls: bool, cells: list[pa.Array]) -> _CellFlags:
    """Plain types render to digits, dates and the like; every other type is reported as a
    raw-text kind (docs/linkis-protocol.md §6.4), where an export replaces exactly the NULL
    token, the text "NULL" and the empty string."""
    clean = not nulls
    tabs = breaks = False
    for is_plain, text in zip(plain, cells, strict=True):
        if is_plain:
            continue
        if clean:
            clean = not pc.any(pc.is_in(text, value_set=_MARKERS)).as_py()
        data = string_bytes(text)
        tabs = tabs or bool((data == 9).any())
        breaks = breaks or bool((data == 10).any() or (data == 13).any())
    return _CellFlags(clean, tabs, breaks)


@dataclass
class _Encoded:
    """One batch: its records and their end offsets, its stored cells and their flags, and
    (when built alongside) its lines."""

    records: pa.Array
    ends: np.ndarray[Any, Any]
    cells: list[pa.Array]
    flags: _CellFlags
    lines: pa.Array | None = None


def _encode_records(batch: pa.RecordBatch) -> _Encoded:
    records, ends, cells = encode_batch(batch)
    plain = [_is_plain_type(c.type) for c in batch.columns]
    nulls = any(c.null_count for c in batch.columns)
    return _Encoded(records, ends, cells, _flags(plain, nulls, cells))


def _encode_both(batch: pa.RecordBatch) -> _Encoded:
    encoded = _encode_records(batch)
    encoded.lines = _lines(encoded.cells)
    return encoded


def _lines(cells: list[pa.Array]) -> pa.Array:
    """The cells tab-joined, each line ending in a newline.

    One join with a trailing empty field gives "a<TAB>b<TAB>"; its last byte per line is then
    overwritten with the newline in the join's own (fresh, unshared) buffer. That is cheaper
    than joining a newline onto the last column first, which copies that column once more.
    """
    lines = pc.binary_join_element_wise(*cells, "", "\t")
    if len(lines):
        data = np.frombuffer(lines.buffers()[2], dtype=np.uint8)
        if not data.flags.writeable:  # not ours to change: fall back to a copy
            data = data.copy()
            lines = pa.StringArray.from_buffers(
                len(lines), lines.buffers()[1], pa.py_buffer(data), offset=lines.offset
            )
        data[string_offsets(lines)[1:] - 1] = ord("\n")
    return lines


def _write_string_data(out: BinaryIO, arr: pa.Array) -> None:
    """Write a string array's characters back to back."""
    out.write(string_bytes(arr).data)
