"""Documents -> chunks: consecutive whole sentences of one section, with their section path and exact offsets."""

from __future__ import annotations

from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.roles import assign_roles
from verbatim_qa.text.segment import segment
from verbatim_qa.types import Chunk, Document, Sentence


def chunk_document(doc: Document, max_chars: int) -> list[Chunk]:
    """Consecutive whole sentences of one section, up to ``max_chars`` (a longer sentence stands alone)."""
    chunks: list[Chunk] = []
    for sec in assign_roles(doc.text, segment(doc.text, doc.layout), doc.title, doc.layout):
        group: list[Sentence] = []
        for sent in sec.sentences:
            if group and sent.char_end - group[0].char_start > max_chars:
                chunks.append(_make_chunk(doc, sec.path, group))
                group = []
            group.append(sent)
        if group:
            chunks.append(_make_chunk(doc, sec.path, group))
    return chunks


def _make_chunk(doc: Document, section: str | None, group: list[Sentence]) -> Chunk:
    start, end = group[0].char_start, group[-1].char_end
    body = doc.text[start:end]
    return Chunk(
        chunk_id=Chunk.make_id(doc.doc_id, doc.sha, start, end),
        doc_id=doc.doc_id,
        source=doc.source,
        title=doc.title,
        section=section,
        page=doc.page_at(start),
        char_start=start,
        char_end=end,
        text=body,
        lang=detect_lang(body),
        sentences=tuple(group),
        doc_sha=doc.sha,
    )
