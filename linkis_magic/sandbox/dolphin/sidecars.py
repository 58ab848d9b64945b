"""The two hidden files our writers leave next to a `_N.dolphin` result set.

- `._N.dolphin.idx`, the index: the byte offset of every data record, so openFile seeks
  straight to a page and fileInfo counts rows without a scan; its flags say the values are
  canonical (written by us, so reads skip normalization) and that the columns file exists.
  Readers also leave one after scanning a file from elsewhere (not canonical).
- `._N.dolphin.arrow`, the columns: an Arrow IPC copy of the stored cell strings, so exports
  skip parsing records.

benchmarks/dolphin.py measures what each one buys. The `.dolphin` file stays the source of
truth: the index is stamped with the file's size, mtime and inode (atomic rewrites change the
inode even when size and a coarse mtime do not) and ignored when the stamp does not match;
the columns file is trusted only when the index vouches for its size. Every name starting
with "." in a result directory is ours and listings hide it.
"""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from linkis_magic.sandbox.dolphin.format import PathLike

PREFIX = "."
INDEX_SUFFIX = ".idx"
COLUMNS_SUFFIX = ".arrow"

_MAGIC = b"DLPHIDX3"
# magic, dolphin size, mtime_ns, inode, n records, flags, size of the columns file
_HEAD = struct.Struct("<8sqqqqqq")
_FLAG_CANONICAL = 1
"""Set by our writers: every value is already in the form of docs/linkis-protocol.md §6.5, so
readers skip normalization."""
_FLAG_COLUMNS = 2
"""A `.<name>.arrow` Arrow IPC file holds the stored cell strings column by column."""

Stamp = tuple[int, int, int]
"""(size, mtime_ns, inode) of the `.dolphin` file an index describes."""


def index_path(path: PathLike) -> Path:
    """Hidden index next to a result file: `_0.dolphin` -> `._0.dolphin.idx`."""
    p = Path(path)
    return p.with_name(f"{PREFIX}{p.name}{INDEX_SUFFIX}")


def columns_path(path: PathLike) -> Path:
    """Hidden Arrow IPC copy of the stored cells: `_0.dolphin` -> `._0.dolphin.arrow`."""
    p = Path(path)
    return p.with_name(f"{PREFIX}{p.name}{COLUMNS_SUFFIX}")


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
    columns_size: int = -1,
) -> None:
    """Record every data record's byte offset, stamped with the `.dolphin` file's identity
    (now, unless `stamp` says what the offsets were read from). Written atomically."""
    stamp = stamp_of(path) if stamp is None else stamp
    target = index_path(path)
    tmp = hidden_tmp(target)
    flags = (_FLAG_CANONICAL if canonical else 0) | (_FLAG_COLUMNS if columns_size >= 0 else 0)
    with open(tmp, "wb") as fh:
        fh.write(_HEAD.pack(_MAGIC, *stamp, len(offsets), flags, columns_size))
        fh.write(np.ascontiguousarray(offsets, dtype="<i8").tobytes())
    os.replace(tmp, target)


@dataclass(frozen=True)
class Index:
    """What a valid index says about its `.dolphin` file."""

    offsets: np.ndarray[Any, np.dtype[np.int64]]
    canonical: bool
    columns_size: int
    """Size of the columns file it vouches for, or -1."""


def read_index(path: PathLike, stamp: Stamp, data_start: int) -> Index | None:
    """The index of `path` if there is one and it matches the file (else None)."""
    try:
        raw = index_path(path).read_bytes()
    except OSError:
        return None
    if len(raw) < _HEAD.size:
        return None
    magic, size, mtime_ns, inode, count, flags, columns_size = _HEAD.unpack_from(raw)
    if magic != _MAGIC or (size, mtime_ns, inode) != stamp or len(raw) != _HEAD.size + 8 * count:
        return None
    offsets = np.frombuffer(raw, dtype="<i8", offset=_HEAD.size)
    if count and (offsets[0] != data_start or offsets[-1] >= size):
        return None
    return Index(
        offsets=offsets,
        canonical=bool(flags & _FLAG_CANONICAL),
        columns_size=columns_size if flags & _FLAG_COLUMNS else -1,
    )


def open_columns(
    path: PathLike, index: Index, n_columns: int
) -> pa.ipc.RecordBatchFileReader | None:
    """The Arrow IPC copy of the stored cells, memory-mapped, when the index vouches for it."""
    if index.columns_size < 0:
        return None
    cols_path = columns_path(path)
    try:
        if cols_path.stat().st_size != index.columns_size:
            return None
        reader = pa.ipc.open_file(pa.memory_map(str(cols_path)))
    except (OSError, pa.ArrowInvalid):
        return None
    if reader.schema.names != column_names(n_columns):
        return None
    return reader


def column_names(n_columns: int) -> list[str]:
    """Field names of the columns file (the real names live in the `.dolphin` metadata)."""
    return [f"c{i}" for i in range(n_columns)]


def drop_columns(path: PathLike) -> None:
    """Remove the columns file before a rewrite, so a stale copy is never read."""
    columns_path(path).unlink(missing_ok=True)
