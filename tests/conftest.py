"""Session fixtures shared by every test group: a real sandbox gateway process on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USERS = {"alice": "alice-secret", "bob": "bob-secret"}
TOKEN = "SANDBOX-TOKEN-1"
_URL = re.compile(r"http://[\w.\-]+:\d+")


@dataclass
class SandboxProcess:
    """A running `python -m linkis_magic.sandbox` child, its URL, data dir and output."""

    url: str
    data_dir: Path
    proc: subprocess.Popen[str]
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))
    token: str = TOKEN
    output: list[str] = field(default_factory=list)
    drainer: threading.Thread | None = None

    def stop(self) -> None:
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


def start_sandbox(data_dir: Path, *extra: str) -> SandboxProcess:
    """Start a sandbox on a free loopback port and wait for its first line (the URL)."""
    args = [
        sys.executable,
        "-m",
        "linkis_magic.sandbox",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
    ]
    for name, password in USERS.items():
        args += ["--user", f"{name}:{password}"]
    args += ["--token", TOKEN, *extra]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = _URL.search(first)
    if not match:
        rest = first + (proc.stdout.read() if proc.poll() is not None else "")
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {rest!r}")
    box = SandboxProcess(url=match.group(0), data_dir=data_dir, proc=proc, output=[first])

    def drain() -> None:  # keep the pipe from filling up; tests may read box.output
        assert proc.stdout is not None
        for line in proc.stdout:
            box.output.append(line)

    box.drainer = threading.Thread(target=drain, daemon=True)
    box.drainer.start()
    return box


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox gateway for the whole session (users alice and bob, token SANDBOX-TOKEN-1)."""
    box = start_sandbox(tmp_path_factory.mktemp("sandbox-data"))
    yield box
    box.stop()
