"""CSV and xlsx downloads of a `.dolphin` result set, as resultsetToExcel writes them.

Section numbers (§) refer to docs/linkis-protocol.md; this is its §5.7.

Linkis' CSV is deliberately *not* RFC 4180: values are joined with the separator as they are
(a comma inside a value is not quoted), every line ends with "\\n", and the only "escaping" is
the optional quote retouch (wrap non-blank values in quotes after deleting inner quotes) and
replacing newlines inside values by spaces. Clients must cope with that, so the sandbox must
produce exactly that.

When the writer's lines sidecar already is the CSV body (no cell to replace, a tab or a
swappable separator, no line break to flatten), `dolphin.export_lines` hands it over and the
body is a copy of it (tabs swapped for the separator); otherwise CSV is built column-wise
with pyarrow.compute on record batches from `dolphin.iter_batches`, so exporting a million
rows costs no per-row Python either way. `export` is the one entry
point of the download route: it picks the writer by `ExportOptions.output_file_type`.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import decimal
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from linkis_magic.sandbox import dolphin
from linkis_magic.sandbox.parallel import ordered_map

__all__ = [
    "CSV_CONTENT_TYPE",
    "DEFAULT_ROW_CAP",
    "OUTPUT_FILE_TYPES",
    "XLSX_CONTENT_TYPE",
    "ExportError",
    "ExportOptions",
    "export",
    "export_csv",
    "export_xlsx",
]

DEFAULT_ROW_CAP = 5000
"""`wds.linkis.workspace.resultset.download.maxsize.csv` / `.excel` when limit is 0."""
CSV_CONTENT_TYPE = "text/plain"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTPUT_FILE_TYPES = ("csv", "xlsx")
"""The values of `outputFileType` Linkis accepts (exactly; anything else is 80015)."""
_XLSX_MAX_ROWS = 1_048_576


class ExportError(Exception):
    """A download that Linkis refuses; `.code` is the Linkis error code (80015, 80024, ...)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def _row_cap(limit: int) -> int:
    return limit if limit > 0 else DEFAULT_ROW_CAP


def _decorate(col: pa.Array, quote_retouch: bool, keep_newline: bool) -> pa.Array:
    """StorageCSVWriter.decorateValue: blank values as is; others retouched / newline-flattened."""
    has_newline = not keep_newline and pc.any(pc.match_substring(col, "\n")).as_py()
    if not quote_retouch and not has_newline:
        return col
    value = col
    if quote_retouch:
        value = pc.binary_join_element_wise('"', pc.replace_substring(value, '"', ""), '"', "")
    if has_newline:
        value = pc.replace_substring(value, "\n", " ")
    blank = pc.or_(pc.equal(pc.utf8_length(col), 0), pc.utf8_is_space(col))
    return pc.if_else(blank, col, value)


def _encoder(charset: str) -> codecs.CodecInfo | None:
    """None for UTF-8 (Arrow's bytes are written as they are), else the codec to re-encode."""
    try:
        info = codecs.lookup(charset)
    except LookupError:
        raise ExportError(
            f"unsupported charset {charset!r}; use a Java/Python charset name such as utf-8 or gbk"
        ) from None
    return None if info.name == "utf-8" else info


def _write_text(out: BinaryIO, arr: pa.Array, codec: codecs.CodecInfo | None) -> None:
    """Write a string array's characters back to back (they already end in "\\n")."""
    if len(arr) == 0:
        return
    if arr.null_count:
        arr = pc.fill_null(arr, "null")
    offsets = arr.buffers()[1]
    data = arr.buffers()[2]
    width = 8 if pa.types.is_large_string(arr.type) else 4
    first = int.from_bytes(offsets[arr.offset * width : (arr.offset + 1) * width], "little")
    end = arr.offset + len(arr)
    last = int.from_bytes(offsets[end * width : (end + 1) * width], "little")
    chunk = memoryview(data)[first:last]
    if codec is None:
        out.write(chunk)
    else:
        out.write(codec.encode(bytes(chunk).decode("utf-8"), "replace")[0])


def export_csv(
    path: dolphin.PathLike,
    out: BinaryIO,
    *,
    separator: str = ",",
    charset: str = "utf-8",
    null_value: str | None = "NULL",
    limit: int = 0,
    quote_retouch: bool = False,
    keep_newline: bool = False,
) -> None:
    """Write a result set as Linkis CSV: a header line, then one line per row (max 5000 if
    limit is 0). `separator="t"` means tab; `null_value` replaces NULL and empty cells."""
    sep = "\t" if separator == "t" else separator
    codec = _encoder(charset)
    type_code, meta = dolphin.read_header(path)
    batches = dolphin.iter_batches(path, limit=_row_cap(limit), null_value=null_value, export=True)
    if type_code != dolphin.TABLE:
        for batch in batches:
            _write_text(out, pc.binary_join_element_wise(batch.column(0), "", "\n"), codec)
        return
    assert isinstance(meta, list)
    header = _decorate(pa.array([c[0] for c in meta], pa.string()), quote_retouch, keep_newline)
    _write_text(out, pa.array([sep.join(header.to_pylist()) + "\n"], pa.string()), codec)
    if codec is None and not quote_retouch:
        body = dolphin.export_lines(
            path, _row_cap(limit), tab_separated=sep == "\t", keep_newline=keep_newline
        )
        if body is not None:
            for chunk in body:
                _send(out, chunk, sep)
            return

    def lines(batch: pa.RecordBatch) -> pa.Array:
        # String.valueOf(null) is "null": only reachable with nullValue=LINKIS_NULL.
        cols = [
            _decorate(pc.fill_null(c, "null"), quote_retouch, keep_newline) for c in batch.columns
        ]
        cols[-1] = pc.binary_join_element_wise(cols[-1], "\n", "")
        return pc.binary_join_element_wise(*cols, sep)

    for text in ordered_map(lines, (b for b in batches if b.num_rows)):
        _write_text(out, text, codec)


