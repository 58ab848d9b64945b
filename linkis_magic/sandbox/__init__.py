"""The local Linkis-compatible sandbox gateway (run with `python -m linkis_magic.sandbox`).

It shares no code with the client side. Reading order:

- `__main__`: the command line; `config.SandboxConfig`: what it configures.
- `app.create_app`: wiring only (builds a `state.Gateway`, mounts `routes`, error handlers).
- `routes/`: one APIRouter per Linkis service (user, entrance, jobhistory, filesystem,
  datasource, linkismanager); `auth` (sessions, tokens, the `CurrentUser` dependency) and
  `errors` (envelopes) serve them.
- `jobs.JobManager`: queue, workers, states, logs, kill, retention; `store.TaskStore`: the
  SQLite job history; `engines/`: DuckDB, python, shell and the optional Spark engine, each
  opening the sessions engine connections hold (a DuckDB connection, a Python process, a
  Spark session); `engineconns.EngineConns`: the users' engine connections, started on a
  job's first use, reused, idled out (`--engine-idle-timeout`) and killed, listed and killed
  through `routes/linkismanager`.
- `catalog/`: the engines' databases, tables and columns as a Hive metastore shows them, for
  `routes/datasource` (`duckdb`/`spark` sources, `types` the Hive type spelling, `owners`
  who created each table and when).
- `dolphin/`: the `.dolphin` result files; `export`: CSV/xlsx downloads of them;
  `parallel.ordered_map`: the small thread pool both use.

docs/linkis-protocol.md describes the Linkis behaviour all of this imitates; its section
numbers (§) are the ones cited in these modules.
"""
