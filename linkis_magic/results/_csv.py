"""The CSV fast path: big tables streamed through ``resultsetToExcel`` and parsed by Arrow.

Why it is more than one download (docs/linkis-protocol.md §5.7, §10.15):

* The export is not RFC 4180 (no quoting): the header, the field count of every line and the row
  count (``fileInfo``) are checked, and any mismatch raises :class:`CsvMismatch` so the caller
  reads ``openFile`` pages instead.
* The export writes NULL *and* the empty string as ``nullValue``: cells of string columns that
  come back as our sentinel are re-read from the few ``openFile`` pages that hold them, all at
  once (or the whole table falls back when they are everywhere).
* The download writes (through :class:`EarlyCsv`, the export's ``dest``) into a
  :class:`_BlockParser` that cuts whole-line blocks and parses and types them on a few
  threads while the next bytes arrive, so parsing overlaps the transfer and the CSV text is
  never held whole.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from linkis_magic._transport import aside
from linkis_magic.protocol import Column
from linkis_magic.results._parallel import ordered_all
from linkis_magic.results._source import NULL_VALUE, PAGE_SIZE, ResultSource
from linkis_magic.results._typing import (
    STRING_DTYPE,
    CastFailed,
    cast,
    decimal_column,
    kind_of,
    null_markers,
)

__all__ = ["CSV_NULL", "CsvMismatch", "EarlyCsv"]

CSV_NULL = "\x01LINKIS_MAGIC_NULL\x01"  # export: marks NULL (and "") cells; control chars keep
# it away from real data, and a real value equal to it is resolved from openFile anyway
CSV_SEPARATOR = "\t"  # resultsetToExcel knows "," and tab; tabs are rarer inside values
PATCH_PAGE_FRACTION = 0.25  # more pages than this to resolve NULL-vs-"": read all pages


class CsvMismatch(Exception):
    """The CSV export does not describe the result set faithfully: use openFile pages."""


def _export(client: ResultSource, path: str, dest: Any, limit: int) -> None:
    client.export_result(
        path,
        file_type="csv",
        dest=dest,
        limit=limit,
        null_value=CSV_NULL,
        separator=CSV_SEPARATOR,
        # 1.7+ flattens newlines inside values to spaces unless asked not to; kept,
        # they break the row count and we fall back instead of returning altered text.
        keep_newline=True,
    )


def _finish(
    client: ResultSource,
    path: str,
    columns: tuple[Column, ...],
    want: int,
    parser: _BlockParser,
) -> pd.DataFrame:
    """The parsed columns as a frame, once the row count is checked and NULLs are patched."""
    if parser.count != want:
        raise CsvMismatch(f"CSV has {parser.count} rows, fileInfo says {want}")
    arrays: list[Any] = [sink.finish() for sink in parser.sinks]
    patches = {i: pa.concat_arrays(a) for i, a in enumerate(parser.ambiguous) if a}
    del parser
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


class EarlyCsv:
    """The export of a big result file, asked for before its columns and row count are known.

    A big table's load needs three answers: its first page (type and columns), ``fileInfo``
    (the row count) and the export. Only the parsing needs the first two, not the request:
    the export goes out beside them, capped at ``rows_at_most`` (the most rows the file can
    hold, or the caller's limit), and its first bytes wait in the connection until
    :meth:`load` says what they should be (or :meth:`drop` says they are not needed: a file
    that is no table, or too few rows for the fast path). One round trip less per big table.
    """

    def __init__(self, client: ResultSource, path: str, rows_at_most: int) -> None:
        self._client = client
        self._path = path
        self._ready = threading.Event()
        self._parser: _BlockParser | None = None
        self._done = aside(lambda: _export(client, path, self, rows_at_most))

    def write(self, data: bytes) -> int:
        """The download's side: waits until the columns are known, then parses."""
        self._ready.wait()
        if self._parser is None:
            raise CsvMismatch("the export is not needed")
        return self._parser.write(data)

    def load(self, columns: tuple[Column, ...], want: int) -> pd.DataFrame:
        """Parse the export as ``want`` rows of ``columns``: validate, type, patch NULLs.

        The download hands its bytes to a :class:`_BlockParser`: whole lines are cut into
        blocks that a few threads parse and type in parallel while the next bytes arrive, and
        each typed block is copied into the final column storage in order. The CSV text is
        never held whole.
        """
        if not columns:
            self.drop()
            raise CsvMismatch("no columns")
        parser = self._parser = _BlockParser(columns, want)
        self._ready.set()
        try:
            self._done.result()
            parser.close()
        except CsvMismatch:
            raise
        except Exception as exc:
            raise CsvMismatch(f"export failed: {exc}") from exc
        finally:
            parser.shutdown()
        return _finish(self._client, self._path, columns, want, parser)

    def drop(self) -> None:
        """Not needed after all: the download ends at its first bytes, and is waited for (no
        thread outlives the load; its failure, expected, is not reported)."""
        if self._ready.is_set():
            return
        self._ready.set()
        with contextlib.suppress(Exception):
            self._done.result()


BLOCK_BYTES = 4 << 20  # CSV text parsed per task: whole lines, about this many bytes ...
FIRST_BLOCK_BYTES = 1 << 20  # ... after blocks of this size for the first SMALL_BLOCKS_UPTO
SMALL_BLOCKS_UPTO = 8 << 20  # bytes, so a small export (a few MB) still keeps every thread busy
_WORKERS = max(1, min(4, os.cpu_count() or 1))

_PARSE = pacsv.ParseOptions(
    delimiter="\t",
    quote_char=False,
    escape_char=False,
    double_quote=False,
    newlines_in_values=False,
    ignore_empty_lines=False,
)

_PARSED_TYPES = {"int": pa.int64(), "float": pa.float64(), "date": pa.date32()}
"""Kinds the CSV reader converts while parsing (see `_BlockParser`)."""


class _BlockParser:
    """The file the export is written into: cuts whole-line blocks, parses them on threads.

    ``write`` is called by the download with each chunk. The header line is checked first;
    then every ~BLOCK_BYTES of whole lines go to a thread that parses and types them (numbers
    and dates by the CSV reader itself, other kinds by a cast, sentinel cells found), while
    the download goes on (the first ones are smaller, see FIRST_BLOCK_BYTES). A block's
    thread also copies its columns into the final storage, once the block before it has
    said where its rows end (a chain of futures), so the download's thread only cuts
    blocks: at most a few blocks are in memory. Any mismatch raises :class:`CsvMismatch`
    from ``write``, which ends the download there.
    """

    def __init__(self, columns: tuple[Column, ...], want: int) -> None:
        self.columns = columns
        self.want = want
        self.count = 0
        self.names = [f"c{i}" for i in range(len(columns))]
        self.sinks = [_Sink(kind_of(c.data_type), want) for c in columns]
        self.ambiguous: list[list[pa.Array]] = [[] for _ in columns]
        self.header = "\t".join(c.name for c in columns).encode("utf-8")
        self._head = bytearray()  # bytes before the header line's end
        self._header_seen = False
        self._chunks: list[bytes | memoryview] = []  # downloaded, not yet in a block
        self._size = 0
        self._block = FIRST_BLOCK_BYTES  # size of the next block to cut
        self._cut = 0  # bytes sent to blocks so far
        self._pending: deque[Future[_Block]] = deque()
        self._starts: list[Future[int]] = [Future()]  # where each block's rows start
        self._starts[0].set_result(0)
        self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="linkis-csv")
        # Numbers and dates are typed by the parser itself (Arrow's cast parsers, so the same
        # values parse or fail as with a cast afterwards); the missing-value markers become
        # nulls there. Text stays text: its markers are resolved after the download.
        self._convert = pacsv.ConvertOptions(
            column_types={
                name: _PARSED_TYPES.get(sink.kind, pa.string())
                for name, sink in zip(self.names, self.sinks, strict=True)
            },
            null_values=["NULL", "", CSV_NULL],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )

    # the file side, called by the download
    def write(self, data: bytes) -> int:
        if not self._header_seen:
            self._head += data
            end = self._head.find(b"\n")
            if end < 0:
                if len(self._head) > len(self.header) + 2:
                    raise CsvMismatch(
                        f"header {bytes(self._head[:200])!r} is not {self.header[:200]!r}"
                    )
                return len(data)
            header = bytes(self._head[:end]).rstrip(b"\r")
            if header != self.header:
                raise CsvMismatch(f"header {header[:200]!r} is not {self.header[:200]!r}")
            self._header_seen = True
            rest = bytes(self._head[end + 1 :])
            self._head.clear()
            if rest:
                self._add(rest)
            return len(data)
        self._add(data)
        return len(data)

    def _add(self, data: bytes) -> None:
        """Keep a downloaded chunk; once about a block is kept, send its whole lines off
        (one copy: the join)."""
        self._chunks.append(data)
        self._size += len(data)
        if self._size < self._block:
            return
        cut = data.rfind(b"\n") + 1
        if not cut:
            return  # a line longer than this chunk: wait for its end
        view = memoryview(data)
        block = b"".join([*self._chunks[:-1], view[:cut]])
        self._cut += len(block)
        self._submit(block)
        self._chunks = [view[cut:]] if cut < len(data) else []
        self._size = len(data) - cut
        if self._cut >= SMALL_BLOCKS_UPTO:
            self._block = BLOCK_BYTES

    def close(self) -> None:
        """The download is complete: parse what is left and take every block."""
        if not self._header_seen:
            raise CsvMismatch("the export has no header line")
        if self._size:
            self._submit(b"".join(self._chunks))
        self._chunks, self._size = [], 0
        while self._pending:
            self._take(self._pending.popleft().result())

    def shutdown(self) -> None:
        for future in self._pending:
            future.cancel()
        for start in self._starts:  # blocks waiting for a cancelled predecessor: let go
            with contextlib.suppress(InvalidStateError):
                start.set_exception(CsvMismatch("the download ended"))
        self._pool.shutdown(wait=True)

    def _submit(self, block: bytes) -> None:
        start, end = self._starts[-1], Future[int]()
        self._starts.append(end)
        self._pending.append(self._pool.submit(self._parse, block, start, end))
        while len(self._pending) > _WORKERS:
            self._take(self._pending.popleft().result())

    def _parse(self, block: bytes, start: Future[int], end: Future[int]) -> _Block:
        """On a worker thread: one block of whole lines -> typed columns, copied into the
        sinks at the rows where the previous block ended (``start``); ``end`` is where the
        next one starts (an exception there when this block failed)."""
        try:
            parsed = self._parse_block(block)
            offset = start.result()
            if parsed.error is None and offset + parsed.rows > self.want:
                parsed = _Block(0, [], f"CSV has more than the {self.want} rows fileInfo reports")
            if parsed.error is not None:
                end.set_exception(CsvMismatch(parsed.error))
                return parsed
            for sink, piece in zip(self.sinks, parsed.pieces, strict=True):
                if piece.hits is not None:
                    piece.hits = pc.add(piece.hits, offset)
                sink.put(piece, offset)
        except BaseException as exc:
            with contextlib.suppress(InvalidStateError):
                end.set_exception(exc)
            raise
        end.set_result(offset + parsed.rows)
        return parsed

    def _parse_block(self, block: bytes) -> _Block:
        options = pacsv.ReadOptions(
            column_names=self.names, use_threads=False, block_size=len(block) + 1
        )
        try:
            table = pacsv.read_csv(
                pa.py_buffer(block),
                read_options=options,
                parse_options=_PARSE,
                convert_options=self._convert,
            )
            pieces = [
                sink.prepare(col.combine_chunks())
                for sink, col in zip(self.sinks, table.columns, strict=True)
            ]
        except (pa.ArrowInvalid, CastFailed) as exc:
            return _Block(0, [], str(exc)[:300])
        return _Block(table.num_rows, pieces, None)

    def _take(self, block: _Block) -> None:
        """In order, on the download's thread: a block already in the sinks."""
        if block.error is not None:
            raise CsvMismatch(block.error)
        for i, piece in enumerate(block.pieces):
            if piece.hits is not None:
                self.ambiguous[i].append(piece.hits)
        self.count += block.rows