_COPY_CHUNK = 4 << 20


def _send(out: BinaryIO, data: memoryview, sep: str) -> None:
    """Write tab-joined lines with `sep` between cells, a few MiB at a time."""
    sep_bytes = sep.encode("utf-8")
    table = bytes.maketrans(b"\t", sep_bytes) if len(sep_bytes) == 1 else None
    for pos in range(0, len(data), _COPY_CHUNK):
        with data[pos : pos + _COPY_CHUNK] as chunk:
            if sep == "\t":
                out.write(chunk)
            elif table is not None:
                out.write(bytes(chunk).translate(table))
            else:
                out.write(bytes(chunk).replace(b"\t", sep_bytes))


_NUMERIC = frozenset({"short", "int", "long", "bigint", "float", "double", "decimal"})


def _typed(kind: str, text: str) -> Any:
    """autoFormat: the typed value of a cell, or the text when it does not parse."""
    try:
        if kind in _NUMERIC:
            value = float(decimal.Decimal(text)) if kind == "decimal" else float(text)
            return value if value == value and abs(value) != float("inf") else text
        if kind == "date":
            return _dt.date.fromisoformat(text)
        if kind == "timestamp":
            return _dt.datetime.fromisoformat(text)
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
    except (ValueError, decimal.InvalidOperation):
        return text
    return text


def export_xlsx(
    path: dolphin.PathLike,
    out: BinaryIO,
    *,
    sheet_name: str = "result",
    null_value: str | None = "NULL",
    limit: int = 0,
    auto_format: bool = False,
) -> None:
    """Write a table result set as one xlsx sheet (header row, then text cells unless
    auto_format). Only tables can be exported as xlsx (80024)."""
    import xlsxwriter  # the sandbox extra; imported here so CSV works without it

    type_code, meta = dolphin.read_header(path)
    if type_code != dolphin.TABLE or not isinstance(meta, list):
        raise ExportError(
            "Only table result sets can be exported as xlsx; export this one as csv", 80024
        )
    cap = _row_cap(limit)
    if cap >= _XLSX_MAX_ROWS:
        cap = _XLSX_MAX_ROWS - 1
    kinds = [c[1] for c in meta]
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
    try:
        try:
            sheet = workbook.add_worksheet(sheet_name or "result")
        except Exception as exc:  # xlsxwriter's InvalidWorksheetName and friends
            raise ExportError(f"invalid sheetName {sheet_name!r}: {exc}") from None
        bold = workbook.add_format({"bold": True})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
        ts_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for j, (name, _, _) in enumerate(meta):
            sheet.write_string(0, j, name, bold)
        r = 1
        for batch in dolphin.iter_batches(path, limit=cap, null_value=null_value, export=True):
            columns = [c.to_pylist() for c in batch.columns]
            for i in range(batch.num_rows):
                for j, col in enumerate(columns):
                    text = col[i]
                    text = "null" if text is None else text
                    if not auto_format:
                        sheet.write_string(r, j, text)
                        continue
                    value = _typed(kinds[j], text)
                    if isinstance(value, bool):
                        sheet.write_boolean(r, j, value)
                    elif isinstance(value, float):
                        sheet.write_number(r, j, value)
                    elif isinstance(value, _dt.datetime):
                        sheet.write_datetime(r, j, value, ts_fmt)
                    elif isinstance(value, _dt.date):
                        sheet.write_datetime(r, j, value, date_fmt)
                    else:
                        sheet.write_string(r, j, text)
                r += 1
    finally:
        workbook.close()


@dataclass(frozen=True)
class ExportOptions:
    """resultsetToExcel's parameters, with Linkis's defaults (§5.7).

    `separator` "t" means tab; `null_value` replaces NULL and empty cells ("BLANK": empty);
    `limit` 0 caps the rows at DEFAULT_ROW_CAP. `sheet_name` and `auto_format` are xlsx's,
    `separator`, `charset`, `quote_retouch` and `keep_newline` CSV's.
    """

    output_file_type: str = "csv"
    separator: str = ","
    charset: str = "utf-8"
    null_value: str = "NULL"
    limit: int = 0
    quote_retouch: bool = False
    keep_newline: bool = False
    sheet_name: str = "result"
    auto_format: bool = False


def export(path: dolphin.PathLike, out: BinaryIO, options: ExportOptions) -> str:
    """Write the download `options` ask for to `out`; returns its Content-Type (without a
    charset). An `output_file_type` other than exactly "csv" or "xlsx" is 80015."""
    if options.output_file_type == "csv":
        export_csv(
            path,
            out,
            separator=options.separator,
            charset=options.charset,
            null_value=options.null_value,
            limit=options.limit,
            quote_retouch=options.quote_retouch,
            keep_newline=options.keep_newline,
        )
        return CSV_CONTENT_TYPE
    if options.output_file_type == "xlsx":
        export_xlsx(
            path,
            out,
            sheet_name=options.sheet_name,
            null_value=options.null_value,
            limit=options.limit,
            auto_format=options.auto_format,
        )
        return XLSX_CONTENT_TYPE
    raise ExportError(
        f"unsupported outputFileType {options.output_file_type!r}: use csv or xlsx", 80015
    )
