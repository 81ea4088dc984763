"""Rank fusion in pure functions over plain lists, separate from any encoder.

Fusion is by calibrated scores (measured better than reciprocal-rank fusion on the dev set): a chunk's
score is its best-sentence cosine + ``w_chunk`` x its chunk cosine, plus a cross-language credit when the chunk
is in another language than the question (e5 scores cross-language matches lower, so without it English
text always outranks the Persian evidence), plus BM25 normalized to the top hit. Every component can be
switched off by a setting, for ablation; a component switched off is None in ``Signals``.
"""

from __future__ import annotations

from dataclasses import dataclass

from verbatim_qa.settings import Settings

Scored = list[tuple[str, float]]  # (chunk id, score), best first


@dataclass
class Signals:
    """Every retrieval component's raw scores for one question (``HybridRetriever.signals``): the input of fusion,
    refusal and the eval's diagnostics."""

    lang: str  # the question's language
    pseudo: str = ""  # the pseudo-query searched in the index's other languages ('' when none)
    sent: Scored | None = None  # dense sentences: a chunk id once per sentence of it that was hit
    chunk: Scored | None = None  # dense chunks
    bm25: Scored | None = None  # BM25 on the question's tokens
    bm25_x: Scored | None = None  # BM25 on the pseudo-query (None: the question is translated into no language)
    bm25_names: Scored | None = None  # BM25 on the bridged Persian names alone
    ident: Scored | None = None  # chunks holding the question's code terms exactly: the share of them held

    def ranked(self) -> dict[str, Scored]:
        """The components that rank candidates (the name search only adds weight), by name, those switched on."""
        lists = {"sent": self.sent, "chunk": self.chunk, "bm25": self.bm25, "bm25_x": self.bm25_x}
        return {name: pairs for name, pairs in lists.items() if pairs is not None}

    def candidates(self) -> set[str]:
        """Every ranked chunk, and those holding the question's code terms (which the others may have missed)."""
        return {cid for pairs in [*self.ranked().values(), self.ident or []] for cid, _ in pairs}


def fuse(sig: Signals, langs: dict[str, str], s: Settings, penalty: dict[str, float] | None = None,
         offsets: dict[str, float] | None = None) -> dict[str, float]:
    """Fused score per chunk id; ``langs``: chunk id -> its language; ``penalty`` (chunk id -> its demotion for
    sentences that are not evidence, qa/retriever.py ``demotion``) is subtracted; ``offsets``: the cross-language
    credit per document language (``HybridRetriever.pair_offsets``; ``lang_offset`` for any other)."""
    penalty = penalty or {}
    offsets = offsets or {}
    if s.retrieval.fusion == "rrf":
        return rrf({name: best_per_group(pairs) for name, pairs in sig.ranked().items()}, k=s.retrieval.rrf_k)
    sent = best(sig.sent or [])
    chunk = dict(sig.chunk or [])
    bm25 = normalized(sig.bm25 or [])
    bm25_x = normalized(sig.bm25_x or [])
    names = normalized(sig.bm25_names or [])
    ident = dict(sig.ident or [])
    has_sent, has_chunk = sig.sent is not None, sig.chunk is not None
    scores: dict[str, float] = {}
    for cid in set(sent) | set(chunk) | set(bm25) | set(bm25_x) | set(ident):
        dense_w = (1.0 if has_sent else 0.0) + (s.retrieval.w_chunk if has_chunk else 0.0)
        v = sent.get(cid, s.retrieval.floor) if has_sent else 0.0
        v += s.retrieval.w_chunk * chunk.get(cid, s.retrieval.floor) if has_chunk else 0.0
        if langs.get(cid) != sig.lang:
            v += dense_w * offsets.get(langs.get(cid), s.retrieval.lang_offset)
        v += s.retrieval.w_bm25 * bm25.get(cid, 0.0) + s.retrieval.w_bm25_crosslingual * bm25_x.get(cid, 0.0)
        v += s.retrieval.w_names * names.get(cid, 0.0) + s.retrieval.w_identifier * ident.get(cid, 0.0)
        scores[cid] = v - penalty.get(cid, 0.0)
    return scores


def rrf(rankings: dict[str, list[str]], k: int = 60, weights: dict[str, float] | None = None) -> dict[str, float]:
    """Reciprocal-rank fusion: sum over rankings of weight / (k + rank), rank starting at 1."""
    fused: dict[str, float] = {}
    for name, ids in rankings.items():
        w = (weights or {}).get(name, 1.0)
        for rank, item in enumerate(ids, 1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
    return fused


def best(scored: Scored) -> dict[str, float]:
    """Each group id's best score (a chunk scored by its best sentence)."""
    out: dict[str, float] = {}
    for gid, score in scored:
        if score > out.get(gid, float("-inf")):
            out[gid] = score
    return out


def best_per_group(scored: Scored) -> list[str]:
    """Distinct group ids ordered by their best score."""
    top = best(scored)
    return sorted(top, key=lambda g: (-top[g], g))


def normalized(pairs: Scored) -> dict[str, float]:
    """Scores divided by the top one (BM25 scores have no fixed scale); {} when the top is not positive."""
    top = max((sc for _, sc in pairs), default=0.0)
    return {cid: sc / top for cid, sc in pairs} if top > 0 else {}
