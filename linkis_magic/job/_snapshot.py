"""JobSnapshot: one frozen frame of a job's state, for displays on any thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linkis_magic.protocol import JobStatus, Resources, StageProgress

__all__ = ["JobSnapshot"]


@dataclass(frozen=True)
class JobSnapshot:
    """What a display needs to draw one frame; frozen so it can cross threads safely.

    ``new_log_lines`` are the lines after the cursor the caller passed to ``Job.snapshot``
    (``log_count`` is the cursor for the next call). ``notices`` are messages the user should
    see once, such as a gateway that can no longer route calls to the job's entrance.
    ``resources`` are the YARN applications the job holds, when the gateway reports them.
    ``unreachable_since`` is the (local, aware) time the gateway stopped answering the job's
    polls, None while it answers: displays say so once and clear it when it answers again.
    """

    exec_id: str | None
    task_id: int | None
    state: JobStatus | None
    elapsed: float
    progress: float
    stages: tuple[StageProgress, ...]
    new_log_lines: tuple[str, ...]
    log_tail: tuple[str, ...]
    error_lines: tuple[str, ...]
    err_code: int | None
    err_desc: str | None
    done: bool
    log_count: int = 0
    notices: tuple[str, ...] = ()
    resources: Resources | None = None
    unreachable_since: datetime | None = None
