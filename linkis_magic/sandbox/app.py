"""`create_app`: one sandbox gateway for one data directory, wired together.

It builds the parts (`state.Gateway`: job history, engines and their engine connections, job
manager, sessions, the catalog of the engines' tables), mounts the routers of `routes` under
`/api/rest_j/v1`,
installs the envelope error handlers of `errors`, and shuts the parts down with the app.
Behaviour lives in those modules.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from linkis_magic.sandbox import dolphin
from linkis_magic.sandbox.auth import Sessions
from linkis_magic.sandbox.catalog import Catalog, Source
from linkis_magic.sandbox.catalog.duckdb import DuckDBSource
from linkis_magic.sandbox.catalog.owners import Owners
from linkis_magic.sandbox.config import SandboxConfig
from linkis_magic.sandbox.engineconns import EngineConns
from linkis_magic.sandbox.errors import PREFIX, install_handlers
from linkis_magic.sandbox.jobs import JobManager
from linkis_magic.sandbox.routes import (
    datasource,
    entrance,
    filesystem,
    jobhistory,
    linkismanager,
    user,
    workspace,
)
from linkis_magic.sandbox.state import Gateway
from linkis_magic.sandbox.store import TaskStore
from linkis_magic.sandbox.workspace import Workspace


def create_app(config: SandboxConfig) -> FastAPI:
    """Build the gateway (engines, job manager, routes) for `config.data_dir`."""
    from linkis_magic.sandbox.engines.duckdb import DuckDBEngine
    from linkis_magic.sandbox.engines.python import PythonEngine
    from linkis_magic.sandbox.engines.shell import ShellEngine

    data_dir = config.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("result", "log", "tmp"):
        (data_dir / sub).mkdir(exist_ok=True)
    store = TaskStore(data_dir / "jobhistory.sqlite3")
    owners = Owners(data_dir / "catalog.sqlite3")
    sql_engine = DuckDBEngine(
        data_dir / "sandbox.duckdb",
        demo_data=config.demo_data,
        owners=owners,
        hdfs_base=Workspace(data_dir).hdfs_base,
    )
    engines: dict[str, Any] = {"sql": sql_engine, "python": PythonEngine(), "shell": ShellEngine()}
    sources: list[Source] = [DuckDBSource(sql_engine.cursor)]
    closers = [sql_engine.close]
    if config.spark_master:
        from linkis_magic.sandbox.catalog.spark import SparkSource
        from linkis_magic.sandbox.engines.spark import SparkEngine

        spark_engine = engines["spark"] = SparkEngine(
            config.spark_master,
            data_dir / "spark",
            owners=owners,
            conf=config.spark_conf,
            hdfs_base=Workspace(data_dir).hdfs_base,
        )
        sources.append(SparkSource(spark_engine.active_session))
        closers.append(spark_engine.close)
    closers.append(owners.close)
    engineconns = EngineConns(engines, config.instance, idle_timeout=config.engine_idle_timeout)
    manager = JobManager(
        store,
        data_dir,
        config.instance,
        workers=config.workers,
        retention_seconds=config.job_retention,
        retention_count=config.job_retention_count,
        engineconns=engineconns,
    )
    gateway = Gateway(
        config,
        data_dir,
        store,
        manager,
        Sessions(config.session_timeout),
        Catalog(sources, owners),
        engineconns,
    )
    threading.Thread(target=_warm_up, args=(gateway.tmp_dir,), daemon=True).start()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        manager.shutdown()
        engineconns.shutdown()
        for close in closers:
            close()
        store.close()

    app = FastAPI(
        title="Linkis sandbox gateway",
        description="A local Apache Linkis 1.x compatible gateway (DuckDB, Python, shell).",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    install_handlers(app)
    for module in (user, entrance, jobhistory, filesystem, workspace, datasource, linkismanager):
        app.include_router(module.router, prefix=PREFIX)
    return app


def _warm_up(tmp_dir: Path) -> None:
    """Write and read a tiny result set once so the first job does not pay pyarrow's
    kernel initialisation (a few hundred ms) on its latency."""
    import pyarrow as pa

    path = tmp_dir / "_warm_up.dolphin"
    try:
        dolphin.write_arrow(path, pa.table({"x": [1], "s": ["a"], "d": [1.5]}))
        dolphin.read_page(path, 1, 10, None)
    except Exception:  # best effort only
        return
    finally:
        for leftover in tmp_dir.glob("*_warm_up.dolphin*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
