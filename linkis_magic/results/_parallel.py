"""A few requests at once, results in order, all or nothing.

Over a remote gateway the time of a load is mostly round trips one after another; requests
that do not depend on each other (the result sets of a job, the pages of a counted table, the
pages holding ambiguous CSV cells) are sent together on a small bounded pool instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["WORKERS", "ordered_all"]

WORKERS = 4  # requests (or result sets, each a few requests in a row) at once

T = TypeVar("T")
R = TypeVar("R")


def ordered_all(call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[call(item) for item in items]`` on up to WORKERS threads, in the items' order.

    The first failure cancels what has not started, waits for what runs, and is raised (the
    one of the earliest item when several failed), so no thread outlives the call and the
    caller never sees part of the results.
    """
    if len(items) <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(min(WORKERS, len(items)), thread_name_prefix="linkis-results") as pool:
        futures: list[Future[R]] = [pool.submit(call, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.done() and f.exception() is not None for f in futures):
            for future in futures:
                future.cancel()
            wait(futures)
            for future in futures:
                if not future.cancelled() and future.exception() is not None:
                    future.result()  # raises it
        return [future.result() for future in futures]
