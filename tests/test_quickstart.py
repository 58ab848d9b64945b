"""scripts/quickstart.sh, run the way a user runs it (as root in CI, as in many containers).

* The script starts a headless JupyterLab on a port we choose: the quickstart notebook is
  served and a kernel starts; terminating its process group leaves nothing running.
* ``--allow-root`` reaches JupyterLab only when the user is root (a stand-in ``jupyter`` prints
  the arguments it got; a stand-in ``id`` picks the user).
* The install step (skipped in the Lab test, which reuses the venv this test runs in) resolves:
  ``--check-install`` runs the script's own pip commands with ``--dry-run``.

JupyterLab gets fresh config/runtime/data/settings/workspaces dirs and no announcements
plugin (docs/kernel-notes.md §10).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests

from tests.support.wait import WaitTimeout, wait_until

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "quickstart.sh"
NOTEBOOK = REPO / "notebooks" / "quickstart.ipynb"
# The venv this test runs in (in CI, the one scripts/run-tests.sh made in the fresh clone).
VENV = Path(sys.executable).parents[1]
URL = re.compile(r"(http://127\.0\.0\.1:(\d+))/lab\?token=([0-9a-f]+)")
# Two shared cores: a cold JupyterLab start or a kernel start can take several seconds.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _processes_with_env(entry: str) -> list[int]:
    """PIDs of live processes whose environment holds ``entry`` (``NAME=value``)."""
    needle = entry.encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(proc.name))
    return found


def _jupyter_env(home: Path) -> dict[str, str]:
    """The caller's environment with Jupyter dirs of its own under ``home`` (§10)."""
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTERLAB_SETTINGS_DIR": home / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True)
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKIS_", "JUPYTER"))}
    env.update({k: str(v) for k, v in dirs.items()})
    return env


@dataclass
class Quickstart:
    """``bash scripts/quickstart.sh`` running in its own process group, its output in a file."""

    proc: subprocess.Popen[bytes]
    log: Path
    marker: str  # an environment entry every process it starts inherits
    url: str = ""
    token: str = field(default="", repr=False)
    left: list[int] | None = None  # what stop() found still running, once it ran

    def output(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def stop(self) -> list[int]:
        """SIGTERM the process group, wait for the server; return processes left behind."""
        if self.left is None:
            self.left = self._stop()
        return self.left

    def _stop(self) -> list[int]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        try:  # kernels run in sessions of their own; the server shuts them down on SIGTERM
            wait_until(
                lambda: not _processes_with_env(self.marker),
                timeout=STOP_TIMEOUT_S,
                interval=0.2,
                what="the kernels to exit",
            )
            return []
        except WaitTimeout:
            left = _processes_with_env(self.marker)
            for pid in left:  # ours (they carry our marker): never leave them running
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return left


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[Quickstart]:
    """The script started headless on a free port, reusing this test's venv as its VENV."""
    if not (VENV / "bin" / "jupyter-lab").exists():
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"no JupyterLab in {VENV} under CI=true (the browser extra installs it)")
        pytest.skip(f"no JupyterLab in {VENV} (pip install -e '.[browser]')")
    env = _jupyter_env(tmp_path / "jupyter")
    env.update(VENV=str(VENV), QUICKSTART_SKIP_INSTALL="1")
    marker = f"JUPYTER_RUNTIME_DIR={env['JUPYTER_RUNTIME_DIR']}"
    port = _free_port()
    args = [
        "bash",
        str(SCRIPT),
        # Everything below is JupyterLab's: the script must pass it through.
        "--no-browser",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = tmp_path / "quickstart.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=tmp_path,  # the script finds the repository by itself
            start_new_session=True,
        )
    qs = Quickstart(proc=proc, log=log, marker=marker)
    try:

        def announced() -> re.Match[str] | None:
            if proc.poll() is not None:
                pytest.fail(f"quickstart.sh exited ({proc.returncode}):\n{qs.output()}")
            return URL.search(log.read_text(errors="replace"))

        found = wait_until(
            announced,
            timeout=START_TIMEOUT_S,
            interval=0.2,
            what=lambda: f"the server URL in the script's output:\n{qs.output()}",
        )
        qs.url, qs.token = found.group(1), found.group(3)
        assert int(found.group(2)) == port, "--ServerApp.port did not reach JupyterLab"
        yield qs
    finally:
        left = qs.stop()
    assert not left, f"processes left running after the script was stopped: {left}"


