"""One question asked of several collections at once (a team's libraries: a project's and a client's).

Each collection is searched by its own retriever, with its own analysis of the question (its BM25 idf, its term
translations and name bridges), so a collection answers as it would alone. The passages of all are then fused into
one ranking by their fused scores (qa/fusion.py: calibrated cosines plus BM25 normalized to each collection's own
top hit, so they compare across collections), ties broken by collection name then chunk id: the same collections
give the same ranking whatever order they were named in. The extractive answerer picks its quotes among the
sentences of the fused top ``k`` (each scored against its own collection's analysis), and every citation and
retrieved passage records the collection it came from, so a briefing's provenance and ``verify`` read each quote
where it is. A file ingested into two collections is one document (its id is its path): counted once, in the
first collection by name.

Answers from several collections are extractive: the LLM answerer reads one collection's index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from verbatim_qa.settings import Settings
from verbatim_qa.types import Citation, ScoredChunk

from .answer import Answer
from .extractive import ExtractiveAnswerer, answer_with
from .query import Query

LLM_ONE_COLLECTION = "an answer from several collections is extractive: ask one collection for an LLM answer"


@dataclass(frozen=True)
class Searched:
    """One collection's part of a question: its answerer, its analysis of the question, its retrieved passages."""

    collection: str
    answerer: ExtractiveAnswerer
    query: Query
    retrieved: list[ScoredChunk]


def search(answerers: Mapping[str, ExtractiveAnswerer], question: str, k: int,
           sources: list[str] | None = None, history: Sequence = ()) -> list[Searched]:
    """Each collection's analysis and its ``k`` best passages (of the files ``sources`` when given), by collection
    name."""
    out = []
    for name in sorted(answerers):
        bot = answerers[name]
        query = bot.analyze(question, history)
        out.append(Searched(name, bot, query, bot.retriever.retrieve(query, k, sources)))
    return out


def fused(searched: Sequence[Searched], k: int) -> list[ScoredChunk]:
    """The ``k`` best passages of all collections, each naming its collection: by fused score, ties broken by
    collection name then chunk id. A chunk two collections hold (one file ingested into both) counts once, in the
    first by name."""
    seen: set[str] = set()
    pool: list[ScoredChunk] = []
    for s in sorted(searched, key=lambda s: s.collection):
        for r in s.retrieved:
            if r.chunk.chunk_id not in seen:
                seen.add(r.chunk.chunk_id)
                pool.append(replace(r, collection=s.collection))
    pool.sort(key=lambda r: (-r.score, r.collection, r.chunk.chunk_id))
    return pool[:k]


def retrieve(answerers: Mapping[str, ExtractiveAnswerer], question: str, k: int,
             sources: list[str] | None = None, history: Sequence = ()) -> list[ScoredChunk]:
    """The fused ranking of the collections' passages for ``question`` (retrieval only: ``search`` of several)."""
    return fused(search(answerers, question, k, sources, history), k)


def answer(answerers: Mapping[str, ExtractiveAnswerer], question: str, k: int | None = None,
           sources: list[str] | None = None, history: Sequence = (), settings: Settings | None = None) -> Answer:
    """The extractive answer of ``question`` from the collections of ``answerers`` (name -> its answerer), every
    citation naming its collection. ``settings``: the answer's (default: the first collection's)."""
    if not answerers:
        raise ValueError("no collection to ask")
    first = answerers[min(answerers)]
    s = settings or first.settings
    k = k or s.retrieval.top_k
    searched = search(answerers, question, k, sources, history)
    retrieved = fused(searched, k)
    kept = {(r.collection, r.chunk.chunk_id) for r in retrieved}
    cands, unmatched, lead = [], None, None
    for part in searched:
        mine = [r for r in part.retrieved if (part.collection, r.chunk.chunk_id) in kept]
        if not mine:
            continue
        found, ctx = part.answerer.candidates(part.query, mine)
        cands += found
        # a word the documents never mention: in none of the collections that gave evidence
        unmatched = ctx.unmatched if unmatched is None else tuple(w for w in unmatched if w in ctx.unmatched)
        if retrieved and part.collection == retrieved[0].collection:
            lead = (part.query, ctx.bridge)
    # the answer is composed for the analysis of the collection holding the best passage (its translations and
    # name bridges read that evidence); with nothing retrieved, the first collection's
    query, bridge = lead or (searched[0].query, None)
    result = answer_with(query, cands, retrieved, s, unmatched or (), bridge)
    result.search_query = query.search
    return with_collections(result, retrieved)


def with_collections(answer: Answer, retrieved: Sequence[ScoredChunk]) -> Answer:
    """``answer`` with each citation naming the collection of the retrieved passage that holds its quote."""
    return replace(answer, citations=[replace(c, collection=collection_of(c, retrieved)) for c in answer.citations])


def collection_of(c: Citation, retrieved: Sequence[ScoredChunk]) -> str:
    for r in retrieved:
        ch = r.chunk
        if ch.doc_id == c.doc_id and ch.char_start <= c.char_start <= c.char_end <= ch.char_end and \
                ch.text[c.char_start - ch.char_start : c.char_end - ch.char_start] == c.quote:
            return r.collection
    return c.collection
