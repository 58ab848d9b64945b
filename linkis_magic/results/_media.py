"""The bytes inside PICTURE and HTML result sets: images a notebook can show and save.

A Linkis Python or PySpark job's ``plt.show()`` becomes an HTML result set holding one
``<img src=data:image/png;base64,...>`` (the ``src`` unquoted, docs/linkis-protocol.md §6.6),
and a PICTURE result set holds an engine-encoded image string. Both are text on the wire; this
module turns them back into image bytes, and says which image format the bytes are (from their
magic numbers, not from what a server claims), so a frontend gets the right MIME type.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["decode_picture", "html_images", "image_mime"]

_DATA_URI = re.compile(r"data:image/[A-Za-z0-9.+-]+;base64,([A-Za-z0-9+/=\s]+)")
_IMG_DATA = re.compile(
    r"""<img\b[^>]*?\bsrc\s*=\s*["']?data:image/[A-Za-z0-9.+-]+;base64,([A-Za-z0-9+/=]+)""",
    re.IGNORECASE,
)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def image_mime(data: bytes) -> str | None:
    """``image/png``, ``image/jpeg``, ``image/gif`` or ``image/svg+xml`` from the bytes, else
    None (not an image a notebook frontend renders)."""
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            return mime
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    return None


def decode_picture(text: str) -> bytes | None:
    """The image of a PICTURE result set's text: a ``data:image/...;base64,`` URI, or bare
    base64; None when it decodes to nothing a frontend can show."""
    stripped = text.strip()
    match = _DATA_URI.search(stripped)
    data = _b64(match.group(1) if match else stripped)
    if data is None and stripped.lstrip().startswith("<svg"):
        data = stripped.encode("utf-8")
    return data if data is not None and image_mime(data) else None


def html_images(html: str) -> list[bytes]:
    """The images embedded as base64 ``<img>`` data URIs in an HTML result set, in order."""
    found = []
    for match in _IMG_DATA.finditer(html):
        data = _b64(match.group(1))
        if data is not None and image_mime(data):
            found.append(data)
    return found
