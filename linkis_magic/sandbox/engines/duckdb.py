"""The SQL engine of the sandbox: DuckDB, fed through sqlglot from the engine's dialect.

A Spark or Hive cell is parsed with sqlglot in the dialect its engineType implies and
generated as DuckDB SQL, one statement at a time; each statement that returns rows becomes
its own result set (`_0.dolphin`, `_1.dolphin`, …) like Linkis's SQL engines. Tables live in
one DuckDB file in the data directory, so a table created by one cell is visible to the next,
whoever runs it.

Progress: one progressInfo entry per statement, id `statement_<n>`, totalTasks 100 and
succeedTasks = DuckDB's `query_progress()` percentage (runningTasks = the rest while it runs,
failedTasks = the rest if it failed). The overall progress is the mean over statements.
A statement's entry is complete (100 succeeded, none running) as soon as DuckDB has produced
its rows, before they are written as a result set, as a Spark stage's tasks are all done
while the engine still writes the result: so while the last statement's result is written
the job reports progress 1.0 with every task done and stays Running until the file is
there, which is what a client watches for to see the end coming (docs/linkis-protocol.md
§3.6). DuckDB only reports progress with `enable_progress_bar` on and `progress_bar_time` 0
on the connection that runs the query, hence those settings on every engine connection,
polled from a helper thread.

Engine connections (`DuckDBSession`): each holds its own DuckDB connection to the shared file,
so tables are everyone's while a user's temp tables, settings and current schema stay in
their engine between jobs (docs/linkis-protocol.md §14.2); killing the engine closes it.

Kill: `connection.interrupt()` stops the running statement within milliseconds.

Hive's databases are DuckDB's schemas, and Hive's `default` is DuckDB's `main`
(`catalog/duckdb.py`): `default.` qualifiers and `USE default` name `main`, and CREATE/DROP
DATABASE become CREATE/DROP SCHEMA, rewritten in the sqlglot tree before DuckDB SQL is
generated; so `select * from default.emp` runs like `select * from emp`. A successful
CREATE/DROP TABLE/VIEW is reported to the catalog's `Owners` with the job's user
(docs/linkis-protocol.md §13.2 `createdBy`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
import sqlglot.errors
from sqlglot import exp

from linkis_magic.sandbox import dolphin
from linkis_magic.sandbox.catalog.duckdb import DUCKDB_MAIN, HIVE_DEFAULT, hive_database
from linkis_magic.sandbox.catalog.owners import Owners, ddl_targets, record
from linkis_magic.sandbox.engines import (
    SQL_ENGINES,
    EngineError,
    Footprint,
    JobContext,
    LogFn,
    substitute,
)

#: engine name (text before the first `-` of engineType) -> sqlglot dialect to read
DIALECTS: dict[str, str] = {
    "spark": "spark",
    "hive": "hive",
    "presto": "presto",
    "trino": "trino",
    "openlookeng": "trino",
    "mysql": "mysql",
    "doris": "doris",
    "starrocks": "starrocks",
    "clickhouse": "clickhouse",
    "oracle": "oracle",
    "postgresql": "postgres",
    "postgres": "postgres",
    "sqlserver": "tsql",
    "flink": "spark",
    "impala": "hive",
    "databricks": "databricks",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
}

assert set(DIALECTS) <= SQL_ENGINES, "every dialect's engine must be routed to DuckDB"

#: DuckDB statement types whose rows become a result set
_RESULT_TYPES = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL", "EXECUTE", "RELATION"})

_LOG = logging.getLogger(__name__)
logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" noise


def dialect_for(engine: str, run_type: str) -> str:
    """sqlglot dialect for an engine; `duckdb` means DuckDB's own parser (no transpiling)."""
    if engine in DIALECTS:
        return DIALECTS[engine]
    if run_type == "hql":
        return "hive"
    return "duckdb"


