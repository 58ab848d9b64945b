"""Live job displays: an ipywidgets view, a plain-text fallback, and a silent one.

The magic picks a display with :func:`frontend_mode` / :func:`make_display` and feeds it
snapshots from ``Job.wait(on_update=...)``. Why three displays:

- :class:`WidgetDisplay` (``_widget``): the live composite widget, replaced by a static card
  when the job ends so saved notebooks stay readable.
- :class:`TextDisplay` (``_text``): compact progress lines for terminal IPython, ``jupyter
  console`` overrides and headless runs, where a widget would only print its repr.
- :class:`NullDisplay` (``_base``): shows nothing (``-q``); the magic raises errors itself.

``_format`` holds the pure formatting all of them share. :class:`ResultFrames` (``_frames``) is
what ``-o`` binds for several table result sets: a list that displays as titled tables.
:func:`transfer_progress` (``_transfer``) shows a push's upload in the style of its job's display.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Literal

from linkis_magic._validate import check_display
from linkis_magic.display._base import JobDisplay, NullDisplay
from linkis_magic.display._format import (
    LOG_TAIL_LINES,
    format_elapsed,
    log_html,
    outcome_text,
    resource_lines,
    resources_html,
    settle_stage,
    short_exec_id,
    status_line,
    summary_html,
    summary_text,
)
from linkis_magic.display._frames import ResultFrames
from linkis_magic.display._media import placeholder, result_bundle, show_object, show_result
from linkis_magic.display._text import TextDisplay
from linkis_magic.display._transfer import TransferProgress, transfer_progress
from linkis_magic.display._widget import WidgetDisplay
from linkis_magic.errors import ConfigurationError

__all__ = [
    "LOG_TAIL_LINES",
    "DisplayKind",
    "Frontend",
    "JobDisplay",
    "NullDisplay",
    "ResultFrames",
    "TextDisplay",
    "TransferProgress",
    "WidgetDisplay",
    "format_elapsed",
    "frontend_mode",
    "log_html",
    "make_display",
    "outcome_text",
    "placeholder",
    "resource_lines",
    "resources_html",
    "result_bundle",
    "settle_stage",
    "short_exec_id",
    "show_object",
    "show_result",
    "status_line",
    "summary_html",
    "summary_text",
    "transfer_progress",
]

Frontend = Literal["widget", "text"]
"""What the frontend can draw."""

DisplayKind = Literal["widget", "text", "none"]
"""The display a job gets (``none`` for ``-q``)."""


def frontend_mode(shell: Any = None, display: str | None = None) -> Frontend:
    """Decide between the widget and the text display.

    ``display`` is the display setting (``Settings.display``: a magic option, ``%config``
    or ``$LINKIS_DISPLAY``, resolved there and nowhere else): ``widget`` or ``text`` is taken
    as is; ``auto`` (or None) means widgets only inside an ipykernel (``ZMQInteractiveShell``)
    with ipywidgets importable, the same test as ``tqdm.autonotebook``. Terminal IPython and
    plain Python get text. ``jupyter console`` is a kernel that cannot draw widgets and cannot
    be told apart from the kernel side: its users set ``LINKIS_DISPLAY=text`` (the widget's
    text repr is still a readable status line).
    """
    if display is not None and display.strip():
        choice = check_display(display)
        if choice == "widget" or choice == "text":
            return choice
    return "widget" if _widgets_usable(shell) else "text"


def _widgets_usable(shell: Any) -> bool:
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return False
        shell = get_ipython()
    if shell is None:
        return False
    if not any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__):
        return False
    if "ipykernel" not in sys.modules:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def make_display(
    mode: DisplayKind,
    *,
    on_kill: Callable[[], None] | None,
    title: str = "",
) -> JobDisplay:
    """Build the display for ``mode`` (``"widget"``, ``"text"`` or ``"none"``)."""
    if mode == "widget":
        return WidgetDisplay(on_kill=on_kill, title=title)
    if mode == "text":
        return TextDisplay(on_kill=on_kill, title=title)
    if mode == "none":
        return NullDisplay(on_kill=on_kill, title=title)
    raise ConfigurationError(f"display mode must be 'widget', 'text' or 'none', not {mode!r}")
