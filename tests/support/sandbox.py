"""The one way tests and benchmarks start a sandbox gateway: its real CLI on a free port.

Every test group and every benchmark goes through :func:`start_sandbox` (or the
:func:`running_sandbox` context manager), so they all exercise the same command line a user
types, ``python -m linkis_magic.sandbox``, and read its URL from the first output line.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

USERS: dict[str, str] = {"alice": "alice-secret", "bob": "bob-secret"}
TOKEN = "SANDBOX-TOKEN-1"
_URL = re.compile(r"http://[\w.\-]+:\d+")


class SandboxDidNotStart(RuntimeError):
    """The CLI exited (or printed something else) instead of announcing its URL."""


@dataclass
class SandboxProcess:
    """A running `python -m linkis_magic.sandbox` child, its URL, data dir and output."""

    url: str
    data_dir: Path
    proc: subprocess.Popen[str]
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))
    token: str | None = TOKEN
    output: list[str] = field(default_factory=list)
    drainer: threading.Thread | None = None

    @property
    def text(self) -> str:
        """Everything the process printed so far."""
        return "".join(self.output)

    def stop(self) -> str:
        """SIGTERM (then SIGKILL after 10 s); returns everything the process printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.drainer is not None:
            self.drainer.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.text


def start_sandbox(
    data_dir: Path,
    *extra: str,
    users: Mapping[str, str] | None = USERS,
    token: str | None = TOKEN,
    env: Mapping[str, str] | None = None,
) -> SandboxProcess:
    """Start a sandbox on a free loopback port and wait for its first line (the URL).

    ``users``/``token`` become ``--user NAME:PASSWORD`` / ``--token``; pass ``None`` to leave
    them out (then ``extra`` must give what the test wants). Raises SandboxDidNotStart with
    the process output when the first line has no URL.
    """
    args = [
        sys.executable,
        "-m",
        "linkis_magic.sandbox",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
    ]
    for name, password in (users or {}).items():
        args += ["--user", f"{name}:{password}"]
    if token is not None:
        args += ["--token", token]
    args += list(extra)
    proc_env = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=proc_env
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = _URL.search(first)
    if not match:
        try:
            rest = proc.communicate(timeout=10)[0] or ""
        except subprocess.TimeoutExpired:
            proc.kill()
            rest = proc.communicate()[0] or ""
        raise SandboxDidNotStart(
            f"sandbox did not start (exit {proc.returncode}): {first + rest!r}"
        )
    box = SandboxProcess(
        url=match.group(0),
        data_dir=data_dir,
        proc=proc,
        users=dict(users or {}),
        token=token,
        output=[first],
    )

    def drain() -> None:  # keep the pipe from filling up; tests may read box.output
        assert proc.stdout is not None
        for line in proc.stdout:
            box.output.append(line)

    box.drainer = threading.Thread(target=drain, daemon=True)
    box.drainer.start()
    return box


@contextmanager
def running_sandbox(*extra: str, **kwargs: object) -> Iterator[SandboxProcess]:
    """A sandbox in a temporary data directory for the duration of a ``with`` block."""
    with tempfile.TemporaryDirectory(prefix="linkis-sandbox-") as data:
        box = start_sandbox(Path(data), *extra, **kwargs)  # type: ignore[arg-type]
        try:
            yield box
        finally:
            box.stop()
