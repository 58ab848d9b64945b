"""Jobs through a hostile network: the same batch with and without injected faults.

A fault-injecting proxy (tests/support/proxy.py) sits between the clients and one local
sandbox. With ``--reset`` of the GET connections reset (half before any reply, half in the
middle of the reply headers) and ``--unavailable`` answered 503 by the "proxy", the batch must
give exactly what the clean batch gives:

* the same DataFrames, job for job;
* every log line the server wrote, once (compared with the server's persisted log, openLog);
* as many submits counted server-side (jobhistory, and the proxy's forwarded POSTs) as jobs
  submitted: a submit is never sent twice;
* every job in its true final state (a tenth of the jobs fail on purpose).

Prints jobs completed / jobs submitted (goal 100%) and the slowdown ratio faulty / clean.

    .venv/bin/python benchmarks/faults.py [--jobs 100] [--clients 10] [--reset 0.1]
        [--unavailable 0.1] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from linkis_magic.client import LinkisClient  # noqa: E402
from linkis_magic.errors import JobFailed, LinkisError  # noqa: E402
from tests.support.proxy import FaultProxy, random_get_faults  # noqa: E402
from tests.support.sandbox import USERS, start_sandbox  # noqa: E402

ENGINE = "spark-3.2.1"
USER = "alice"


def job_sql(i: int) -> str:
    """Job ``i``'s SQL: two result sets that depend on i, or (every 10th) an error."""
    if i % 10 == 9:
        return f"select * from no_such_table_{i}"
    return (
        f"select {i} as job, ename, sal * {i} as pay from emp where empno % 3 = {i % 3} "
        f"order by empno;\nselect '{i}' || dname as tag, deptno from dept order by deptno"
    )


@dataclass
class Outcome:
    """What a user got from job ``i``."""

    index: int
    task_id: int | None
    state: str
    frames: list[pd.DataFrame]
    log_lines: list[str]
    error: str | None


def run_one(client: LinkisClient, i: int, creator: str) -> Outcome:
    task_id: int | None = None
    try:
        job = client.submit(job_sql(i), engine_type=ENGINE, creator=creator)
        task_id = job.task_id
        try:
            job.wait(timeout=120)
            frames = job.frames()
            state = "Succeed"
        except JobFailed as exc:
            frames, state = [], str(exc.state)
        return Outcome(i, task_id, state, frames, job.log_lines, None)
    except LinkisError as exc:
        return Outcome(i, task_id, "error", [], [], f"{type(exc).__name__}: {exc}")


def run_batch(
    url: str, password: str, *, jobs: int, clients: int, creator: str, retries: int = 3
) -> tuple[list[Outcome], float]:
    """Run ``jobs`` jobs over ``clients`` concurrent clients; (outcomes in job order, seconds)."""
    pool = [
        LinkisClient(url, user=USER, password=password, creator=creator, retries=retries)
        for _ in range(clients)
    ]
    begin = time.perf_counter()
    with ThreadPoolExecutor(clients) as ex:
        futures = [ex.submit(run_one, pool[i % clients], i, creator) for i in range(jobs)]
        outcomes = [f.result() for f in futures]
    elapsed = time.perf_counter() - begin
    for c in pool:
        c.close()
    return outcomes, elapsed


@dataclass
class Verdict:
    """The comparison of a faulty batch with a clean one."""

    completed: int
    submitted: int
    server_submits: int
    forwarded_submits: int
    problems: list[str]


def compare(
    direct: LinkisClient,
    clean: list[Outcome],
    faulty: list[Outcome],
    *,
    creator: str,
    proxy: FaultProxy,
) -> Verdict:
    """Check the faulty batch against the clean one and the server's own records."""
    problems: list[str] = []
    completed = 0
    for good, bad in zip(clean, faulty, strict=True):
        where = f"job {bad.index} (task {bad.task_id})"
        if bad.error is not None:
            problems.append(f"{where}: {bad.error}")
            continue
        completed += 1
        truth = direct.task(bad.task_id) if bad.task_id is not None else None
        if truth is None or truth.status.value != bad.state:
            problems.append(f"{where}: client says {bad.state}, jobhistory says {truth}")
        if bad.state != good.state:
            problems.append(f"{where}: state {bad.state} != clean {good.state}")
        if len(bad.frames) != len(good.frames):
            problems.append(f"{where}: {len(bad.frames)} frames != clean {len(good.frames)}")
        for a, b in zip(bad.frames, good.frames, strict=False):
            try:
                pd.testing.assert_frame_equal(a, b)
            except AssertionError as exc:
                problems.append(f"{where}: DataFrame differs: {exc}")
        if truth is not None and truth.log_path:
            server = [x for x in direct.open_log(truth.log_path).lines if x.strip()]
            if bad.log_lines != server:
                dup = len(bad.log_lines) - len(set(bad.log_lines))
                problems.append(
                    f"{where}: {len(bad.log_lines)} log lines ({dup} duplicated) != "
                    f"server's {len(server)}"
                )
    server_submits = direct.tasks(creator=creator, page_size=1).total
    forwarded = proxy.count("POST", "entrance/submit")
    if server_submits != len(faulty):
        problems.append(f"server counted {server_submits} submits for {len(faulty)} jobs")
    if forwarded != len(faulty):
        problems.append(f"proxy forwarded {forwarded} submits for {len(faulty)} jobs")
    return Verdict(completed, len(faulty), server_submits, forwarded, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--reset", type=float, default=0.1)
    parser.add_argument("--unavailable", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    password = USERS[USER]
    with tempfile.TemporaryDirectory() as tmp:
        box = start_sandbox(Path(tmp), "--workers", "4")
        try:
            tag = uuid.uuid4().hex[:6]
            policy = random_get_faults(
                reset=args.reset, unavailable=args.unavailable, seed=args.seed
            )
            with FaultProxy(box.url) as clean_proxy, FaultProxy(box.url, policy) as proxy:
                clean, t_clean = run_batch(
                    clean_proxy.url,
                    password,
                    jobs=args.jobs,
                    clients=args.clients,
                    creator=f"clean{tag}",
                )
                faulty, t_faulty = run_batch(
                    proxy.url,
                    password,
                    jobs=args.jobs,
                    clients=args.clients,
                    creator=f"faulty{tag}",
                )
                with LinkisClient(box.url, user=USER, password=password) as direct:
                    verdict = compare(direct, clean, faulty, creator=f"faulty{tag}", proxy=proxy)
                gets = proxy.count("GET", "", forwarded=False)
                print(
                    f"faults injected: {proxy.faults()} of {gets} GETs "
                    f"(reset {args.reset:.0%}, 503 {args.unavailable:.0%}, seed {args.seed})"
                )
        finally:
            box.stop()
    pct = verdict.completed / verdict.submitted
    print(
        f"jobs completed / jobs submitted: {verdict.completed}/{verdict.submitted} = {pct:.0%} "
        "(goal 100%)"
    )
    print(
        f"submits counted server-side: {verdict.server_submits} (jobhistory), "
        f"{verdict.forwarded_submits} (forwarded by the proxy)"
    )
    print(f"clean {t_clean:.2f} s, faulty {t_faulty:.2f} s, slowdown {t_faulty / t_clean:.2f}x")
    for problem in verdict.problems[:20]:
        print("PROBLEM:", problem)
    print("OK" if not verdict.problems else f"{len(verdict.problems)} problems")
    return 0 if not verdict.problems else 1


if __name__ == "__main__":
    sys.exit(main())
