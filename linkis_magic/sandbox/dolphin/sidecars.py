"""The two hidden files our writers leave next to a `_N.dolphin` result set.

- `._N.dolphin.idx`, the index: the byte offset of every data record, so openFile seeks
  straight to a page and fileInfo counts rows without a scan; its flags say the values are
  canonical (written by us, so reads skip normalization) and describe the lines file.
  Readers also leave one after scanning a file from elsewhere (not canonical).
- `._N.dolphin.lines`, the lines: every row's stored cells joined by a tab, one line per
  row. It is what a CSV export with a tab separator sends when no cell needs the export's
  NULL/empty replacement ("clean"), so such an export is a file copy (or a byte translation
  for another separator when no cell holds a tab); other exports read the cells from it
  instead of parsing records, when no cell holds a tab or a line break.

benchmarks/dolphin.py measures what each one buys. The `.dolphin` file stays the source of
truth: the index is stamped with the file's size, mtime and inode (atomic rewrites change the
inode even when size and a coarse mtime do not) and ignored when the stamp does not match;
the lines file is trusted only when the index vouches for its size. Every name starting
with "." in a result directory is ours and listings hide it.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from linkis_magic.sandbox.dolphin.format import PathLike, string_bytes

PREFIX = "."
INDEX_SUFFIX = ".idx"
LINES_SUFFIX = ".lines"

_MAGIC = b"DLPHIDX4"
# magic, dolphin size, mtime_ns, inode, n records, flags, size of the lines file
_HEAD = struct.Struct("<8sqqqqqq")
_FLAG_CANONICAL = 1
"""Set by our writers: every value is already in the form of docs/linkis-protocol.md §6.5, so
readers skip normalization."""
_FLAG_LINES = 2
"""A `.<name>.lines` file holds the stored cells, tab-joined, one line per row."""
_FLAG_CLEAN = 4
"""No cell is NULL, empty, blank or a NULL spelling: an export replaces nothing."""
_FLAG_TABS = 8
"""Some cell holds a tab."""
_FLAG_BREAKS = 16
"""Some cell holds a line break (\\n or \\r): lines and rows do not correspond."""

Stamp = tuple[int, int, int]
"""(size, mtime_ns, inode) of the `.dolphin` file an index describes."""


def index_path(path: PathLike) -> Path:
    """Hidden index next to a result file: `_0.dolphin` -> `._0.dolphin.idx`."""
    p = Path(path)
    return p.with_name(f"{PREFIX}{p.name}{INDEX_SUFFIX}")


def lines_path(path: PathLike) -> Path:
    """Hidden tab-joined copy of the stored cells: `_0.dolphin` -> `._0.dolphin.lines`."""
    p = Path(path)
    return p.with_name(f"{PREFIX}{p.name}{LINES_SUFFIX}")


@dataclass(frozen=True)
class Lines:
    """What the index says about the lines file it vouches for."""

    size: int
    clean: bool
    """No cell an export would replace (NULL, empty, blank, a NULL spelling)."""
    tabs: bool
    """Some cell holds a tab: another separator cannot be swapped in byte-wise."""
    breaks: bool
    """Some cell holds a line break: the n-th line end is not the n-th row's."""

    @property
    def splittable(self) -> bool:
        """Cells can be read back by splitting at tabs and line ends."""
        return not (self.tabs or self.breaks)


def is_sidecar_name(name: str) -> bool:
    """True for names getDirFileTrees must hide: sidecars and in-progress temporaries.

    All of them start with "." (result files never do), so the rule is: hide dot-files.
    """
    return name.startswith(PREFIX)


def hidden_tmp(target: Path) -> Path:
    """A temporary name next to `target` that listings hide (it starts with ".")."""
    name = target.name.lstrip(".")
    return target.with_name(f".{name}.tmp{os.getpid()}-{threading.get_ident()}")


def stamp_of(path: PathLike) -> Stamp:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ino


