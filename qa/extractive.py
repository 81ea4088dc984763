"""The default answerer, no LLM: the best verbatim sentences of the retrieved chunks, each cited.

Three steps, each a function over plain data so the evals can replay them with other settings (evals/tune.py):
``candidates`` gathers the body sentences of the retrieved chunks with their raw evidence (cosine with the
question, cross-language, share of the question's terms, ordinal, whether the sentence carries the type of
answer asked for); ``rank`` scores them with the settings' weights; ``select`` picks the quotes (the best, near
ties without redundancy (MMR), the sentence that continues the best one when the best lacks what was asked,
another document's best when nearly as good). ``compose`` (qa/compose.py) writes the answer, its key fact and
its caveat. Under ``Settings.refusal_threshold`` the answer is a refusal listing the nearest passages.
"""

from __future__ import annotations

import numpy as np

from verbatim_qa.settings import Settings
from verbatim_qa.text.lang import is_caseless
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.types import Chunk, ScoredChunk, Sentence, sentence_id

from .answer import Answer, AnswererBase
from .answertype import carries
from .candidate import Candidate
from .compose import compose, refusal
from .context import IndexContext
from .names import NameBridge
from .ordinals import sentence_ordinal
from .query import Query, content
from .retriever import HybridRetriever


class ExtractiveAnswerer(AnswererBase):
    name = "extractive"

    def __init__(self, retriever: HybridRetriever) -> None:
        self.retriever = retriever
        self.settings = retriever.settings

    def answer_from(self, query: Query, retrieved: list[ScoredChunk]) -> Answer:
        cands, ctx = self.candidates(query, retrieved)
        answer = answer_with(query, cands, retrieved, self.settings, ctx.unmatched, ctx.bridge)
        answer.search_query = query.search
        return answer

    def candidates(self, query: Query, retrieved: list[ScoredChunk]) -> tuple[list[Candidate], IndexContext]:
        """The quotable sentences of the retrieved chunks with their evidence, and what the index says about the
        question (``HybridRetriever.context``): everything ``answer_with`` reads."""
        s = self.settings
        where = [(r.chunk, i, sent) for r in retrieved for i, sent in enumerate(r.chunk.sentences)
                 if quotable(sent, query, s)]
        ctx = self.retriever.context(query, retrieved, [sentence_id(c.chunk_id, i) for c, i, _ in where])
        out = []
        for chunk, i, sent in where:
            v = ctx.vector(chunk.chunk_id, i)
            if v is not None:
                c = evidence(query, chunk, i, sent, v)
                c.background = ctx.background.get(chunk.lang, 0.0)
                out.append(c)
        return out, ctx


def answer_with(query: Query, cands: list[Candidate], retrieved: list[ScoredChunk], s: Settings,
                unmatched: tuple[str, ...] = (), bridge: NameBridge | None = None) -> Answer:
    """``unmatched``: the question's words the documents never mention; ``bridge``: the index's Persian words by
    consonant skeleton (both from ``IndexContext``)."""
    if query.evidence_lang:  # "And in Persian sources?": only those, when any was retrieved (a bonus of 0.05 left
        cands = [c for c in cands if c.chunk.lang == query.evidence_lang] or cands  # 2 of 6 "and" turns on English)
    ranked = rank(cands, query, s)
    if not ranked or max(calibrated(c, s) for c in ranked) < s.answers.refusal_threshold:
        return refusal(query.text, retrieved)
    return compose(query, select(ranked, query, s), retrieved, s, unmatched, bridge, lead(ranked))


def lead(ranked: list[Candidate]) -> float:
    """How far the best sentence scores above the next other sentence (infinite when it has no rival): a near
    tie means the evidence does not single out one sentence, so neither its figure (the key fact) is sure."""
    best = ranked[0]
    rival = next((c for c in ranked[1:] if c.sentence.text != best.sentence.text), None)
    return float("inf") if rival is None else best.score - rival.score


def calibrated(c: Candidate, s: Settings) -> float:
    """The relevance refusal reads: a cross-language candidate gets the offset of its language pair for this
    question instead of the constant ``lang_offset``: what lifts it ``refusal_lift`` above the question's mean
    cosine with that language's background sentences to the refusal threshold. e5 compresses cross-language
    scores, so one absolute threshold refused most en-zh answerable questions; the lift above the question's own
    background in that language is what stays comparable (docs/measurements.md#refusal-lift). Never below
    ``lang_offset``: where the background is high (a topical corpus) the constant one still applies."""
    if not c.cross:
        return c.relevance
    return c.relevance + max(
        0.0, s.answers.refusal_threshold - s.answers.refusal_lift - c.background - s.retrieval.lang_offset
    )


