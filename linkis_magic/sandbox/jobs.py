"""Job lifecycle of the sandbox: queue, worker pool, states, per-job log, progress, kill.

States follow Linkis (docs/linkis-protocol.md §3.4): Inited on submit, Scheduled when a
worker takes the job (it then gets its engine from `engineconns.EngineConns`, reused or
started, §14.2), Running while the engine runs it, then Succeed / Failed / Cancelled. Every
transition is persisted to the `TaskStore` so jobhistory sees it, and so is the engine
(`engineInstance`, `isReuse`, §4.1). A job whose engine is killed ends Cancelled (§14.3).

Like Linkis's entrance, the manager holds jobs in memory only for a while: finished jobs are
forgotten after `retention_seconds` or when more than `retention_count` finished jobs are
held; then the entrance endpoints answer "job has ended" and clients fall back to jobhistory
and `openLog`. Both limits are CLI options so tests can exercise that path.

Log lines are `yyyy-MM-dd HH:mm:ss.SSS LEVEL text`, which is what Linkis's LogReader
classifies into the error/warn/info slots.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from linkis_magic.sandbox.engineconns import EngineConn, EngineConns, EngineKey
from linkis_magic.sandbox.engines import (
    PYTHON_RUN_TYPES,
    SHELL_RUN_TYPES,
    SQL_ENGINES,
    SQL_RUN_TYPES,
    EngineError,
    JobContext,
)
from linkis_magic.sandbox.store import TaskStore, exec_id_for, now_ms

TERMINAL = frozenset({"Succeed", "Failed", "Cancelled", "Timeout"})


def format_line(level: str, text: str, when: dt.datetime | None = None) -> str:
    """One log line in Linkis's layout (millisecond timestamp, level, text)."""
    when = when or dt.datetime.now()
    return f"{when:%Y-%m-%d %H:%M:%S}.{when.microsecond // 1000:03d} {level} {text}"


def file_uri(path: Path) -> str:
    """`file:///abs/path` as Linkis writes local paths."""
    return "file://" + path.resolve().as_posix()


@dataclass
class Job:
    """One submitted job as the entrance holds it in memory."""

    task_id: int
    exec_id: str
    user: str
    creator: str
    engine: str
    engine_version: str
    run_type: str
    code: str
    variables: Mapping[str, Any]
    log_file: Path
    result_dir: Path
    state: str = "Inited"
    progress: float = 0.0
    stages: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    finished_at: float | None = None
    started: bool = False
    ctx: JobContext | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _fh: IO[str] | None = None
    _closed: bool = False

    def log(self, level: str, text: str) -> None:
        """Append lines (one timestamped line per text line) to memory and the log file."""
        now = dt.datetime.now()
        new = [format_line(level, part, now) for part in (text.splitlines() or [""])]
        text = "".join(line + "\n" for line in new)
        with self.lock:
            self.lines.extend(new)
            if self._closed:  # a straggler after the job ended: append without keeping it open
                with self.log_file.open("a", encoding="utf-8") as fh:
                    fh.write(text)
                return
            if self._fh is None:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.log_file.open("a", encoding="utf-8")
            self._fh.write(text)
            self._fh.flush()

    def close_log(self) -> None:
        with self.lock:
            self._closed = True
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def snapshot_lines(self) -> list[str]:
        with self.lock:
            return list(self.lines)


