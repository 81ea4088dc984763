"""Hybrid retrieval: dense chunks + dense sentences + BM25 on the question, plus BM25 on a pseudo-query in the
index's other languages (term translation into each document language, qa/crosslingual.py; Persian spellings of
names, qa/names.py), fused by calibrated scores (qa/fusion.py).

The retriever owns what is prepared from the index (BM25, the term translator, each chunk's language and source,
the calibration background) and is the answerers' only way to it: a question is analysed by its ``analyzer``
(qa/analyzer.py) into a ``Query``, ``retrieve`` ranks the passages for it, and ``context`` hands an answerer what
else it reads from the index as one value (qa/context.py). LangChain users get it through
qa/langchain_retriever.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from verbatim_qa.settings import Settings
from verbatim_qa.text.identifiers import holds
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.types import ScoredChunk, sentence_id
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store, embed_text

from .analyzer import Analyzer
from .context import IndexContext
from .corpus import ChunkMeta, CorpusView
from .crosslingual import TermTranslator
from .fusion import Signals, best, fuse
from .names import latin_skeleton, persian_skeleton
from .ordinals import sentence_ordinal
from .query import Query


def demotion(meta: ChunkMeta, asked: frozenset[str], s: Settings) -> float:
    """What fusion subtracts from a chunk for its sentences that are not evidence unless asked for: a reference
    list matches its own topic's words (``w_reference`` per share), a table of contents, an index, running heads
    and code listings repeat every heading's and name's words (``w_navigation`` per share)."""
    return sum((s.retrieval.w_reference if role == "reference" else s.retrieval.w_navigation) * share
               for role, share in meta.demoted if role not in asked)


class HybridRetriever:
    def __init__(self, store: Store, settings: Settings, lexical: LexicalIndex | None = None,
                 translator: TermTranslator | None = None, k: int = 5, reranker=None) -> None:
        self.store = store
        self.settings = settings
        self.lexical = lexical
        self.translator = translator
        self.k = k
        self.reranker = reranker
        self.analyzer = Analyzer(store, settings, lexical, translator)  # reads the same BM25 and translator
        self._meta: dict[str, ChunkMeta] = {}  # chunk id -> what fusion reads of it, filled as chunks are seen
        self._view: CorpusView | None = None  # what BM25 and the vocabulary were built from
        self._background: dict[str, np.ndarray] | None = None  # language -> sample of sentence vectors

    @classmethod
    def open(cls, settings: Settings, store: Store | None = None) -> HybridRetriever:
        """The retriever over ``store``, or over the store ``settings`` name."""
        return cls.from_store(store or Store(settings), settings)

    @classmethod
    def from_store(cls, store: Store, settings: Settings | None = None, **kw) -> HybridRetriever:
        """``settings`` overrides the store's query-time switches (for ablations over one index)."""
        s = settings or store.settings
        lexical = kw.pop("lexical", None)
        translator = kw.pop("translator", None)
        view = committed = None
        if translator is None and s.retrieval.use_crosslingual:
            committed = store.committed()  # one snapshot: the view, BM25 and its version agree
            view = CorpusView.scan(store, committed)
            translator = TermTranslator.from_view(store, view, s)
        if lexical is None and s.retrieval.use_bm25:
            lexical = LexicalIndex.for_store(store, committed, view.chunks() if view is not None else None)
        return cls._assemble(store, s, lexical, translator, view, **kw)

    @classmethod
    def _assemble(cls, store: Store, s: Settings, lexical, translator, view: CorpusView | None,
                  **kw) -> HybridRetriever:
        reranker = None
        if s.retrieval.reranker:
            from sentence_transformers import CrossEncoder

            reranker = CrossEncoder(s.retrieval.reranker, device="cpu")
        retriever = cls(
            store,
            s,
            lexical=lexical if s.retrieval.use_bm25 else None,
            translator=translator if s.retrieval.use_crosslingual else None,
            k=s.retrieval.top_k,
            reranker=reranker,
            **kw,
        )
        # The vocabulary read every chunk anyway: keep each one's language and source, so a question's candidates
        # need no store lookup (measured at 10k chunks: 48 ms per new question, the largest cost after encoding).
        if view is not None:
            retriever._view = view
            retriever._meta.update(view.meta())
        return retriever

    def refreshed(self) -> HybridRetriever:
        """A retriever over the store as it is now, reading only the documents added or changed since this one
        was prepared (this one is left as it was: requests in flight keep using it). BM25 is rebuilt from the
        kept tokens (bm25s cannot add documents), the vocabulary counts are updated, and only new terms are
        embedded. ``self`` when nothing changed; a full preparation when this one kept no view."""
        if self._view is None:
            return HybridRetriever.from_store(self.store, self.settings)
        committed = self.store.committed()
        view, changed = self._view.updated(self.store, committed)
        if not changed:
            return self
        old = self.translator
        translator = TermTranslator.from_view(self.store, view, self.settings, cache=old.cache,
                                              word_vectors=old.word_vectors()) if old is not None else None
        lexical = LexicalIndex.for_store(self.store, committed, view.chunks()) if self.lexical is not None else None
        return HybridRetriever._assemble(self.store, self.settings, lexical, translator, view)

    def background(self) -> dict[str, np.ndarray]:
        """Per document language, the vectors of a fixed sample of its sentences (chunk ids are content hashes:
        the first ids are a pseudo-random, reproducible sample). Built once per prepared retriever."""
        if self._background is None:
            by_lang: dict[str, list[str]] = {}
            langs = {cid: m.lang for cid, m in dict(self._meta).items()} or {
                c.chunk_id: c.lang for c in self.store.all_chunks()}
            for cid in sorted(langs):
                ids = by_lang.setdefault(langs[cid], [])
                if len(ids) < self.settings.retrieval.background_chunks:
                    ids.append(cid)
            out = {}
            for lang, cids in by_lang.items():
                sids = [sentence_id(c.chunk_id, i) for c in self.store.get_chunks(cids)
                        for i in range(len(c.sentences))]
                vecs = self.store.sentence_vectors(sids[: self.settings.retrieval.background_sentences])
                if len(vecs) >= 2:
                    out[lang] = np.stack(list(vecs.values()))
            self._background = out
        return self._background

    def calibration(self, query: Query) -> dict[str, float]:
        """Per document language: the question's mean cosine with that language's background sentences. e5's
        cosine scale differs by language pair; a score above this is comparable across pairs."""
        return {lang: float((vecs @ query.vector).mean()) for lang, vecs in self.background().items()}

    def context(self, query: Query, retrieved: list[ScoredChunk], sentence_ids: Sequence[str]) -> IndexContext:
        """Everything an answerer reads from the index for ``query`` and its ``retrieved`` passages, with the vectors
        of the sentences it may quote (``sentence_ids``, qa/context.py ``sentence_id``)."""
        return IndexContext(background=self.calibration(query), unmatched=self.unmatched_terms(query, retrieved),
                            bridge=self.translator.names if self.translator is not None else None,
                            vectors=self.store.sentence_vectors(list(sentence_ids)))

    def signals(self, query: Query, sources: list[str] | None = None) -> Signals:
        """Every component's raw scores per chunk id: the input of fusion, refusal and the eval's diagnostics."""
        s = self.settings
        where = {"source": {"$in": list(sources)}} if sources else None
        out = Signals(lang=query.lang)
        if s.retrieval.use_dense_sentences:
            hits = self.store.query_sentences(query.vector, s.retrieval.pool * 2, where)
            if query.ordinal is not None:  # the list item asked for: its encoder score hardly differs from siblings'
                texts = self.store.sentence_texts([sid for sid, _ in hits])
                hits = [(sid, sim + s.retrieval.w_ordinal * (sentence_ordinal(texts.get(sid, "")) == query.ordinal))
                        for sid, sim in hits]
            out.sent = [(sid.rsplit(":", 1)[0], sim) for sid, sim in hits]
        if s.retrieval.use_dense_chunks:
            out.chunk = self.store.query_chunks(query.vector, s.retrieval.pool, where)
        if self.lexical is not None:
            out.bm25 = self.lexical.search(list(query.tokens), s.retrieval.pool)
            if self.translator is not None and (self.translator.targets(query.lang) or query.names):
                out.pseudo = query.pseudo
                out.bm25_x = self.lexical.search(tokenize(query.pseudo), s.retrieval.pool) if query.pseudo else []
                out.bm25_names = (
                    self.lexical.search(tokenize(" ".join(query.names)), s.retrieval.pool) if query.names else []
                )
            if query.identifiers and s.retrieval.w_identifier:
                out.ident = self.holding(query.identifiers)
        return out

    def holding(self, terms: Sequence[str]) -> list[tuple[str, float]]:
        """(chunk id, share of ``terms`` it holds exactly), by id: the chunks that hold any of the question's code
        terms whole (verbatim_qa/text/identifiers.py ``holds``), looked for among BM25's hits on each term's words.
        A term held by a whole BM25 pool is everywhere (``\\begin`` in a LaTeX book) and says nothing about where:
        it counts for no chunk."""
        pool = self.settings.retrieval.pool
        held: dict[str, int] = {}
        for term in terms:
            ids = [cid for cid, _ in self.lexical.search(tokenize(term), pool)] if self.lexical is not None else []
            hits = [c.chunk_id for c in self.store.get_chunks(ids) if holds(embed_text(c), term)]
            if len(hits) < pool:
                for cid in hits:
                    held[cid] = held.get(cid, 0) + 1
        return [(cid, held[cid] / len(terms)) for cid in sorted(held)]

    def pair_offsets(self, query: Query) -> dict[str, float]:
        """Per document language, the cosine credit of a cross-language match for this question: what lifts a
        sentence ``refusal_lift`` above the question's mean cosine with that language's background to the refusal
        threshold, never below ``lang_offset`` (the same calibration refusal reads: qa/extractive.py calibrated)."""
        s = self.settings
        return {lang: max(s.retrieval.lang_offset, s.answers.refusal_threshold - s.answers.refusal_lift - mu)
                for lang, mu in self.calibration(query).items() if lang != query.lang}

    def retrieve(self, query: Query, k: int | None = None, sources: list[str] | None = None) -> list[ScoredChunk]:
        """The ``k`` best passages for ``query`` (of the files ``sources`` when given), best first."""
        k = k or self.k
        s = self.settings
        sig = self.signals(query, sources)
        candidates = sig.candidates()
        known = self._meta
        unknown = sorted(cid for cid in candidates if cid not in known)  # safe while other threads add
        if unknown:  # chunk ids are content hashes: a chunk's language and source never change
            for c in self.store.get_chunks(unknown):
                known[c.chunk_id] = ChunkMeta.of(c)
        meta = {cid: known[cid] for cid in candidates if cid in known}
        if sources:
            meta = {cid: m for cid, m in meta.items() if m.source in sources}
        penalty = {cid: p for cid, m in meta.items() if (p := demotion(m, query.roles, s))}
        offsets = self.pair_offsets(query) if s.retrieval.calibrated_fusion else None
        fused = fuse(sig, {cid: m.lang for cid, m in meta.items()}, s, penalty, offsets)
        # ties broken by id, not by set (hash) order: the same index gives the same ranking in every process
        order = sorted((cid for cid in fused if cid in meta), key=lambda cid: (-fused[cid], cid))
        want = max(k, 20) if self.reranker is not None else k
        # Only the winners are fetched; get_chunks drops rows a concurrent delete uncommitted meanwhile.
        chunks = {c.chunk_id: c for c in self.store.get_chunks(order[: want + 5])}
        top = [cid for cid in order[: want + 5] if cid in chunks][:want]
        best_sent = best(sig.sent or [])
        results = [ScoredChunk(chunks[cid], fused[cid], {"best_sentence": best_sent.get(cid, 0.0)}) for cid in top]
        if self.reranker is not None and results:
            scores = np.asarray(self.reranker.predict([(query.search, r.chunk.text) for r in results]))
            if scores.ndim == 2:  # a two-label head: the last column is "relevant"
                scores = scores[:, -1]
            for r, sc in zip(results, scores):
                r.signals["rerank"] = float(sc)
            results.sort(key=lambda r: -r.signals["rerank"])
        return results[:k]

    def unmatched_terms(self, query: Query, retrieved: list[ScoredChunk]) -> tuple[str, ...]:
        """The question's words that no retrieved passage has, that no document has, and that have no translation
        into the documents' vocabulary: what the documents never mention (a GDP asked of documents without one).
        Only names count (``not_stated``), and only where documents could spell them."""
        # where a name can be looked for: documents in the question's language, and Persian ones (the consonant
        # skeletons of qa/names.py). Not German ones, which lack the English "Anthem" and "Game" of questions
        # they answer, nor Chinese ones, which write "Panthers" 黑豹队: see docs/measurements.md#unmatched-terms
        langs = set(self.background())
        if query.lang not in langs and not (query.lang != "fa" and "fa" in langs):
            return ()
        seen: set[str] = set()
        for r in retrieved:
            seen.update(tokenize(r.chunk.text))
        stem = self.settings.retrieval.stem_chars
        stems = {t[:stem] for t in seen if len(t) >= stem}
        skeletons: set[str] | None = None
        out = []
        for w in TermTranslator.query_items(query.tokens, query.lang):
            if w in seen or (len(w) >= stem and w[:stem] in stems):
                continue
            if self.lexical is not None and self.lexical.knows(w):
                continue
            if self.translator is not None and self.translator.translate([w], query.lang):
                continue
            if skeletons is None:  # only for a word that got this far (rare): ~2,000 tokens retrieved
                skeletons = {persian_skeleton(t) for t in seen if not t.isascii()}
            if len(latin_skeleton(w)) >= 3 and latin_skeleton(w) in skeletons:
                continue  # a name a retrieved passage spells in Persian ("Bishkek": بیشکک)
            out.append(w)
        return tuple(out)
