"""The shell engine (runType shell/sh): bash in its own process group.

stdout lines become INFO log lines and, together, one text result set (`_N.dolphin`, type 1);
stderr lines become ERROR log lines so failures are visible in the error slot. A non-zero
exit fails the job with errCode 44001 and the last stderr line as errDesc. A kill sends
SIGTERM to the whole process group (children of the script too), then SIGKILL after a second.

A shell engine connection (`ShellSession`) holds no process between jobs, like Linkis's shell
engine, which starts one per script: it lives in the sandbox's process, and killing it kills
the script it is running (through the job's kill).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from linkis_magic.sandbox import dolphin
from linkis_magic.sandbox.engines import EngineError, Footprint, JobContext, LogFn, substitute

LineHandler = Callable[[str], None]


def _pump(stream: IO[str], handler: LineHandler) -> None:
    for line in stream:
        handler(line.rstrip("\n"))


def run_process(
    ctx: JobContext,
    argv: Sequence[str],
    *,
    on_stdout: LineHandler,
    on_stderr: LineHandler,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> int | None:
    """Run `argv` in a new session; returns the exit code, or None when the job was killed."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=str(cwd),
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None

    def stop() -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                return
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                continue

    unregister = ctx.on_cancel(lambda: threading.Thread(target=stop, daemon=True).start())
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, on_stdout), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, on_stderr), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    try:
        code = proc.wait()
        for pump in pumps:
            pump.join(timeout=5)
    finally:
        unregister()
        proc.stdout.close()
        proc.stderr.close()
        if proc.poll() is None:  # interrupted while waiting: do not leave children behind
            stop()
    if ctx.cancelled:
        return None
    return code


class ShellEngine:
    """Runs a cell with bash (or sh when bash is missing)."""

    def open(self, log: LogFn) -> ShellSession:
        return ShellSession()


class ShellSession:
    """A shell engine connection: one script at a time, each in its own process group."""

    def __init__(self) -> None:
        self.pid: int | None = os.getpid()
        self._open = True

    def alive(self) -> bool:
        return self._open

    def footprint(self) -> Footprint:
        return Footprint()

    def close(self) -> None:
        self._open = False  # a running script was stopped by its job's kill

    def run(self, ctx: JobContext) -> None:
        code = substitute(ctx.code, ctx.variables, strict=False)
        shell = shutil.which("bash") or "/bin/sh"
        out: list[str] = []
        errors: list[str] = []

        def stdout(line: str) -> None:
            out.append(line)
            ctx.log("INFO", line)

        def stderr(line: str) -> None:
            errors.append(line)
            ctx.log("ERROR", line)

        ctx.progress(0.0, [])
        with tempfile.TemporaryDirectory(prefix=f"linkis-sh-{ctx.task_id}-") as work:
            script = Path(work) / "cell.sh"
            script.write_text(code, encoding="utf-8")
            rc = run_process(
                ctx, [shell, str(script)], on_stdout=stdout, on_stderr=stderr, cwd=Path(work)
            )
        if rc is None:
            return
        if out:
            dolphin.write_text(ctx.next_result_path(), out)
        if rc != 0:
            last = next((e for e in reversed(errors) if e.strip()), "")
            raise EngineError(44001, f"shell exited with code {rc}" + (f": {last}" if last else ""))