def split_statements(code: str, dialect: str, hdfs_base: Path | None = None) -> list[str]:
    """The cell as DuckDB statements in order (comments and empty statements dropped), with
    Hive's `default` database as DuckDB's `main` schema and Spark's ``parquet.`path` `` sources
    read with `read_parquet` (`hdfs:///x` from `hdfs_base/x`)."""
    if dialect == "duckdb":
        try:
            statements = [s.query.strip() for s in duckdb.extract_statements(code)]
        except duckdb.Error as exc:
            rewritten = _native_default_to_main(code)
            if rewritten is None:
                raise EngineError(42001, f"SQL parse error: {exc}") from exc
            return rewritten
        return [s for s in statements if s]
    return list(_translate(code, dialect, None if hdfs_base is None else str(hdfs_base)))


@functools.lru_cache(maxsize=256)
def _translate(code: str, dialect: str, hdfs_base: str | None = None) -> tuple[str, ...]:
    """sqlglot's translation of a cell, remembered: notebooks re-run the same cells, and
    parsing plus generating takes a few milliseconds of every such job (errors are raised
    again each time, not remembered)."""
    try:
        parsed = sqlglot.parse(code, read=dialect)
    except sqlglot.errors.SqlglotError as exc:
        raise EngineError(42001, f"SQL parse error ({dialect} dialect): {exc}") from exc
    out: list[str] = []
    for expression in parsed:
        if expression is None:
            continue
        default_to_main(expression)
        parquet_sources(expression, hdfs_base)
        try:
            out.extend(e.sql(dialect="duckdb") for e in _insert_forms(expression))
        except sqlglot.errors.SqlglotError as exc:
            raise EngineError(42002, f"cannot translate {dialect} SQL to DuckDB: {exc}") from exc
    return tuple(out)


_PATH_FORMATS = {"parquet": "read_parquet"}
"""Spark's file table sources (``parquet.`path` ``) and the DuckDB function reading them."""


def parquet_sources(expression: exp.Expr, hdfs_base: str | None) -> bool:
    """Rewrite Spark's ``parquet.`file:///d` `` / ``parquet.`hdfs:///d` `` table sources in
    place as `read_parquet('<local d>/*.parquet')` (a path ending in `.parquet` is read as
    one file); `hdfs:///x` is the sandbox's `hdfs_base/x`. sqlglot alone would keep them as
    a table named by the path. True if anything changed."""
    changed = False
    for table in list(expression.find_all(exp.Table)):
        db, this = table.args.get("db"), table.this
        if not isinstance(db, exp.Identifier) or db.name.lower() not in _PATH_FORMATS:
            continue
        if not isinstance(this, exp.Identifier) or "://" not in this.name:
            continue
        uri = this.name
        if uri.startswith("hdfs:///") and hdfs_base is not None:
            local = hdfs_base.rstrip("/") + "/" + uri[len("hdfs:///") :]
        elif uri.startswith("file:///"):
            local = uri[len("file://") :]
        else:
            raise EngineError(42003, f"cannot read {uri}: the sandbox has no such filesystem")
        pattern = local if local.endswith(".parquet") else local.rstrip("/") + "/*.parquet"
        reader = exp.Anonymous(this=_PATH_FORMATS[db.name.lower()],
                               expressions=[exp.Literal.string(pattern)])  # fmt: skip
        table.replace(exp.Table(this=reader, alias=table.args.get("alias")))
        changed = True
    return changed


