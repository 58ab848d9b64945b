"""Reading listUserEngines items and engine log lines (docs/linkis-protocol.md §14.2)."""

from __future__ import annotations

import re
from typing import Any

ENGINECONN = "linkis-cg-engineconn"
STARTED = re.compile(r" INFO Starting engine (\S+) ")
"""The job's log line when it starts its engine; group 1 is the instance."""
REUSED = re.compile(r" INFO The job is reusing engine (\S+) ")
"""The job's log line when it reuses an engine; group 1 is the instance."""


def label(engine: dict[str, Any], key: str) -> dict[str, Any]:
    """The label of a listUserEngines item with that labelKey."""
    found: dict[str, Any] = next(x for x in engine["labels"] if x["labelKey"] == key)
    return found


def instance(engine: dict[str, Any]) -> str:
    """serviceInstance.instance of a listUserEngines item."""
    value: str = engine["serviceInstance"]["instance"]
    return value
