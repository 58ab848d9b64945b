"""Entrance records: job states, submit replies, status, progress and the 4-slot log.

The state names are Linkis's own spellings (§3.4); progress entries
carry per-stage task counts (§3.6); the log arrives as a 4-slot array, a single string or null,
with a 1-based ``fromLine`` cursor to echo back (§3.7). Section numbers (§) refer to
docs/linkis-protocol.md throughout the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from linkis_magic.errors import ProtocolError
from linkis_magic.protocol._manager import Resources, parse_resources
from linkis_magic.protocol._values import need_dict, opt_float, opt_int, short


class JobStatus(str, Enum):
    """The exact Linkis job states (§3.4); the values are Linkis's spellings."""

    INITED = "Inited"
    WAIT_FOR_RETRY = "WaitForRetry"
    SCHEDULED = "Scheduled"
    RUNNING = "Running"
    SUCCEED = "Succeed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    TIMEOUT = "Timeout"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True once the job can no longer change (Succeed, Failed, Cancelled, Timeout)."""
        return self in _TERMINAL

    @property
    def is_failure(self) -> bool:
        """True for Failed and Timeout (Cancelled is reported separately)."""
        return self in (JobStatus.FAILED, JobStatus.TIMEOUT)

    @classmethod
    def parse(cls, text: object) -> JobStatus:
        """Map a state name to the enum, ignoring case and surrounding blanks."""
        if isinstance(text, JobStatus):
            return text
        if isinstance(text, str):
            found = _STATUS_BY_LOWER.get(text.strip().lower())
            if found is not None:
                return found
        known = ", ".join(s.value for s in cls)
        raise ProtocolError(f"unknown Linkis job state {text!r}; expected one of {known}")


_TERMINAL = frozenset({JobStatus.SUCCEED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMEOUT})
_STATUS_BY_LOWER = {s.value.lower(): s for s in JobStatus}


@dataclass(frozen=True)
class SubmitResult:
    """What submit/execute hand back: the runtime execID and the database taskID."""

    exec_id: str
    task_id: int | None


def parse_submit(data: Any) -> SubmitResult:
    """Read ``{execID, taskID}``; taskID may be a number or a numeric string."""
    doc = need_dict(data, "the submit reply")
    exec_id = doc.get("execID")
    if not isinstance(exec_id, str) or not exec_id:
        raise ProtocolError(f"the submit reply has no execID: {short(doc)}")
    return SubmitResult(exec_id=exec_id, task_id=opt_int(doc.get("taskID")))


def parse_status(data: Any) -> JobStatus:
    """Read ``data.status`` of ``entrance/{execID}/status``."""
    return JobStatus.parse(need_dict(data, "the status reply").get("status"))


@dataclass(frozen=True)
class StageProgress:
    """One ``progressInfo`` entry (e.g. one Spark job) with its task counts."""

    id: str
    succeeded: int
    failed: int
    running: int
    total: int

    @property
    def fraction(self) -> float:
        """Share of tasks done (0.0 when the total is unknown)."""
        return min(1.0, self.succeeded / self.total) if self.total > 0 else 0.0


@dataclass(frozen=True)
class Progress:
    """Overall progress (0.0-1.0), one entry per stage, and the job's YARN use if reported."""

    progress: float
    stages: tuple[StageProgress, ...] = ()
    resources: Resources | None = None


def parse_progress(data: Any) -> Progress:
    """Read ``{progress, progressInfo}`` (and the ``yarnMetrics`` of progressWithResource, §14.1);
    progress may be a number or a string."""
    doc = need_dict(data, "the progress reply")
    stages = []
    for item in doc.get("progressInfo") or ():
        if isinstance(item, dict):
            stages.append(
                StageProgress(
                    id=str(item.get("id", "")),
                    succeeded=opt_int(item.get("succeedTasks")) or 0,
                    failed=opt_int(item.get("failedTasks")) or 0,
                    running=opt_int(item.get("runningTasks")) or 0,
                    total=opt_int(item.get("totalTasks")) or 0,
                )
            )
    value = abs(opt_float(doc.get("progress")))
    return Progress(progress=min(value, 1.0), stages=tuple(stages), resources=parse_resources(doc))


@dataclass(frozen=True)
class LogChunk:
    """New log lines; ``from_line`` is the 1-based cursor to send next time."""

    from_line: int
    lines: tuple[str, ...]
    error_lines: tuple[str, ...] = ()
    warn_lines: tuple[str, ...] = ()


def _split_lines(text: Any) -> tuple[str, ...]:
    if not isinstance(text, str) or text == "":
        return ()
    if text.endswith("\n"):
        text = text[:-1]
    return tuple(text.replace("\r\n", "\n").split("\n"))


def _log_slots(log: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(all, error, warn) lines from a 4-slot array, a single string, or null."""
    if isinstance(log, list):
        slots = [*log, "", "", "", ""][:4]
        return _split_lines(slots[3]), _split_lines(slots[0]), _split_lines(slots[1])
    return _split_lines(log), (), ()


def parse_log(data: Any, *, requested_from: int = 1) -> LogChunk:
    """Read ``entrance/{execID}/log``: display slot [3]; keep the echoed ``fromLine`` cursor."""
    doc = need_dict(data, "the log reply")
    lines, errors, warns = _log_slots(doc.get("log"))
    from_line = opt_int(doc.get("fromLine"))
    return LogChunk(
        from_line=requested_from if from_line is None else from_line,
        lines=lines,
        error_lines=errors,
        warn_lines=warns,
    )


def parse_open_log(data: Any) -> LogChunk:
    """Read ``filesystem/openLog`` (whole file; ``from_line`` = number of lines)."""
    doc = need_dict(data, "the openLog reply")
    lines, errors, warns = _log_slots(doc.get("log"))
    return LogChunk(from_line=len(lines), lines=lines, error_lines=errors, warn_lines=warns)


#: An error line by Linkis's own rule (§3.7): a timestamp followed by " ERROR " or
#: " SYSTEM-ERROR ". Used when the log arrives as one string without the error slot.
_ERROR_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})? (?:SYSTEM-)?ERROR ")


def is_error_line(line: str) -> bool:
    """True when Linkis would file ``line`` in the error slot of the log array."""
    return _ERROR_LINE.search(line) is not None