def test_serves_the_notebook_starts_a_kernel_and_stops_cleanly(quickstart: Quickstart) -> None:
    # The script execs JupyterLab; as root (CI) it got --allow-root, or it would have exited.
    lab_args = Path(f"/proc/{quickstart.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert (b"--allow-root" in lab_args) is (os.geteuid() == 0)

    reply = quickstart.api("GET", "/api/contents/quickstart.ipynb")
    assert reply.status_code == 200, reply.text[:300]
    served = reply.json()
    assert served["type"] == "notebook"
    expected = nbformat.read(NOTEBOOK, as_version=4)
    assert [c["source"] for c in served["content"]["cells"]] == [c.source for c in expected.cells]

    # The package's JupyterLab extension (built by the editable install) is loaded: the page
    # config JupyterLab serves lists it among the federated extensions.
    page = quickstart.api("GET", "/lab")
    assert page.status_code == 200, page.text[:300]
    assert re.search(r'"name":\s*"linkis-magic"', page.text), "linkis-magic's extension not loaded"

    reply = quickstart.api("POST", "/api/kernels", json={"name": "python3"})
    assert reply.status_code == 201, reply.text[:300]
    kernel_id = reply.json()["id"]

    def state() -> str:
        return str(quickstart.api("GET", f"/api/kernels/{kernel_id}").json()["execution_state"])

    # As a browser tab does: connect to the kernel's channels. The server then asks the kernel
    # for its info, and the status the kernel publishes turns execution_state from "starting"
    # into "idle" (with no client connected it stays "starting").
    import websocket  # websocket-client, a jupyter_server dependency

    channels = websocket.create_connection(
        f"{quickstart.url.replace('http', 'ws', 1)}/api/kernels/{kernel_id}/channels",
        header=[f"Authorization: token {quickstart.token}"],
        timeout=10,
    )
    try:
        wait_until(
            lambda: state() == "idle",
            timeout=START_TIMEOUT_S,
            interval=0.2,
            what=lambda: f"the kernel to be idle (it is {state()!r}):\n{quickstart.output()}",
        )
    finally:
        channels.close()
    # The kernel inherits the server's environment, so stop() sees it among what must end.
    assert set(_processes_with_env(quickstart.marker)) - {quickstart.proc.pid}

    assert quickstart.stop() == [], "processes left running after SIGTERM"
    assert quickstart.proc.returncode == 0, quickstart.output()


def _fake_venv(tmp_path: Path, uid: str) -> dict[str, str]:
    """A VENV whose ``jupyter`` prints its arguments, and a PATH whose ``id -u`` says ``uid``."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    for path, body in (
        (venv / "bin" / "jupyter", 'printf "%s\\n" "$@"\n'),
        (fakes / "id", f'[ "$1" = -u ] && echo {uid}\n'),
    ):
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
    env = dict(os.environ, VENV=str(venv), QUICKSTART_SKIP_INSTALL="1")
    env["PATH"] = f"{fakes}{os.pathsep}{env['PATH']}"
    return env


@pytest.mark.parametrize(("uid", "allow_root"), [("0", True), ("1000", False)])
def test_allow_root_only_for_root(tmp_path: Path, uid: str, allow_root: bool) -> None:
    env = _fake_venv(tmp_path, uid)
    run = subprocess.run(
        ["bash", str(SCRIPT), "--no-browser", "--ServerApp.port=1234"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    args = run.stdout.splitlines()
    assert args[0] == "lab"
    assert ("--allow-root" in args) is allow_root
    # The user's arguments come after the script's defaults (so they win), then the notebook.
    assert args[-3:] == ["--no-browser", "--ServerApp.port=1234", "notebooks/quickstart.ipynb"]


def test_extra_arguments_are_refused_with_execute(tmp_path: Path) -> None:
    env = _fake_venv(tmp_path, "0")
    run = subprocess.run(
        ["bash", str(SCRIPT), "--execute", "--no-browser"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2
    assert "only apply when starting JupyterLab" in run.stderr


def test_install_step_resolves() -> None:
    """The script's pip commands, resolved against this venv with --dry-run (installs nothing;
    needs the package index, as the real install does)."""
    run = subprocess.run(
        ["bash", str(SCRIPT), "--check-install"],
        env=dict(os.environ, VENV=str(VENV)),
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "does not provide the extra" not in run.stderr, run.stderr
