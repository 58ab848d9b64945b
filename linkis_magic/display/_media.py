"""How a result set that is not a table shows in a notebook: HTML as HTML, pictures as images.

Each result set becomes one MIME bundle for IPython's ``display(..., raw=True)``. The rich
entry (``text/html``, ``image/png``, ...) is what JupyterLab, Notebook 7 and VS Code render and
what a saved notebook keeps; the ``text/plain`` entry is what terminal IPython, nbconvert to
text and other plain frontends show: a one-line placeholder naming the result set, never a
wall of HTML source or base64. TEXT result sets stay plain text; IO result sets (the engines'
file-transfer format, docs/linkis-protocol.md §6.6) are only named.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from linkis_magic.protocol import ResultKind
from linkis_magic.results import image_mime

if TYPE_CHECKING:
    from linkis_magic.results import ResultSet

__all__ = ["placeholder", "result_bundle", "show_object", "show_result"]


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


def placeholder(result: ResultSet) -> str:
    """One line standing for a result set a plain-text frontend cannot show."""
    head = f"[result set {result.index}: "
    raw = len((result.text or "").encode("utf-8"))
    if result.kind is ResultKind.HTML:
        images = len(result.images)
        pictures = f", {images} image{'s' if images != 1 else ''}" if images else ""
        what = f"HTML, {_size(raw)}{pictures}; shown in a notebook frontend, or use .html"
    elif result.kind is ResultKind.PICTURE:
        image = result.image
        if image is None:
            what = f"picture, {_size(raw)} that is not a PNG, JPEG, GIF or SVG image"
        else:
            what = f"picture, {_size(len(image))}; shown in a notebook frontend, or use .image"
    elif result.kind is ResultKind.IO:
        what = f"IO (engine file transfer), {result.rows} records, not shown"
    else:
        what = f"{result.kind.label}, {result.rows} lines"
    return head + what + "]"


def result_bundle(result: ResultSet) -> dict[str, Any]:
    """The MIME bundle that shows a non-table result set (``display(bundle, raw=True)``)."""
    text = result.text or ""
    if result.kind is ResultKind.TEXT:
        return {"text/plain": text.rstrip("\n")}
    bundle: dict[str, Any] = {"text/plain": placeholder(result)}
    if result.kind is ResultKind.HTML:
        bundle["text/html"] = text
    elif result.kind is ResultKind.PICTURE:
        image = result.image
        mime = None if image is None else image_mime(image)
        if image is not None and mime == "image/svg+xml":
            bundle[mime] = image.decode("utf-8", "replace")
        elif image is not None and mime is not None:
            bundle[mime] = base64.b64encode(image).decode("ascii")
    return bundle


def show_object(obj: Any, *, raw: bool = False) -> None:
    """IPython's ``display`` (imported here, on first use, so the module stays importable)."""
    from IPython import display as ipydisplay

    show: Callable[..., Any] = ipydisplay.display
    show(obj, raw=raw)


def show_result(result: ResultSet) -> None:
    """Display one non-table result set in the cell's output (see :func:`result_bundle`)."""
    show_object(result_bundle(result), raw=True)