def write_index(
    path: PathLike,
    offsets: np.ndarray[Any, np.dtype[np.int64]],
    *,
    canonical: bool = True,
    stamp: Stamp | None = None,
    lines: Lines | None = None,
) -> None:
    """Record every data record's byte offset, stamped with the `.dolphin` file's identity
    (now, unless `stamp` says what the offsets were read from). Written atomically."""
    stamp = stamp_of(path) if stamp is None else stamp
    target = index_path(path)
    tmp = hidden_tmp(target)
    flags = _FLAG_CANONICAL if canonical else 0
    if lines is not None:
        flags |= _FLAG_LINES
        flags |= _FLAG_CLEAN if lines.clean else 0
        flags |= _FLAG_TABS if lines.tabs else 0
        flags |= _FLAG_BREAKS if lines.breaks else 0
    size = -1 if lines is None else lines.size
    with open(tmp, "wb") as fh:
        fh.write(_HEAD.pack(_MAGIC, *stamp, len(offsets), flags, size))
        fh.write(np.ascontiguousarray(offsets, dtype="<i8").data)
    os.replace(tmp, target)


@dataclass(frozen=True)
class Index:
    """What a valid index says about its `.dolphin` file."""

    offsets: np.ndarray[Any, np.dtype[np.int64]]
    canonical: bool
    lines: Lines | None
    """The lines file it vouches for, or None."""


def read_index(path: PathLike, stamp: Stamp, data_start: int) -> Index | None:
    """The index of `path` if there is one and it matches the file (else None)."""
    try:
        raw = index_path(path).read_bytes()
    except OSError:
        return None
    if len(raw) < _HEAD.size:
        return None
    magic, size, mtime_ns, inode, count, flags, lines_size = _HEAD.unpack_from(raw)
    if magic != _MAGIC or (size, mtime_ns, inode) != stamp or len(raw) != _HEAD.size + 8 * count:
        return None
    offsets = np.frombuffer(raw, dtype="<i8", offset=_HEAD.size)
    if count and (offsets[0] != data_start or offsets[-1] >= size):
        return None
    lines = None
    if flags & _FLAG_LINES:
        lines = Lines(
            size=lines_size,
            clean=bool(flags & _FLAG_CLEAN),
            tabs=bool(flags & _FLAG_TABS),
            breaks=bool(flags & _FLAG_BREAKS),
        )
    return Index(offsets=offsets, canonical=bool(flags & _FLAG_CANONICAL), lines=lines)


def open_lines(path: PathLike, index: Index) -> tuple[Lines, mmap.mmap] | None:
    """The lines file, memory-mapped, when the index vouches for it (its size matches)."""
    if index.lines is None:
        return None
    try:
        with open(lines_path(path), "rb") as fh:
            if os.fstat(fh.fileno()).st_size != index.lines.size:
                return None
            if index.lines.size == 0:
                return index.lines, mmap.mmap(-1, 1)
            return index.lines, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError:
        return None


def column_names(n_columns: int) -> list[str]:
    """Field names for the lines file's columns (the real names live in the `.dolphin`)."""
    return [f"c{i}" for i in range(n_columns)]


LINES_WAIT = 120.0
"""Longest a reader waits for a lines file still being built (then it reads records)."""


class PendingLines:
    """The lines of a `.dolphin` file that is complete, while a thread still builds them.

    The writer knows the flags before the first line is joined (they come from the cells);
    each batch's lines are added as they are made, so an export can stream them from memory
    before the lines file exists (`stream`), and other readers wait for the file (`wait`).
    """

    def __init__(self, clean: bool, tabs: bool, breaks: bool) -> None:
        self.clean, self.tabs, self.breaks = clean, tabs, breaks
        self._parts: list[pa.Array] = []
        self._done = False
        self._failed = False
        self._cond = threading.Condition()

    def add(self, lines: pa.Array) -> None:
        """One batch's lines (a string array, each line ending in a newline)."""
        with self._cond:
            self._parts.append(lines)
            self._cond.notify_all()

    def finish(self, *, failed: bool = False) -> None:
        """No more lines: all were added, or the build gave up (`failed`)."""
        with self._cond:
            self._done, self._failed = True, failed
            self._cond.notify_all()

    def _has(self, index: int) -> bool:
        """Part `index` is there, or no more will come (called holding the condition)."""
        return index < len(self._parts) or self._done

    def wait(self, timeout: float = LINES_WAIT) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._done, timeout)

    def stream(self, rows: int) -> Iterator[memoryview]:
        """The bytes of the first `rows` lines, batch by batch as they are built.

        Raises RuntimeError when the build failed before `rows` lines were made (the caller
        has then sent part of them: a short body the client detects)."""
        index = 0
        while rows > 0:
            with self._cond:
                self._cond.wait_for(partial(self._has, index), LINES_WAIT)
                if index >= len(self._parts):
                    if self._done and not self._failed:
                        return
                    raise RuntimeError("the lines of this result could not be built")
                part = self._parts[index]
            index += 1
            take = min(rows, len(part))
            rows -= take
            yield string_bytes(part, take).data