class JobManager:
    """Accepts jobs, runs them on `workers` threads, and remembers finished ones a while."""

    def __init__(
        self,
        store: TaskStore,
        data_dir: Path,
        instance: str,
        *,
        workers: int = 4,
        retention_seconds: float = 3600.0,
        retention_count: int = 1000,
        engineconns: EngineConns,
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.instance = instance
        self.retention_seconds = retention_seconds
        self.retention_count = retention_count
        self.engineconns = engineconns
        self._jobs: dict[str, Job] = {}
        self._by_task: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._worker, name=f"sandbox-worker-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    # -- submission -----------------------------------------------------------------------

    def exec_id_for(self, short: str) -> str:
        """The full execID of a job of this entrance from its short id (the stored execId)."""
        return exec_id_for(self.instance, short)

    def persist_rejected(
        self,
        *,
        user: str,
        creator: str,
        engine_type: str | None,
        run_type: str | None,
        code: str,
        labels: list[str],
        params: Mapping[str, Any],
        source: Mapping[str, Any],
        err_code: int,
        err_desc: str,
    ) -> int:
        """An interceptor rejection: a Failed row exists, but the submitter gets no taskID."""
        now = now_ms()
        return self.store.create(
            instance=self.instance,
            submit_user=user,
            execute_user=user,
            status="Failed",
            err_code=err_code,
            err_desc=err_desc,
            end_time=now,
            engine_type=(engine_type or "").split("-", 1)[0] or None,
            run_type=run_type,
            creator=creator,
            labels=json.dumps(labels),
            execution_code=code,
            params_json=json.dumps(params, ensure_ascii=False),
            source_json=json.dumps(source, ensure_ascii=False),
        )

    def submit(
        self,
        *,
        user: str,
        creator: str,
        engine: str,
        engine_version: str,
        run_type: str,
        code: str,
        variables: Mapping[str, Any],
        labels: list[str],
        params: Mapping[str, Any],
        source: Mapping[str, Any],
    ) -> Job:
        """Persist the task (Inited), hold it in memory, queue it; returns the Job."""
        today = dt.date.today().isoformat()
        task_id = self.store.create(
            instance=self.instance,
            submit_user=user,
            execute_user=user,
            status="Inited",
            engine_type=engine,
            run_type=run_type,
            creator=creator,
            labels=json.dumps(labels),
            execution_code=code,
            params_json=json.dumps(params, ensure_ascii=False),
            source_json=json.dumps(source, ensure_ascii=False),
        )
        short = f"{creator}_{user}_{engine}_{task_id}"
        exec_id = self.exec_id_for(short)
        log_file = self.data_dir / "log" / today / creator / user / f"{task_id}.log"
        result_dir = self.data_dir / "result" / today / creator / user / str(task_id)
        job = Job(
            task_id=task_id,
            exec_id=exec_id,
            user=user,
            creator=creator,
            engine=engine,
            engine_version=engine_version,
            run_type=run_type,
            code=code,
            variables=dict(variables),
            log_file=log_file,
            result_dir=result_dir,
        )
        job.ctx = JobContext(
            task_id=task_id,
            user=user,
            code=code,
            run_type=run_type,
            engine=engine,
            engine_version=engine_version,
            variables=job.variables,
            result_dir=result_dir,
            log=job.log,
            progress=lambda p, s: self._set_progress(job, p, s),
        )
        self.store.update(
            task_id,
            exec_id=short,
            log_path=file_uri(log_file),
            result_location=file_uri(result_dir),
        )
        job.log(
            "INFO",
            f"Your job is accepted, jobID is {exec_id} and taskID is {task_id} in "
            f"{self.instance}. Please wait it to be scheduled",
        )
        with self._lock:
            self._jobs[exec_id] = job
            self._by_task[task_id] = job
        self._queue.put(job)
        self._reap()
        return job

    # -- lookup ---------------------------------------------------------------------------

    def get(self, exec_id: str) -> Job | None:
        self._reap()
        with self._lock:
            return self._jobs.get(exec_id)

    def _reap(self) -> None:
        """Forget finished jobs past the retention time or beyond the retention count."""
        now = time.monotonic()
        with self._lock:
            finished = sorted(
                (j for j in self._jobs.values() if j.finished_at is not None),
                key=lambda j: j.finished_at or 0.0,
            )
            excess = len(finished) - self.retention_count
            for index, job in enumerate(finished):
                expired = now - (job.finished_at or now) >= self.retention_seconds
                if expired or index < excess:
                    self._jobs.pop(job.exec_id, None)
                    self._by_task.pop(job.task_id, None)

    # -- kill -----------------------------------------------------------------------------

    def kill(self, job: Job, by_user: str) -> None:
        """Stop the job: a queued job ends Cancelled at once, a running one is interrupted."""
        assert job.ctx is not None
        with job.lock:
            started = job.started
            terminal = job.state in TERMINAL
            if not started and not terminal:
                job.started = True  # the worker will skip it
        if terminal:
            return
        job.log("WARN", f"Job {job.exec_id} is killed by user {by_user}")
        job.ctx.cancel()
        if not started:
            self._finish(job, "Cancelled", 31001, f"Job is killed by user {by_user}")

    def force_kill(self, task_id: int) -> bool:
        """Kill by taskID when the job is no longer held: mark the row Cancelled."""
        with self._lock:
            job = self._by_task.get(task_id)
        if job is not None:
            self.kill(job, job.user)
            return True
        row = self.store.get(task_id)
        if row is None:
            return False
        if row.status not in TERMINAL:
            self.store.update(
                task_id,
                status="Cancelled",
                err_code=31001,
                err_desc="Job is killed by user (forced)",
                end_time=now_ms(),
            )
        return True

    # -- execution ------------------------------------------------------------------------

    def _set_progress(self, job: Job, progress: float, stages: list[dict[str, Any]]) -> None:
        with job.lock:
            job.progress = max(0.0, min(progress, 1.0))
            job.stages = stages

    def _set_state(self, job: Job, state: str, **extra: Any) -> None:
        with job.lock:
            job.state = state
            progress = job.progress
        self.store.update(job.task_id, status=state, progress=progress, **extra)

    def _worker(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            except Exception:  # never let a worker die; the job is failed instead
                job.log("ERROR", traceback.format_exc())
                if job.state not in TERMINAL:
                    self._finish(job, "Failed", 10000, "internal sandbox error")

    def _run(self, job: Job) -> None:
        assert job.ctx is not None
        with job.lock:
            if job.started:
                return
            job.started = True
        self._set_state(job, "Scheduled")
        job.log("INFO", f"Job {job.exec_id} is scheduled on {self.instance}")
        kind = self._pick_engine(job)
        if kind is None:
            self._finish(
                job,
                "Failed",
                31002,
                f"The sandbox has no engine for engineType {job.engine!r} with runType "
                f"{job.run_type!r}: use runType sql/hql/jdbc (DuckDB), python or shell",
            )
            return
        key = EngineKey(job.user, job.creator, job.engine, job.engine_version, kind)
        try:
            conn, reused = self.engineconns.acquire(
                key, job.log, lambda reason: self._interrupt(job, reason)
            )
        except EngineError as exc:
            self._finish(job, *self._outcome(job, exc))
            return
        outcome = ("Failed", 10000, "internal sandbox error")
        try:
            self.store.update(
                job.task_id,
                engine_instance=conn.instance,
                ecm_instance=self.engineconns.ecm_instance,
                ticket_id=conn.ticket_id,
                is_reuse=int(reused),
            )
            outcome = self._execute(job, conn)
        finally:
            # the engine is idle again before the job's end is visible: the next job reuses it
            self.engineconns.release(conn, job.log, succeeded=outcome[0] == "Succeed")
        self._finish(job, *outcome)

    def _execute(self, job: Job, conn: EngineConn) -> tuple[str, int, str]:
        """Run the job on its engine: (state, errCode, errDesc)."""
        assert job.ctx is not None and conn.session is not None
        if job.ctx.cancelled:
            return self._outcome(job, None)
        self._set_state(job, "Running", engine_start_time=now_ms())
        job.log(
            "INFO",
            f"Job {job.exec_id} is running ({job.engine}, runType {job.run_type}) on engine "
            f"{conn.instance}",
        )
        try:
            conn.session.run(job.ctx)
        except EngineError as exc:
            return self._outcome(job, exc)
        return self._outcome(job, None)

    @staticmethod
    def _outcome(job: Job, exc: EngineError | None) -> tuple[str, int, str]:
        assert job.ctx is not None
        if job.ctx.cancelled:
            return "Cancelled", 31001, "Job is killed by user"
        if exc is not None:
            return "Failed", exc.code, exc.desc
        return "Succeed", 0, ""

    def _interrupt(self, job: Job, reason: str) -> None:
        """The job's engine is being stopped under it (§14.3): the job ends Cancelled."""
        assert job.ctx is not None
        job.log("WARN", f"Job {job.exec_id} is killed: {reason}")
        job.ctx.cancel()

    def _pick_engine(self, job: Job) -> str | None:
        """Which sandbox engine runs the job (`EngineKey.kind`), or None."""
        kinds = self.engineconns.kinds
        if job.engine == "spark" and "spark" in kinds:
            return "spark"  # --spark-master: every spark-* job runs on Spark
        if job.run_type in SQL_RUN_TYPES and job.engine in SQL_ENGINES:
            kind = "sql"
        elif job.run_type in PYTHON_RUN_TYPES:
            kind = "python"
        elif job.run_type in SHELL_RUN_TYPES:
            kind = "shell"
        else:
            return None
        return kind if kind in kinds else None

    def _finish(self, job: Job, state: str, err_code: int, err_desc: str) -> None:
        if state == "Failed":
            job.log("ERROR", f"errCode: {err_code}, errDesc: {err_desc}")
        if state == "Succeed":
            with job.lock:
                job.progress = 1.0
                for stage in job.stages:
                    stage.update(succeedTasks=stage["totalTasks"], runningTasks=0)
            job.log("INFO", "Congratulations. Your job completed with status Success.")
        else:
            job.log(
                "ERROR",
                f"Sorry. Your job completed with a status {state}. "
                "You can view logs for the reason.",
            )
        job.close_log()
        with job.lock:
            job.state = state
            job.finished_at = time.monotonic()
            progress = job.progress
        self.store.update(
            job.task_id,
            status=state,
            progress=progress,
            err_code=err_code,
            err_desc=err_desc,
            end_time=now_ms(),
        )

    def shutdown(self, timeout: float = 5.0) -> None:
        """Kill whatever still runs and stop the workers (sandbox exit)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.state not in TERMINAL:
                self.kill(job, "sandbox-shutdown")
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
