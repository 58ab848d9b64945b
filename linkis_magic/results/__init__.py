"""Result sets -> pandas: every page, typed by metadata, NULLs kept, a CSV fast path for big tables.

``_load`` lists and pages (the one place that decides how a result set is read), ``_csv`` is the
fast path for big tables, ``_media`` finds the images in PICTURE and HTML result sets,
``_typing`` turns strings into typed columns, ``_export`` streams
tables to files on disk without loading them, and ``_source`` names the four gateway calls all
of it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from linkis_magic.results._media import decode_picture, html_images, image_mime
from linkis_magic.results._source import NULL_VALUE, PAGE_SIZE, BinaryWriter, ResultSource

if TYPE_CHECKING:
    from linkis_magic.results._export import ExportedFile, ExportSummary, export_tables
    from linkis_magic.results._load import (
        BIG_FILE_BYTES,
        FAST_PATH_ROWS,
        ResultSet,
        load_results,
        table_files,
    )
    from linkis_magic.results._typing import frame_from_rows

_LAZY = {
    "BIG_FILE_BYTES": "_load",
    "FAST_PATH_ROWS": "_load",
    "ResultSet": "_load",
    "load_results": "_load",
    "table_files": "_load",
    "ExportSummary": "_export",
    "ExportedFile": "_export",
    "export_tables": "_export",
    "frame_from_rows": "_typing",
}
"""Names imported on first use: they bring pandas and pyarrow, which a script that only
submits jobs (and the job package, which names ResultSource) should not pay for."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BIG_FILE_BYTES",
    "FAST_PATH_ROWS",
    "NULL_VALUE",
    "PAGE_SIZE",
    "BinaryWriter",
    "ExportSummary",
    "ExportedFile",
    "ResultSet",
    "ResultSource",
    "decode_picture",
    "export_tables",
    "frame_from_rows",
    "html_images",
    "image_mime",
    "load_results",
    "table_files",
]
