"""Documents -> chunks: consecutive whole sentences of one section, with their section path and exact offsets."""

from __future__ import annotations

import re
from dataclasses import replace

from verbatim_qa.settings import Deployment
from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.roles import assign_roles
from verbatim_qa.text.segment import segment
from verbatim_qa.types import Chunk, Document, Sentence

_SPACE = re.compile(r"\s+")


def chunk_document(doc: Document, max_chars: int,
                   max_sentence_chars: int = Deployment.max_sentence_chars) -> list[Chunk]:
    """Consecutive whole sentences of one section, up to ``max_chars`` (a longer sentence stands alone); a
    sentence over ``max_sentence_chars`` is cut into pieces first (``split_long``)."""
    chunks: list[Chunk] = []
    for sec in assign_roles(doc.text, segment(doc.text, doc.layout), doc.title, doc.layout):
        group: list[Sentence] = []
        for sent in (p for s in sec.sentences for p in split_long(doc.text, s, max_sentence_chars)):
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


def split_long(text: str, sent: Sentence, limit: int) -> list[Sentence]:
    """``sent`` as pieces of at most ``limit`` characters, each cut after the last whitespace in its second half
    (mid-word only when there is none) and each the exact ``text[char_start:char_end]``, without the
    whitespace between them; a sentence within the limit comes back as it is."""
    if sent.char_end - sent.char_start <= limit:
        return [sent]
    pieces, start = [], sent.char_start
    while sent.char_end - start > limit:
        window = text[start + limit // 2 : start + limit + 1]
        gaps = list(_SPACE.finditer(window))
        if gaps:
            end, after = start + limit // 2 + gaps[-1].start(), start + limit // 2 + gaps[-1].end()
        else:
            end = after = start + limit
        pieces.append(replace(sent, char_start=start, char_end=end, text=text[start:end]))
        start = after
    pieces.append(replace(sent, char_start=start, char_end=sent.char_end, text=text[start : sent.char_end]))
    return pieces
