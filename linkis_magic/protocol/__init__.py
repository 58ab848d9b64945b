"""The Linkis wire format: envelopes, job states and small typed records (no I/O here).

The records turn Linkis names into Python names once, tolerating the quirks listed in
docs/linkis-protocol.md §10: numbers sent as strings and vice versa, epoch-millisecond dates,
the 4-slot log array that may also be a string or null, ``totalPage`` meaning nothing (openFile)
or a row count (jobhistory list), and JSON documents nested as JSON text (``paramsJson``).

One module per part of the API: ``_envelope`` (replies and errors), ``_entrance`` (states,
submit, status, progress, log), ``_jobhistory`` (task rows), ``_filesystem`` (result files),
``_datasource`` (Hive databases, tables and columns), ``_manager`` (engines, YARN resources).
"""

from linkis_magic.protocol._datasource import (
    ColumnInfo,
    TableInfo,
    parse_catalog,
    parse_columns,
    parse_databases,
    parse_tables,
)
from linkis_magic.protocol._entrance import (
    JobStatus,
    LogChunk,
    Progress,
    StageProgress,
    SubmitResult,
    is_error_line,
    parse_log,
    parse_open_log,
    parse_progress,
    parse_status,
    parse_submit,
)
from linkis_magic.protocol._envelope import (
    API_PREFIX,
    EXPORT_ERROR_PREFIX,
    Envelope,
    check_export_error,
    parse_envelope,
    raise_for_envelope,
    redact,
)
from linkis_magic.protocol._filesystem import (
    Column,
    DirEntry,
    FileInfo,
    FilePage,
    ResultKind,
    parse_dir_tree,
    parse_file_info,
    parse_file_page,
    parse_is_exist,
    parse_user_root,
    result_index,
)
from linkis_magic.protocol._jobhistory import (
    TaskInfo,
    TaskPage,
    parse_task,
    parse_task_page,
    rebuild_exec_id,
)
from linkis_magic.protocol._manager import (
    ENGINE_APPLICATION,
    EngineInfo,
    Resources,
    YarnApp,
    parse_engines,
    parse_resources,
)

__all__ = [
    "API_PREFIX",
    "ENGINE_APPLICATION",
    "EXPORT_ERROR_PREFIX",
    "Column",
    "ColumnInfo",
    "DirEntry",
    "EngineInfo",
    "Envelope",
    "FileInfo",
    "FilePage",
    "JobStatus",
    "LogChunk",
    "Progress",
    "Resources",
    "ResultKind",
    "StageProgress",
    "SubmitResult",
    "TableInfo",
    "TaskInfo",
    "TaskPage",
    "YarnApp",
    "check_export_error",
    "is_error_line",
    "parse_catalog",
    "parse_columns",
    "parse_databases",
    "parse_dir_tree",
    "parse_engines",
    "parse_envelope",
    "parse_file_info",
    "parse_file_page",
    "parse_is_exist",
    "parse_log",
    "parse_open_log",
    "parse_progress",
    "parse_resources",
    "parse_status",
    "parse_submit",
    "parse_tables",
    "parse_task",
    "parse_task_page",
    "parse_user_root",
    "raise_for_envelope",
    "rebuild_exec_id",
    "redact",
    "result_index",
]
