"""What following a job needs from a gateway: the entrance, jobhistory and filesystem calls.

Jobs talk to the gateway through this structural interface rather than the client class, so
this package sits below the client in the layers (the client builds Jobs; Jobs do not import the
client). :class:`~linkis_magic.client.LinkisClient` satisfies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from linkis_magic.protocol import JobStatus, LogChunk, Progress, SubmitResult, TaskInfo, TaskPage
from linkis_magic.results import ResultSource  # no pandas: the package loads it lazily

__all__ = ["JobGateway"]


class JobGateway(ResultSource, Protocol):
    """The endpoints a Job calls (docs/linkis-protocol.md §3-§5) and the caller's identity."""

    user: str | None
    creator: str
    #: seconds a job's wait rides out a gateway that cannot be reached
    gateway_outage_timeout: float

    def submit_raw(self, body: Mapping[str, Any]) -> SubmitResult:
        """``entrance/submit``, sent once."""

    def execute_raw(self, body: Mapping[str, Any]) -> SubmitResult:
        """``entrance/execute`` (0.x body), sent once."""

    def status(
        self, exec_id: str, *, task_id: int | None = None, timeout: float | None = None
    ) -> JobStatus:
        """``entrance/{execID}/status``."""

    def progress(self, exec_id: str, *, with_resources: bool = False) -> Progress:
        """``entrance/{execID}/progress``; ``with_resources``: ``progressWithResource`` where
        the gateway has it, ``progress`` where it does not (the client finds out)."""

    def log(
        self,
        exec_id: str,
        *,
        from_line: int = 1,
        size: int | None = None,
        distinct_level: bool = True,
    ) -> LogChunk:
        """``entrance/{execID}/log`` from a 1-based line."""

    def kill(
        self, exec_id: str, *, task_id: int | None = None, timeout: float | None = None
    ) -> str:
        """``entrance/{execID}/kill``, sent once."""

    def task(self, task_id: int, *, timeout: float | None = None) -> TaskInfo:
        """``jobhistory/{taskID}/get``."""

    def tasks(
        self,
        *,
        page: int = 1,
        page_size: int = 20,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
        creator: str | None = None,
        engine_type: str | None = None,
        start: datetime | int | None = None,
        end: datetime | int | None = None,
    ) -> TaskPage:
        """``jobhistory/list``."""

    def open_log(self, path: str) -> LogChunk:
        """``filesystem/openLog``: a persisted log, whole."""
