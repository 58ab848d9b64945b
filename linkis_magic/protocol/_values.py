"""Tolerant readers for Linkis JSON values: numbers as strings and back, epoch ms, JSON text.

Linkis mixes representations (docs/linkis-protocol.md §1.4, §10.4): ids are numbers, jobhistory
progress is a string, dates are epoch milliseconds, some documents are JSON nested as text.
Every record parser reads through these helpers so each quirk is handled in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from linkis_magic.errors import ProtocolError

EXCERPT_CHARS = 200


def opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or text.upper() == "NULL":
            return None
        try:
            return int(text)
        except ValueError:
            try:
                return int(float(text))
            except ValueError:
                return None
    return None


def opt_float(value: Any, default: float = 0.0) -> float:
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return default
    return default


def opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def epoch_ms(value: Any) -> datetime | None:
    millis = opt_int(value)
    if millis is None:
        if isinstance(value, str) and value.strip():
            try:  # the website's "2019-01-01 00:00:00" layout, should a gateway send it
                return datetime.fromisoformat(value.strip())
            except ValueError:
                return None
        return None
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def json_text(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def need_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError(f"expected an object for {what}, got {type(data).__name__}")
    return data


def short(doc: Mapping[str, Any]) -> str:
    text = json.dumps(doc, ensure_ascii=False, default=str)
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")
