"""One writer per home: an exclusive ``flock`` on ``$VERBATIM_HOME/writer.lock``, and a count of the writes made.

Chroma's embedded store keeps each process's HNSW index in memory and saves it whole, so two processes writing
the same home lose each other's vectors: two concurrent writers of 2,000 rows each left 29 of 200 id batches
unreadable ("Error getting embedding"), and even writes taking turns under a lock did (37 of 200) while each
process kept its own old view. So every write (a document, a delete, a sweep) holds this lock, and a process
whose view is older than the last write anywhere (the count moved since it last looked) loads the index again
from disk first: then 0 of 200 were unreadable. The count is raised when a writer takes the lock, so a writer
killed halfway still tells the others their view is old; it also tells a running server that another process
wrote (``Store.stale``).

A second writer waits up to ``Settings.writer_wait`` seconds, then stops with one line naming the holder (pid,
command, since when). With a Chroma server the server itself serializes writes and keeps one index, so only
writers sharing a home lock each other; instances on other homes rely on commit records and the sweep's grace.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

POLL = 0.05  # seconds between attempts while another process holds the lock


class WriterBusy(RuntimeError):
    """Another writer held the home for longer than the wait allowed; the message is one line naming it."""


def holder_line(info: dict) -> str:
    """``pid 123 (verbatim ingest docs/, since 14:03:07)`` from what a holder wrote into the lock file."""
    if not info.get("pid"):
        return "another process"
    since = datetime.fromtimestamp(info.get("since", 0)).strftime("%H:%M:%S")
    return f"pid {info['pid']} ({info.get('command') or '?'}, since {since})"


class HomeLock:
    """Reentrant per thread: nested ``hold`` calls (an upload's ingest inside its transaction) take it once."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "writer.lock"
        self.count_path = home / "writes"
        self._threads = threading.RLock()  # the threads of this process take turns first
        self._depth = 0
        self._fd: int | None = None
        self.before = self.after = 0  # the write count when this process last took the lock, and as it raised it

    def writes(self) -> int:
        """How many writes any process made under this lock (0 before the first)."""
        try:
            return int(self.count_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):  # written at this moment, or gone: nothing to name
            return {}

    @contextmanager
    def hold(self, wait: float, on_wait: Callable[[str], None] | None = None) -> Iterator[bool]:
        """Hold the lock; yields True when this is the outermost hold (the one that took it from others)."""
        if not self._threads.acquire(timeout=wait):
            raise WriterBusy(f"{self.home} is being written by another request of this process; "
                             f"waited {wait:g} s (VERBATIM_WRITER_WAIT)")
        try:
            outer = self._depth == 0
            if outer:
                self._acquire(wait, on_wait)
            self._depth += 1
            try:
                yield outer
            finally:
                self._depth -= 1
                if outer:
                    self._release()
        finally:
            self._threads.release()

    @contextmanager
    def shared(self) -> Iterator[bool]:
        """A shared hold if no writer is writing right now (yields True), else yields False at once."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the flock

    def _acquire(self, wait: float, on_wait: Callable[[str], None] | None) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline, told = time.monotonic() + wait, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise WriterBusy(f"{self.home} is being written by {holder_line(self.holder())}; waited "
                                     f"{wait:g} s (VERBATIM_WRITER_WAIT): try again when it ends") from None
                if not told and on_wait is not None:
                    on_wait(f"waiting for {holder_line(self.holder())}, the writer of {self.home}")
                    told = True
                time.sleep(POLL)
        self._fd = fd
        try:
            info = {"pid": os.getpid(), "command": _command(), "since": time.time()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
            self.before = self.writes()
            tmp = self.count_path.with_name(f".writes-{os.getpid()}")
            tmp.write_text(str(self.before + 1))
            os.replace(tmp, self.count_path)  # readers of the count never see a half-written file
            self.after = self.before + 1
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing releases the flock


def _command() -> str:
    """This process's command line, shortened: what a waiting writer is told."""
    argv = [Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:]]
    line = " ".join(argv)
    return line if len(line) <= 120 else line[:119] + "…"