@dataclass
class _Piece:
    """One column of one parsed block, ready to be copied into its sink."""

    values: Any  # a NumPy array (numbers, booleans, dates) or an Arrow string array
    mask: np.ndarray[Any, Any] | None = None  # missing values of an int/bool column
    hits: pa.Array | None = None  # rows (in the block) of a text column holding CSV_NULL


@dataclass
class _Block:
    rows: int
    pieces: list[_Piece]
    error: str | None


_NUMPY_DTYPES = {
    "int": np.dtype("int64"),
    "float": np.dtype("float64"),
    "bool": np.dtype("bool"),
    "date": np.dtype("datetime64[s]"),
    "timestamp": np.dtype("datetime64[us]"),
}


class _Sink:
    """Collects one column of the CSV stream straight into its final storage.

    Numbers, booleans and dates go into NumPy arrays allocated once for the known row count
    (fileInfo), so the peak memory is the final frame plus a few parsed blocks; text stays
    Arrow (what the pandas string dtype stores anyway); decimals are typed once at the end
    because their scale is only known then. ``prepare`` runs on the parsing threads,
    ``put`` in block order.
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

    def prepare(self, col: pa.Array) -> _Piece:
        if self.data is None:
            if self.kind != "string":
                return _Piece(null_markers(col, CSV_NULL))
            hits = pc.equal(col, CSV_NULL)
            found = pc.indices_nonzero(hits) if pc.any(hits).as_py() else None
            return _Piece(col, hits=found)
        if pa.types.is_string(col.type):
            typed = cast(self.kind, null_markers(col, CSV_NULL))
        elif self.kind == "date":
            typed = pc.cast(col, pa.timestamp("s"))
        else:
            typed = col  # typed by the CSV reader
        mask = None
        if self.mask is not None and typed.null_count:
            mask = typed.is_null().to_numpy(zero_copy_only=False)
            typed = typed.fill_null(False if self.kind == "bool" else 0)
        return _Piece(typed.to_numpy(zero_copy_only=False), mask)

    def put(self, piece: _Piece, offset: int) -> None:
        if self.data is None:
            self.chunks.append(piece.values)
            return
        end = offset + len(piece.values)
        self.data[offset:end] = piece.values
        if piece.mask is not None:
            assert self.mask is not None
            self.mask[offset:end] = piece.mask

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
    wanted = sorted(pages)
    fetched_pages = ordered_all(  # all at once: none depends on another
        lambda page: client.open_file(path, page=page, page_size=PAGE_SIZE, null_value=NULL_VALUE),
        wanted,
    )
    page_rows: dict[int, list[list[str | None]]] = {}
    for page, fetched in zip(wanted, fetched_pages, strict=True):
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
