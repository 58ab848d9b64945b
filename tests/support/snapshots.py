"""Snapshot and result factories for display tests (also sent as source into test kernels).

Each factory imports what it needs inside its body, so ``inspect.getsource`` of it runs as is in
a kernel that has linkis_magic installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def make_snap(
    state: str = "Running",
    *,
    progress: float = 0.0,
    stages: Sequence[tuple[str, int, int, int, int]] = (),
    new: Sequence[str] = (),
    tail: Sequence[str] = (),
    errors: Sequence[str] = (),
    elapsed: float = 1.0,
    err_code: int | None = None,
    err_desc: str | None = None,
    task_id: int | None = 17,
    notices: Sequence[str] = (),
    exec_id: str | None = "exec_id018007linkis-cg-entranceb0:9104IDE_alice_spark_0",
    resources: Any = None,
    unreachable_since: Any = None,
) -> Any:
    """Build a JobSnapshot (stages are ``(id, succeeded, failed, running, total)``;
    ``resources`` from :func:`make_resources`).

    The default execID is well-formed (docs/linkis-protocol.md §3.1): short job id
    ``IDE_alice_spark_0`` after the application name and the 7-character instance.
    """
    from linkis_magic.job import JobSnapshot
    from linkis_magic.protocol import JobStatus, StageProgress

    status = JobStatus(state)
    return JobSnapshot(
        exec_id=exec_id,
        task_id=task_id,
        state=status,
        elapsed=elapsed,
        progress=progress,
        stages=tuple(StageProgress(*s) for s in stages),
        new_log_lines=tuple(new),
        log_tail=tuple(tail),
        error_lines=tuple(errors),
        err_code=err_code,
        err_desc=err_desc,
        done=status.is_terminal,
        notices=tuple(notices),
        resources=resources,
        unreachable_since=unreachable_since,
    )


def make_resources(
    *apps: tuple[str, str | None, float, int],
    core_share: float | None = 0.25,
    memory_share: float | None = 0.12,
) -> Any:
    """Build the Resources of a snapshot: one YarnApp per ``(application id, queue, memory GiB,
    cores)``, and the job's shares of the queue as fractions (docs/linkis-protocol.md §14.1)."""
    from linkis_magic.protocol import Resources, YarnApp

    return Resources(
        apps=tuple(
            YarnApp(app_id, queue, int(gib * 2**30), cores, 2, "RUNNING")
            for app_id, queue, gib, cores in apps
        ),
        core_share=core_share,
        memory_share=memory_share,
    )


def table_result(index: int, rows: int, cols: int) -> Any:
    """A loaded table ResultSet with ``rows`` rows and ``cols`` int columns."""
    from linkis_magic.protocol import Column
    from linkis_magic.results import ResultSet

    columns = tuple(Column(f"c{i}", "int", None) for i in range(cols))
    return ResultSet(index, f"/tmp/_{index}.dolphin", "2", None, None, columns, rows, False)


def frame(rows: int, cols: int) -> Any:
    """A DataFrame of ``rows`` × ``cols`` ints (columns ``c0``, ``c1``, ...)."""
    import pandas as pd

    return pd.DataFrame({f"c{c}": [r * 10 + c for r in range(rows)] for c in range(cols)})
