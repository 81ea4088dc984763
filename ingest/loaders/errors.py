"""``LoadError`` and the pieces its one-line reasons are made of."""

from __future__ import annotations

from pathlib import Path

from verbatim_qa.text import lines

MB = 1024 * 1024


class LoadError(Exception):
    """A file we refuse to ingest; ``reason`` is one human line."""

    def __init__(self, path: Path, reason: str):
        super().__init__(path, reason)  # both in args, so the error survives pickling (multiprocessing)
        self.path = Path(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path.name}: {self.reason}"


def human_size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f}".removesuffix(".0") + " MB"
    return f"{n / 1024:.1f}".removesuffix(".0") + " KB" if n >= 1024 else f"{n} bytes"


def one_line(exc: BaseException) -> str:
    """A library exception as one short line (some pypdf/lxml messages span lines)."""
    return lines.one_line(exc, 120)