def quotable(sent: Sentence, query: Query, s: Settings) -> bool:
    """Body text long enough to be evidence; a byline, caption or reference only when the question asks for it."""
    if sent.role == "body":
        return len(sent.text) >= s.answers.min_quote_chars
    return sent.role in query.roles or (sent.role == "title" and "heading" in query.roles)


def evidence(query: Query, chunk: Chunk, i: int, sent: Sentence, v: np.ndarray) -> Candidate:
    q_terms = query.content_terms
    terms = content(tokenize(sent.text))
    return Candidate(
        chunk, i, sent, v, float(v @ query.vector), chunk.lang != query.lang,
        len(q_terms & terms) / len(q_terms) if q_terms else 0.0,
        query.ordinal is not None and sentence_ordinal(sent.text, _line_prefix(chunk, sent)) == query.ordinal,
        typed_value(query, chunk, sent.text),
        len(query.focus & terms) / len(query.focus) if query.focus else 0.0,
    )


def typed_value(query: Query, chunk: Chunk, text: str) -> float:
    """1 when ``text`` carries the kind of answer the question asks for, 0 when not, 0.5 when it cannot tell."""
    kind = query.answer_type
    if kind is None or (kind in ("person", "name") and is_caseless(text)):
        return 0.5  # no capitals in Persian, Arabic or Chinese script: a name cannot be told from its shape
    return float(carries(text, kind))


def rank(cands: list[Candidate], query: Query, s: Settings) -> list[Candidate]:
    for c in cands:
        c.relevance = (
            c.cosine
            + s.retrieval.lang_offset * c.cross
            + s.answers.w_lexical * c.lexical
            + s.answers.w_answer_ordinal * c.ordinal
        )
        c.relevance += s.answers.w_focus * c.focus
        c.score = c.relevance + (s.answers.w_answer_type * (c.typed - 0.5) if query.answer_type else 0.0)
    return sorted(cands, key=lambda c: (-c.score, c.chunk.chunk_id, c.index))


def select(ranked: list[Candidate], query: Query, s: Settings) -> list[Candidate]:
    best = ranked[0]
    picked = [best]
    follow = _continuation(best, ranked, query)
    if follow is not None:
        picked.append(follow)
    pool = [c for c in ranked[1:] if c.score >= best.score - s.answers.quote_margin and c is not follow]
    # the question's words can be looked for in the evidence (the best quote has some): then a further quote must
    # hold some too, or the kind of answer asked for, or continue a quote; one that only shares the topic is dropped
    readable = best.lexical > 0
    while pool and len(picked) < s.answers.max_quotes:
        def mmr(c: Candidate) -> float:
            return s.answers.mmr_lambda * c.score - (1 - s.answers.mmr_lambda) * max(
                float(c.vector @ p.vector) for p in picked
            )

        nxt = max(pool, key=mmr)
        pool.remove(nxt)
        if max(float(nxt.vector @ p.vector) for p in picked) < s.answers.near_duplicate and (
                not readable or earns_place(nxt, picked, query, s)):
            picked.append(nxt)
    sources = {c.chunk.source for c in picked}
    other = next((c for c in ranked if c.chunk.source not in sources and c.score >= best.score - s.answers.doc_margin
                  and (not readable or earns_place(c, picked, query, s))), None)
    if other is not None:  # questions often span documents: show the other one's best evidence too
        if len(picked) < s.answers.max_quotes:
            picked.append(other)
        elif other.relevance > picked[-1].relevance and picked[-1] is not follow:  # never displace better evidence
            picked[-1] = other
    return picked


def earns_place(c: Candidate, picked: list[Candidate], query: Query, s: Settings) -> bool:
    """A quote beyond the first holds at least ``quote_min_lexical`` of the question's content terms, or the kind of
    answer the question asks for, or continues a picked quote (the sentence next to it in its chunk)."""
    if c.lexical >= s.answers.quote_min_lexical or (query.answer_type is not None and c.typed == 1.0):
        return True
    return any(p.chunk.chunk_id == c.chunk.chunk_id and abs(p.index - c.index) == 1 for p in picked)


def _continuation(best: Candidate, ranked: list[Candidate], query: Query) -> Candidate | None:
    """The next sentence of the best one's chunk, when it continues it: the best ends in ':' (a list follows),
    or the best lacks the kind of answer asked for and the next one has it ("Today, …" updating a figure)."""
    nxt = next((c for c in ranked if c.chunk.chunk_id == best.chunk.chunk_id and c.index == best.index + 1), None)
    if nxt is None:
        return None
    if best.sentence.text.rstrip().endswith((":", "：")):
        return nxt
    if query.answer_type and best.typed == 0.0 and nxt.typed == 1.0:
        return nxt
    return None


def _line_prefix(chunk: Chunk, s: Sentence) -> str:
    """The text before ``s`` on its line (where a list marker like "3." sits)."""
    rel = s.char_start - chunk.char_start
    return chunk.text[chunk.text.rfind("\n", 0, rel) + 1 : rel]
