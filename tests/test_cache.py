"""The one LRU cache (verbatim_qa/cache.py): bounded, least recently used first out, the bound of a write taken
from the caller (a setting read at call time), shared between threads."""

from __future__ import annotations

import threading

from verbatim_qa.cache import LruCache


def test_forgets_the_least_recently_used():
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert cache.get_many(["c", "x", "a"]) == {"c": 3, "a": 1}
    cache.update({"d": 4})  # c and a were read last, c first: c goes
    assert cache.get_many(["a", "c", "d"]) == {"a": 1, "d": 4} and len(cache) == 2


def test_a_write_may_bring_its_own_bound():
    cache: LruCache[int, str] = LruCache(0)
    cache.put(1, "kept nowhere")
    assert cache.get(1) is None and len(cache) == 0
    for i in range(5):
        cache.put(i, str(i), maxsize=3)
    assert len(cache) == 3 and cache.get_many(range(5)) == {2: "2", 3: "3", 4: "4"}


def test_threads_share_it():
    cache: LruCache[int, int] = LruCache(50)

    def work(base: int) -> None:
        for i in range(2000):
            cache.put(base + i % 100, i)
            cache.get_many([base, base + 1])

    threads = [threading.Thread(target=work, args=(n * 1000,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50