def _insert_forms(expression: exp.Expr) -> list[exp.Expr]:
    """Spark's INSERT forms in DuckDB terms: a static `PARTITION (k='v')` becomes the value
    selected as the last column (where Spark keeps partition columns), and `INSERT OVERWRITE
    TABLE t` becomes `DELETE FROM t [WHERE k = 'v']` then `INSERT INTO t` (DuckDB has
    neither); anything else stays as it is."""
    if not isinstance(expression, exp.Insert) or not isinstance(expression.this, exp.Table):
        return [expression]
    insert = expression.copy()
    target = insert.this
    partition = target.args.get("partition")
    conditions: list[exp.Expr] = []
    if isinstance(partition, exp.Partition):
        select = insert.expression
        if not isinstance(select, exp.Select):
            raise EngineError(42003, "INSERT ... PARTITION (...) needs a SELECT in the sandbox")
        for pair in partition.expressions:
            if not isinstance(pair, exp.EQ):  # a dynamic partition: nothing to add
                continue
            column, value = pair.this, pair.expression
            select.select(exp.alias_(value.copy(), column.name), copy=False)
            conditions.append(exp.EQ(this=exp.column(column.name), expression=value.copy()))
        target.set("partition", None)
    if not insert.args.get("overwrite"):
        return [insert]
    insert.set("overwrite", False)
    delete = exp.Delete(this=target.copy())
    if conditions:
        delete.set("where", exp.Where(this=exp.and_(*conditions)))
    return [delete, insert]


def _is_default(node: object) -> bool:
    return isinstance(node, exp.Identifier) and node.name.lower() == HIVE_DEFAULT


def default_to_main(expression: exp.Expr) -> bool:
    """Rewrite Hive's databases as DuckDB schemas in place: `default.t`, `default.t.c`,
    `USE default` and `CREATE/DROP DATABASE default` name `main`; `CREATE/DROP DATABASE`
    become `CREATE/DROP SCHEMA`. True if anything changed."""
    changed = False
    for node in expression.find_all(exp.Table, exp.Column):
        if _is_default(node.args.get("db")):
            node.set("db", exp.to_identifier(DUCKDB_MAIN))
            changed = True
    kind = str(expression.args.get("kind") or "").upper()
    if kind == "DATABASE" and isinstance(expression, exp.Create | exp.Drop):
        expression.set("kind", "SCHEMA")  # a Hive database is a DuckDB schema
        changed = True
    if isinstance(expression, exp.Use) or kind in ("SCHEMA", "DATABASE"):
        for table in expression.find_all(exp.Table):
            if not table.args.get("db") and _is_default(table.args.get("this")):
                table.set("this", exp.to_identifier(DUCKDB_MAIN))
                changed = True
    return changed


_DEFAULT_QUALIFIER = re.compile(r"\bdefault\s*\.|\buse\s+default\b", re.IGNORECASE)


def _native_default_to_main(code: str) -> list[str] | None:
    """`default_to_main` for a cell in DuckDB's own dialect that DuckDB cannot parse, since
    `default.x` is a syntax error there; None when that is not why (the caller reports
    DuckDB's error). A cell DuckDB parses reaches it exactly as written."""
    if not _DEFAULT_QUALIFIER.search(code):
        return None
    try:
        parsed = [e for e in sqlglot.parse(code, read="duckdb") if e is not None]
        changed = [default_to_main(expression) for expression in parsed]
        if not any(changed):
            return None
        return [expression.sql(dialect="duckdb") for expression in parsed]
    except sqlglot.errors.SqlglotError:
        return None


_MISSING = [
    (re.compile(r"Table with name (\S+) does not exist", re.I), 41002, "Table {} not found"),
    (re.compile(r"Catalog \"?(\S+?)\"? does not exist", re.I), 41001, "Database {} not found"),
    (re.compile(r"Schema with name (\S+) does not exist", re.I), 41001, "Database {} not found"),
    (re.compile(r'column "?([^"\s]+)"? not found', re.I), 41003, "Column {} not found"),
]


def classify(exc: duckdb.Error) -> EngineError:
    """Map a DuckDB error to Linkis's error-code families (41xxx missing, 42xxx semantic)."""
    text = str(exc).strip()
    for pattern, code, template in _MISSING:
        match = pattern.search(text)
        if match:
            return EngineError(code, f"{template.format(match.group(1))}: {text}")
    if isinstance(exc, duckdb.ParserException):
        return EngineError(42001, f"SQL parse error: {text}")
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException):
        return EngineError(42003, f"SQL semantic error: {text}")
    return EngineError(42004, f"SQL execution error: {text}")


