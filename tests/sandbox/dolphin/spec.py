"""The `.dolphin` spec's worked example, and records encoded straight from its prose.

Written independently of linkis_magic.sandbox.dolphin (docs/linkis-protocol.md §6.3), so the
tests compare the module against the spec, not against itself.
"""

from __future__ import annotations

from pathlib import Path

from linkis_magic.sandbox import dolphin

WORKED_EXAMPLE = (
    b"dolphin0000000002"
    + b"0000000061"
    + b"0000000014"
    + b"2,3,11,4,6,11,"
    + b"id"
    + b"int"
    + b"LINKIS_NULL"
    + b"name"
    + b"string"
    + b"LINKIS_NULL"
    + b"0000000018"
    + b"0000000004"
    + b"1,3,"
    + b"1"
    + b"a,b"
)


def spec_line(fields: list[bytes]) -> bytes:
    """A table record encoded straight from the prose of §6.3."""
    index = b"".join(str(len(f)).encode() + b"," for f in fields)
    body = b"".join(fields)
    return (
        str(10 + len(index) + len(body)).zfill(10).encode()
        + str(len(index)).zfill(10).encode()
        + index
        + body
    )


def spec_text(line: bytes) -> bytes:
    """A text record encoded straight from the prose of §6.3."""
    return str(len(line)).zfill(10).encode() + line


def drop_index(path: Path) -> None:
    """Remove the offset index our writers leave, as if a real engine had written `path`
    (once its lines are built: that rewrites the index)."""
    dolphin.wait_lines(path)
    dolphin.index_path(path).unlink()
