"""Exporting result sets to disk straight from the gateway, for results larger than memory.

``resultsetToExcel`` streams a result set as CSV or xlsx (docs/linkis-protocol.md §5.7); the
bytes go to disk in chunks and never through pandas, so a result of any size costs a few MB of
memory. What matters beyond one download:

* the server caps an export at 5000 rows unless ``limit`` is given (§10.15): we always send one;
* ``nullValue`` replaces NULL *and* empty cells; we send ``NULL`` explicitly, so a NULL reads as
  ``NULL`` in the file whatever the server's default, never as an empty field;
* a failure is a text/plain ``error(错误):…`` body, often with HTTP 200: the client raises it;
* several table result sets become ``PATH_1``, ``PATH_2``, ... in result-set order, and the
  export is all or nothing: every file is written to a hidden temporary file next to its target
  and the files are renamed only when all downloads are complete, so a failure never leaves a
  partial or mixed set of files behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from linkis_magic._validate import check_export_path
from linkis_magic.results._source import ResultSource

__all__ = ["ALL_ROWS", "ExportSummary", "ExportedFile", "export_tables"]

ALL_ROWS = 2**31 - 1  # the largest `limit` a Java int holds: "every row" for the server
EXPORT_NULL = "NULL"  # how NULL cells read in exported files


@dataclass(frozen=True)
class ExportedFile:
    """One table result set written to disk."""

    index: int  # the result set's number (``_N.dolphin``)
    path: Path
    bytes: int
    rows: int | None  # data rows, when known (CSV: counted while writing)

    def __str__(self) -> str:
        rows = "" if self.rows is None else f", {self.rows:,} rows"
        return f"{self.path} ({_size(self.bytes)}{rows}, result set {self.index})"


class ExportSummary(tuple[ExportedFile, ...]):
    """What an export wrote; its repr is the short summary a cell shows."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self:
            return "no table result set: nothing written"
        head = "wrote 1 file" if len(self) == 1 else f"wrote {len(self)} files"
        return "\n".join([f"{head}:", *(f"  {f}" for f in self)])

    __str__ = __repr__

    @property
    def total_bytes(self) -> int:
        """Bytes written in all files."""
        return sum(f.bytes for f in self)


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


class _Counting:
    """A binary sink that counts line ends while it writes (rows of a CSV download)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.newlines = 0

    def write(self, data: bytes) -> int:
        self.newlines += data.count(b"\n")
        return self.out.write(data)


def _targets(target: Path, count: int) -> list[Path]:
    if count == 1:
        return [target]
    return [target.with_name(f"{target.stem}_{i}{target.suffix}") for i in range(1, count + 1)]


def export_tables(
    source: ResultSource,
    tables: list[tuple[int, str]],
    target: str | os.PathLike[str],
    *,
    limit: int | None = None,
) -> ExportSummary:
    """Download each table result set (``(index, path)`` in order) to ``target``.

    One table goes to ``target`` itself, several to ``target_1``, ``target_2``, ...; the
    file type follows the suffix (``.csv`` or ``.xlsx``). All or nothing: see the module doc.
    """
    path = check_export_path(os.fspath(target))
    assert path is not None
    file_type = path.suffix.lower().lstrip(".")
    finals = _targets(path, len(tables))
    temps: list[tuple[str, Path]] = []
    written: list[ExportedFile] = []
    try:
        for (index, remote), final in zip(tables, finals, strict=True):
            fd, tmp = tempfile.mkstemp(prefix=".linkis-export-", dir=final.parent)
            temps.append((tmp, final))
            with os.fdopen(fd, "wb") as out:
                sink = _Counting(out)
                size = source.export_result(
                    remote,
                    file_type=file_type,
                    dest=sink,
                    limit=ALL_ROWS if limit is None else limit,
                    null_value=EXPORT_NULL,
                    **_xlsx_options(file_type),
                )
            assert isinstance(size, int)
            rows = max(sink.newlines - 1, 0) if file_type == "csv" else None
            written.append(ExportedFile(index, final, size, rows))
        for tmp, final in temps:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
        raise
    return ExportSummary(written)


def _xlsx_options(file_type: str) -> dict[str, Any]:
    # Typed numbers and dates in the sheet, as a spreadsheet user expects (§5.7 autoFormat).
    return {"auto_format": True} if file_type == "xlsx" else {}