class DuckDBEngine:
    """The shared DuckDB database file; engine connections open their own connections to it."""

    def __init__(
        self,
        db_path: Path,
        *,
        demo_data: bool = True,
        owners: Owners | None = None,
        hdfs_base: Path | None = None,
    ) -> None:
        self._con = duckdb.connect(str(db_path))
        self._lock = threading.Lock()
        self._owners = owners
        self._hdfs_base = hdfs_base
        if demo_data:
            create_demo_data(self._con)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the shared database (the catalog reads through one); the
        caller closes it."""
        with self._lock:
            return self._con.cursor()

    def open(self, log: LogFn) -> DuckDBSession:
        return DuckDBSession(self.cursor(), self._owners, self._hdfs_base)


def prepare(ctx: JobContext, hdfs_base: Path | None = None) -> list[str]:
    """The cell's statements as DuckDB SQL (variables substituted, dialect translated)."""
    code = substitute(ctx.code, ctx.variables, strict=True)
    dialect = dialect_for(ctx.engine, ctx.run_type)
    statements = split_statements(code, dialect, hdfs_base)
    if not statements:
        raise EngineError(30010, "code is empty after preprocessing (only comments?)")
    if dialect != "duckdb":
        ctx.log("INFO", f"Translated {len(statements)} statement(s) from {dialect} to DuckDB")
    return statements


class _Stages:
    """progressInfo of one job: an entry per statement, totalTasks 100 (see the module doc).

    Called from the job's thread (start, finish, fail) and the progress poller (running):
    a finished statement's entry stays complete whatever the poller read before it ended."""

    def __init__(self, ctx: JobContext, count: int) -> None:
        self.ctx = ctx
        self.index = 0
        self._lock = threading.Lock()
        self._finished = False  # the current statement's entry is final
        self.stages: list[dict[str, Any]] = [
            {
                "id": f"statement_{i + 1}",
                "succeedTasks": 0,
                "failedTasks": 0,
                "runningTasks": 0,
                "totalTasks": 100,
            }
            for i in range(count)
        ]

    def _report(self) -> None:
        fraction = sum(s["succeedTasks"] for s in self.stages) / (100.0 * len(self.stages))
        self.ctx.progress(min(fraction, 1.0), [dict(s) for s in self.stages])

    def start(self, index: int) -> None:
        with self._lock:
            self.index = index
            self._finished = False
            self.stages[index]["runningTasks"] = 100
            self._report()

    def running(self, percent: float) -> None:
        with self._lock:
            if self._finished:
                return
            stage = self.stages[self.index]
            stage["succeedTasks"] = min(int(percent), 99)
            stage["runningTasks"] = 100 - stage["succeedTasks"]
            self._report()

    def finish(self) -> None:
        """The statement has run (its rows, if any, are in hand): every task succeeded."""
        with self._lock:
            self._finished = True
            self.stages[self.index].update(succeedTasks=100, runningTasks=0)
            self._report()

    def fail(self) -> None:
        with self._lock:
            self._finished = True
            stage = self.stages[self.index]
            stage.update(runningTasks=0, failedTasks=100 - stage["succeedTasks"])
            self._report()


