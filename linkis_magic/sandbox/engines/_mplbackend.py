"""The matplotlib backend of the sandbox's Python engine: Agg, with ``show()`` sending charts.

Linkis's Python engine replaces ``matplotlib.pyplot.show`` with its ``show_matplotlib`` at
start-up (docs/linkis-protocol.md §6.6). The sandbox's engine makes this module matplotlib's
backend instead, once a cell mentions matplotlib (other cells import nothing), so
``plt.show()`` reaches the engine's ``show_matplotlib`` (defined in the engine's ``__main__``),
which writes the figure as an HTML result set.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg

FigureCanvas = FigureCanvasAgg


def show(*args: Any, **kwargs: Any) -> None:
    """``plt.show()``: the current figure as one HTML result set, as on Linkis."""
    import __main__

    __main__.show_matplotlib()
