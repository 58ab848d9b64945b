"""Loading result sets: list the result directory, read every page, type the tables.

Why this is more than one ``openFile`` call (docs/linkis-protocol.md §5, §10.7-§10.9):

* Result files list lexicographically (``_10`` before ``_2``): sort by the number.
* ``openFile`` pages have no total (``totalPage`` is always 0): read fixed-size pages until a
  short/empty one. Nothing is capped silently; ``limit`` is the only cap and
  :attr:`ResultSet.truncated` says when it cut something.
* ``nullValue=LINKIS_NULL`` (1.5+) turns NULLs into JSON null; older servers send ``"NULL"``.
* Tables with more than :data:`FAST_PATH_ROWS` rows take the CSV fast path (``_csv``), which
  falls back to pages whenever the export does not match the result set. A file the listing
  says is over :data:`BIG_FILE_BYTES` starts with a one-row page (type and columns only), so
  a big table's first page is not transferred twice.
* Round trips, not bytes, are what a remote gateway makes expensive. A file the listing says
  is small enough to hold at most FAST_PATH_ROWS rows (each ``.dolphin`` table row takes at
  least MIN_ROW_BYTES, §6.3) is read with one page sized to hold all of it; a larger one asks
  ``fileInfo`` beside its first page, and once that count is known its pages are asked for
  at once; a big one (over BIG_FILE_BYTES) has its export asked for beside them too. The
  result sets of a job load concurrently on a few threads (``_parallel``); the list keeps the
  numeric order, and one failure fails the whole load (after the others have stopped), so a
  caller never sees part of the result sets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from linkis_magic._transport import aside
from linkis_magic._validate import check_int
from linkis_magic.protocol import Column, DirEntry, ResultKind, result_index
from linkis_magic.results._csv import CsvMismatch, EarlyCsv
from linkis_magic.results._media import decode_picture, html_images
from linkis_magic.results._parallel import ordered_all
from linkis_magic.results._source import NULL_VALUE, PAGE_SIZE, ResultSource
from linkis_magic.results._typing import arrow_columns, frame_from_chunks

__all__ = ["FAST_PATH_ROWS", "ResultSet", "list_result_files", "load_results", "table_files"]

_log = logging.getLogger("linkis_magic.results")

FAST_PATH_ROWS = 20000  # tables with more rows are streamed as CSV
BIG_FILE_BYTES = 1 << 20  # larger result files skip the rows of the first openFile page
MIN_ROW_BYTES = 22  # the smallest .dolphin table row: two 10-digit lengths and "0," (§6.3)
SMALL_FILE_BYTES = FAST_PATH_ROWS * MIN_ROW_BYTES  # at most FAST_PATH_ROWS rows: one page


@dataclass(frozen=True, eq=False)
class ResultSet:
    """One ``_N.dolphin`` result set: a typed DataFrame (tables) or its lines (every other kind).

    ``kind`` says what it is (:class:`~linkis_magic.protocol.ResultKind`): a TABLE has
    ``frame`` and ``columns``; TEXT, HTML, PICTURE and IO have ``text`` (their lines joined),
    and :attr:`html`, :attr:`images` give an HTML page's text and the image bytes a chart
    carries. ``rows`` is the number of rows (or lines) loaded; ``truncated`` is True when
    ``limit`` stopped the loading before the end of the result set.
    """

    index: int
    path: str
    kind: ResultKind
    frame: pd.DataFrame | None
    text: str | None
    columns: tuple[Column, ...]
    rows: int
    truncated: bool

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ResultKind):  # a type code given where a kind belongs
            object.__setattr__(self, "kind", ResultKind.of(self.kind))

    @property
    def type(self) -> str:
        """The Linkis type code (``"2"`` for a table); :attr:`kind` is the typed form."""
        return self.kind.value

    @property
    def html(self) -> str | None:
        """The HTML of an HTML result set (None for every other kind)."""
        return self.text if self.kind is ResultKind.HTML else None

    @property
    def images(self) -> list[bytes]:
        """Image bytes: a PICTURE's image, or the base64 ``<img>`` images inside an HTML result
        set (a Python job's ``plt.show()``), in order; empty for other kinds."""
        if self.kind is ResultKind.PICTURE and self.text:
            image = decode_picture(self.text)
            return [] if image is None else [image]
        if self.kind is ResultKind.HTML and self.text:
            return html_images(self.text)
        return []

    @property
    def image(self) -> bytes | None:
        """The first of :attr:`images`, or None."""
        found = self.images
        return found[0] if found else None


def load_results(
    client: ResultSource,
    result_location: str,
    *,
    limit: int | None = None,
    listing: Sequence[DirEntry] | None = None,
) -> list[ResultSet]:
    """Load every result set under ``result_location`` in numeric order, completely.

    ``listing`` is the directory's children when the caller already has them (a Job lists
    the directory as soon as it has seen its end), so it is not listed again.

    ``limit`` caps the rows loaded per result set (``ResultSet.truncated`` tells when it did).
    """
    if limit is not None:
        limit = check_int(limit, "limit", hint="rows per result set; None loads everything")
    found = _result_entries(client, result_location, listing)
    loaded = ordered_all(lambda item: _load_one(client, item[1], item[0], limit), found)
    return [rs for rs in loaded if rs is not None]


def list_result_files(
    client: ResultSource, result_location: str, listing: Sequence[DirEntry] | None = None
) -> list[tuple[int, str]]:
    """``(index, path)`` of every result file, in numeric order (Linkis lists ``_10`` before
    ``_2``, §10.9); an empty list when the directory does not exist. ``listing``: the
    directory's children, when already read."""
    found = _result_entries(client, result_location, listing)
    return [(index, entry.path) for index, entry in found]


def _result_entries(
    client: ResultSource, result_location: str, listing: Sequence[DirEntry] | None = None
) -> list[tuple[int, DirEntry]]:
    found = []
    children = client.dir_tree(result_location) if listing is None else listing
    for entry in children or ():
        index = result_index(entry.name) if entry.is_leaf else None
        if index is not None:
            found.append((index, entry))
    return sorted(found, key=lambda item: item[0])


def table_files(
    client: ResultSource, result_location: str, listing: Sequence[DirEntry] | None = None
) -> list[tuple[int, str]]:
    """The result files that hold tables (one one-row openFile page each tells the type,
    asked for every file at once)."""
    files = list_result_files(client, result_location, listing)
    kinds = ordered_all(
        lambda item: client.open_file(item[1], page=1, page_size=1, null_value=NULL_VALUE).type,
        files,
    )
    return [
        item
        for item, kind in zip(files, kinds, strict=True)
        if ResultKind.of(kind) is ResultKind.TABLE
    ]


def _load_one(
    client: ResultSource, entry: DirEntry, index: int, limit: int | None
) -> ResultSet | None:
    path = entry.path
    size = entry.size
    page_size = PAGE_SIZE
    if size is not None and size <= SMALL_FILE_BYTES:
        page_size = max(PAGE_SIZE, size // MIN_ROW_BYTES + 1)  # the whole file in one page
    if limit is not None:
        page_size = max(1, min(page_size, limit + 1))
    # A big file is going to take the CSV path: its first page only needs to say the type
    # and columns, not carry PAGE_SIZE rows that are read again from the export.
    may_export = limit is None or limit >= FAST_PATH_ROWS
    big = may_export and size is not None and size > BIG_FILE_BYTES
    first_size = 1 if big else page_size
    # A file that may hold more than FAST_PATH_ROWS rows may be a table headed for the
    # export, which needs its row count: ask fileInfo alongside the first page (one round
    # trip instead of two).
    sized = may_export and size is not None and size > SMALL_FILE_BYTES
    info = aside(lambda: client.file_info(path, page_size=-1)) if sized else None
    # ... and a file big enough to be a table for the export has that asked for too: the
    # parsing waits for the columns and the count, the request does not (``EarlyCsv``).
    early = None
    if big and size is not None:
        early = EarlyCsv(client, path, limit if limit is not None else size // MIN_ROW_BYTES + 1)
    try:
        first = client.open_file(path, page=1, page_size=first_size, null_value=NULL_VALUE)
        if not first.type and not first.rows:
            return None  # an empty file: the client already issued Linkis's 206 warning
        rows = first.rows
        kind = ResultKind.of(first.type)
        columns = tuple(first.columns)
        total: int | None = None
        if kind is ResultKind.TABLE and len(rows) >= first_size and may_export:
            total = (info.result() if info else client.file_info(path, page_size=-1)).row_number
            want = total if limit is None else min(total, limit)
            if want > FAST_PATH_ROWS:
                csv = early or EarlyCsv(client, path, want)
                early = None  # loaded (or failed) below: nothing left to drop
                try:
                    frame = csv.load(columns, want)
                except CsvMismatch as exc:
                    _log.info("CSV fast path not usable for %s (%s); reading pages", path, exc)
                else:
                    return ResultSet(
                        index, path, ResultKind.TABLE, frame, None, columns, want, total > want
                    )
    finally:
        if early is not None:
            early.drop()
    if kind is not ResultKind.TABLE:
        rows = _page_one(client, path, rows, first_size, page_size)
        return _load_text(client, path, index, kind, rows, page_size, limit)
    ahead: list[list[list[str | None]]] = []
    again = not (first_size == page_size or len(rows) < first_size)  # page 1 at page_size
    if total and limit is None:
        # The row count is known: ask for every page at once instead of one after another.
        wanted = list(range(1 if again else 2, -(-total // page_size) + 1))
        ahead = ordered_all(
            lambda page: (
                client.open_file(path, page=page, page_size=page_size, null_value=NULL_VALUE).rows
            ),
            wanted,
        )
        if again and ahead:
            rows, ahead, again = ahead[0], ahead[1:], False
    if again:
        rows = _page_one(client, path, rows, first_size, page_size)
    chunks, count, truncated = _read_pages(
        client, path, len(columns), rows, page_size, limit, ahead
    )
    frame = frame_from_chunks(columns, chunks)
    return ResultSet(index, path, ResultKind.TABLE, frame, None, columns, count, truncated)


def _page_one(
    client: ResultSource,
    path: str,
    rows: list[list[str | None]],
    first_size: int,
    page_size: int,
) -> list[list[str | None]]:
    """The rows of page 1 at ``page_size``: the first read's, unless it asked for fewer and
    got them all (then there may be more)."""
    if first_size == page_size or len(rows) < first_size:
        return rows
    return client.open_file(path, page=1, page_size=page_size, null_value=NULL_VALUE).rows


def _read_pages(
    client: ResultSource,
    path: str,
    ncols: int,
    first_rows: list[list[str | None]],
    page_size: int,
    limit: int | None,
    ahead: Sequence[list[list[str | None]]] = (),
) -> tuple[list[list[pa.Array]], int, bool]:
    """Read pages 2, 3, ... after page 1 until a short page; returns Arrow string chunks.

    ``ahead`` holds pages 2, 3, ... already read (all at once, the row count being known);
    only a full last one of them leads to reading on.
    """
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
            chunks.append(arrow_columns(ncols, rows))
            count += len(rows)
        if truncated or len(rows) < page_size:
            return chunks, count, truncated
        page += 1
        if page - 2 < len(ahead):
            rows = ahead[page - 2]
            continue
        rows = client.open_file(path, page=page, page_size=page_size, null_value=NULL_VALUE).rows


def _load_text(
    client: ResultSource,
    path: str,
    index: int,
    kind: ResultKind,
    first_rows: list[list[str | None]],
    page_size: int,
    limit: int | None,
) -> ResultSet:
    chunks, count, truncated = _read_pages(client, path, 1, first_rows, page_size, limit)
    lines: list[str] = []
    for (chunk,) in chunks:
        lines.extend("" if line is None else line for line in chunk.to_pylist())
    return ResultSet(index, path, kind, None, "\n".join(lines), (), count, truncated)
