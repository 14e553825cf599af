"""The one-process answer cache: least recently used dropped first, a bound on entries.

Flask-Caching's ``SimpleCache`` keeps 500 entries and, past them, drops the oldest *written*: a
click writes a score of keys, so under ten analysts the city's answers (asked at every other
click, written once per data version) were gone every few seconds and rebuilt cold. Here a read
keeps an entry alive, the bound is a setting (``CITYBRAIN_CACHE_ENTRIES``) and dropping is O(1).
Values are pickled like ``SimpleCache``'s, so a caller never mutates what another reads.
``CITYBRAIN_CACHE_TYPE=SimpleCache`` (the default) means this class (``app._cache_config``).
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from typing import Any

from cachelib import BaseCache


class LRUCache(BaseCache):
    def __init__(self, threshold: int = 20000, default_timeout: int = 300):
        super().__init__(default_timeout=default_timeout)
        self.threshold = max(1, int(threshold))
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def _expiry(self, timeout: int | None) -> float:
        timeout = self._normalize_timeout(timeout)
        return time.time() + timeout if timeout > 0 else 0.0

    def _live(self, key: str) -> bytes | None:
        found = self._items.get(key)
        if found is None:
            return None
        expires, body = found
        if expires and expires <= time.time():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return body

    def get(self, key: str) -> Any:
        with self._lock:
            body = self._live(key)
        return None if body is None else pickle.loads(body)

    def _put(self, key: str, body: bytes, timeout: int | None) -> None:
        self._items[key] = (self._expiry(timeout), body)
        self._items.move_to_end(key)
        while len(self._items) > self.threshold:
            self._items.popitem(last=False)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        body = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._put(key, body, timeout)
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        body = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._live(key) is not None:
                return False
            self._put(key, body, timeout)
        return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def has(self, key: str) -> bool:
        with self._lock:
            return self._live(key) is not None

    def clear(self) -> bool:
        with self._lock:
            self._items.clear()
        return True

    def __len__(self) -> int:
        return len(self._items)


def lru_cache(app, config: dict, args: list, options: dict) -> LRUCache:
    """Flask-Caching's factory hook (``CACHE_TYPE="data.memory_cache.lru_cache"``)."""
    return LRUCache(threshold=config.get("CACHE_THRESHOLD", 20000),
                    default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300))
