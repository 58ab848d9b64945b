"""Upload progress (bytes sent of total) before a push's job starts, in the job's display style.

A push uploads first and runs its job afterwards; the job has the usual display. The upload
gets this small companion, chosen to match that display: a progress bar for the widget, a few
text lines otherwise, nothing for ``-q``. It is a plain ``on_progress(sent, total)`` callable,
so the client needs to know nothing about displays. When the upload ends the bar is replaced
by one line of text, so a saved notebook keeps no dead widget.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from linkis_magic.display._base import JobDisplay, NullDisplay
from linkis_magic.display._widget import WidgetDisplay

__all__ = ["TransferProgress", "transfer_progress"]

_TEXT_EVERY = 1.0  # seconds between text lines
_WIDGET_EVERY = 0.1


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


class TransferProgress:
    """``on_progress(sent, total)`` that draws nothing (the ``-q`` style); the base class."""

    def __init__(self, title: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.title = title
        self.sent = 0
        self.total = 0
        self._clock = clock
        self._last: float | None = None
        self._closed = False

    def __call__(self, sent: int, total: int) -> None:
        self.sent, self.total = sent, total
        now = self._clock()
        if sent >= total or self._last is None or now - self._last >= self._every():
            self._last = now
            self._draw()

    def line(self) -> str:
        """``Uploading X: 3.0 MiB of 12.0 MiB (25%)``."""
        percent = 100 if not self.total else int(100 * self.sent / self.total)
        return f"{self.title}: {_mib(self.sent)} of {_mib(self.total)} ({percent}%)"

    def close(self) -> None:
        """The upload is over (done or not): leave a static line where the bar was."""
        if not self._closed:
            self._closed = True
            self._finish()

    def _every(self) -> float:
        return _TEXT_EVERY

    def _draw(self) -> None:
        pass

    def _finish(self) -> None:
        pass


class _TextTransfer(TransferProgress):
    def __init__(self, title: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(title, clock)
        self._shown = ""

    def _draw(self) -> None:
        text = self.line()
        if text != self._shown:
            self._shown = text
            print(text, file=sys.stdout, flush=True)


class _WidgetTransfer(TransferProgress):
    def __init__(self, title: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(title, clock)
        self._handle: Any = None
        self._bar: Any = None
        self._label: Any = None

    def _every(self) -> float:
        return _WIDGET_EVERY

    def _draw(self) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        if self._handle is None:
            self._bar = widgets.IntProgress(min=0, max=max(self.total, 1), description="Upload")
            self._label = widgets.Label()
            box = widgets.HBox([self._bar, self._label])
            self._handle = display(box, display_id=True)  # type: ignore[no-untyped-call]
        self._bar.max = max(self.total, 1)
        self._bar.value = min(self.sent, self._bar.max)
        self._label.value = self.line()

    def _finish(self) -> None:
        if self._handle is None:
            return
        from IPython.display import Pretty

        self._handle.update(Pretty(self.line()))  # type: ignore[no-untyped-call]
        self._bar.close()
        self._label.close()


def transfer_progress(
    like: JobDisplay, title: str, *, clock: Callable[[], float] = time.monotonic
) -> TransferProgress:
    """An upload progress callable drawn like ``like`` (the job's display) is; ``clock``
    paces the redraws (at most one text line a second, ten bar updates)."""
    if isinstance(like, NullDisplay):
        return TransferProgress(title, clock)
    if isinstance(like, WidgetDisplay):
        return _WidgetTransfer(title, clock)
    return _TextTransfer(title, clock)
