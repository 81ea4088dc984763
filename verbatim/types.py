"""The dataclasses every layer shares: ingest produces them, the store keeps them, qa cites them.

Invariant everywhere: ``document.text[x.char_start:x.char_end] == x.text`` (or ``.quote``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


def content_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True)
class Span:
    char_start: int
    char_end: int


@dataclass(frozen=True)
class Sentence:
    char_start: int
    char_end: int
    text: str


@dataclass(frozen=True)
class Document:
    """A loaded file. ``text`` is exactly what is quoted (newlines normalized to ``\\n``)."""

    doc_id: str
    source: str  # file name
    path: str
    title: str
    text: str
    langs: tuple[str, ...]
    sha: str  # hash of text: changes when the document changes
    pages: tuple[tuple[int, int, int], ...] = ()  # (char_start, char_end, page number) for paged formats

    def page_at(self, offset: int) -> int | None:
        for start, end, page in self.pages:
            if start <= offset < end:
                return page
        return None


@dataclass(frozen=True)
class Chunk:
    """A few consecutive whole sentences of one document, with their section path."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    section: str | None
    page: int | None
    char_start: int
    char_end: int
    text: str
    lang: str
    sentences: tuple[Sentence, ...] = ()
    doc_sha: str = ""

    @staticmethod
    def make_id(doc_id: str, doc_sha: str, char_start: int, char_end: int) -> str:
        return content_hash(doc_id, doc_sha, str(char_start), str(char_end))[:32]


@dataclass
class ScoredChunk:
    chunk: Chunk
    score: float
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    title: str
    section: str | None
    page: int | None
    quote: str
    char_start: int
    char_end: int

    def to_dict(self) -> dict:
        return asdict(self)
