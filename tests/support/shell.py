"""The one IPython shell the tests drive, and the way its LinkisMagics is set up and reset.

Tests run magics through a real ``InteractiveShell`` (IPython's global test app, a terminal
shell). It is shared by the whole session; :func:`reset` puts its LinkisMagics back to a clean
state (no %config values, no runs, no client) so tests do not see each other's settings.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from IPython.testing import globalipapp

from linkis_magic.magics import LinkisMagics
from tests.support.wait import WaitTimeout, wait_until

__all__ = ["configure", "interrupt_when", "ipython", "magics_of", "reset"]


def ipython() -> Any:
    """The process-wide test shell with the extension loaded.

    ``start_ipython()`` returns None once the shell exists; ``globalipapp.get_ipython`` is
    then the shell's own accessor (look it up each time: it is rebound on start).
    """
    shell = globalipapp.start_ipython() or globalipapp.get_ipython()
    shell.run_line_magic("load_ext", "linkis_magic")
    return shell


def magics_of(shell: Any) -> LinkisMagics:
    """The shell's one LinkisMagics instance."""
    (found,) = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
    return found


def configure(
    shell: Any, url: str, user: str = "alice", password: str | None = "alice-secret"
) -> LinkisMagics:
    """Point the magics at ``url`` as ``user`` through %config, as a user would."""
    magics = magics_of(shell)
    magics.session.drop_client()
    shell.run_line_magic("config", f"LinkisMagics.gateway_url = {url!r}")
    shell.run_line_magic("config", f"LinkisMagics.user = {user!r}")
    if password is not None:
        shell.run_line_magic("config", f"LinkisMagics.password = {password!r}")
    return magics


def reset(shell: Any) -> None:
    """Stop runs still waiting, forget every setting, run, client and named connection."""
    magics = magics_of(shell)
    for session in magics.sessions.all():
        for run in session.runs:
            if run.thread is not None and not run.done.is_set():
                run.request_cancel()
                run.thread.join(30)
    magics.sessions.reset()
    for name in magics.SETTING_TRAITS:
        setattr(magics, name, None)
    magics.sandbox_spark_master = None
    magics.autostart_sandbox = True
    magics.session.runner.clear()
    magics.session.drop_client()
    shell.config.pop("LinkisMagics", None)  # what %config left for a reloaded extension


def interrupt_when(condition: Callable[[], bool]) -> tuple[threading.Thread, threading.Event]:
    """Send this process SIGINT (Ctrl-C, on the main thread) once ``condition`` holds.

    Returns the watcher thread and an event set when the signal went out.
    """
    sent = threading.Event()

    def watch() -> None:
        # What went wrong is printed (pytest shows it with the failure): a test whose cell
        # was never interrupted otherwise only reports its timeout.
        try:
            wait_until(condition, interval=0.02, what="the moment to interrupt")
        except WaitTimeout as exc:
            print(f"interrupt_when: no SIGINT sent: {exc}", file=sys.stderr)
            raise
        handler = signal.getsignal(signal.SIGINT)
        if handler is not signal.default_int_handler:
            print(f"interrupt_when: SIGINT is handled by {handler!r}", file=sys.stderr)
        os.kill(os.getpid(), signal.SIGINT)
        sent.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, sent
