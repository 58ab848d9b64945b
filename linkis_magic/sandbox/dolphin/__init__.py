"""Linkis `.dolphin` result-set files: the sandbox's only reader and writer of them.

The gateway's openFile, fileInfo and resultsetToExcel all read through here, so they see
exactly what a Linkis engine would have written (docs/linkis-protocol.md §6):

- `format`: the byte layout, type names and how values are rendered as text;
- `writer`: `write_table` (Python rows), `write_text` (lines), `write_arrow` (vectorized);
- `reader`: `read_header`, `count_rows`, `read_page` (openFile), `iter_batches` (exports),
  `export_lines` (a CSV export's body straight from the lines sidecar, when it is one);
- `values`: how stored cells read back (nullValue rules, normalizing other writers' text);
- `sidecars`: the hidden offset index and tab-joined lines our writers leave next to each file
  (`pending_lines`, `wait_lines`: the lines of a file just written may still be in the making).

Writes are atomic (hidden temporary file + rename), so a reader never sees half a file.
"""

from linkis_magic.sandbox.dolphin.format import (
    HTML,
    IO,
    MAGIC,
    NULL_TOKEN,
    OLD_NULL_TOKEN,
    PICTURE,
    TABLE,
    TEXT,
    DolphinFormatError,
    EmptyResultError,
    PathLike,
    linkis_type_for_arrow,
    normalize_type,
    render_value,
    string_bytes,
    string_offsets,
)
from linkis_magic.sandbox.dolphin.reader import (
    count_rows,
    export_lines,
    iter_batches,
    read_arrow,
    read_header,
    read_page,
)
from linkis_magic.sandbox.dolphin.sidecars import (
    Lines,
    PendingLines,
    index_path,
    is_sidecar_name,
    lines_path,
    pending_lines,
    wait_lines,
)
from linkis_magic.sandbox.dolphin.writer import write_arrow, write_table, write_text

__all__ = [
    "HTML",
    "IO",
    "MAGIC",
    "NULL_TOKEN",
    "OLD_NULL_TOKEN",
    "PICTURE",
    "TABLE",
    "TEXT",
    "DolphinFormatError",
    "EmptyResultError",
    "Lines",
    "PathLike",
    "PendingLines",
    "count_rows",
    "export_lines",
    "index_path",
    "is_sidecar_name",
    "iter_batches",
    "lines_path",
    "linkis_type_for_arrow",
    "normalize_type",
    "pending_lines",
    "read_arrow",
    "read_header",
    "read_page",
    "render_value",
    "string_bytes",
    "string_offsets",
    "wait_lines",
    "write_arrow",
    "write_table",
    "write_text",
]
