"""Hybrid retrieval: dense chunks + dense sentences + BM25 on the question, plus BM25 on a pseudo-query in the
index's other languages (term translation into each document language, qa/crosslingual.py; Persian spellings of
names, qa/names.py).

Fusion is by calibrated scores (measured better than reciprocal-rank fusion on the dev set): a chunk's
score is its best-sentence cosine + ``w_chunk`` x its chunk cosine, plus ``lang_offset`` when the chunk
is in another language than the question (e5 scores cross-language matches lower, so without it English
text always outranks the Persian evidence), plus BM25 normalized to the top hit. Every component can be
switched off by a setting, for ablation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from verbatim_qa.settings import Settings
from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.types import ScoredChunk
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store

from .answertype import expected_type, requested_lang, requested_roles, without_lang_request
from .corpus import CorpusView
from .crosslingual import TermTranslator
from .fusion import best_per_group, rrf
from .history import questions_of, standalone
from .names import latin_skeleton, persian_skeleton
from .ordinals import question_ordinal, sentence_ordinal
from .query import Query, content


class HybridRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    settings: Settings
    lexical: LexicalIndex | None = None
    translator: TermTranslator | None = None
    k: int = 5
    reranker: Any = None
    # chunk id -> (lang, source, reference share), filled as chunks are seen
    _meta: dict = PrivateAttr(default_factory=dict)
    _view: CorpusView | None = PrivateAttr(default=None)  # what BM25 and the vocabulary were built from
    _background: dict | None = PrivateAttr(default=None)  # language -> sample of sentence vectors (calibration)

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
            store=store,
            settings=s,
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
            meta = self._meta or {c.chunk_id: (c.lang,) for c in self.store.all_chunks()}
            for cid in sorted(meta):
                ids = by_lang.setdefault(meta[cid][0], [])
                if len(ids) < self.settings.retrieval.background_chunks:
                    ids.append(cid)
            out = {}
            for lang, cids in by_lang.items():
                sids = [f"{c.chunk_id}:{i}" for c in self.store.get_chunks(cids) for i in range(len(c.sentences))]
                vecs = self.store.sentence_vectors(sids[: self.settings.retrieval.background_sentences])
                if len(vecs) >= 2:
                    out[lang] = np.stack(list(vecs.values()))
            self._background = out
        return self._background

    def calibration(self, query: Query) -> dict[str, float]:
        """Per document language: the question's mean cosine with that language's background sentences. e5's
        cosine scale differs by language pair; a score above this is comparable across pairs."""
        return {lang: float((vecs @ query.vector).mean()) for lang, vecs in self.background().items()}

    def analyze(self, question: Query | str, history: Sequence = (), search: str | None = None) -> Query:
        """The question analysed once (a ``Query`` passes through): language, tokens, the one e5 encoding, the
        Persian pseudo-query (term translation and bridged names) and the ordinal.

        ``history``: the earlier turns (qa/history.py ``turns_of``). The search text is ``search`` when given (an
        LLM's condensed question), else ``standalone`` of the question; everything searched (encoding, tokens,
        translation, names) reads it, the answer is composed for the question as asked."""
        if isinstance(question, Query):
            return question
        s = self.settings
        lang = detect_lang(question)
        earlier = questions_of(history)
        if search is None:
            search = self.standalone(question, earlier, lang)
        tokens = tuple(tokenize(search))
        translation, names = self._persian(search, tokens, lang)
        focus: frozenset[str] = frozenset()
        if search != question:  # what the follow-up asks anew weighs more in choosing its quotes; when it asks
            asked = without_lang_request(question)  # nothing anew ("And in Persian sources?"), what it carried
            own = tuple(tokenize(asked))
            if not content(own):
                asked = search[len(question):]
                own = tuple(tokenize(asked))
            own_translation, own_names = self._persian(asked, own, lang)
            focus = frozenset(content(own) | content(tokenize(" ".join([own_translation, *own_names]))))
        answer_type = expected_type(question, lang)
        if answer_type is None and search != question and earlier:  # "What about Turkmenistan?" asks what the
            answer_type = expected_type(earlier[-1], detect_lang(earlier[-1]))  # question before it asked
        return Query(text=question, lang=lang, vector=self.store.embedder.encode_queries([search])[0],
                     tokens=tokens, translation=translation, names=names,
                     ordinal=question_ordinal(question) if s.retrieval.use_ordinals else None,
                     answer_type=answer_type, roles=requested_roles(question), history=earlier, search=search,
                     focus=focus, evidence_lang=requested_lang(question))

    def _persian(self, text: str, tokens: tuple[str, ...], lang: str) -> tuple[str, tuple[str, ...]]:
        """The terms of the index's other languages for a text's words (qa/crosslingual.py) and the Persian
        spellings of a non-Persian text's names."""
        if self.translator is None:
            return "", ()
        names: tuple[str, ...] = ()
        lexical = self.lexical
        # names are bridged into Persian spellings; one the index spells in Latin script needs no bridge
        if lexical is not None and self.settings.retrieval.use_names and lang != "fa":
            names = tuple(self.translator.names.bridge(text, lambda w: bool(lexical.search(tokenize(w), 1))))
        return self.translator.translate(tokens, lang), names

    def standalone(self, question: str, earlier: Sequence[str], lang: str | None = None) -> str:
        """The offline standalone search text of a follow-up (qa/history.py), with the index's BM25 idf."""
        s = self.settings
        if not earlier or not s.retrieval.use_history or self.lexical is None:
            return question
        return standalone(
            question,
            earlier,
            self.lexical.idf,
            lang,
            max_terms=s.retrieval.history_terms,
            decay=s.retrieval.history_decay,
            min_idf=s.retrieval.history_min_idf,
            turns=s.retrieval.history_turns,
        )

    def signals(self, question: Query | str, sources: list[str] | None = None) -> dict:
        """Every component's raw scores per chunk id: the input of fusion, refusal and the eval's diagnostics."""
        s = self.settings
        q = self.analyze(question)
        where = {"source": {"$in": list(sources)}} if sources else None
        out: dict = {"lang": q.lang, "pseudo": ""}
        if s.retrieval.use_dense_sentences:
            hits = self.store.query_sentences(q.vector, s.retrieval.pool * 2, where)
            if q.ordinal is not None:  # the list item asked for: its encoder score hardly differs from its siblings'
                texts = self.store.sentence_texts([sid for sid, _ in hits])
                hits = [(sid, sim + s.retrieval.w_ordinal * (sentence_ordinal(texts.get(sid, "")) == q.ordinal))
                        for sid, sim in hits]
            out["sent"] = [(sid.rsplit(":", 1)[0], sim) for sid, sim in hits]
        if s.retrieval.use_dense_chunks:
            out["chunk"] = self.store.query_chunks(q.vector, s.retrieval.pool, where)
        if self.lexical is not None:
            out["bm25"] = self.lexical.search(list(q.tokens), s.retrieval.pool)
            if self.translator is not None and (self.translator.targets(q.lang) or q.names):
                out["pseudo"] = q.pseudo
                out["bm25_x"] = self.lexical.search(tokenize(q.pseudo), s.retrieval.pool) if q.pseudo else []
                out["bm25_names"] = (
                    self.lexical.search(tokenize(" ".join(q.names)), s.retrieval.pool) if q.names else []
                )
        return out

    def pair_offsets(self, query: Query) -> dict[str, float]:
        """Per document language, the cosine credit of a cross-language match for this question: what lifts a
        sentence ``refusal_lift`` above the question's mean cosine with that language's background to the refusal
        threshold, never below ``lang_offset`` (the same calibration refusal reads: qa/extractive.py calibrated)."""
        s = self.settings
        return {lang: max(s.retrieval.lang_offset, s.answers.refusal_threshold - s.answers.refusal_lift - mu)
                for lang, mu in self.calibration(query).items() if lang != query.lang}

    def fuse(self, sig: dict, langs: dict[str, str], penalty: dict[str, float] | None = None,
             offsets: dict[str, float] | None = None) -> dict[str, float]:
        """Fused score per chunk id; ``penalty`` (chunk id -> share of reference-list sentences) is subtracted,
        weighted by ``w_reference``; ``offsets``: the cross-language credit per document language (``pair_offsets``;
        ``lang_offset`` for any other)."""
        s = self.settings
        penalty = penalty or {}
        offsets = offsets or {}
        if s.retrieval.fusion == "rrf":
            lists = {name: best_per_group(sig[name]) for name in ("sent", "chunk", "bm25", "bm25_x") if name in sig}
            return rrf(lists, k=s.retrieval.rrf_k)
        sent = _best(sig.get("sent", []))
        chunk = dict(sig.get("chunk", []))
        bm25 = _normalized(sig.get("bm25", []))
        bm25_x = _normalized(sig.get("bm25_x", []))
        names = _normalized(sig.get("bm25_names", []))
        scores: dict[str, float] = {}
        for cid in set(sent) | set(chunk) | set(bm25) | set(bm25_x):
            dense_w = (1.0 if "sent" in sig else 0.0) + (s.retrieval.w_chunk if "chunk" in sig else 0.0)
            v = sent.get(cid, s.retrieval.floor) if "sent" in sig else 0.0
            v += s.retrieval.w_chunk * chunk.get(cid, s.retrieval.floor) if "chunk" in sig else 0.0
            if langs.get(cid) != sig["lang"]:
                v += dense_w * offsets.get(langs.get(cid), s.retrieval.lang_offset)
            v += s.retrieval.w_bm25 * bm25.get(cid, 0.0) + s.retrieval.w_bm25_crosslingual * bm25_x.get(cid, 0.0)
            v += s.retrieval.w_names * names.get(cid, 0.0)
            scores[cid] = v - s.retrieval.w_reference * penalty.get(cid, 0.0)
        return scores

    def retrieve(self, question: Query | str, k: int | None = None,
                 sources: list[str] | None = None) -> list[ScoredChunk]:
        k = k or self.k
        s = self.settings
        query = self.analyze(question)
        sig = self.signals(query, sources)
        candidates = {cid for name in ("sent", "chunk", "bm25", "bm25_x") for cid, _ in sig.get(name, [])}
        known = self._meta  # once: each pydantic attribute access costs ~10 us, x hundreds of candidates
        unknown = sorted(cid for cid in candidates if cid not in known)  # safe while other threads add
        if unknown:  # chunk ids are content hashes: a chunk's language and source never change
            for c in self.store.get_chunks(unknown):
                known[c.chunk_id] = (c.lang, c.source, c.share("reference"))
        meta = {cid: known[cid] for cid in candidates if cid in known}
        if sources:
            meta = {cid: m for cid, m in meta.items() if m[1] in sources}
        # a reference list matches its own topic's words; down-weighted unless the question asks for sources
        penalty = {} if "reference" in query.roles else {cid: m[2] for cid, m in meta.items() if m[2]}
        offsets = self.pair_offsets(query) if s.retrieval.calibrated_fusion else None
        fused = self.fuse(sig, {cid: m[0] for cid, m in meta.items()}, penalty, offsets)
        # ties broken by id, not by set (hash) order: the same index gives the same ranking in every process
        order = sorted((cid for cid in fused if cid in meta), key=lambda cid: (-fused[cid], cid))
        want = max(k, 20) if self.reranker is not None else k
        # Only the winners are fetched; get_chunks drops rows a concurrent delete uncommitted meanwhile.
        chunks = {c.chunk_id: c for c in self.store.get_chunks(order[: want + 5])}
        top = [cid for cid in order[: want + 5] if cid in chunks][:want]
        best_sent = _best(sig.get("sent", []))
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


def _best(pairs: list[tuple[str, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for cid, score in pairs:
        if score > best.get(cid, float("-inf")):
            best[cid] = score
    return best


def _normalized(pairs: list[tuple[str, float]]) -> dict[str, float]:
    top = max((sc for _, sc in pairs), default=0.0)
    return {cid: sc / top for cid, sc in pairs} if top > 0 else {}
