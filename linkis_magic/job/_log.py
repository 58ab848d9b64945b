"""A job's log, read once: the entrance's ``fromLine`` cursor, then the persisted file.

While the entrance holds the job, the log is read with the 1-based ``fromLine`` cursor the server
echoes back, with a large ``size`` so a long log needs few calls and no line crosses the wire
twice (docs/linkis-protocol.md §3.7). ``distinctLevel=false`` asks for the log as one string,
so each line is sent once instead of twice (info slot and all-slot); error lines are then
recognised by Linkis's own rule. Once the entrance has forgotten the job (the route says GONE),
``openLog(logPath)`` returns the whole persisted file and the lines already shown are skipped
(§5.5); that whole-file read is repeated only every OPENLOG_INTERVAL seconds while the job runs.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any, NamedTuple

from linkis_magic.errors import GatewayError, ProtocolError
from linkis_magic.job._clock import Clock
from linkis_magic.job._gateway import JobGateway
from linkis_magic.job._route import Gone, Route
from linkis_magic.protocol import LogChunk, is_error_line

__all__ = ["LOG_PAGE", "LogCursor", "LogView"]

_log = logging.getLogger("linkis_magic.job")

LOG_PAGE = 10000  # lines per log call (Linkis maps size=-1 to 10000 as well)
OPENLOG_INTERVAL = 5.0  # openLog re-reads the whole file: rarely while a forgotten job runs


class LogView(NamedTuple):
    """What a snapshot shows of the log."""

    new: tuple[str, ...]  # lines after the caller's cursor
    tail: tuple[str, ...]  # the last lines
    errors: tuple[str, ...]  # the last error lines
    total: int  # lines seen so far (the next cursor)


def _read_page(gateway: JobGateway, exec_id: str, **options: Any) -> LogChunk:
    return gateway.log(exec_id, **options)


def _blank(line: str) -> bool:
    return not line.strip()


class LogCursor:
    """Every non-blank log line of one job, in order, with the error lines picked out."""

    def __init__(self, route: Route, clock: Clock) -> None:
        self._route = route
        self._clock = clock
        self._lock = threading.Lock()
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._from_line = 1
        self._last_openlog = float("-inf")

    def fetch(self, *, final: bool) -> int:
        """Read what is new; ``final`` drains to the end (and reads openLog now if needed).

        Returns the number of lines added.
        """
        added = 0
        gateway = self._route.gateway
        while True:
            start = self._from_line
            chunk = self._route.entrance(
                functools.partial(
                    _read_page, gateway, from_line=start, size=LOG_PAGE, distinct_level=False
                )
            )
            if isinstance(chunk, Gone):
                break
            added += self._append(chunk.lines, chunk.error_lines)
            self._from_line = max(self._from_line, chunk.from_line)
            if chunk.from_line - start < LOG_PAGE:  # a short page: nothing more right now
                return added
        return added + self._from_file(final)

    def _from_file(self, final: bool) -> int:
        if self._route.task_id is None:
            return 0
        now = self._clock.now()
        if not final and now - self._last_openlog < OPENLOG_INTERVAL:
            return 0
        self._last_openlog = now
        task = self._route.known_task()
        if not task.log_path:
            return 0
        try:
            whole = self._route.gateway.open_log(task.log_path)
        except (GatewayError, ProtocolError) as exc:  # best effort: the state is what matters
            _log.debug("openLog failed for job %s: %s", self._route.name, exc)
            return 0
        return self._append_whole(whole)

    def _append(self, lines: tuple[str, ...], error_lines: tuple[str, ...]) -> int:
        fresh = [line for line in lines if not _blank(line)]
        marked = set(error_lines)
        # slot [0] when the server sends it; the same rule (§3.7) when it does not
        errors = [line for line in fresh if line in marked or is_error_line(line)]
        with self._lock:
            self.lines.extend(fresh)
            self.errors.extend(errors)
        return len(fresh)

    def _append_whole(self, whole: LogChunk) -> int:
        """Add the part of a whole persisted log (openLog) that was not shown yet."""
        lines = [line for line in whole.lines if not _blank(line)]
        marked = set(whole.error_lines)
        with self._lock:
            fresh = lines[len(self.lines) :]
            self.lines.extend(fresh)
            self.errors.extend(x for x in fresh if x in marked or is_error_line(x))
        return len(fresh)

    def view(self, since: int, tail: int, error_tail: int) -> LogView:
        """A consistent view for a snapshot, read under one lock."""
        with self._lock:
            return LogView(
                new=tuple(self.lines[since:]),
                tail=tuple(self.lines[-tail:]),
                errors=tuple(self.errors[-error_tail:]),
                total=len(self.lines),
            )
