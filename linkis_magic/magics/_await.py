"""Awaited cells: why and how a ``%%linkis`` cell is rewritten into ``await ...``.

A synchronous cell keeps the kernel's main thread busy, so a widget's click only arrives after
the cell ends (docs/kernel-notes.md §1). ipykernel >= 7.4 dispatches comm messages while a cell
*awaits* (§2), so in a widget frontend an ``input_transformers_post`` hook rewrites the cell's
``run_cell_magic('linkis', ...)`` into ``await run_cell_magic('linkis_async', ...)`` (§3). The
user still writes a plain ``%%linkis`` cell; direct ``run_cell_magic('linkis', ...)`` calls
(scripts, tests, papermill) stay synchronous.
"""

from __future__ import annotations

import re
import sys

__all__ = ["ASYNC_CALL", "SYNC_CALL", "ipykernel_supports_await", "rewrite"]

SYNC_CALL = "get_ipython().run_cell_magic('linkis', "
ASYNC_CALL = "await get_ipython().run_cell_magic('linkis_async', "


def ipykernel_supports_await() -> bool:
    """ipykernel >= 7.4 dispatches comm messages while an awaited cell runs."""
    kernel = sys.modules.get("ipykernel")
    if kernel is None:
        return False
    match = re.match(r"(\d+)\.(\d+)", getattr(kernel, "__version__", ""))
    if match is None:
        return False
    return (int(match.group(1)), int(match.group(2))) >= (7, 4)


def rewrite(lines: list[str]) -> list[str]:
    """The cell's lines with its first line turned into the awaited call."""
    if lines and lines[0].startswith(SYNC_CALL):
        return [ASYNC_CALL + lines[0][len(SYNC_CALL) :], *lines[1:]]
    return lines
