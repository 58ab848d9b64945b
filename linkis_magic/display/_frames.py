"""ResultFrames: the DataFrames of several table result sets, shown as tables, used as a list.

``-o NAME`` binds a list when a job returns several table result sets, and the cell's value is
that same object. A plain list displays as the repr of a list of DataFrames, which is
unreadable; this list subclass displays each table under a heading naming its result-set index
(the ``_N`` of its ``_N.dolphin`` file, docs/linkis-protocol.md §5.6), and stays a list for
everything else: indexing, ``len``, iteration, unpacking, ``isinstance(x, list)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from linkis_magic.display._format import esc

if TYPE_CHECKING:
    from linkis_magic.results import ResultSet

__all__ = ["ResultFrames"]


class ResultFrames(list[Any]):
    """A list of DataFrames, one per table result set, that displays as titled tables.

    ``ResultFrames(frames, indexes)``: ``indexes[i]`` is the result-set index of
    ``frames[i]``. Headings find a frame's index by identity, not position, so they stay right
    after the user sorts, reverses or removes items; an item added later has no index and is
    headed by its position instead.
    """

    def __init__(self, frames: Iterable[Any] = (), indexes: Iterable[int] | None = None) -> None:
        items = list(frames)
        super().__init__(items)
        numbers = list(range(len(items)) if indexes is None else indexes)
        if len(numbers) != len(items):
            raise ValueError(
                f"ResultFrames needs one result-set index per frame: "
                f"{len(items)} frames, {len(numbers)} indexes"
            )
        self.indexes: tuple[int, ...] = tuple(numbers)
        # (frame, index) pairs hold the frames themselves, so ids cannot be reused meanwhile
        self._origin: tuple[tuple[Any, int], ...] = tuple(zip(items, numbers, strict=True))

    @classmethod
    def of(cls, results: Iterable[ResultSet]) -> ResultFrames:
        """The loaded tables of ``results`` with their indexes (text result sets have no frame).

        Empty, hence false, when there is no table: ``ResultFrames.of(results) or None``.
        """
        tables = [rs for rs in results if rs.frame is not None]
        return cls([rs.frame for rs in tables], [rs.index for rs in tables])

    def index_of(self, frame: Any) -> int | None:
        """The result-set index ``frame`` came from (None for an item added later)."""
        for known, number in self._origin:
            if known is frame:
                return number
        return None

    def heading(self, position: int) -> str:
        """``result set 1 · 3 rows × 2 columns`` for the item at ``position``."""
        frame = self[position]
        number = self.index_of(frame)
        name = f"result set {number}" if number is not None else f"item {position}"
        shape = getattr(frame, "shape", None)
        if isinstance(shape, tuple) and len(shape) == 2:
            return f"{name} · {shape[0]} rows × {shape[1]} columns"
        return name

    def __repr__(self) -> str:
        """Each table as pandas prints it, under its heading (terminal IPython, text/plain)."""
        if not self:
            return "ResultFrames([])"
        return "\n\n".join(f"{self.heading(i)}\n{item!r}" for i, item in enumerate(self))

    def _repr_html_(self) -> str:
        """Each table as pandas renders it in a notebook, under its heading."""
        blocks = []
        for i, item in enumerate(self):
            render = getattr(item, "_repr_html_", None)
            table = render() if callable(render) else None
            if not isinstance(table, str):  # not a DataFrame, or pandas' HTML repr turned off
                table = f"<pre>{esc(repr(item))}</pre>"
            blocks.append(
                '<div class="linkis-frame">'
                '<div class="linkis-frame-heading" style="font-weight:bold;margin:8px 0 4px">'
                f"{esc(self.heading(i))}</div>{table}</div>"
            )
        return f'<div class="linkis-frames">{"".join(blocks)}</div>'