_building: dict[str, PendingLines] = {}
_building_lock = threading.Lock()


def building_lines(path: PathLike, pending: PendingLines) -> None:
    """Announce that the lines file of `path` is being built (see `PendingLines`)."""
    with _building_lock:
        _building[os.path.abspath(path)] = pending


def lines_built(path: PathLike, pending: PendingLines, *, failed: bool = False) -> None:
    """The build announced by `building_lines` is over (the file is written, or not)."""
    with _building_lock:
        key = os.path.abspath(path)
        if _building.get(key) is pending:
            del _building[key]
    pending.finish(failed=failed)


def pending_lines(path: PathLike) -> PendingLines | None:
    """The lines of `path` still being built, if they are."""
    with _building_lock:
        return _building.get(os.path.abspath(path))


def wait_lines(path: PathLike, timeout: float = LINES_WAIT) -> None:
    """Return once no lines file of `path` is being built (writers finish the `.dolphin`
    first and build its lines right after; see `writer.write_arrow`)."""
    pending = pending_lines(path)
    if pending is not None:
        pending.wait(timeout)


def drop_lines(path: PathLike) -> None:
    """Remove the lines file before a rewrite, so a stale copy is never read."""
    lines_path(path).unlink(missing_ok=True)


_LINE_BLOCK = 8 << 20
"""Bytes of the lines sidecar parsed at a time when cells are read back from it."""


def line_cells(data: mmap.mmap, size: int, n_columns: int, rows: int) -> Iterator[list[pa.Array]]:
    """The first `rows` rows of the lines sidecar as string columns, block by block.

    Only used when no cell holds a tab or a line break, so splitting at them gives back the
    stored cells exactly (no quoting, no NULL conversion).
    """
    names = column_names(n_columns)
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    read = pacsv.ReadOptions(column_names=names, use_threads=False)
    pos = 0
    while rows > 0 and pos < size:
        end = min(size, pos + _LINE_BLOCK)
        if end < size:
            end = data.rfind(b"\n", pos, end) + 1
            if end <= pos:  # one line longer than a block
                end = data.find(b"\n", pos + _LINE_BLOCK) + 1 or size
        table = pacsv.read_csv(
            pa.py_buffer(data[pos:end]),
            read_options=read,
            parse_options=_LINES_PARSE,
            convert_options=convert,
        )
        pos = end
        if table.num_rows > rows:
            table = table.slice(0, rows)
        rows -= table.num_rows
        yield [col.combine_chunks() for col in table.columns]


_LINES_PARSE = pacsv.ParseOptions(
    delimiter="\t",
    quote_char=False,
    escape_char=False,
    double_quote=False,
    newlines_in_values=False,
    ignore_empty_lines=False,
)


def line_end(data: mmap.mmap, size: int, rows: int) -> int:
    """Byte position just after the `rows`-th line end."""
    pos = seen = 0
    while seen < rows and pos < size:
        end = min(size, pos + _LINE_BLOCK)
        chunk = np.frombuffer(data, dtype=np.uint8, count=end - pos, offset=pos)
        breaks = np.flatnonzero(chunk == 10)
        if seen + len(breaks) >= rows:
            return pos + int(breaks[rows - seen - 1]) + 1
        seen += len(breaks)
        pos = end
    return pos