class DuckDBSession:
    """A DuckDB engine connection: one DuckDB connection to the shared database file.

    Tables (the demo tables, whatever jobs create) are in the shared file, so every user sees
    them as before; a user's temp tables, settings (`SET ...`) and current schema (`USE`)
    live in their connection, from job to job, until the engine is killed or idles out."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        owners: Owners | None,
        hdfs_base: Path | None = None,
    ) -> None:
        self.pid: int | None = os.getpid()
        self._con = con
        self._owners = owners
        self._hdfs_base = hdfs_base
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        # DuckDB reports progress only with these on the connection that runs the query
        con.execute("SET enable_progress_bar_print = false")
        con.execute("SET enable_progress_bar = true")
        con.execute("SET progress_bar_time = 0")

    def alive(self) -> bool:
        return not self._closed

    def footprint(self) -> Footprint:
        return Footprint()  # a connection inside the sandbox: nothing to measure on its own

    def close(self) -> None:
        """Close the connection; if a (killed) statement still runs, `run` closes it when
        the statement gives up (DuckDB refuses to close a busy connection)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._busy:
                return
        self._con.close()

    def run(self, ctx: JobContext) -> None:
        statements = prepare(ctx, self._hdfs_base)
        with self._lock:
            if self._closed:
                raise EngineError(21002, "the engine's DuckDB connection is closed")
            self._busy = True
        try:
            self._execute(ctx, statements)
        finally:
            with self._lock:
                self._busy = False
                closed = self._closed
            if closed:
                self._con.close()

    def _execute(self, ctx: JobContext, statements: list[str]) -> None:
        con = self._con
        stages = _Stages(ctx, len(statements))
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.1):
                if ctx.cancelled:
                    # a kill that raced the start of a statement found nothing to interrupt:
                    # keep interrupting until the statement gives up
                    con.interrupt()
                    continue
                try:
                    pct = con.query_progress()
                except duckdb.Error:
                    continue
                if pct >= 0:
                    stages.running(pct)

        unregister = ctx.on_cancel(con.interrupt)
        poller = threading.Thread(target=poll, name=f"progress-{ctx.task_id}", daemon=True)
        poller.start()
        try:
            for index, sql in enumerate(statements):
                if ctx.cancelled:
                    return
                stages.start(index)
                self._run_statement(ctx, stages, sql)
        except duckdb.Error as exc:
            stages.fail()
            # a failed statement aborts an open transaction: the next job starts clean
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if ctx.cancelled or isinstance(exc, duckdb.InterruptException):
                ctx.log("WARN", "Statement interrupted: the job was killed")
                return
            raise classify(exc) from exc
        finally:
            done.set()
            unregister()
            poller.join(timeout=1)

    def _run_statement(self, ctx: JobContext, stages: _Stages, sql: str) -> None:
        """Run one statement; its stage is complete once DuckDB is done with it, before its
        rows (if it returns any) are written as the next result set."""
        number, total = stages.index + 1, len(stages.stages)
        shown = sql if len(sql) <= 500 else sql[:500] + " ..."
        ctx.log("INFO", f"Executing statement {number}/{total}: {shown}")
        kinds = [s.type.name for s in duckdb.extract_statements(sql)]
        relation = self._con.sql(sql)
        if kinds and kinds[-1] in ("CREATE", "DROP"):
            self._record_ddl(ctx, sql)
        if relation is None or not kinds or kinds[-1] not in _RESULT_TYPES:
            stages.finish()
            ctx.log("INFO", f"Statement {number} finished ({kinds[-1] if kinds else 'empty'})")
            return
        table = relation.to_arrow_table()
        stages.finish()  # the query is done; what is left is writing its rows (the job runs on)
        ctx.log("INFO", f"Statement {number} computed {table.num_rows} row(s); writing them")
        path = ctx.next_result_path()
        dolphin.write_arrow(path, table)
        ctx.log(
            "INFO",
            f"Statement {number} returned {table.num_rows} row(s) x {table.num_columns} "
            f"column(s) -> result set {path.name}",
        )

    def _record_ddl(self, ctx: JobContext, sql: str) -> None:
        """Tell the catalog who created or dropped a table or view (§13.2 `createdBy`)."""
        targets = ddl_targets(sql, "duckdb")
        if not targets or self._owners is None:
            return
        try:
            current = DUCKDB_MAIN
            if any(target.db is None for target in targets):
                # fetch every row: a pending result would fail the job's next statement
                rows = self._con.execute("SELECT current_schema()").fetchall()
                current = str(rows[0][0]) if rows else DUCKDB_MAIN
            owners, user = self._owners, ctx.user
            record(owners, targets, current_db=current, user=user, database=hive_database)
        except Exception as exc:  # bookkeeping only: the statement itself succeeded
            ctx.log("WARN", f"Could not record the table's owner for the catalog: {exc}")


