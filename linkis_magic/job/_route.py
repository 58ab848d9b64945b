"""Where the calls for one job go: the entrance while it holds the job, jobhistory after.

The entrance knows a job only while it keeps it in memory; after that, or when the gateway
cannot route to the entrance instance at all, its calls fail and jobhistory (the database) is the
source of truth (docs/linkis-protocol.md §3.5, §3.7, §1.5). This module is the one place that
makes that switch: every entrance call of a Job goes through :meth:`Route.entrance`, which
returns :data:`GONE` once the entrance cannot answer for the job, and the caller reads jobhistory
instead (``status`` and ``progress`` here do so for their callers). At completion the entrance
can be ahead of jobhistory (§4.1): ``settle`` reads jobhistory until it agrees, briefly, before
``resultLocation`` and ``errCode`` are trusted.

A routing failure (HTTP 200 with status 1, for example errCode 11011 "Cannot find a correct
ServiceInstance" when the entrance instance is offline) is worth telling the user about: the
route keeps the gateway's message as a notice. An entrance that merely forgot a finished job
(HTTP 400) is normal and switches silently.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Final, TypeVar

from linkis_magic._transport import aside
from linkis_magic.errors import (
    GatewayError,
    JobError,
    LinkisError,
    NotLoggedInError,
)
from linkis_magic.job._clock import Clock
from linkis_magic.job._gateway import JobGateway
from linkis_magic.protocol import JobStatus, Progress, TaskInfo

__all__ = ["GONE", "Gone", "Route"]

_log = logging.getLogger("linkis_magic.job")

HISTORY_LAG = 5.0  # how long to wait for jobhistory to agree with the entrance at completion
LOCATION_LAG = 0.3  # ... and for resultLocation once jobhistory says Succeed

T = TypeVar("T")


class Gone:
    """Marker: the entrance no longer answers for this job."""

    def __repr__(self) -> str:
        return "GONE"


GONE: Final = Gone()


class Route:
    """The entrance-or-jobhistory switch for one job, plus its last jobhistory row."""

    def __init__(self, gateway: JobGateway, exec_id: str | None, task_id: int | None) -> None:
        if exec_id is None and task_id is None:
            raise JobError("a job needs an execID or a taskID (got neither)")
        self.gateway = gateway
        self.exec_id = exec_id
        self.task_id = task_id
        self.gone = exec_id is None
        self.task: TaskInfo | None = None
        self.notices: tuple[str, ...] = ()
        self._settled = False
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """How messages name the job: its taskID when known, else its execID."""
        return str(self.task_id) if self.task_id is not None else str(self.exec_id)

    def entrance(self, call: Callable[[str], T]) -> T | Gone:
        """Call the entrance for this job, or GONE once it cannot answer (then: jobhistory).

        Without a taskID there is nothing to fall back to, so entrance errors are raised.
        """
        exec_id = self.exec_id
        if self.gone or exec_id is None:
            return GONE
        try:
            return call(exec_id)
        except NotLoggedInError:
            raise
        except GatewayError as exc:
            return self._failed(exc)

    def _failed(self, exc: GatewayError) -> Gone:
        """An entrance call failed: switch to jobhistory (without a taskID: raise it)."""
        if self.task_id is None:
            raise exc
        self.leave(exc)
        return GONE

    def leave(self, exc: GatewayError) -> None:
        """Stop asking the entrance; keep a notice when the gateway could not route the call."""
        with self._lock:
            if self.gone:
                return
            self.gone = True
        if exc.http_status == 200:  # a routing failure, not an entrance that forgot the job
            self.notices += (
                f"The gateway could not reach the job's entrance ({exc.brief}). "
                "Following the job through jobhistory now.",
            )
            _log.warning("Linkis job %s: %s", self.name, self.notices[-1])
        else:
            _log.debug("entrance forgot job %s (%s); using jobhistory", self.name, exc)

    def history(self, *, timeout: float | None = None) -> TaskInfo:
        """Read the job's jobhistory row (and learn its execID if it was unknown)."""
        if self.task_id is None:
            raise JobError(
                f"Linkis job {self.exec_id} is gone from the entrance and has no taskID",
                exec_id=self.exec_id,
            )
        task = self.gateway.task(self.task_id, timeout=timeout)
        self.task = task
        if self.exec_id is None and task.exec_id:
            self.exec_id = task.exec_id
        return task

    def history_aside(self) -> Future[TaskInfo] | None:
        """Start reading the jobhistory row on a helper thread (while the caller asks the
        entrance for the status), or None when there is nothing to gain: no taskID, the row
        already settled, or the entrance gone (then the status comes from jobhistory anyway).
        Hand the future to :meth:`take_aside`."""
        if self.task_id is None or self.gone or self._settled:
            return None
        task_id, gateway = self.task_id, self.gateway
        return aside(lambda: gateway.task(task_id))

    def take_aside(self, row: Future[TaskInfo] | None) -> TaskInfo | None:
        """The row a :meth:`history_aside` read, kept as the last one seen; None when it
        failed (it was only a head start: ``settle`` reads again when it needs the row)."""
        if row is None:
            return None
        try:
            task = row.result()
        except LinkisError as exc:
            _log.debug("jobhistory read beside the status of job %s failed: %s", self.name, exc)
            return None
        self.task = task
        return task

    def known_task(self) -> TaskInfo:
        """The last jobhistory row read, or a fresh one."""
        return self.task if self.task is not None else self.history()

    def status(self, *, timeout: float | None = None) -> JobStatus:
        """The state from the entrance, or from jobhistory once the entrance cannot answer."""
        gateway, task_id = self.gateway, self.task_id
        state = self.entrance(
            lambda exec_id: gateway.status(exec_id, task_id=task_id, timeout=timeout)
        )
        if isinstance(state, Gone):
            return self.history(timeout=timeout).status
        return state

    def progress(self) -> Progress:
        """Progress from the entrance (with the job's YARN use where the gateway has
        ``progressWithResource``, §14.1, which the client finds out), or jobhistory's overall
        figure after it."""
        gateway = self.gateway
        found = self.entrance(lambda exec_id: gateway.progress(exec_id, with_resources=True))
        if isinstance(found, Gone):
            return Progress(self.known_task().progress, ())
        return found

    def settle(self, state: JobStatus, clock: Clock, seen: TaskInfo | None = None) -> None:
        """At completion, read jobhistory until it is terminal too (the database can lag).

        ``seen`` is a row read beside the status call that saw the end: when it already
        agrees, no further read is needed.
        """
        if self._settled or self.task_id is None:
            return
        begin = clock.now()
        delay = 0.02
        while True:
            task, seen = (self.history() if seen is None else seen), None
            waited = clock.now() - begin
            if task.status.is_terminal and (
                state is not JobStatus.SUCCEED
                or task.result_location is not None
                or waited >= LOCATION_LAG  # a job without result sets (DDL) has none
            ):
                break
            if waited >= HISTORY_LAG:
                break
            clock.sleep(delay)
            delay = min(delay * 2, 0.5)
        self._settled = True
