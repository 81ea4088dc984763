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

from verbatim.text.lang import detect_lang
from verbatim.text.normalize import tokenize
from verbatim.text.stopwords import EN_STOP, FA_STOP
from verbatim.types import Chunk, ScoredChunk, Sentence

from .answer import REFUSAL, Answer, citation_for
from .ordinals import question_ordinal, sentence_ordinal
from .retriever import HybridRetriever

W_LEXICAL = 0.06
MMR_LAMBDA = 0.75
MIN_CHARS = 25  # shorter "sentences" are headings, bylines, footnote markers: not answers
MARGIN = 0.035  # quotes beyond the first must score within this of the best
W_ORDINAL = 0.15  # "the third goal" -> the item starting "third"/"سوم"/"3.": decisive over list-header sentences
DOC_MARGIN = 0.07  # a second document's best sentence within this of the best is quoted too (both sides)


@dataclass
class Candidate:
    chunk: Chunk
    index: int  # position of the sentence in its chunk
    sentence: Sentence
    score: float
    vector: np.ndarray


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, retriever: HybridRetriever) -> None:
        self.retriever = retriever
        self.settings = retriever.settings

    def answer(self, question: str, k: int | None = None, sources: list[str] | None = None) -> Answer:
        retrieved = self.retriever.retrieve(question, k or self.settings.top_k, sources)
        return self.answer_from(question, retrieved)

    def answer_from(self, question: str, retrieved: list[ScoredChunk]) -> Answer:
        candidates = self.score_sentences(question, retrieved)
        if not candidates or candidates[0].score < self.settings.refusal_threshold:
            return refusal(question, retrieved)
        picked = self._select(candidates)
        return compose(question, picked, retrieved)

    def score_sentences(self, question: str, retrieved: list[ScoredChunk]) -> list[Candidate]:
        store = self.retriever.store
        qlang = detect_lang(question)
        pseudo = self.retriever.translator.translate(question) if self.retriever.translator and qlang != "fa" else ""
        q_terms = _content(tokenize(question)) | _content(tokenize(pseudo))
        ids, where = [], []
        for r in retrieved:
            for i, s in enumerate(r.chunk.sentences):
                # headings and footnote lines are not answers
                if len(s.text) >= MIN_CHARS and not s.text.lstrip().startswith(("#", "<sup>")):
                    ids.append(f"{r.chunk.chunk_id}:{i}")
                    where.append((r.chunk, i, s))
        if not ids:
            return []
        got = store.sentences.get(ids=ids, include=["embeddings"])
        vec_by_id = dict(zip(got["ids"], got["embeddings"]))
        qv = store.embedder.encode_queries([question])[0]
        q_ord = question_ordinal(question) if self.settings.use_ordinals else None
        out = []
        for sid, (chunk, i, s) in zip(ids, where):
            if sid not in vec_by_id:
                continue
            v = np.asarray(vec_by_id[sid], dtype=np.float32)
            score = float(v @ qv)
            if chunk.lang != qlang:
                score += self.settings.lang_offset
            terms = _content(tokenize(s.text))
            if q_terms:
                score += W_LEXICAL * len(q_terms & terms) / len(q_terms)
            if q_ord is not None and sentence_ordinal(s.text, _line_prefix(chunk, s)) == q_ord:
                score += W_ORDINAL
            out.append(Candidate(chunk, i, s, score, v))
        out.sort(key=lambda c: -c.score)
        return out

    def _select(self, candidates: list[Candidate]) -> list[Candidate]:
        best = candidates[0].score
        picked = [candidates[0]]
        pool = [c for c in candidates[1:] if c.score >= best - MARGIN]
        while pool and len(picked) < self.settings.max_quotes:
            def mmr(c: Candidate) -> float:
                return MMR_LAMBDA * c.score - (1 - MMR_LAMBDA) * max(float(c.vector @ p.vector) for p in picked)

            nxt = max(pool, key=mmr)
            pool.remove(nxt)
            if max(float(nxt.vector @ p.vector) for p in picked) < 0.97:  # not a near-duplicate
                picked.append(nxt)
        sources = {c.chunk.source for c in picked}
        other = next((c for c in candidates if c.chunk.source not in sources and c.score >= best - DOC_MARGIN), None)
        if other is not None:  # questions often span documents: show the other one's best evidence too
            picked = picked[: self.settings.max_quotes - 1] + [other]
        return picked


def compose(question: str, picked: list[Candidate], retrieved: list[ScoredChunk]) -> Answer:
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
    qlang = detect_lang(question)
    lines = []
    evidence_langs = {g[0].chunk.lang for g in groups}
    if qlang != "fa" and evidence_langs == {"fa"}:
        lines.append("The evidence is in Persian; quoted verbatim, not translated:")
    elif qlang != "fa" and "fa" in evidence_langs:
        lines.append("Part of the evidence is in Persian; quoted verbatim, not translated:")
    lines += [f"“{c.quote}” [{c.n}]" for c in citations]
    return Answer(question, "\n\n".join(lines), False, citations, retrieved)


def refusal(question: str, retrieved: list[ScoredChunk]) -> Answer:
    nearest = "; ".join(f"{r.chunk.source}" + (f" ({r.chunk.section})" if r.chunk.section else "")
                        for r in retrieved[:3])
    text = REFUSAL + (f" Nearest passages: {nearest}." if nearest else "")
    return Answer(question, text, True, [], retrieved)


def _line_prefix(chunk: Chunk, s: Sentence) -> str:
    """The text before ``s`` on its line (where a list marker like "3." sits)."""
    rel = s.char_start - chunk.char_start
    return chunk.text[chunk.text.rfind("\n", 0, rel) + 1 : rel]


def _content(tokens: list[str]) -> set[str]:
    return {t for t in tokens if t not in EN_STOP and t not in FA_STOP and len(t) > 1}
