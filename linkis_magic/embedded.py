"""The local sandbox gateway as the embedded default (no gateway URL configured).

`EmbeddedSandbox.ensure()` reuses a sandbox recorded in a state file (written by this or an
earlier kernel) when its process is alive and it answers a login, and otherwise spawns
`python -m linkis_magic.sandbox` on 127.0.0.1 with a freshly generated user and password.
The sandbox is spawned, never imported: it shares no code with the client side, and a child
process keeps DuckDB and uvicorn out of the kernel.

The generated password lives only in the state file (mode 0600, under the user's runtime
dir) and, in memory, as a masked :class:`~linkis_magic.auth.Secret`; it is never printed. A
sandbox this process started is stopped at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from linkis_magic.auth import Secret
from linkis_magic.errors import ConfigurationError, LinkisError

__all__ = ["EmbeddedSandbox", "SandboxInfo", "default_sandbox"]

_URL = re.compile(r"http://[\w.\-]+:\d+")
_APP = "linkis-magic"
_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class SandboxInfo:
    """Where a running sandbox listens and the generated credentials to use it."""

    url: str
    user: str
    password: Secret
    pid: int
    data_dir: str
    spark_master: str | None = None  # spark-* engineTypes run on this Spark master

    def __repr__(self) -> str:
        spark = f", spark_master={self.spark_master!r}" if self.spark_master else ""
        return f"SandboxInfo(url={self.url!r}, user={self.user!r}, pid={self.pid}{spark})"

    __str__ = __repr__


def _user_name() -> str:
    """The OS user name when it is a plain word (Linkis labels are '<user>-<creator>')."""
    try:
        name = getpass.getuser()
    except Exception:
        name = ""
    return name if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", name or "") else "jupyter"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(info: SandboxInfo) -> bool:
    """Does the recorded sandbox answer a login with the recorded credentials?"""
    from linkis_magic.client import LinkisClient

    try:
        with LinkisClient(
            info.url, user=info.user, password=info.password, timeout=(2.0, 5.0), retries=0
        ) as client:
            client.login()
    except LinkisError:
        return False
    return True


def spark_available() -> bool:
    """Is pyspark installed (the sandbox runs with this interpreter)?"""
    return importlib.util.find_spec("pyspark") is not None


def _line(verb: str, info: SandboxInfo) -> str:
    """The one line that says which sandbox is used (``verb``: started, using, restarted)."""
    spark = f", spark-* on Spark {info.spark_master}" if info.spark_master else ""
    hint = "; set LINKIS_GATEWAY_URL to use a real gateway" if verb == "started" else ""
    return (
        f"No Linkis gateway configured: {verb} the local sandbox at {info.url} "
        f"(user {info.user}{spark}{hint})."
    )


class EmbeddedSandbox:
    """Start, reuse, describe and stop the local sandbox gateway child process."""

    def __init__(self, state_dir: Path | None = None, data_dir: Path | None = None) -> None:
        if state_dir is None:
            with warnings.catch_warnings():
                # Without XDG_RUNTIME_DIR platformdirs warns and falls back to /tmp/runtime-UID,
                # which is what we want anyway.
                warnings.simplefilter("ignore")
                state_dir = Path(platformdirs.user_runtime_dir(_APP))
        self.state_file = Path(state_dir) / "sandbox.json"
        self.data_dir = Path(data_dir or platformdirs.user_data_dir(_APP)) / "sandbox"
        self._proc: subprocess.Popen[bytes] | None = None
        self._info: SandboxInfo | None = None
        self._lock = threading.Lock()
        self._atexit = False

    @property
    def url(self) -> str | None:
        """URL of the sandbox this object uses, if any."""
        return self._info.url if self._info else None

    def ensure(self, spark_master: str | None = None) -> tuple[SandboxInfo, str | None]:
        """A usable sandbox, and the one line to print when it was just started or adopted.

        ``spark_master`` asks for real Spark for spark-* engineTypes: a running sandbox without
        it (or with another master) is restarted with it. Without pyspark installed, the
        sandbox runs them on DuckDB and the line says so.
        """
        with self._lock:
            note = ""
            if spark_master is not None and not spark_available():
                note = (
                    f" Spark ({spark_master}) needs pyspark: pip install 'linkis-magic[spark]'; "
                    "until then spark-* engineTypes run on DuckDB."
                )
                spark_master = None
            current = self._current()
            if current is not None and spark_master in (None, current[0].spark_master):
                info, adopted = current
                return info, (_line("using", info) + note) if adopted else (note.strip() or None)
            restarted = current is not None
            if current is not None:
                self._stop_locked()
            info = self._start(spark_master)
            verb = "restarted" if restarted else "started"
            return info, _line(verb, info) + note

    def _current(self) -> tuple[SandboxInfo, bool] | None:
        """The sandbox in use (adopted=False) or a live recorded one (adopted=True)."""
        if self._info is not None and self._alive(self._info):
            return self._info, False
        recorded = self._read_state()
        if recorded is not None and _pid_alive(recorded.pid) and _answers(recorded):
            self._info = recorded
            return recorded, True
        return None

    def _alive(self, info: SandboxInfo) -> bool:
        """Is the process of ``info`` still there?"""
        if self._proc is not None and info.pid == self._proc.pid:
            return self._proc.poll() is None
        return _pid_alive(info.pid)

    def _read_state(self) -> SandboxInfo | None:
        try:
            raw = json.loads(self.state_file.read_text(encoding="utf-8"))
            return SandboxInfo(
                url=str(raw["url"]),
                user=str(raw["user"]),
                password=Secret(str(raw["password"])),
                pid=int(raw["pid"]),
                data_dir=str(raw["data_dir"]),
                spark_master=raw.get("spark_master") or None,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_state(self, info: SandboxInfo) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "url": info.url,
                    "user": info.user,
                    "password": info.password.reveal(),
                    "pid": info.pid,
                    "data_dir": info.data_dir,
                    "spark_master": info.spark_master,
                },
                fh,
            )
        os.replace(tmp, self.state_file)

    def _start(self, spark_master: str | None = None) -> SandboxInfo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user, password = _user_name(), Secret(secrets.token_urlsafe(18))
        log_path = self.data_dir / "sandbox.log"
        args = [
            sys.executable,
            "-m",
            "linkis_magic.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--user",
            f"{user}:{password.reveal()}",
        ]
        if spark_master:
            args += ["--spark-master", spark_master]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # Output goes to a file, not a pipe: the sandbox must not die of a closed pipe if it
        # outlives this kernel, and nothing has to drain it. Own session: Ctrl-C in a
        # terminal IPython must not reach it.
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        url = self._wait_for_url(proc, log_path)
        info = SandboxInfo(url, user, password, proc.pid, str(self.data_dir), spark_master)
        self._proc, self._info = proc, info
        self._write_state(info)
        if not self._atexit:
            atexit.register(self.stop)
            self._atexit = True
        return info

    @staticmethod
    def _wait_for_url(proc: subprocess.Popen[bytes], log_path: Path) -> str:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            text = log_path.read_text(encoding="utf-8", errors="replace")
            first, newline, _ = text.partition("\n")
            if newline:
                match = _URL.search(first)
                if match:
                    return match.group(0)
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise ConfigurationError(
            f"the local sandbox did not start (see {log_path}); its output ends with:\n{tail}"
        )

    def stop(self) -> bool:
        """Stop the sandbox this object started or adopted; True when one was running."""
        with self._lock:
            return self._stop_locked()

    def _stop_locked(self) -> bool:
        info, proc = self._info, self._proc
        self._info, self._proc = None, None
        if info is None:
            return False
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
        elif _pid_alive(info.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGTERM)
        # Forget it before waiting for it to exit (a Spark session takes seconds to stop):
        # nobody may adopt a sandbox on its way out, and a kernel killed meanwhile (Jupyter
        # gives a kernel a few seconds to shut down) leaves no stale record behind.
        recorded = self._read_state()
        if recorded is not None and recorded.pid == info.pid:
            with contextlib.suppress(OSError):
                self.state_file.unlink()
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        else:
            deadline = time.monotonic() + 10
            while _pid_alive(info.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        return True

    def describe(self) -> str:
        """One line: is a sandbox running, where, and whether this kernel started it."""
        with self._lock:
            info = self._info
            if info is not None and self._alive(info):
                owner = "started by this kernel" if self._proc is not None else "adopted"
                spark = f", Spark {info.spark_master}" if info.spark_master else ""
                return f"Local sandbox running at {info.url} (user {info.user}, {owner}{spark})."
        recorded = self._read_state()
        if recorded is not None and _pid_alive(recorded.pid):
            return f"Local sandbox running at {recorded.url} (pid {recorded.pid}, not in use here)."
        return "No local sandbox running."


_default: EmbeddedSandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> EmbeddedSandbox:
    """The process-wide sandbox manager (one per kernel)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = EmbeddedSandbox()
        return _default
