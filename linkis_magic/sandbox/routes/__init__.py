"""The Linkis REST routes of the sandbox, one APIRouter per Linkis service.

`user` (login, sessions), `entrance` (submit, status, progress, log, kill), `jobhistory`
(task rows), `filesystem` (result listings, pages, logs, downloads), `datasource` (the
Hive metadata: databases, tables, columns) and `linkismanager` (the caller's engines, killing
one); `app.create_app` mounts them under `errors.PREFIX`. Routes get the caller from
`auth.CurrentUser` and the gateway's parts from `state.GatewayDep`; query parameters are read
by hand, as Linkis's controllers do, so a bad one is an envelope with Linkis's message. This
module holds the small helpers they share.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from fastapi import Request

from linkis_magic.sandbox.errors import ApiError

_ERROR_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})? (?:SYSTEM-)?ERROR ")
_WARN_LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})? (?:SYSTEM-)?WARN ")


async def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, else status 1 (the sandbox's stand-in for Spring's
    binding errors, docs/linkis-protocol.md §1.5.3)."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise ApiError(1, "request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(1, "request body must be a JSON object")
    return body


def query_int(value: str | None, name: str, default: int) -> int:
    """An integer query parameter (absent or empty: `default`; else status 1 if not a number)."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(1, f"parameter {name} must be an integer, got {value!r}") from None


def query_bool(value: str | None, default: bool) -> bool:
    """A boolean query parameter: "true" in any case is true, anything else false."""
    if value is None or value == "":
        return default
    return value.strip().lower() == "true"


def split_log(lines: Iterable[str], *, terminate: bool) -> list[str]:
    """The 4-slot log array [error, warn, info, all] (docs/linkis-protocol.md §3.7, §5.5);
    `terminate` ends every line with "\\n" (openLog) instead of joining them (entrance log)."""
    slots: list[list[str]] = [[], [], [], []]
    for line in lines:
        if not line.strip():
            continue
        if _ERROR_LINE.search(line):
            slots[0].append(line)
        elif _WARN_LINE.search(line):
            slots[1].append(line)
        else:
            slots[2].append(line)
        slots[3].append(line)
    if terminate:
        return ["".join(x + "\n" for x in slot) for slot in slots]
    return ["\n".join(slot) for slot in slots]
