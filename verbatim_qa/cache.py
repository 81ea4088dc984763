"""One bounded least-recently-used cache for the whole program, safe to share between threads.

``functools.lru_cache`` memoizes a function by its arguments; the caches here are keyed by content hashes, read
in batches (the store's chunk rows) and bounded by a setting read at call time (``ocr_cache_pages``), so they
are this one small map instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A map of at most ``maxsize`` entries that forgets the least recently used first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The kept values of those ``keys`` that are kept."""
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
            for k in found:
                self._items.move_to_end(k)
            return found

    def put(self, key: K, value: V, maxsize: int | None = None) -> None:
        self.update({key: value}, maxsize)

    def update(self, items: Mapping[K, V], maxsize: int | None = None) -> None:
        """Keep ``items``, then forget the least recently used beyond ``maxsize`` (this call's bound, e.g. a
        setting read now; default the cache's own)."""
        bound = self.maxsize if maxsize is None else maxsize
        with self._lock:
            for k, v in items.items():
                self._items[k] = v
                self._items.move_to_end(k)
            while len(self._items) > bound:
                self._items.popitem(last=False)
