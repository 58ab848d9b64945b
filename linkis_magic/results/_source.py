"""What loading results needs from a gateway: four filesystem calls.

Results are loaded through this structural interface rather than the client class, so this
package sits below the client in the layers: :class:`~linkis_magic.client.LinkisClient`
satisfies it, and so would any object with these four methods.
"""

from __future__ import annotations

import os
from typing import Protocol

from linkis_magic._transport import BinaryWriter
from linkis_magic.protocol import DirEntry, FileInfo, FilePage

__all__ = ["NULL_VALUE", "PAGE_SIZE", "BinaryWriter", "ResultSource"]

PAGE_SIZE = 5000  # openFile rows per page (the Linkis default; accepted by every release)
NULL_VALUE = "LINKIS_NULL"  # openFile: NULL cells come back as JSON null (1.5+, §5.3)


class ResultSource(Protocol):
    """The filesystem endpoints result loading calls (docs/linkis-protocol.md §5)."""

    def dir_tree(self, path: str) -> list[DirEntry] | None:
        """``getDirFileTrees``: the children of a result directory, or None."""

    def open_file(
        self, path: str, *, page: int = 1, page_size: int = 5000, null_value: str | None = ...
    ) -> FilePage:
        """``openFile``: one page of a result set."""

    def file_info(self, path: str, *, page_size: int = -1) -> FileInfo:
        """``fileInfo``: the row and column counts."""

    def export_result(
        self,
        path: str,
        *,
        file_type: str = "csv",
        dest: str | os.PathLike[str] | BinaryWriter | None = None,
        limit: int = 0,
        null_value: str = "NULL",
        separator: str = ",",
        charset: str = "utf-8",
        keep_newline: bool = False,
        auto_format: bool = False,
    ) -> bytes | int:
        """``resultsetToExcel``: the result set as CSV/xlsx bytes, streamed."""
