"""A line command: its parser and its handler (one small module per group of verbs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linkis_magic.magics._parse import Parser

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["Command", "Handler"]

Handler = Callable[["Session", argparse.Namespace], Any]


@dataclass(frozen=True)
class Command:
    """``%linkis NAME ...``: the parser checks the words, the handler does the work."""

    name: str
    parser: Parser
    run: Handler
