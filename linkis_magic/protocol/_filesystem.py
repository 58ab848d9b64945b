"""Filesystem records: result directories, openFile pages, fileInfo (§5, docs/linkis-protocol.md).

Result files list lexicographically and must be sorted by their number (§5.2, §10.9); openFile
pages carry no total (§5.3, §10.7) and every cell is a string or null (§10.8).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkis_magic.errors import ProtocolError
from linkis_magic.protocol._values import epoch_ms, need_dict, opt_int, opt_str


class ResultKind(str, enum.Enum):
    """What a result set is: the type code of its ``.dolphin`` file (linkis-protocol.md §6.6).

    A ``str`` enum whose values are the codes openFile sends as ``type``, so
    ``ResultKind.TABLE == "2"`` holds and a kind can stand where the code was compared.
    TABLE is rows with typed columns; TEXT, PICTURE and HTML are lines (printed output, an
    engine-encoded image, HTML such as the ``<img>`` a Python job's ``plt.show()`` makes);
    IO is the engines' file-transfer format, which a client only names.
    """

    TEXT = "1"
    TABLE = "2"
    IO = "3"
    PICTURE = "4"
    HTML = "5"

    @classmethod
    def of(cls, code: str | None) -> ResultKind:
        """The kind of an openFile ``type``; anything unknown (a plain file's ``script/text``,
        a code from a newer Linkis) reads as TEXT, which is how it is shown."""
        try:
            return cls(str(code).strip())
        except ValueError:
            return cls.TEXT

    @property
    def label(self) -> str:
        """Lower-case name for messages: ``table``, ``text``, ``html``, ``picture``, ``io``."""
        return self.name.lower()


@dataclass(frozen=True)
class DirEntry:
    """One child of ``getDirFileTrees`` (one level only)."""

    name: str
    path: str
    is_leaf: bool
    size: int | None
    modify_time: datetime | None


def parse_dir_tree(data: Any) -> list[DirEntry] | None:
    """Children of the listed directory in server order, or None if it does not exist."""
    doc = need_dict(data, "the getDirFileTrees reply")
    tree = doc.get("dirFileTrees")
    if tree is None:
        return None
    tree = need_dict(tree, "dirFileTrees")
    entries = []
    for child in tree.get("children") or ():
        if not isinstance(child, dict):
            continue
        props = child.get("properties") if isinstance(child.get("properties"), dict) else {}
        assert isinstance(props, dict)
        entries.append(
            DirEntry(
                name=str(child.get("name", "")),
                path=str(child.get("path", "")),
                is_leaf=bool(child.get("isLeaf")),
                size=opt_int(props.get("size")),
                modify_time=epoch_ms(props.get("modifytime")),
            )
        )
    return entries


_RESULT_NAME = re.compile(r"_(\d+)\.dolphin$")


def result_index(name: str) -> int | None:
    """Number of a result file (``_10.dolphin`` -> 10, ``alias_3.dolphin`` -> 3), else None.

    Linkis lists result files lexicographically (``_10`` before ``_2``); sort with this key.
    """
    match = _RESULT_NAME.search(name.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Column:
    """A table result column: name, Linkis data type, comment (None when Linkis says "NULL")."""

    name: str
    data_type: str
    comment: str | None


@dataclass(frozen=True)
class FilePage:
    """One openFile page. ``total_line`` counts rows in this page only (totalPage is always 0).

    Cells are kept exactly as sent (strings, or None with ``nullValue=LINKIS_NULL``); the string
    ``"NULL"`` is not turned into None here because only the column type can say what it means.
    Text results come back as one-element rows.
    """

    type: str
    columns: tuple[Column, ...]
    rows: list[list[str | None]]
    page: int
    total_line: int


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_file_page(data: Any, *, requested_page: int = 1) -> FilePage:
    """Read ``filesystem/openFile`` for table (metadata list) and text (metadata "NULL") files."""
    doc = need_dict(data, "the openFile reply")
    metadata = doc.get("metadata")
    columns: tuple[Column, ...] = ()
    if isinstance(metadata, list):
        cols = []
        for item in metadata:
            if isinstance(item, dict):
                comment = opt_str(item.get("comment"))
                cols.append(
                    Column(
                        name=str(item.get("columnName", "")),
                        data_type=str(item.get("dataType") or "string"),
                        comment=None if comment in (None, "", "NULL") else comment,
                    )
                )
        columns = tuple(cols)
    rows: list[list[str | None]] = []
    for row in doc.get("fileContent") or ():
        if isinstance(row, list):
            rows.append([_cell(v) for v in row])
        else:
            rows.append([_cell(row)])
    page = opt_int(doc.get("page"))
    total_line = opt_int(doc.get("totalLine"))
    return FilePage(
        type=str(doc.get("type") or ""),
        columns=columns,
        rows=rows,
        page=requested_page if page is None else page,
        total_line=len(rows) if total_line is None else total_line,
    )


@dataclass(frozen=True)
class FileInfo:
    """``filesystem/fileInfo``: column count and row count (all rows with pageSize=-1)."""

    path: str
    col_number: int
    row_number: int


def parse_file_info(data: Any) -> FileInfo:
    """Read ``{path, colNumber, rowNumber}`` (numbers or numeric strings)."""
    doc = need_dict(data, "the fileInfo reply")
    return FileInfo(
        path=str(doc.get("path") or ""),
        col_number=opt_int(doc.get("colNumber")) or 0,
        row_number=opt_int(doc.get("rowNumber")) or 0,
    )


ROOT_KEYS = ("userHDFSRootPath", "userLocalRootPath", "userS3RootPath")
"""The one key ``getUserRootPath`` answers with, by ``pathType`` (§15.1)."""


def parse_user_root(data: Any) -> str:
    """The root URI ``getUserRootPath`` names (hdfs, local or s3), exactly as sent."""
    doc = need_dict(data, "the getUserRootPath reply")
    for key in ROOT_KEYS:
        value = doc.get(key)
        if isinstance(value, str) and value:
            return value
    raise ProtocolError(f"getUserRootPath named no root (keys: {sorted(doc)})")


def parse_is_exist(data: Any) -> bool:
    """``isExist``: a boolean (or its string)."""
    value = need_dict(data, "the isExist reply").get("isExist")
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
