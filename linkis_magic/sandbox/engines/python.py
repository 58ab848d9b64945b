"""The Python engine (runType python/py): an interpreter process kept alive between jobs.

An engine connection (`PythonSession`) is one `python` subprocess of the sandbox's own
interpreter (same packages) in its own process group. It runs the cells of its jobs one after
the other in one namespace, so what a cell defines is there for the next cell on the same
engine, as on Linkis's Python engine. Requests go down a private pipe (not stdin, which is
/dev/null: `input()` in a cell must not read them); the cell's stdout and stderr come back on
pipes, each job's end marked on both so no late line is lost.

Printed output is logged (INFO) and becomes a text result set; `linkis_show(obj)` — in the
cells' namespace — writes a table result set from a pandas DataFrame, a pyarrow Table, a list
of dicts, or rows plus `columns=[...]`, numbered in order with the text chunks. As on Linkis's
Python engine (docs/linkis-protocol.md §6.6), `show(df)` writes a table result set,
`show_matplotlib(fig=None, fmt="png")` writes the current figure as an HTML result set holding
a base64 `<img>` (or the SVG), and `plt.show()` calls it (the engine's matplotlib backend,
`_mplbackend`, chosen when a cell mentions matplotlib). The engine
writes the `.dolphin` files itself (it imports the sandbox's dolphin module), so no data
crosses a pipe. Other stderr output is logged as WARN; an uncaught exception's traceback is
logged as ERROR lines and fails the job with errCode 43001 and the exception line as errDesc;
`sys.exit(n)` ends only the cell ("python exited with code n" when n is not 0).

Kill: Python cannot be interrupted reliably (C calls, `except BaseException`), so a job's kill
stops the engine's process group, and its state goes with it; the next job starts a new
engine. Killing the engine connection (docs/linkis-protocol.md §14.3) does the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from linkis_magic.sandbox.engines import (
    EngineError,
    Footprint,
    JobContext,
    LogFn,
    resident_memory,
    substitute,
)

ERROR_MARK = "\x1eLINKIS-ERROR\x1e"
DONE_MARK = "\x1eLINKIS-DONE\x1e"

BOOTSTRAP = r'''
import io, json, os, sys, traceback

_mark = os.environ["LINKIS_SANDBOX_ERROR_MARK"]
_done = os.environ["LINKIS_SANDBOX_DONE_MARK"]
_control = os.fdopen(int(os.environ["LINKIS_SANDBOX_CONTROL_FD"]), "r", encoding="utf-8")
_state = {"dir": "", "n": 0, "text": []}
_real_stdout = sys.stdout


class _Tee(io.TextIOBase):
    def write(self, s):
        _real_stdout.write(s)
        _state["text"].append(s)
        return len(s)

    def flush(self):
        _real_stdout.flush()


def _next_path():
    os.makedirs(_state["dir"], exist_ok=True)
    path = os.path.join(_state["dir"], "_%d.dolphin" % _state["n"])
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
    # lines_after=False: the sandbox process that exports this result cannot wait for a
    # thread of this one, so the lines file is complete when the cell ends.
    dolphin.write_arrow(_next_path(), table, lines_after=False)


def show_matplotlib(p=None, fmt="png", width="auto", height="auto", **kwargs):
    """Linkis's chart output: the figure as one HTML result set (a base64 <img> or SVG)."""
    import base64

    if p is None:
        try:
            import matplotlib.pyplot as p  # the engine's backend: Agg (_mplbackend)
        except Exception as exc:
            print("Failed to import matplotlib")
            print(exc)
            return
    if fmt == "png":
        img = io.BytesIO()
        p.savefig(img, format="png")
        data = base64.b64encode(img.getvalue().strip()).decode("ascii")
        body = "<img src=data:image/png;base64,%s style='width=%s;height:%s'>" % (
            data, width, height)
    elif fmt == "svg":
        img = io.StringIO()
        p.savefig(img, format="svg")
        body = img.getvalue()
    else:
        raise ValueError("fmt must be 'png' or 'svg'")
    html = "<div style='width:%s;height:%s'>%s<div>" % (width, height, body)
    from linkis_magic.sandbox import dolphin
    sys.stdout.flush()
    _flush_text()
    dolphin.write_text(_next_path(), [html], type_code=dolphin.HTML)


def show(obj, **kwargs):
    """Linkis's show(): pyplot -> a chart, a DataFrame -> a table, anything else printed."""
    if getattr(obj, "__name__", None) == "matplotlib.pyplot":
        show_matplotlib(obj, **kwargs)
    elif type(obj).__name__ == "DataFrame":
        linkis_show(obj)
    elif callable(obj):
        obj()
    else:
        print(str(obj))


def _use_linkis_backend():
    """plt.show() sends the chart, as on Linkis (_mplbackend); set once, only for cells that
    draw, so the others never import matplotlib."""
    if _state.get("mpl"):
        return
    _state["mpl"] = True
    try:
        import matplotlib
        matplotlib.use("module://linkis_magic.sandbox.engines._mplbackend")
    except Exception:
        pass


def _run_cell(path, namespace):
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    if "matplotlib" in source or "show_matplotlib" in source:
        _use_linkis_backend()
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # as Linkis does, whatever backend a cell chose since
        pyplot.show = show_matplotlib
    try:
        exec(compile(source, "<linkis-cell>", "exec"), namespace)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        sys.stdout.flush()
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next)
        for line in "".join(lines).splitlines():
            sys.stderr.write(_mark + line + "\n")
        sys.stderr.flush()
        return 1
    return 0


