"""The dataclasses every layer shares: ingest produces them, the store keeps them, qa cites them.

Invariant everywhere: ``document.text[x.char_start:x.char_end] == x.text`` (or ``.quote``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime


def content_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def sentence_id(chunk_id: str, index: int) -> str:
    """The store's id of a chunk's ``index``-th sentence: written by the store, read by the retriever and the doctor."""
    return f"{chunk_id}:{index}"


def _known(cls, data: dict) -> dict:
    """The fields of ``cls`` found in ``data`` (unknown keys ignored: newer writers may add some)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class Sentence:
    char_start: int
    char_end: int
    text: str
    # verbatim_qa/text/roles.py: body, heading, title, caption, attribution, reference, ... An annotation, not part
    # of a sentence's identity (its span): equal spans are the same sentence whatever role a chunker version gave
    role: str = field(default="body", compare=False)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Sentence:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class Section:
    """Consecutive sentences under one heading path ("Title > Chapter"; None before the first heading)."""

    path: str | None
    sentences: tuple[Sentence, ...]


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
    # where the text came from: "" (the file's own text), PDFs "text" (text layer), "ocr" (Tesseract), "text+ocr"
    extracted_by: str = ""
    # (char_start, char_end, role) of each paragraph the loader read from the page layout (PDF text layers):
    # body, h1-h6 (a heading and its level), header, footer, toc, index, code, th (a table's header row), row
    layout: tuple[tuple[int, int, str], ...] = ()

    def page_at(self, offset: int) -> int | None:
        for start, end, page in self.pages:
            if start <= offset < end:
                return page
        return None

    def to_dict(self) -> dict:
        return {**asdict(self), "langs": list(self.langs), "pages": [list(p) for p in self.pages],
                "layout": [list(b) for b in self.layout]}

    @classmethod
    def from_dict(cls, data: dict) -> Document:
        d = _known(cls, data)
        return cls(**{**d, "langs": tuple(d.get("langs", ())), "pages": tuple(tuple(p) for p in d.get("pages", ())),
                      "layout": tuple(tuple(b) for b in d.get("layout", ()))})


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

    def share(self, role: str) -> float:
        """The share of this chunk's sentences that have ``role``."""
        return sum(s.role == role for s in self.sentences) / max(1, len(self.sentences))

    def to_dict(self) -> dict:
        return {**asdict(self), "sentences": [s.to_dict() for s in self.sentences]}

    @classmethod
    def from_dict(cls, data: dict) -> Chunk:
        d = _known(cls, data)
        return cls(**{**d, "sentences": tuple(Sentence.from_dict(s) for s in d.get("sentences", ()))})


@dataclass
class ScoredChunk:
    chunk: Chunk
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    collection: str = ""  # its collection, in a ranking of several (qa/several.py); "" for one collection's

    def to_dict(self) -> dict:
        """A retrieved passage as the answer contract lists it (``retrieved`` of ``ask --json``, ``search``); a
        passage of a ranking of several collections names its ``collection``."""
        c = self.chunk
        return {"source": c.source, "section": c.section, "char_start": c.char_start, "char_end": c.char_end,
                "text": c.text, "score": round(float(self.score), 6),
                **({"collection": self.collection} if self.collection else {})}


@dataclass(frozen=True)
class DocRecord:
    """A committed document as the store lists it (its commit record, without the text)."""

    doc_id: str
    source: str
    path: str
    title: str
    langs: tuple[str, ...]
    sha: str
    chunks: int
    sentences: int
    ingested_at: float
    extracted_by: str = ""  # as ``Document.extracted_by``
    pages: int = 0  # pages of a paged format (PDF), else 0

    @property
    def ocr(self) -> bool:
        return "ocr" in self.extracted_by

    def to_dict(self) -> dict:
        """A document as ``verbatim sources --json``, ``GET /api/sources`` and the web library list it; ``ocr``
        says some of its text was read by OCR (``extracted_by``: text, ocr or text+ocr for PDFs)."""
        return {"id": self.doc_id, "title": self.title, "source": self.source, "langs": list(self.langs),
                "chunks": self.chunks,
                "ingested_at": datetime.fromtimestamp(self.ingested_at).isoformat(timespec="seconds"),
                "extracted_by": self.extracted_by, "ocr": self.ocr}


@dataclass(frozen=True)
class Citation:
    """One verbatim quote of an answer: ``document_text[char_start:char_end] == quote`` in document ``doc_id``.

    ``doc_id`` names the document (two folders may hold files of one name); ``extracted_by`` says how its text
    was read ("" a text format's own text; PDFs "text", "ocr" or "text+ocr", as ``DocRecord.extracted_by``), ""
    when the writer did not know it. ``collection``: the collection of the document, in an answer from several
    (qa/several.py); "" in an answer from one, which is the collection asked."""

    n: int
    source: str
    title: str
    section: str | None
    page: int | None
    quote: str
    char_start: int
    char_end: int
    doc_id: str = ""
    extracted_by: str = ""
    collection: str = ""

    @property
    def ocr(self) -> bool:
        return "ocr" in self.extracted_by

    def to_dict(self) -> dict:
        d = asdict(self)
        if not self.collection:
            del d["collection"]
        return d

    @classmethod
    def from_dict(cls, data: dict) -> Citation:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class AnswerSpan:
    """The key fact: the shortest exact span of a cited quote that answers (a number, a date, a name).

    ``document_text[char_start:char_end] == text``; ``reading`` is a deterministic reading of a span in another
    script than the question's (verbatim_qa/text/reading.py), never a translation; None when not needed."""

    text: str
    source: str
    char_start: int
    char_end: int
    reading: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AnswerSpan:
        return cls(**_known(cls, data))