def create_demo_data(con: duckdb.DuckDBPyConnection) -> None:
    """Generate the demo tables once (emp, dept, sales): nothing is downloaded."""
    existing = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if {"emp", "dept", "sales"} <= existing:
        return
    con.execute("BEGIN")
    con.execute(
        "CREATE OR REPLACE TABLE dept (deptno INTEGER, dname VARCHAR, loc VARCHAR);"
        "INSERT INTO dept VALUES (10, 'ACCOUNTING', 'NEW YORK'), (20, 'RESEARCH', 'DALLAS'),"
        " (30, 'SALES', 'CHICAGO'), (40, 'OPERATIONS', 'BOSTON');"
    )
    con.execute(
        "CREATE OR REPLACE TABLE emp (empno INTEGER, ename VARCHAR, job VARCHAR, mgr INTEGER,"
        " hiredate DATE, sal DECIMAL(7,2), comm DECIMAL(7,2), deptno INTEGER, dept VARCHAR);"
        "INSERT INTO emp VALUES"
        " (7369,'SMITH','CLERK',7902,'1980-12-17',800,NULL,20,'RESEARCH'),"
        " (7499,'ALLEN','SALESMAN',7698,'1981-02-20',1600,300,30,'SALES'),"
        " (7521,'WARD','SALESMAN',7698,'1981-02-22',1250,500,30,'SALES'),"
        " (7566,'JONES','MANAGER',7839,'1981-04-02',2975,NULL,20,'RESEARCH'),"
        " (7654,'MARTIN','SALESMAN',7698,'1981-09-28',1250,1400,30,'SALES'),"
        " (7698,'BLAKE','MANAGER',7839,'1981-05-01',2850,NULL,30,'SALES'),"
        " (7782,'CLARK','MANAGER',7839,'1981-06-09',2450,NULL,10,'ACCOUNTING'),"
        " (7788,'SCOTT','ANALYST',7566,'1987-04-19',3000,NULL,20,'RESEARCH'),"
        " (7839,'KING','PRESIDENT',NULL,'1981-11-17',5000,NULL,10,'ACCOUNTING'),"
        " (7844,'TURNER','SALESMAN',7698,'1981-09-08',1500,0,30,'SALES'),"
        " (7876,'ADAMS','CLERK',7788,'1987-05-23',1100,NULL,20,'RESEARCH'),"
        " (7900,'JAMES','CLERK',7698,'1981-12-03',950,NULL,30,'SALES'),"
        " (7902,'FORD','ANALYST',7566,'1981-12-03',3000,NULL,20,'RESEARCH'),"
        " (7934,'MILLER','CLERK',7782,'1982-01-23',1300,NULL,10,'ACCOUNTING');"
    )
    con.execute(
        "CREATE OR REPLACE TABLE sales AS SELECT"
        " i::BIGINT AS id,"
        " DATE '2024-01-01' + CAST(hash(i, 'd') % 366 AS INTEGER) AS sale_date,"
        " ['north', 'south', 'east', 'west', '华东']"
        "[CAST(1 + hash(i, 'r') % 5 AS BIGINT)] AS region,"
        " 'product_' || lpad(CAST(hash(i, 'p') % 50 AS VARCHAR), 2, '0') AS product,"
        " CAST(1 + hash(i, 'q') % 20 AS INTEGER) AS quantity,"
        " round((hash(i, 'a') % 100000) / 100.0, 2)::DOUBLE AS amount"
        " FROM range(100000) t(i)"
    )
    con.execute("COMMIT")
    _LOG.info("created demo tables emp, dept, sales")
