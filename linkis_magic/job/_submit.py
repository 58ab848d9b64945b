"""Starting jobs: the 1.x submit body, the 0.x execute body, re-attaching by taskID.

The bodies follow docs/linkis-protocol.md §3.2-§3.3: ``labels.engineType`` needs
``<engine>-<version>``, ``userCreator`` is ``<user>-<creator>`` with exactly one ``-``, and
variables/configuration go under ``params``. Everything is checked before the POST, because
Linkis reports some of these mistakes only after storing a failed task (§10.13).

A submit is sent once and never retried (a resend could start the job twice). Ctrl-C while the
POST is in flight leaves the caller without an execID although the gateway may already run the
job; jobhistory then finds it (same creator and code, created since the submit began, not
finished) and it is killed before the KeyboardInterrupt goes on, so nothing keeps running unseen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from linkis_magic._validate import (
    check_code,
    check_creator,
    check_engine,
    check_engine_name,
    check_mapping,
    check_proxy_user,
    check_run_type,
    check_task_id,
)
from linkis_magic.errors import ConfigurationError
from linkis_magic.job._clock import SYSTEM_CLOCK, Clock
from linkis_magic.job._gateway import JobGateway
from linkis_magic.job._job import Job
from linkis_magic.protocol import SubmitResult

__all__ = ["SubmitRequest", "attach", "execute", "execute_body", "submit", "submit_body"]

_log = logging.getLogger("linkis_magic.job")

_UNFINISHED = ("Inited", "WaitForRetry", "Scheduled", "Running")
REAP_ATTEMPTS = 4  # jobhistory looks this many times for the task an interrupted submit left
REAP_INTERVAL = 0.25  # ... this far apart (the row may appear a moment after the POST)
REAP_SLACK = timedelta(seconds=5)  # clock skew allowed between us and the gateway


@dataclass(frozen=True, kw_only=True)
class SubmitRequest:
    """What to run and how, in one typed record: the arguments of ``LinkisClient.submit`` and
    ``execute``, written once and checked when a body is built from it (before any request).

    ``creator`` None means the client's; ``engine_type`` needs ``<engine>-<version>`` for the
    1.x body (the 0.x body also takes a bare engine name); ``variables`` become
    ``params.variable`` (stringified), ``startup``/``runtime``/``special`` go under
    ``params.configuration``, ``labels`` are extra job labels.
    """

    code: str
    run_type: str = "sql"
    engine_type: str
    creator: str | None = None
    variables: Mapping[str, Any] | None = None
    runtime: Mapping[str, Any] | None = None
    startup: Mapping[str, Any] | None = None
    special: Mapping[str, Any] | None = None
    source: Mapping[str, Any] | None = None
    labels: Mapping[str, Any] | None = None
    execute_user: str | None = None


def _params(request: SubmitRequest) -> dict[str, Any]:
    return {
        "variable": check_mapping(request.variables, "variables", stringify=True),
        "configuration": {
            "startup": check_mapping(request.startup, "startup", stringify=False),
            "runtime": check_mapping(request.runtime, "runtime", stringify=False),
            "special": check_mapping(request.special, "special", stringify=False),
        },
    }


def submit_body(request: SubmitRequest, *, user: str | None, creator: str) -> dict[str, Any]:
    """The ``entrance/submit`` body (1.x), checked; raises ConfigurationError.

    ``request.execute_user`` (a proxy user) is sent as ``executeUser`` and names the
    ``userCreator`` label, as linkis-cli does; Linkis honours it only for admin tokens, and
    otherwise refuses the label with 50080 rather than run the job as someone else.
    """
    extra = check_mapping(request.labels, "labels", stringify=True)
    for reserved in ("engineType", "userCreator"):
        if reserved in extra:
            raise ConfigurationError(
                f"labels must not set {reserved!r}; use engine_type= / creator= instead"
            )
    all_labels: dict[str, Any] = {"engineType": check_engine(request.engine_type)}
    execute_user = request.execute_user
    runs_as = None if execute_user is None else check_proxy_user(execute_user)
    if runs_as or user:
        all_labels["userCreator"] = f"{runs_as or user}-{check_creator(creator)}"
    all_labels.update(extra)
    body: dict[str, Any] = {
        "executionContent": {
            "code": check_code(request.code),
            "runType": check_run_type(request.run_type),
        },
        "labels": all_labels,
        "params": _params(request),
        "source": check_mapping(request.source, "source", stringify=True),
    }
    if runs_as:
        body["executeUser"] = runs_as
    return body


def execute_body(request: SubmitRequest, *, creator: str) -> dict[str, Any]:
    """The ``entrance/execute`` body (0.x); ``engine_type`` may omit the version."""
    if request.execute_user is not None:
        raise ConfigurationError(
            "execute_user is sent as executeUser, which only entrance/submit reads: "
            "use submit() (the 1.x API)"
        )
    engine_type = check_engine_name(request.engine_type)
    body: dict[str, Any] = {
        "executeApplicationName": engine_type.split("-", 1)[0],
        "requestApplicationName": check_creator(creator),
        "runType": check_run_type(request.run_type),
        "executionCode": check_code(request.code),
        "params": _params(request),
        "source": check_mapping(request.source, "source", stringify=True),
    }
    extra = check_mapping(request.labels, "labels", stringify=True)
    if "-" in engine_type:
        extra.setdefault("engineType", engine_type)
    if extra:
        body["labels"] = extra
    return body


def submit(gateway: JobGateway, request: SubmitRequest, *, clock: Clock = SYSTEM_CLOCK) -> Job:
    """Submit a request with the 1.x body; the Job is returned at once (not waited on)."""
    creator = gateway.creator if request.creator is None else request.creator
    body = submit_body(request, user=gateway.user, creator=creator)
    return _send(gateway, gateway.submit_raw, body, request.code, creator, clock)


def execute(gateway: JobGateway, request: SubmitRequest, *, clock: Clock = SYSTEM_CLOCK) -> Job:
    """Submit a request with the 0.x ``entrance/execute`` body; the Job is returned at once."""
    creator = gateway.creator if request.creator is None else request.creator
    body = execute_body(request, creator=creator)
    return _send(gateway, gateway.execute_raw, body, request.code, creator, clock)


def attach(gateway: JobGateway, task_id: int, *, clock: Clock = SYSTEM_CLOCK) -> Job:
    """A Job for an earlier task (its execID recovered from jobhistory)."""
    info = gateway.task(check_task_id(task_id))
    job = Job(gateway, info.exec_id, info.task_id, submitted_at=info.created_time, clock=clock)
    return job


def _send(
    gateway: JobGateway,
    send: Callable[[dict[str, Any]], SubmitResult],
    body: dict[str, Any],
    code: str,
    creator: str,
    clock: Clock,
) -> Job:
    """POST a body once; on Ctrl-C, find and kill what it may have started."""
    started = clock.now()
    since = datetime.now(timezone.utc)
    try:
        result = send(body)
    except KeyboardInterrupt:
        _reap(gateway, code, creator, since, clock)
        raise
    return Job(gateway, result.exec_id, result.task_id, submitted_at=started, clock=clock)


def _reap(gateway: JobGateway, code: str, creator: str, since: datetime, clock: Clock) -> None:
    """Kill the job an interrupted submit may have created (best effort, never raises)."""
    try:
        for attempt in range(REAP_ATTEMPTS):
            if attempt:
                clock.sleep(REAP_INTERVAL)
            page = gateway.tasks(
                creator=creator, status=_UNFINISHED, start=since - REAP_SLACK, page_size=50
            )
            found = [t for t in page.tasks if t.execution_code == code and t.exec_id]
            for task in found:
                assert task.exec_id is not None
                gateway.kill(task.exec_id, task_id=task.task_id)
                _log.warning("killed Linkis task %s left by an interrupted submit", task.task_id)
            if found:
                return
    except Exception as exc:  # the interrupt must win
        _log.warning("could not clean up after an interrupted submit: %s", exc)
