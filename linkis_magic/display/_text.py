"""TextDisplay: compact progress lines for terminal IPython, jupyter console and headless runs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from linkis_magic.display._base import JobDisplay
from linkis_magic.display._format import (
    is_error_line,
    percent,
    resource_lines,
    stage_short,
    status_line,
    unreachable_text,
)

if TYPE_CHECKING:
    from linkis_magic.job import JobSnapshot
    from linkis_magic.results import ResultSet


class TextDisplay(JobDisplay):
    """Plain progress lines on ``sys.stdout`` for frontends without widgets.

    Prints a line on every state change and at most every ``min_interval`` seconds while the
    progress moves, every notice and every new log error line once as it arrives, the YARN
    applications the job holds whenever what they say changes, and the final summary. A
    gateway that stops answering is one line, and one more when it answers again.
    """

    min_interval = 5.0
    trailing = False  # a late line from a timer thread could land in another cell

    def __init__(
        self,
        *,
        on_kill: Callable[[], None] | None = None,
        title: str = "",
        min_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(on_kill=on_kill, title=title, min_interval=min_interval, clock=clock)
        self._last_key: tuple[object, ...] | None = None
        self._notices_shown = 0
        self._resources_shown: list[str] = []
        self._unreachable = ""

    def _write(self, line: str) -> None:
        # Look sys.stdout up at each call: IPython and pytest swap it.
        print(line, file=sys.stdout, flush=True)

    def _observe(self, snap: JobSnapshot) -> None:
        for notice in snap.notices[self._notices_shown :]:
            self._write(f"  Note: {notice}")
        self._notices_shown = max(self._notices_shown, len(snap.notices))
        unreachable = unreachable_text(snap)
        if unreachable != self._unreachable:
            self._write(
                f"  Note: {unreachable}" if unreachable else "  Note: gateway answering again"
            )
            self._unreachable = unreachable
        lines = resource_lines(snap.resources)
        if lines and lines != self._resources_shown:  # none reported: the last lines stand
            self._resources_shown = lines
            for line in lines:
                self._write(f"  resources: {line}")
        errors = frozenset(snap.error_lines)
        for line in snap.new_log_lines:
            if is_error_line(line, errors):
                self._write(f"  ! {line}")

    def _render(self, snap: JobSnapshot) -> None:
        if snap.done:
            return  # finish() prints the summary instead
        # Only print when something besides the clock moved.
        key = (snap.state, percent(snap.progress), tuple(map(stage_short, snap.stages)))
        if key == self._last_key:
            return
        self._last_key = key
        self._write(status_line(snap, self.title))

    def _finish(
        self,
        snap: JobSnapshot,
        results: Sequence[ResultSet] | None,
        error: BaseException | None,
    ) -> None:
        self._write(self.summary_text(snap, results, error))
