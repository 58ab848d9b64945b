"""The optional Spark engine of the sandbox: real Spark jobs, real per-stage task counts.

Only loaded when the sandbox is started with ``--spark-master URL`` (pyspark is the
``linkis-magic[spark]`` extra). One SparkContext (the driver JVM) is shared by all jobs and
started on first use; each Linkis job runs in its own Spark job group, so progress can be read
per job from Spark's status tracker and a kill cancels exactly that group.

The driver binds and advertises 127.0.0.1, like the gateway itself; ``--spark-conf KEY=VALUE``
settings go on the session builder after the sandbox's defaults, so they override them (e.g.
``spark.driver.host`` and ``spark.driver.bindAddress`` for workers on other hosts). A given
``spark.driver.extraJavaOptions`` comes after the sandbox's own log4j2 option, which the
driver-log forwarding below needs.

An engine connection (`SparkEngineSession`, docs/linkis-protocol.md §14.2) is a session of its
own on that context (``newSession()``: its own temp views, SQL settings and current database;
tables are shared) plus the namespace of its python cells, kept between its jobs; every Spark
job it starts carries the engine's job tag. Killing it (§14.3) cancels every Spark job with
that tag, drops its temp views and forgets its namespace.

Progress is reported as Linkis's Spark engine does: one ``progressInfo`` entry per Spark job
(its stages' tasks added up) and the overall fraction of finished tasks.

Tables live in the session's catalog, with their files under ``<data-dir>/spark/warehouse``;
``catalog/spark.py`` lists them for the metadata routes through ``active_session`` (which
never starts Spark), and a SQL job's CREATE/DROP TABLE/VIEW is reported to the catalog's
``Owners`` with the job's user (docs/linkis-protocol.md §13.2 ``createdBy``).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import threading
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import sqlglot
import sqlglot.errors

from linkis_magic.sandbox import dolphin
from linkis_magic.sandbox.catalog.owners import Owners, ddl_targets, record
from linkis_magic.sandbox.engines import (
    PYTHON_RUN_TYPES,
    SQL_RUN_TYPES,
    EngineError,
    Footprint,
    JobContext,
    LogFn,
    substitute,
)
from linkis_magic.sandbox.workspace import local_path_text

_LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (\w+) (.*)$")

#: statements whose rows are a result set (DDL/DML return an empty frame in Spark)
_QUERY_KEYS = frozenset({"select", "with", "show", "describe", "desc", "explain", "values"})


def split_spark_sql(code: str) -> list[str]:
    """Statements of a cell in Spark SQL (sqlglot splits; comments and blanks dropped)."""
    try:
        parsed = sqlglot.parse(code, read="spark")
    except sqlglot.errors.ParseError as exc:
        raise EngineError(42001, f"SQL parse error (spark dialect): {exc}") from exc
    return [expr.sql(dialect="spark") for expr in parsed if expr is not None]


class SparkEngine:
    """Runs sql/hql and python cells of ``spark-*`` jobs on a shared SparkSession."""

    def __init__(
        self,
        master: str,
        work_dir: Path,
        *,
        owners: Owners | None = None,
        conf: Mapping[str, str] | None = None,
        hdfs_base: Path | None = None,
    ) -> None:
        self._master = master
        self._hdfs_base = hdfs_base
        self._conf = dict(conf or {})
        self._work_dir = work_dir
        self._owners = owners
        self._driver_log = work_dir / "driver.log"
        self._spark: Any = None
        self._lock = threading.Lock()
        self._stdout_lock = threading.Lock()  # redirect_stdout is process-wide
        self._tags = itertools.count(1)

    def _session(self, log: LogFn) -> Any:
        with self._lock:
            if self._spark is None:
                from pyspark.sql import SparkSession

                # The driver binds loopback like the sandbox itself unless --spark-conf says
                # otherwise (spark.driver.host/bindAddress, set below, win over this).
                os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
                log_config = self._write_log_config()
                given = f" (--spark-conf: {', '.join(self._conf)})" if self._conf else ""
                log("INFO", f"Starting the shared SparkSession on master {self._master}{given}")
                java_options = f"-Dlog4j2.configurationFile=file:{log_config}"
                conf = dict(self._conf)
                if conf.get("spark.driver.extraJavaOptions"):
                    java_options += " " + conf.pop("spark.driver.extraJavaOptions")
                builder = (
                    SparkSession.builder.master(self._master)
                    .appName("linkis-sandbox")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "8")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.sql.warehouse.dir", str(self._work_dir / "warehouse"))
                    .config("spark.driver.extraJavaOptions", java_options)
                )
                for key, value in conf.items():  # after the defaults: they override them
                    builder = builder.config(key, value)
                self._spark = builder.getOrCreate()
            return self._spark

    def _write_log_config(self) -> Path:
        """log4j2 for the driver: WARN and up, plus the DAGScheduler's job/stage lines, into a
        file each job tails into its own log (Linkis shows the engine's log the same way)."""
        self._work_dir.mkdir(parents=True, exist_ok=True)
        path = self._work_dir / "log4j2.properties"
        path.write_text(
            "rootLogger.level = warn\n"
            "rootLogger.appenderRef.file.ref = file\n"
            "appender.file.type = File\n"
            "appender.file.name = file\n"
            f"appender.file.fileName = {self._driver_log}\n"
            "appender.file.layout.type = PatternLayout\n"
            "appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss.SSS} %p %c{1}: %m%n\n"
            "logger.dag.name = org.apache.spark.scheduler.DAGScheduler\n"
            "logger.dag.level = info\n",
            encoding="utf-8",
        )
        return path

    def _forward_driver_log(self, ctx: JobContext, offset: int) -> int:
        """Copy driver log lines written since ``offset`` into the job's log, with levels.

        Jobs running at the same time share one driver, so their lines may interleave."""
        try:
            with self._driver_log.open("rb") as handle:
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return offset
        end = data.rfind(b"\n") + 1  # whole lines only; the rest comes next time
        for raw in data[:end].decode("utf-8", "replace").splitlines():
            match = _LOG_LINE.match(raw)
            if match:
                level = {"ERROR": "ERROR", "FATAL": "ERROR", "WARN": "WARN"}.get(
                    match.group(1), "INFO"
                )
                ctx.log(level, f"[spark driver] {match.group(2)}")
            elif raw.strip():
                ctx.log("INFO", f"[spark driver] {raw}")
        return offset + end

    def _log_offset(self) -> int:
        try:
            return self._driver_log.stat().st_size
        except FileNotFoundError:
            return 0

    def active_session(self) -> Any | None:
        """The shared SparkSession if a job has started it, else None (never starts one)."""
        return self._spark

    def close(self) -> None:
        with self._lock:
            if self._spark is not None:
                self._spark.stop()
                self._spark = None

    def open(self, log: LogFn) -> SparkEngineSession:
        """A new engine connection: a session of its own on the shared SparkContext."""
        root = self._session(log)
        return SparkEngineSession(self, root.newSession(), f"linkis-ec-{next(self._tags)}")

    def footprint(self) -> Footprint:
        """The driver's memory setting and the context's parallelism (shared by all engines)."""
        spark = self._spark
        if spark is None:
            return Footprint()
        sc = spark.sparkContext
        memory = _bytes(sc.getConf().get("spark.driver.memory", "1g"))
        return Footprint(memory=memory, cores=max(1, int(sc.defaultParallelism)))

    def driver_pid(self) -> int | None:
        """The driver JVM's process id (pyspark keeps the process it launched)."""
        spark = self._spark
        if spark is None:
            return None
        proc = getattr(getattr(spark.sparkContext, "_gateway", None), "proc", None)
        return getattr(proc, "pid", None) or os.getpid()

    def run(self, ctx: JobContext, spark: Any, tag: str, scope: dict[str, Any]) -> None:
        """Run a job on an engine's session `spark`; its Spark jobs carry `tag`, its python
        cells run in `scope`."""
        if ctx.run_type not in SQL_RUN_TYPES and ctx.run_type not in PYTHON_RUN_TYPES:
            raise EngineError(
                31002,
                f"runType {ctx.run_type!r} is not supported by the sandbox's Spark engine "
                "(pyspark): use sql/hql or py/python",
            )
        sc = spark.sparkContext
        group = f"linkis-task-{ctx.task_id}"
        done = threading.Event()
        log_offset = [self._log_offset()]
        poller = threading.Thread(
            target=self._poll_progress, args=(ctx, sc, group, done, log_offset), daemon=True
        )
        unregister = ctx.on_cancel(lambda: sc.cancelJobGroup(group))
        # Job groups and tags are thread-local properties (pinned threads, Spark >= 3.2): set
        # here, on the worker thread that runs the job's actions.
        sc.setJobGroup(group, f"Linkis task {ctx.task_id}", interruptOnCancel=True)
        sc.addJobTag(tag)
        poller.start()

        def collected() -> None:
            # Spark's tasks are done once the rows are on the driver: say so now rather than
            # at the next poller tick, so clients know only the result write is left.
            with contextlib.suppress(Exception):
                self._report(ctx, sc, group)

        try:
            if ctx.run_type in SQL_RUN_TYPES:
                self._run_sql(ctx, spark, collected)
            else:
                self._run_python(ctx, spark, scope, collected)
        except EngineError:
            raise
        except Exception as exc:
            if ctx.cancelled:
                ctx.log("WARN", "Spark job group cancelled: the job was killed")
                return
            raise EngineError(43001, f"Spark error: {_short(exc)}") from exc
        finally:
            done.set()
            poller.join(timeout=5)
            log_offset[0] = self._forward_driver_log(ctx, log_offset[0])
            unregister()
            sc.removeJobTag(tag)
            sc.setLocalProperty("spark.jobGroup.id", None)
        self._report(ctx, sc, group)

    # -- code ------------------------------------------------------------------------------

    def _run_sql(self, ctx: JobContext, spark: Any, collected: Callable[[], None]) -> None:
        code = substitute(ctx.code, ctx.variables, strict=True)
        if self._hdfs_base is not None:  # the sandbox's HDFS is a local directory
            code = local_path_text(code, self._hdfs_base)
        statements = split_spark_sql(code)
        if not statements:
            raise EngineError(30010, "code is empty after preprocessing (only comments?)")
        for index, sql in enumerate(statements, 1):
            if ctx.cancelled:
                return
            ctx.log("INFO", f"Spark SQL statement {index}/{len(statements)}: {sql[:200]}")
            frame = spark.sql(sql)
            keyword = sql.lstrip("( \n\t").split(None, 1)[0].lower() if sql.strip() else ""
            if keyword in _QUERY_KEYS and frame.columns:
                self._write_frame(ctx, frame, collected)
            else:
                frame.collect()  # run DDL/DML eagerly in this job group
                self._record_ddl(ctx, spark, sql)

    def _record_ddl(self, ctx: JobContext, spark: Any, sql: str) -> None:
        """Tell the catalog who created or dropped a table or view (§13.2 `createdBy`)."""
        targets = ddl_targets(sql, "spark")
        if not targets or self._owners is None:
            return
        try:
            current = spark.catalog.currentDatabase()
            record(self._owners, targets, current_db=current, user=ctx.user)
        except Exception as exc:  # bookkeeping only: the statement itself succeeded
            ctx.log("WARN", f"Could not record the table's owner for the catalog: {exc}")

    def _run_python(
        self, ctx: JobContext, spark: Any, scope: dict[str, Any], collected: Callable[[], None]
    ) -> None:
        code = substitute(ctx.code, ctx.variables, strict=False)
        out = io.StringIO()
        scope.update(
            spark=spark,
            sc=spark.sparkContext,
            linkis_show=lambda frame: self._write_frame(ctx, frame, collected),
        )
        with self._stdout_lock, contextlib.redirect_stdout(out):
            try:
                exec(compile(code, f"<linkis task {ctx.task_id}>", "exec"), scope)
            except Exception as exc:
                if ctx.cancelled:
                    return
                for line in traceback.format_exc().splitlines():
                    ctx.log("ERROR", line)
                raise EngineError(43001, f"Python error: {_short(exc)}") from exc
        text = out.getvalue()
        if text:
            dolphin.write_text(ctx.next_result_path(), text.rstrip("\n").split("\n"))

    def _write_frame(self, ctx: JobContext, frame: Any, collected: Callable[[], None]) -> None:
        """Collect a Spark DataFrame as Arrow and store it as a .dolphin table."""
        table = frame.toArrow() if hasattr(frame, "toArrow") else _collect_arrow(frame)
        collected()
        ctx.log("INFO", f"Collected {table.num_rows} rows from Spark; writing the result set")
        rows = dolphin.write_arrow(ctx.next_result_path(), table)
        ctx.log("INFO", f"Result set written: {rows} rows x {len(frame.columns)} columns")

    # -- progress ----------------------------------------------------------------------------

    def _poll_progress(
        self, ctx: JobContext, sc: Any, group: str, done: threading.Event, offset: list[int]
    ) -> None:
        while not done.wait(0.2):
            with contextlib.suppress(Exception):
                self._report(ctx, sc, group)
            offset[0] = self._forward_driver_log(ctx, offset[0])

    def _report(self, ctx: JobContext, sc: Any, group: str) -> None:
        tracker = sc.statusTracker()
        entries: list[dict[str, Any]] = []
        for job_id in sorted(tracker.getJobIdsForGroup(group)):
            info = tracker.getJobInfo(job_id)
            if info is None:
                continue
            total = done_tasks = running = failed = 0
            for stage_id in info.stageIds:
                stage = tracker.getStageInfo(stage_id)
                if stage is None:
                    continue
                total += stage.numTasks
                done_tasks += stage.numCompletedTasks
                running += stage.numActiveTasks
                failed += stage.numFailedTasks
            if info.status == "SUCCEEDED":
                done_tasks, running = max(done_tasks, total - failed), 0
            entries.append(
                {
                    "id": f"jobId-{job_id}(linkis-spark-{ctx.task_id})",
                    "succeedTasks": done_tasks,
                    "failedTasks": failed,
                    "runningTasks": running,
                    "totalTasks": total,
                }
            )
        entries = [e for e in entries if e["totalTasks"] > 0]
        if not entries:
            return
        total_all = sum(e["totalTasks"] for e in entries)
        fraction = sum(e["succeedTasks"] for e in entries) / total_all
        ctx.progress(min(fraction, 1.0), entries)


class SparkEngineSession:
    """A Spark engine connection: its session on the shared context, its job tag, the
    namespace of its python cells."""

    def __init__(self, engine: SparkEngine, spark: Any, tag: str) -> None:
        self._engine = engine
        self._spark = spark
        self._tag = tag
        self._scope: dict[str, Any] = {}
        self._closed = False
        self.pid: int | None = engine.driver_pid()

    def run(self, ctx: JobContext) -> None:
        if self._closed:
            raise EngineError(21002, "the engine's Spark session is closed")
        self._engine.run(ctx, self._spark, self._tag, self._scope)

    def alive(self) -> bool:
        return not self._closed and self._engine.active_session() is not None

    def footprint(self) -> Footprint:
        return self._engine.footprint()

    def close(self) -> None:
        """Cancel the engine's Spark jobs, drop its temp views, forget its namespace."""
        if self._closed:
            return
        self._closed = True
        self._scope.clear()
        with contextlib.suppress(Exception):  # the context may already be stopped
            self._spark.sparkContext.cancelJobsWithTag(self._tag)
            catalog = self._spark.catalog
            for table in catalog.listTables():
                if table.isTemporary:
                    catalog.dropTempView(table.name)


def _bytes(size: str) -> int:
    """Spark's size strings (`1g`, `512m`, `2048k`, bytes) in bytes."""
    text = size.strip().lower().rstrip("b")
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        return 1 << 30


def _collect_arrow(frame: Any) -> Any:
    """Spark 3.x: the Arrow batches behind toPandas(), as one pyarrow Table."""
    import pyarrow as pa

    batches = frame._collect_as_arrow()
    if batches:
        return pa.Table.from_batches(batches)
    from pyspark.sql.pandas.types import to_arrow_schema

    return pa.Table.from_batches([], schema=to_arrow_schema(frame.schema))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__
