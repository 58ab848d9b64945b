"""`ordered_map`: map over a few threads, in order, without reading the input ahead.

Result files are written and exported batch by batch with pyarrow.compute, which releases
the GIL, so a few threads really encode batches in parallel. `Executor.map` would submit the
whole input at once (every batch of a big result in memory); this keeps at most `workers`
+ 1 results pending.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["default_workers", "ordered_map"]

_T = TypeVar("_T")
_R = TypeVar("_R")


def default_workers() -> int:
    """Threads `ordered_map` uses by default: up to 4, by CPU count."""
    return min(4, os.cpu_count() or 1)


def ordered_map(fn: Callable[[_T], _R], items: Iterable[_T], workers: int = 0) -> Iterator[_R]:
    """`map(fn, items)` on `workers` threads (0: `default_workers()`; 1: no threads)."""
    workers = workers or default_workers()
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="sandbox-map") as pool:
        pending: deque[Future[_R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