sys.stdout = _Tee()
_namespace = {
    "__name__": "__main__",
    "linkis_show": linkis_show,
    "show": show,
    "show_matplotlib": show_matplotlib,
}
for _request in _control:
    _job = json.loads(_request)
    _state.update(dir=_job["result_dir"], n=0, text=[])
    _code = _run_cell(_job["cell"], _namespace)
    sys.stdout.flush()
    try:
        _flush_text()
    except BaseException:
        traceback.print_exc()
        _code = _code or 1
    sys.stdout.flush()
    sys.stderr.flush()
    _real_stdout.write("%s%d\n" % (_done, _code))
    _real_stdout.flush()
    sys.stderr.write(_done + "\n")
    sys.stderr.flush()
'''

LineHandler = Callable[[str], None]


class PythonEngine:
    """Starts Python engine processes with the sandbox's own interpreter."""

    def open(self, log: LogFn) -> PythonSession:
        return PythonSession()


class PythonSession:
    """One Python engine process: runs one job at a time in its namespace."""

    def __init__(self) -> None:
        self._work = Path(tempfile.mkdtemp(prefix="linkis-py-engine-"))
        read_fd, write_fd = os.pipe()
        env = dict(
            os.environ,
            PYTHONUNBUFFERED="1",
            PYTHONIOENCODING="utf-8",
            LINKIS_SANDBOX_ERROR_MARK=ERROR_MARK,
            LINKIS_SANDBOX_DONE_MARK=DONE_MARK,
            LINKIS_SANDBOX_CONTROL_FD=str(read_fd),
        )
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", BOOTSTRAP],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                cwd=str(self._work),
                env=env,
                start_new_session=True,
                pass_fds=(read_fd,),
            )
        except OSError as exc:
            os.close(write_fd)
            raise EngineError(21002, f"cannot start the python engine: {exc}") from exc
        finally:
            os.close(read_fd)
        self.pid: int | None = self._proc.pid
        self._control = os.fdopen(write_fd, "w", encoding="utf-8")
        self._lock = threading.Lock()
        self._handlers: tuple[LineHandler, LineHandler] | None = None
        self._done = [threading.Event(), threading.Event()]
        self._rc: int | None = None
        assert self._proc.stdout is not None and self._proc.stderr is not None
        for index, stream in enumerate((self._proc.stdout, self._proc.stderr)):
            threading.Thread(
                target=self._pump, args=(stream, index), name=f"py-engine-{self.pid}", daemon=True
            ).start()

    # -- the process -------------------------------------------------------------------------

    def _pump(self, stream: IO[str], index: int) -> None:
        """Hand each line to the running job's handler; a DONE_MARK ends the job's output."""
        for raw in stream:
            line = raw.rstrip("\n")
            text, mark, rest = line.partition(DONE_MARK)
            with self._lock:
                handlers = self._handlers
            if text and handlers is not None:
                handlers[index](text)
            if mark:
                if index == 0:
                    self._rc = int(rest) if rest.lstrip("-").isdigit() else 1
                self._done[index].set()
        self._done[index].set()  # the process is gone: nothing more will come
        stream.close()

    def alive(self) -> bool:
        return self._proc.poll() is None

    def footprint(self) -> Footprint:
        return Footprint(used_memory=resident_memory(self.pid) if self.alive() else None)

    def close(self) -> None:
        """Stop the process group (SIGTERM, then SIGKILL after a second) and reap it."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self._proc.poll() is not None:
                break
            try:
                os.killpg(self._proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self._proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                continue
        self._proc.poll()
        with contextlib.suppress(OSError):  # a broken pipe: the engine had already gone
            self._control.close()
        shutil.rmtree(self._work, ignore_errors=True)

    # -- one job -----------------------------------------------------------------------------

    def run(self, ctx: JobContext) -> None:
        code = substitute(ctx.code, ctx.variables, strict=False)
        errors: list[str] = []

        def stderr(line: str) -> None:
            if line.startswith(ERROR_MARK):
                line = line[len(ERROR_MARK) :]
                errors.append(line)
                ctx.log("ERROR", line)
            else:
                ctx.log("WARN", line)

        ctx.progress(0.0, [])
        cell = self._work / f"cell-{ctx.task_id}.py"
        cell.write_text(code, encoding="utf-8")
        unregister = ctx.on_cancel(lambda: threading.Thread(target=self.close, daemon=True).start())
        try:
            rc = self._exchange(ctx, cell, (lambda line: ctx.log("INFO", line), stderr))
        finally:
            unregister()
            cell.unlink(missing_ok=True)
        if ctx.cancelled or rc == 0:
            return
        if rc is None:
            raise EngineError(
                43001, f"the python engine exited (code {self._proc.poll()}) while running the job"
            )
        last = next((e.strip() for e in reversed(errors) if e.strip()), "")
        raise EngineError(43001, last or f"python exited with code {rc}")

    def _exchange(
        self, ctx: JobContext, cell: Path, handlers: tuple[LineHandler, LineHandler]
    ) -> int | None:
        """Send one cell, wait for both end markers; the cell's exit code, or None if the
        engine died first."""
        with self._lock:
            self._handlers = handlers
            self._rc = None
            for event in self._done:
                event.clear()
        request = {"cell": str(cell), "result_dir": str(ctx.result_dir)}
        try:
            self._control.write(json.dumps(request) + "\n")
            self._control.flush()
        except (OSError, ValueError):  # broken pipe / closed: the engine is gone
            return None
        for event in self._done:
            while not event.wait(0.5):
                if self._proc.poll() is not None:
                    event.wait(5.0)  # let the pump read what the process wrote last
                    break
        with self._lock:
            self._handlers = None
        return self._rc  # None unless the cell's end marker arrived
