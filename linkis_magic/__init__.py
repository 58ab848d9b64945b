"""linkis-magic: Apache Linkis from Jupyter.

The public names below are imported lazily (PEP 562 `__getattr__`), so that
`import linkis_magic.client` in a plain script pulls in neither IPython nor ipywidgets, and
`%load_ext linkis_magic` pays for the magics only when they are loaded.
"""

import importlib as _importlib
import logging as _logging
import typing as _typing

__version__ = "0.1.0"

# A library logs, the application decides where logs go: without this, Python's last-resort
# handler would print every warning (a failed kill, a routing notice) into notebook cells.
_logging.getLogger("linkis_magic").addHandler(_logging.NullHandler())

_EXPORTS: dict[str, str] = {
    # client side
    "LinkisClient": "linkis_magic.client",
    "Job": "linkis_magic.job",
    "JobSnapshot": "linkis_magic.job",
    "SubmitRequest": "linkis_magic.job",
    "JobGateway": "linkis_magic.job",
    "Clock": "linkis_magic.job",
    "ResultSet": "linkis_magic.results",
    "ExportSummary": "linkis_magic.results",
    "ExportedFile": "linkis_magic.results",
    "BinaryWriter": "linkis_magic.results",
    "Settings": "linkis_magic.config",
    # pushing a DataFrame (LinkisClient.stage / push)
    "StagedPush": "linkis_magic.client",
    "PushPlan": "linkis_magic._push",
    # authentication schemes (LinkisClient(auth=...))
    "Secret": "linkis_magic.auth",
    "Auth": "linkis_magic.auth",
    "NoAuth": "linkis_magic.auth",
    "TokenAuth": "linkis_magic.auth",
    "PasswordAuth": "linkis_magic.auth",
    # protocol records
    "JobStatus": "linkis_magic.protocol",
    "Progress": "linkis_magic.protocol",
    "StageProgress": "linkis_magic.protocol",
    "LogChunk": "linkis_magic.protocol",
    "TaskInfo": "linkis_magic.protocol",
    "TaskPage": "linkis_magic.protocol",
    "SubmitResult": "linkis_magic.protocol",
    "Column": "linkis_magic.protocol",
    "ResultKind": "linkis_magic.protocol",
    "TableInfo": "linkis_magic.protocol",
    "ColumnInfo": "linkis_magic.protocol",
    "DirEntry": "linkis_magic.protocol",
    "FileInfo": "linkis_magic.protocol",
    "FilePage": "linkis_magic.protocol",
    "EngineInfo": "linkis_magic.protocol",
    "Resources": "linkis_magic.protocol",
    "YarnApp": "linkis_magic.protocol",
    # exceptions
    "LinkisError": "linkis_magic.errors",
    "ConfigurationError": "linkis_magic.errors",
    "TransportError": "linkis_magic.errors",
    "TransportTimeout": "linkis_magic.errors",
    "ConnectionFailed": "linkis_magic.errors",
    "ProtocolError": "linkis_magic.errors",
    "GatewayError": "linkis_magic.errors",
    "NotLoggedInError": "linkis_magic.errors",
    "RequestFailedError": "linkis_magic.errors",
    "ValidationFailedError": "linkis_magic.errors",
    "PermissionDeniedError": "linkis_magic.errors",
    "JobError": "linkis_magic.errors",
    "JobFailed": "linkis_magic.errors",
    "JobCancelled": "linkis_magic.errors",
    "KillUnconfirmed": "linkis_magic.errors",
    "JobWaitTimeout": "linkis_magic.errors",
    "LinkisWarning": "linkis_magic.errors",
    "MetadataUnavailable": "linkis_magic.errors",
    # IPython side (importing these imports IPython)
    "LinkisMagics": "linkis_magic.magics",
    "LinkisInterrupted": "linkis_magic.magics",
}

#: Public names: every export above, plus the extension hooks and the version.
__all__ = sorted([*_EXPORTS, "__version__", "load_ipython_extension", "unload_ipython_extension"])

if _typing.TYPE_CHECKING:
    from linkis_magic.auth import Auth, NoAuth, PasswordAuth, Secret, TokenAuth
    from linkis_magic.client import LinkisClient
    from linkis_magic.config import Settings
    from linkis_magic.errors import (
        ConfigurationError,
        ConnectionFailed,
        GatewayError,
        JobCancelled,
        JobError,
        JobFailed,
        JobWaitTimeout,
        KillUnconfirmed,
        LinkisError,
        LinkisWarning,
        MetadataUnavailable,
        NotLoggedInError,
        PermissionDeniedError,
        ProtocolError,
        RequestFailedError,
        TransportError,
        TransportTimeout,
        ValidationFailedError,
    )
    from linkis_magic.job import Clock, Job, JobGateway, JobSnapshot, SubmitRequest
    from linkis_magic.magics import LinkisInterrupted, LinkisMagics
    from linkis_magic.protocol import (
        Column,
        ColumnInfo,
        DirEntry,
        EngineInfo,
        FileInfo,
        FilePage,
        JobStatus,
        LogChunk,
        Progress,
        Resources,
        StageProgress,
        SubmitResult,
        TableInfo,
        TaskInfo,
        TaskPage,
        YarnApp,
    )
    from linkis_magic.results import BinaryWriter, ExportedFile, ExportSummary, ResultSet


def __getattr__(name: str) -> _typing.Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'linkis_magic' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: _typing.Any) -> None:
    """`%load_ext linkis_magic`: register %%linkis / %linkis and the await rewriting."""
    from linkis_magic.magics import load

    load(ipython)


def unload_ipython_extension(ipython: _typing.Any) -> None:
    """`%unload_ext linkis_magic`: remove the magics, the hook and the client session."""
    from linkis_magic.magics import unload

    unload(ipython)
