"""A Chroma view that can be loaded again while other threads read through it.

``Store.reload`` swaps in a new client when another process wrote (the old one's HNSW index in memory is stale).
Every call to a collection goes through ``GuardedCollection``, which holds the gate's read side for the call;
the swap waits until the calls in flight are done and holds new ones back, so no call meets a closed client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Gate:
    """Many readers at once, or one swap (which waits for the readers in flight and goes before new ones)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._swapping = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._swapping)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def swapping(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._swapping)
            self._swapping = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._swapping = False
                self._cond.notify_all()


class GuardedCollection:
    """The current collection of a store (``current()``), each method call made under the gate's read side."""

    def __init__(self, gate: Gate, current: Callable[[], object]) -> None:
        self._gate = gate
        self._current = current

    def __getattr__(self, name: str):
        value = getattr(self._current(), name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            with self._gate.reading():
                return getattr(self._current(), name)(*args, **kwargs)

        return call
