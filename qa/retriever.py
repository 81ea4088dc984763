"""Hybrid retrieval: dense chunks + dense sentences + BM25, each also run on a Persian pseudo-query for
questions in another language, fused by reciprocal rank. Every component can be switched off (ablation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ingest.normalize import tokenize
from vectorstore.lexical import LexicalIndex
from vectorstore.store import Store
from verbatim.types import ScoredChunk

from .crosslingual import TermTranslator
from .fusion import best_per_group, rrf

POOL = 40  # candidates per ranking before fusion


class HybridRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    lexical: LexicalIndex | None = None
    translator: TermTranslator | None = None
    k: int = 5
    reranker: Any = None

    @classmethod
    def from_store(cls, store: Store, **kw) -> HybridRetriever:
        s = store.settings
        lexical = LexicalIndex.for_store(store) if s.use_bm25 else None
        translator = TermTranslator.for_store(store) if s.use_crosslingual else None
        reranker = None
        if s.reranker:
            from sentence_transformers import CrossEncoder

            reranker = CrossEncoder(s.reranker, device="cpu")
        return cls(store=store, lexical=lexical, translator=translator, k=s.top_k, reranker=reranker, **kw)

    def rankings(self, question: str, sources: list[str] | None = None) -> tuple[dict[str, list[str]], dict]:
        """Each component's ranked chunk ids, plus per-chunk signals (best cosine) used for refusal."""
        s = self.store.settings
        where = {"source": {"$in": list(sources)}} if sources else None
        queries = {"q": question}
        pseudo = self.translator.translate(question) if self.translator else ""
        if pseudo:
            queries["x"] = pseudo
        vecs = self.store.embedder.encode_queries(list(queries.values()))
        out: dict[str, list[str]] = {}
        best_sentence: dict[str, float] = {}
        for (tag, text), vec in zip(queries.items(), vecs):
            if s.use_dense_chunks:
                out[f"chunk_{tag}"] = [cid for cid, _ in self.store.query_chunks(vec, POOL, where)]
            if s.use_dense_sentences:
                hits = self.store.query_sentences(vec, POOL * 2, where)
                scored = [(m["chunk_id"], sim) for m, sim in hits]
                out[f"sent_{tag}"] = best_per_group(scored)[:POOL]
                for cid, sim in scored:
                    best_sentence[cid] = max(best_sentence.get(cid, -1.0), sim)
            if self.lexical is not None:
                hits = self.lexical.search(tokenize(text), POOL)
                if sources:
                    allowed = {c.chunk_id for c in self.store.get_chunks([cid for cid, _ in hits])
                               if c.source in sources}
                    hits = [(cid, sc) for cid, sc in hits if cid in allowed]
                out[f"bm25_{tag}"] = [cid for cid, _ in hits]
        return out, {"best_sentence": best_sentence, "pseudo": pseudo}

    def retrieve(self, question: str, k: int | None = None, sources: list[str] | None = None) -> list[ScoredChunk]:
        k = k or self.k
        rankings, signals = self.rankings(question, sources)
        fused = rrf(rankings, k=self.store.settings.rrf_k)
        order = sorted(fused, key=lambda cid: -fused[cid])
        top = order[: max(k, 20) if self.reranker is not None else k]
        chunks = self.store.get_chunks(top)
        results = [ScoredChunk(c, fused[c.chunk_id], {"best_sentence": signals["best_sentence"].get(c.chunk_id, 0.0)})
                   for c in chunks]
        if self.reranker is not None and results:
            scores = np.asarray(self.reranker.predict([(question, r.chunk.text) for r in results]))
            for r, sc in zip(results, scores):
                r.signals["rerank"] = float(sc)
            results.sort(key=lambda r: -r.signals["rerank"])
        return results[:k]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [
            LCDocument(
                page_content=r.chunk.text,
                id=r.chunk.chunk_id,
                metadata={"source": r.chunk.source, "section": r.chunk.section, "char_start": r.chunk.char_start,
                          "char_end": r.chunk.char_end, "score": r.score, "doc_id": r.chunk.doc_id},
            )
            for r in self.retrieve(query)
        ]
