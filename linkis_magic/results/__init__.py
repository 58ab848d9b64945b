"""Result sets -> pandas: every page, typed by metadata, NULLs kept, a CSV fast path for big tables.

``_load`` lists and pages (the one place that decides how a result set is read), ``_csv`` is the
fast path for big tables, ``_typing`` turns strings into typed columns, ``_export`` streams
tables to files on disk without loading them, and ``_source`` names the four gateway calls all
of it needs.
"""

from linkis_magic.results._export import ExportedFile, ExportSummary, export_tables
from linkis_magic.results._load import (
    BIG_FILE_BYTES,
    FAST_PATH_ROWS,
    ResultSet,
    load_results,
    table_files,
)
from linkis_magic.results._source import NULL_VALUE, PAGE_SIZE, ResultSource
from linkis_magic.results._typing import frame_from_rows

__all__ = [
    "BIG_FILE_BYTES",
    "FAST_PATH_ROWS",
    "NULL_VALUE",
    "PAGE_SIZE",
    "ExportSummary",
    "ExportedFile",
    "ResultSet",
    "ResultSource",
    "export_tables",
    "frame_from_rows",
    "load_results",
    "table_files",
]
