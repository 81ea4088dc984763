"""The default answerer, no LLM: the best verbatim sentences of the retrieved chunks, each cited.

A sentence's score is its cosine with the question (plus the retriever's cross-language offset) plus its
lexical overlap with the question and the Persian pseudo-query; quotes are picked greedily with a
redundancy penalty (MMR) and neighbouring sentences are joined into one quote. A question asking for "the
second/third ..." boosts the list item starting with that ordinal (qa/ordinals.py), and when another document's
best sentence is nearly as good it is quoted too (questions often span the documents). When the best sentence
scores under ``Settings.refusal_threshold`` the answer is a refusal listing the nearest passages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verbatim.text.normalize import tokenize
from verbatim.types import Chunk, ScoredChunk, Sentence

from .answer import REFUSAL, Answer, AnswererBase, citation_for
from .ordinals import sentence_ordinal
from .query import Query, content
from .retriever import HybridRetriever


@dataclass
class Candidate:
    chunk: Chunk
    index: int  # position of the sentence in its chunk
    sentence: Sentence
    score: float
    vector: np.ndarray


class ExtractiveAnswerer(AnswererBase):
    name = "extractive"

    def __init__(self, retriever: HybridRetriever) -> None:
        self.retriever = retriever
        self.settings = retriever.settings

    def answer_from(self, query: Query | str, retrieved: list[ScoredChunk]) -> Answer:
        query = self.retriever.analyze(query)  # a Query passes through: analysed once, by whoever asked first
        candidates = self.score_sentences(query, retrieved)
        if not candidates or candidates[0].score < self.settings.refusal_threshold:
            return refusal(query.text, retrieved)
        picked = self._select(candidates)
        return compose(query, picked, retrieved)

    def score_sentences(self, query: Query, retrieved: list[ScoredChunk]) -> list[Candidate]:
        s = self.settings
        q_terms = query.content_terms
        ids, where = [], []
        for r in retrieved:
            for i, sent in enumerate(r.chunk.sentences):
                # headings and footnote lines are not answers
                if len(sent.text) >= s.min_quote_chars and not sent.text.lstrip().startswith(("#", "<sup>")):
                    ids.append(f"{r.chunk.chunk_id}:{i}")
                    where.append((r.chunk, i, sent))
        if not ids:
            return []
        vec_by_id = self.retriever.store.sentence_vectors(ids)
        out = []
        for sid, (chunk, i, sent) in zip(ids, where):
            v = vec_by_id.get(sid)
            if v is None:
                continue
            score = float(v @ query.vector)
            if chunk.lang != query.lang:
                score += s.lang_offset
            terms = content(tokenize(sent.text))
            if q_terms:
                score += s.w_lexical * len(q_terms & terms) / len(q_terms)
            if query.ordinal is not None and sentence_ordinal(sent.text, _line_prefix(chunk, sent)) == query.ordinal:
                score += s.w_answer_ordinal
            out.append(Candidate(chunk, i, sent, score, v))
        out.sort(key=lambda c: -c.score)
        return out

    def _select(self, candidates: list[Candidate]) -> list[Candidate]:
        s = self.settings
        best = candidates[0].score
        picked = [candidates[0]]
        pool = [c for c in candidates[1:] if c.score >= best - s.quote_margin]
        while pool and len(picked) < s.max_quotes:
            def mmr(c: Candidate) -> float:
                return s.mmr_lambda * c.score - (1 - s.mmr_lambda) * max(float(c.vector @ p.vector) for p in picked)

            nxt = max(pool, key=mmr)
            pool.remove(nxt)
            if max(float(nxt.vector @ p.vector) for p in picked) < s.near_duplicate:
                picked.append(nxt)
        sources = {c.chunk.source for c in picked}
        other = next((c for c in candidates if c.chunk.source not in sources and c.score >= best - s.doc_margin),
                     None)
        if other is not None:  # questions often span documents: show the other one's best evidence too
            picked = picked[: s.max_quotes - 1] + [other]
        return picked


def compose(query: Query, picked: list[Candidate], retrieved: list[ScoredChunk]) -> Answer:
    """Join neighbouring sentences of one chunk into one quote, number the quotes, write the answer."""
    groups: list[list[Candidate]] = []
    for c in sorted(picked, key=lambda c: (c.chunk.chunk_id, c.index)):
        last = groups[-1][-1] if groups else None
        if last is not None and last.chunk.chunk_id == c.chunk.chunk_id and c.index == last.index + 1:
            groups[-1].append(c)
        else:
            groups.append([c])
    groups.sort(key=lambda g: -max(c.score for c in g))  # best evidence first
    citations = [citation_for(n, g[0].chunk, g[0].sentence.char_start, g[-1].sentence.char_end)
                 for n, g in enumerate(groups, 1)]
    qlang = query.lang
    lines = []
    evidence_langs = {g[0].chunk.lang for g in groups}
    if qlang != "fa" and evidence_langs == {"fa"}:
        lines.append("The evidence is in Persian; quoted verbatim, not translated:")
    elif qlang != "fa" and "fa" in evidence_langs:
        lines.append("Part of the evidence is in Persian; quoted verbatim, not translated:")
    lines += [f"“{c.quote}” [{c.n}]" for c in citations]
    return Answer(query.text, "\n\n".join(lines), False, citations, retrieved)


def refusal(question: str, retrieved: list[ScoredChunk]) -> Answer:
    nearest = "; ".join(f"{r.chunk.source}" + (f" ({r.chunk.section})" if r.chunk.section else "")
                        for r in retrieved[:3])
    text = REFUSAL + (f" Nearest passages: {nearest}." if nearest else "")
    return Answer(question, text, True, [], retrieved)


def _line_prefix(chunk: Chunk, s: Sentence) -> str:
    """The text before ``s`` on its line (where a list marker like "3." sits)."""
    rel = s.char_start - chunk.char_start
    return chunk.text[chunk.text.rfind("\n", 0, rel) + 1 : rel]

