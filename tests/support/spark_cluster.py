"""A real Spark standalone cluster on loopback: one master and one worker from the installed
pyspark, for tests that point the sandbox at ``spark://127.0.0.1:PORT``.

Both daemons are started with pyspark's own ``bin/spark-class`` (the Spark that ships inside
the pyspark wheel, so the cluster always has the driver's version; nothing is downloaded),
each in its own process group, bound to 127.0.0.1 on free ports. :func:`spark_cluster`
returns once the master's ``/json/`` lists the worker ALIVE, and on exit stops the worker
(and with it its executors) and then the master: SIGTERM to each process group, a wait, then
SIGKILL. Executors' Python daemons put themselves in process groups of their own, so every
process of the cluster also carries a marker in its environment; the cluster is only
considered stopped once no process with that marker is left.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.wait import wait_until

MARKER = "LINKIS_MAGIC_TEST_SPARK_CLUSTER"


class ClusterDidNotStop(RuntimeError):
    """Processes of the cluster were still running after SIGTERM, SIGKILL and a wait."""


def spark_home() -> Path:
    """The Spark inside the installed pyspark (its ``bin/spark-class`` starts the daemons)."""
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-class").is_file():
        raise RuntimeError(f"pyspark at {home} has no bin/spark-class")
    return home


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SparkCluster:
    """A running standalone master and worker: their URLs, directories and processes."""

    master_url: str  # spark://127.0.0.1:PORT, what --spark-master gets
    master_ui: str  # http://127.0.0.1:PORT of the master's web UI (``/json/``)
    worker_ui: str  # http://127.0.0.1:PORT of the worker's web UI (``/json/``)
    work_dir: Path  # SPARK_WORKER_DIR: executors run in <work_dir>/<app id>/<executor id>
    log_dir: Path  # SPARK_LOG_DIR: master.log and worker.log (the daemons' console output)
    marker: str  # value of MARKER in the environment of every process of this cluster
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def master_json(self) -> dict[str, Any]:
        """The master's status: workers, active and completed applications."""
        return _get_json(self.master_ui + "/json/")

    def worker_json(self) -> dict[str, Any]:
        """The worker's status: its executors (with their application ids)."""
        return _get_json(self.worker_ui + "/json/")

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of both daemons' logs, for failure messages."""
        parts = []
        for name in ("master", "worker"):
            path = self.log_dir / f"{name}.log"
            text = path.read_text("utf-8", "replace") if path.exists() else ""
            parts.append(f"--- {name}.log\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts)

    def pids(self) -> list[int]:
        """Every live process of this cluster (daemons, executors, their Python workers)."""
        needle = f"{MARKER}={self.marker}".encode()
        found: list[int] = []
        if not Path("/proc").is_dir():  # not Linux: only the daemons' groups are checked
            return found
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:  # gone, or not ours to read
                continue
            if state != "Z" and needle in environ.split(b"\0"):
                found.append(int(entry.name))
        return found


def _get_json(url: str) -> dict[str, Any]:
    reply = requests.get(url, timeout=5)
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


@contextmanager
def spark_cluster(
    base: Path | None = None,
    *,
    cores: int = 2,
    memory: str = "1g",
    timeout: float = 90.0,
) -> Iterator[SparkCluster]:
    """Start a master and one worker (``cores``, ``memory``) under ``base`` (a temporary
    directory if None), yield once the worker is registered, stop both on exit.

    Raises WaitTimeout (an AssertionError, with the daemons' log tails) when the cluster is not
    up within ``timeout`` seconds, and ClusterDidNotStop when processes outlive the stop.
    """
    with ExitStack() as stack:
        if base is None:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="spark-")))
        master_port, master_ui_port, worker_ui_port = free_port(), free_port(), free_port()
        cluster = SparkCluster(
            master_url=f"spark://127.0.0.1:{master_port}",
            master_ui=f"http://127.0.0.1:{master_ui_port}",
            worker_ui=f"http://127.0.0.1:{worker_ui_port}",
            work_dir=base / "work",
            log_dir=base / "logs",
            marker=secrets.token_hex(8),
        )
        conf_dir = base / "conf"  # empty: no spark-env.sh or spark-defaults.conf of the host
        for folder in (cluster.work_dir, cluster.log_dir, conf_dir):
            folder.mkdir(parents=True, exist_ok=True)
        home = spark_home()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SPARK_", "PYSPARK_")) and key not in ("HADOOP_CONF_DIR",)
        }
        env.update(
            {
                MARKER: cluster.marker,
                "SPARK_HOME": str(home),
                "SPARK_CONF_DIR": str(conf_dir),
                "SPARK_LOCAL_IP": "127.0.0.1",
                "SPARK_LOG_DIR": str(cluster.log_dir),
                "SPARK_WORKER_DIR": str(cluster.work_dir),
                "SPARK_DAEMON_MEMORY": "512m",
                # the master's REST submission server would take the fixed port 6066
                "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
            }
        )
        stack.callback(_stop, cluster)

        def launch(name: str, main_class: str, *args: str) -> None:
            with (cluster.log_dir / f"{name}.log").open("wb") as log:
                cluster.procs[name] = subprocess.Popen(
                    [str(home / "bin" / "spark-class"), main_class, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=base,
                    env=env,
                    start_new_session=True,  # its own process group, stopped as one
                )

        def up(check: str) -> bool:
            for name, proc in cluster.procs.items():
                if proc.poll() is not None:
                    raise AssertionError(
                        f"the Spark {name} exited ({proc.returncode}) while waiting for "
                        f"{check}\n{cluster.log_tail()}"
                    )
            return True

        def master_alive() -> bool:
            try:
                return up("the master") and cluster.master_json().get("status") == "ALIVE"
            except requests.RequestException:
                return False

        def worker_registered() -> bool:
            try:
                workers = cluster.master_json().get("workers", [])
            except requests.RequestException:
                return False
            return up("the worker") and any(
                w.get("state") == "ALIVE" and w.get("webuiaddress") == cluster.worker_ui
                for w in workers
            )

        deadline = time.monotonic() + timeout
        launch(
            "master",
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(master_port)),
            *("--webui-port", str(master_ui_port)),
        )
        wait_until(
            master_alive,
            timeout=timeout,
            interval=0.2,
            what=lambda: f"the Spark master at {cluster.master_ui}\n{cluster.log_tail()}",
        )
        launch(
            "worker",
            "org.apache.spark.deploy.worker.Worker",
            *("--host", "127.0.0.1", "--cores", str(cores), "--memory", memory),
            *("--webui-port", str(worker_ui_port), "--work-dir", str(cluster.work_dir)),
            cluster.master_url,
        )
        wait_until(
            worker_registered,
            timeout=max(deadline - time.monotonic(), 1.0),
            interval=0.2,
            what=lambda: f"the worker to register with the master\n{cluster.log_tail()}",
        )
        yield cluster


def _stop(cluster: SparkCluster, grace: float = 15.0) -> None:
    """Worker first (it kills its executors), then the master; SIGKILL what outlives
    ``grace``; then wait for every marked process (executors' Python daemons too) to go."""
    for name in ("worker", "master"):
        proc = cluster.procs.get(name)
        if proc is None:
            continue
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
        _signal_group(proc.pid, signal.SIGKILL)  # anything left in its group
    deadline = time.monotonic() + grace
    while (left := cluster.pids()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if left:
        time.sleep(0.5)
        if still := cluster.pids():
            raise ClusterDidNotStop(f"Spark cluster processes still running: {still}")


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
