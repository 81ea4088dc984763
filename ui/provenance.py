"""Provenance of a quote: which document it comes from, a hash of that document's text, and its offsets.

Offset convention: ``char_start``/``char_end`` count Unicode code points (Python ``str`` indices) of the
document's text as Verbatim reads it: a byte-order mark removed, ``\\r\\n`` and ``\\r`` turned into ``\\n``
(for .txt and .md files that is the file itself; for HTML, PDF and DOCX the text the loaders extract).
``sha256`` is the SHA-256 of that text encoded as UTF-8, so anyone can recompute it from the file.

A briefing carries one record per footnote as a visible line in a "Provenance" appendix::

    [3] memo.txt · doc 1f0c2a9b8e7d6c5b · sha256 <64 hex> · chars 120–245

and, for a quote of another collection than ``verbatim`` (the built-in default), `` · collection <name>`` after it.

Visible text, because it is the one form that survived all 16 conversions measured (python-docx open/save;
LibreOffice docx->docx, docx->odt->docx, docx->txt, html->html, html->docx; pandoc docx->docx, docx->md, md->md,
gfm->gfm, md->docx, md->html, html->md, html->docx, html->html; markdown-it md->html). A custom XML part was
lost in 4 of the 6 .docx ones, custom document properties in 3, an HTML comment in 1 of 5 .md and 5 of 5 .html
ones, a ``<script type="application/json">`` block and ``data-`` attributes in 5 of 5. Hidden (``w:vanish``)
.docx text survived the 6 .docx ones, but exists in .docx only and is nothing a reader can check by eye.
``ask --json`` carries the same records as a ``provenance`` list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from verbatim_qa.qa.answer import Answer
from verbatim_qa.settings import Deployment
from verbatim_qa.types import Citation

HEADING = "Provenance"
INTRO = ("One line per quote: the document (file name and id), the SHA-256 of its text and the quote's offsets "
         "in it (Unicode code points, after byte-order-mark removal and newline normalization). "
         "Re-check them with `verbatim verify FILE`.")
# Whitespace-tolerant: converters wrap long lines (pandoc at 72 columns) and escape brackets (``\[3\]``).
_LINE = re.compile(r"\[(\d+)\]\s+(\S(?:.*?\S)?)\s+·\s+doc\s+([0-9a-f]{16})\s+·\s+sha256\s+([0-9a-f]{64})"
                   r"\s+·\s+chars\s+(\d+)\s*(?:–|--?)\s*(\d+)"  # pandoc writes – as --
                   r"(?:\s+·\s+collection\s+([A-Za-z0-9][A-Za-z0-9_.\\-]*))?", re.DOTALL)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # Markdown backslash escapes


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    """One quote's provenance; ``n`` is its footnote (briefing) or citation (answer) number. ``doc_id`` and
    ``sha256`` are empty when the writer did not record them (an answer object without ``provenance``)."""

    n: int
    source: str
    doc_id: str
    sha256: str
    char_start: int
    char_end: int
    collection: str = ""  # the quote's collection; empty: the default (``verbatim``), as before collections

    def line(self) -> str:
        return (f"[{self.n}] {self.source} · doc {self.doc_id} · sha256 {self.sha256} "
                f"· chars {self.char_start}–{self.char_end}" + (f" · collection {self.collection}"
                                                               if self.collection else ""))

    def to_dict(self) -> dict:
        d = asdict(self)
        if not self.collection:
            del d["collection"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Record:
        return cls(int(d["n"]), str(d["source"]), str(d.get("doc_id") or ""), str(d.get("sha256") or ""),
                   int(d["char_start"]), int(d["char_end"]), str(d.get("collection") or ""))


def unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def parse_lines(text: str) -> list[Record]:
    """Every provenance line in a briefing's text (Markdown escapes undone, wrapped lines joined)."""
    text = unescape(text)
    return [Record(int(m[1]), " ".join(m[2].split()), m[3], m[4], int(m[5]), int(m[6]), m[7] or "")
            for m in _LINE.finditer(text)]


class Origins:
    """The provenance of citations: each names its document (``doc_id``), whose text is read once and hashed.

    A citation naming another collection than ``store``'s (an answer from several, qa/several.py) is read in the
    store ``stores`` gives for that name."""

    def __init__(self, store, stores: Mapping[str, object] | None = None) -> None:
        self.store = store
        self.stores = {store.settings.deployment.collection: store, **(stores or {})}
        self._texts: dict[tuple[str, str], str | None] = {}

    def record(self, n: int, c: Citation) -> Record | None:
        """None when the citation names no document, or its document changed or went since the answer was made."""
        if not c.doc_id:
            return None
        name = c.collection or self.store.settings.deployment.collection
        store = self.stores.get(name)
        if store is None:
            return None
        if (name, c.doc_id) not in self._texts:
            doc = store.load(c.doc_id)
            self._texts[name, c.doc_id] = doc.text if doc is not None else None
        text = self._texts[name, c.doc_id]
        if text is None or text[c.char_start : c.char_end] != c.quote:
            return None
        return Record(n, c.source, c.doc_id, text_sha256(text), c.char_start, c.char_end,
                      "" if name == Deployment.collection else name)

    def records(self, citations: list[Citation]) -> list[dict]:
        """The ``provenance`` list of an answer object (``ask --json``)."""
        return [r.to_dict() for c in citations if (r := self.record(c.n, c)) is not None]


def with_extraction(answer: Answer, store, collection: str | None = None) -> Answer:
    """``answer`` with each citation's ``extracted_by`` read from its document's record (text layer or OCR);
    ``collection``: only the citations naming that collection (of an answer from several), read in ``store``."""
    mine = [c for c in answer.citations if collection is None or c.collection == collection]
    kinds = {}
    for doc_id in dict.fromkeys(c.doc_id for c in mine if c.doc_id):
        record = store.document(doc_id)
        kinds[doc_id] = record.extracted_by if record is not None else ""
    return replace(answer, citations=[replace(c, extracted_by=kinds.get(c.doc_id, c.extracted_by)) if c in mine
                                      else c for c in answer.citations])


def with_extractions(answer: Answer, stores: Mapping[str, object]) -> Answer:
    """``with_extraction`` of an answer from several collections: each citation's read in the store of the
    collection it names (``stores``: name -> store)."""
    for name, store in stores.items():
        answer = with_extraction(answer, store, name)
    return answer
