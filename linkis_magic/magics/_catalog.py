"""What the notebook knows about the gateway's data: databases, tables and columns, cached.

One :class:`Catalog` per gateway and user (the magics key it by the client's settings
fingerprint). Entries live for ``ttl`` seconds (5 minutes by default) and are fetched lazily:

* ``databases()``, ``tables()``, ``columns()`` wait for the gateway (the ``%linkis databases |
  tables | columns`` commands); ``refresh=True`` drops that scope first;
* ``peek_*()`` are for completion: they return what is known *now* (possibly stale), start a
  fetch in the background when an entry is missing or old, and wait for it at most until the
  caller's deadline, so a Tab never hangs on a slow gateway and the next Tab has the names.

A gateway without a metadata service (``MetadataUnavailable``) is remembered: completion then
offers keywords only and makes no further calls until the TTL passes.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from linkis_magic.client import LinkisClient
from linkis_magic.errors import LinkisError, MetadataUnavailable
from linkis_magic.protocol import ColumnInfo, TableInfo

__all__ = ["DEFAULT_TTL", "Catalog"]

_log = logging.getLogger("linkis_magic.magics")

DEFAULT_TTL = 300.0  # seconds a fetched list stays fresh
T = TypeVar("T")
Key = tuple[str, ...]


class _Entry(Generic[T]):
    def __init__(self, value: T, at: float) -> None:
        self.value = value
        self.at = at


class Catalog:
    """Cached Hive metadata of one gateway and user (see the module docstring)."""

    def __init__(
        self,
        client: Callable[[], LinkisClient],
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Key, _Entry[Any]] = {}
        self._pending: dict[Key, concurrent.futures.Future[Any]] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="linkis-catalog")
        self.unavailable_at: float | None = None

    @property
    def unavailable(self) -> bool:
        """True when the gateway said it has no metadata service (within the TTL)."""
        at = self.unavailable_at
        return at is not None and self._clock() - at < self.ttl

    def close(self) -> None:
        """Stop background fetches (they are abandoned, not awaited)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ waiting

    def databases(self, *, refresh: bool = False) -> list[str]:
        """The database names (waits for the gateway)."""
        return self._get(("dbs",), lambda c: c.databases(), refresh)

    def tables(self, database: str, *, refresh: bool = False) -> list[TableInfo]:
        """The tables of ``database`` (waits for the gateway)."""
        key = ("tables", database.lower())
        return self._get(key, lambda c: c.tables(database), refresh)

    def columns(self, database: str, table: str, *, refresh: bool = False) -> list[ColumnInfo]:
        """The columns of ``database.table`` (waits for the gateway)."""
        key = ("columns", database.lower(), table.lower())
        return self._get(key, lambda c: c.columns(database, table), refresh)

    def forget(self, *prefix: str) -> None:
        """Drop every entry whose key starts with ``prefix`` (all of them without one)."""
        with self._lock:
            for key in [k for k in self._entries if k[: len(prefix)] == prefix]:
                del self._entries[key]

    def _get(self, key: Key, fetch: Callable[[LinkisClient], T], refresh: bool) -> T:
        if refresh:
            self.forget(*key)
        entry = self._fresh(key)
        if entry is not None:
            return entry.value  # type: ignore[no-any-return]
        value = fetch(self._client())
        self._store(key, value)
        return value

    # ------------------------------------------------------------------ peeking (completion)

    def peek_databases(self, deadline: float) -> list[str] | None:
        """Database names known by ``deadline`` (a time on the catalog's clock), or None."""
        return self._peek(("dbs",), lambda c: c.databases(), deadline)

    def peek_tables(self, database: str, deadline: float) -> list[TableInfo] | None:
        """Tables of ``database`` known by ``deadline``, or None."""
        return self._peek(("tables", database.lower()), lambda c: c.tables(database), deadline)

    def peek_columns(self, database: str, table: str, deadline: float) -> list[ColumnInfo] | None:
        """Columns of ``database.table`` known by ``deadline``, or None."""
        key = ("columns", database.lower(), table.lower())
        return self._peek(key, lambda c: c.columns(database, table), deadline)

    def _peek(self, key: Key, fetch: Callable[[LinkisClient], T], deadline: float) -> T | None:
        if self.unavailable:
            return None
        with self._lock:
            entry = self._entries.get(key)
            stale = entry is None or self._clock() - entry.at >= self.ttl
            future = self._pending.get(key) if stale else None
            if stale and future is None:
                future = self._pool.submit(self._fill, key, fetch)
                self._pending[key] = future
        if future is not None:
            left = deadline - self._clock()
            if left > 0:
                done, _ = concurrent.futures.wait((future,), timeout=left)
                if done:
                    with self._lock:
                        entry = self._entries.get(key, entry)
        return None if entry is None else entry.value

    def _fill(self, key: Key, fetch: Callable[[LinkisClient], T]) -> None:
        try:
            value = fetch(self._client())
        except MetadataUnavailable as exc:
            _log.info("no completion from the gateway's metadata: %s", exc)
            self.unavailable_at = self._clock()
        except (LinkisError, OSError) as exc:  # completion is best effort
            _log.info("metadata fetch %s failed: %s", key, exc)
        else:
            self._store(key, value)
        finally:
            with self._lock:
                self._pending.pop(key, None)

    # ------------------------------------------------------------------ entries

    def _fresh(self, key: Key) -> _Entry[Any] | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or self._clock() - entry.at >= self.ttl:
            return None
        return entry

    def _store(self, key: Key, value: Any) -> None:
        with self._lock:
            self._entries[key] = _Entry(value, self._clock())
