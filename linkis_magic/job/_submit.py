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

__all__ = ["attach", "execute", "execute_body", "submit", "submit_body"]

_log = logging.getLogger("linkis_magic.job")

_UNFINISHED = ("Inited", "WaitForRetry", "Scheduled", "Running")
REAP_ATTEMPTS = 4  # jobhistory looks this many times for the task an interrupted submit left
REAP_INTERVAL = 0.25  # ... this far apart (the row may appear a moment after the POST)
REAP_SLACK = timedelta(seconds=5)  # clock skew allowed between us and the gateway


def _params(
    variables: Mapping[str, Any] | None,
    startup: Mapping[str, Any] | None,
    runtime: Mapping[str, Any] | None,
    special: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "variable": check_mapping(variables, "variables", stringify=True),
        "configuration": {
            "startup": check_mapping(startup, "startup", stringify=False),
            "runtime": check_mapping(runtime, "runtime", stringify=False),
            "special": check_mapping(special, "special", stringify=False),
        },
    }


def submit_body(
    code: str,
    *,
    user: str | None,
    run_type: str,
    engine_type: str,
    creator: str,
    variables: Mapping[str, Any] | None = None,
    runtime: Mapping[str, Any] | None = None,
    startup: Mapping[str, Any] | None = None,
    special: Mapping[str, Any] | None = None,
    source: Mapping[str, Any] | None = None,
    labels: Mapping[str, Any] | None = None,
    execute_user: str | None = None,
) -> dict[str, Any]:
    """The ``entrance/submit`` body (1.x), checked; raises ConfigurationError.

    ``execute_user`` (a proxy user) is sent as ``executeUser`` and names the ``userCreator``
    label, as linkis-cli does; Linkis honours it only for admin tokens (§17), and otherwise
    refuses the label with 50080 rather than run the job as someone else.
    """
    extra = check_mapping(labels, "labels", stringify=True)
    for reserved in ("engineType", "userCreator"):
        if reserved in extra:
            raise ConfigurationError(
                f"labels must not set {reserved!r}; use engine_type= / creator= instead"
            )
    all_labels: dict[str, Any] = {"engineType": check_engine(engine_type)}
    runs_as = None if execute_user is None else check_proxy_user(execute_user)
    if runs_as or user:
        all_labels["userCreator"] = f"{runs_as or user}-{check_creator(creator)}"
    all_labels.update(extra)
    body: dict[str, Any] = {
        "executionContent": {"code": check_code(code), "runType": check_run_type(run_type)},
        "labels": all_labels,
        "params": _params(variables, startup, runtime, special),
        "source": check_mapping(source, "source", stringify=True),
    }
    if runs_as:
        body["executeUser"] = runs_as
    return body


def execute_body(
    code: str,
    *,
    run_type: str,
    engine_type: str,
    creator: str,
    variables: Mapping[str, Any] | None = None,
    runtime: Mapping[str, Any] | None = None,
    startup: Mapping[str, Any] | None = None,
    special: Mapping[str, Any] | None = None,
    source: Mapping[str, Any] | None = None,
    labels: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``entrance/execute`` body (0.x); ``engine_type`` may omit the version."""
    engine_type = check_engine_name(engine_type)
    body: dict[str, Any] = {
        "executeApplicationName": engine_type.split("-", 1)[0],
        "requestApplicationName": check_creator(creator),
        "runType": check_run_type(run_type),
        "executionCode": check_code(code),
        "params": _params(variables, startup, runtime, special),
        "source": check_mapping(source, "source", stringify=True),
    }
    extra = check_mapping(labels, "labels", stringify=True)
    if "-" in engine_type:
        extra.setdefault("engineType", engine_type)
    if extra:
        body["labels"] = extra
    return body


def submit(
    gateway: JobGateway,
    code: str,
    *,
    creator: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    **options: Any,
) -> Job:
    """Submit code with the 1.x body; the Job is returned at once (not waited on)."""
    creator = gateway.creator if creator is None else creator
    body = submit_body(code, user=gateway.user, creator=creator, **options)
    return _send(gateway, gateway.submit_raw, body, code, creator, clock)


def execute(
    gateway: JobGateway,
    code: str,
    *,
    creator: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    **options: Any,
) -> Job:
    """Submit with the 0.x ``entrance/execute`` body; the Job is returned at once."""
    creator = gateway.creator if creator is None else creator
    body = execute_body(code, creator=creator, **options)
    return _send(gateway, gateway.execute_raw, body, code, creator, clock)


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
