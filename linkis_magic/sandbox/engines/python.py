"""The Python engine (runType python/py): the cell runs in a fresh interpreter subprocess.

Printed output is logged (INFO) and becomes a text result set; `linkis_show(obj)` — injected
into the cell's namespace — writes a table result set from a pandas DataFrame, a pyarrow
Table, a list of dicts, or rows plus `columns=[...]`, numbered in order with the text
chunks. The child writes the `.dolphin` files itself (it imports the sandbox's dolphin module),
so no data crosses a pipe. Other stderr output is logged as WARN; an uncaught exception's
traceback is logged as ERROR lines and fails the job with errCode 43001 and the exception
line as errDesc. A kill terminates the child's process group.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from linkis_magic.sandbox.engines import EngineError, JobContext, substitute
from linkis_magic.sandbox.engines.shell import run_process

ERROR_MARK = "\x1eLINKIS-ERROR\x1e"

BOOTSTRAP = r'''
import io, os, sys, traceback

_dir = os.environ["LINKIS_SANDBOX_RESULT_DIR"]
_mark = os.environ["LINKIS_SANDBOX_ERROR_MARK"]
_state = {"n": 0, "text": []}
_real_stdout = sys.stdout


class _Tee(io.TextIOBase):
    def write(self, s):
        _real_stdout.write(s)
        _state["text"].append(s)
        return len(s)

    def flush(self):
        _real_stdout.flush()


def _next_path():
    os.makedirs(_dir, exist_ok=True)
    path = os.path.join(_dir, "_%d.dolphin" % _state["n"])
    _state["n"] += 1
    return path


def _flush_text():
    text = "".join(_state["text"])
    _state["text"].clear()
    if text.strip():
        from linkis_magic.sandbox import dolphin
        dolphin.write_text(_next_path(), text.splitlines())


def linkis_show(data, columns=None):
    """Emit a table result set (DataFrame, pyarrow Table, list of dicts, or rows+columns)."""
    import pyarrow as pa
    from linkis_magic.sandbox import dolphin

    if isinstance(data, pa.Table):
        table = data
    elif hasattr(data, "to_arrow") and not hasattr(data, "iloc"):
        table = data.to_arrow()
    elif hasattr(data, "iloc"):
        table = pa.Table.from_pandas(data, preserve_index=False)
    else:
        rows = list(data)
        if rows and isinstance(rows[0], dict):
            table = pa.Table.from_pylist(rows)
        else:
            if columns is None:
                width = len(rows[0]) if rows else 0
                columns = ["c%d" % i for i in range(width)]
            table = pa.Table.from_pylist([dict(zip(columns, row)) for row in rows])
    sys.stdout.flush()
    _flush_text()
    dolphin.write_arrow(_next_path(), table)


sys.stdout = _Tee()
_path = sys.argv[1]
with open(_path, encoding="utf-8") as fh:
    _source = fh.read()
_ns = {"__name__": "__main__", "linkis_show": linkis_show}
_code = 0
try:
    exec(compile(_source, "<linkis-cell>", "exec"), _ns)
except SystemExit as exc:
    _code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except BaseException as exc:
    sys.stdout.flush()
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next)
    for line in "".join(lines).splitlines():
        sys.stderr.write(_mark + line + "\n")
    sys.stderr.flush()
    _code = 1
sys.stdout.flush()
try:
    _flush_text()
except BaseException:
    traceback.print_exc()
    _code = _code or 1
sys.exit(_code)
'''


class PythonEngine:
    """Runs a Python cell with the sandbox's own interpreter (same packages available)."""

    def run(self, ctx: JobContext) -> None:
        code = substitute(ctx.code, ctx.variables, strict=False)
        errors: list[str] = []

        def stdout(line: str) -> None:
            ctx.log("INFO", line)

        def stderr(line: str) -> None:
            if line.startswith(ERROR_MARK):
                line = line[len(ERROR_MARK) :]
                errors.append(line)
                ctx.log("ERROR", line)
            else:
                ctx.log("WARN", line)

        ctx.progress(0.0, [])
        with tempfile.TemporaryDirectory(prefix=f"linkis-py-{ctx.task_id}-") as work:
            cell = Path(work) / "cell.py"
            cell.write_text(code, encoding="utf-8")
            env = dict(
                os.environ,
                PYTHONUNBUFFERED="1",
                PYTHONIOENCODING="utf-8",
                LINKIS_SANDBOX_RESULT_DIR=str(ctx.result_dir),
                LINKIS_SANDBOX_ERROR_MARK=ERROR_MARK,
            )
            rc = run_process(
                ctx,
                [sys.executable, "-c", BOOTSTRAP, str(cell)],
                on_stdout=stdout,
                on_stderr=stderr,
                cwd=Path(work),
                env=env,
            )
        if rc is None or rc == 0:
            return
        last = next((e.strip() for e in reversed(errors) if e.strip()), "")
        raise EngineError(43001, last or f"python exited with code {rc}")
