"""parallel.py: ordered_map keeps the input order and never reads far ahead."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from linkis_magic.sandbox.parallel import ordered_map


class TestOrderedMap:
    """Results come in input order; at most workers + 1 items are pulled before each result."""

    def test_order_is_kept(self) -> None:
        assert list(ordered_map(lambda x: x * x, range(50), workers=4)) == [
            x * x for x in range(50)
        ]

    def test_runs_on_worker_threads(self) -> None:
        names = set(ordered_map(lambda _: threading.current_thread().name, range(20), 3))
        assert names and all(name.startswith("sandbox-map") for name in names)

    def test_one_worker_runs_inline(self) -> None:
        here = threading.current_thread().name
        assert set(ordered_map(lambda _: threading.current_thread().name, range(3), 1)) == {here}

    def test_input_is_not_read_ahead(self) -> None:
        pulled = 0

        def items() -> Iterator[int]:
            nonlocal pulled
            for i in range(100):
                pulled += 1
                yield i

        results = ordered_map(lambda x: x, items(), workers=2)
        assert next(results) == 0
        assert pulled <= 3
        assert list(results) == list(range(1, 100))
