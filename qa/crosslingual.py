"""Offline query translation with the multilingual encoder standing in for a translation model.

The Persian term vocabulary (words and word pairs of the indexed Persian text) is embedded once and
cached by term; each content word and word pair of a non-Persian question maps to its nearest Persian
terms above a similarity threshold, and those terms form a Persian pseudo-query that is searched
alongside the original question.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from verbatim_qa.settings import parse_pairs
from verbatim_qa.text.stopwords import is_stop

from .corpus import CorpusView
from .names import NameBridge


class TermTranslator:
    def __init__(self, embedder, vocab: dict[str, tuple[list[str], np.ndarray, np.ndarray | None]],
                 threshold: float = 0.86, per_item: int = 3, max_terms: int = 12, max_df: float = 0.12,
                 pairs: str = "*-*", *, name_min_skeleton: int, name_max_matches: int) -> None:
        """``vocab``: per document language, its terms, their vectors and the share of that language's chunks each
        occurs in; ``pairs``: the (question language, document language) pairs translated (``bridge_pairs``)."""
        self.embedder = embedder
        self.langs: dict[str, tuple[list[str], np.ndarray]] = {}
        for lang, (terms, vectors, df) in vocab.items():
            # Terms in more than max_df of the language's chunks ("China", "central") say nothing about where to look.
            keep = np.ones(len(terms), dtype=bool) if df is None else df <= max_df
            if keep.any():
                self.langs[lang] = ([t for t, k in zip(terms, keep) if k], vectors[keep])
        fa = vocab.get("fa", ([], None, None))[0]
        self.terms = self.langs.get("fa", ([], None))[0]  # the Persian ones (what names and tests read)
        self._word_vectors: dict[str, np.ndarray] = {}  # query words seen before: the main per-query cost
        self.cache: TermCache | None = None  # where the term vectors came from (a refresh appends to it)
        self._lock = threading.Lock()
        self.threshold = threshold
        self.per_item = per_item
        self.max_terms = max_terms
        self.pairs = parse_pairs(pairs)
        # all words: rare names are what it is for
        self.names = NameBridge([t for t in fa if " " not in t], min_skeleton=name_min_skeleton,
                                max_matches=name_max_matches)

    @classmethod
    def for_store(cls, store, settings=None) -> TermTranslator:
        return cls.from_view(store, CorpusView.scan(store), settings)

    @classmethod
    def from_view(cls, store, view: CorpusView, settings=None, cache: TermCache | None = None,
                  word_vectors: dict[str, np.ndarray] | None = None) -> TermTranslator:
        """The translator of ``view``'s vocabularies (one per document language). The index's most frequent
        non-Persian words (``prewarm_words``) are embedded with it (once, cached on disk), so most question words
        cost no encoder call (measured: 69 % of dev question words; ~11 ms per word otherwise). ``cache``: the term
        cache a previous translator used (kept in memory: only new terms are embedded and appended);
        ``word_vectors``: question words it has embedded since (they do not depend on the documents)."""
        s = settings or store.settings
        per_lang = {lang: view.terms(lang) for lang in view.languages() if lang != "und"}
        wanted = {lang: v for lang, v in per_lang.items() if pair_allowed(s.retrieval.bridge_pairs, "*", lang)}
        words = view.frequent_words(s.retrieval.prewarm_words)
        cache = cache or TermCache(store.settings.cache_dir / "terms" / _safe(store.embedder.name))
        flat = [t for terms, _ in wanted.values() for t in terms]
        vectors = cache.vectors(flat + words, store.embedder)
        vocab, at = {}, 0
        for lang, (terms, df) in wanted.items():
            share = np.asarray(df, dtype=np.float32)
            n = view.vocab[lang].chunks
            # a term of one chunk always says where to look (a small index: every term is in > max_df of it)
            share[share * n <= 1.0 + 1e-6] = 0.0
            vocab[lang] = (terms, vectors[at : at + len(terms)], share)
            at += len(terms)
        translator = cls(
            store.embedder,
            vocab,
            threshold=s.retrieval.term_threshold,
            per_item=s.retrieval.term_per_word,
            max_terms=s.retrieval.term_max,
            max_df=s.retrieval.term_max_df,
            pairs=s.retrieval.bridge_pairs,
            name_min_skeleton=s.retrieval.name_min_skeleton,
            name_max_matches=s.retrieval.name_max_matches,
        )
        translator.cache = cache
        translator._word_vectors.update(word_vectors or {})
        translator._word_vectors.update(zip(words, vectors[len(flat):]))
        return translator

    def targets(self, lang: str) -> list[str]:
        """The document languages a question in ``lang`` is translated into."""
        return [t for t in sorted(self.langs) if t != lang and pair_allowed(self.pairs, lang, t)]

    @staticmethod
    def query_items(tokens: Sequence[str], lang: str | None = None) -> list[str]:
        """Content words of the question (word pairs measured no better on the dev set, at twice the cost); the
        stopwords of English and of the question's language ``lang`` are left out."""
        return list(dict.fromkeys(w for w in tokens if not w.isdigit() and len(w) > 1 and not is_stop(w, lang)))

    def word_vectors(self) -> dict[str, np.ndarray]:
        """A copy of the question words embedded so far (a refreshed translator starts with them)."""
        with self._lock:
            return dict(self._word_vectors)

    def _vectors_for(self, items: list[str]) -> np.ndarray:
        with self._lock:
            missing = [w for w in items if w not in self._word_vectors]
            if missing:
                if len(self._word_vectors) > 50_000:
                    self._word_vectors.clear()
                for w, v in zip(missing, self.embedder.encode_queries(missing)):
                    self._word_vectors[w] = v
            return np.stack([self._word_vectors[w] for w in items])

    def translate(self, tokens: Sequence[str], lang: str = "en") -> str:
        """Terms of the other document languages for a question's tokens (``tokenize`` output; '' when nothing
        maps): each content word's nearest terms per language above the threshold, the ``max_terms`` nearest."""
        targets = self.targets(lang)
        items = self.query_items(tokens, lang) if targets else []
        if not items:
            return ""
        vecs = self._vectors_for(items)
        best: dict[tuple[str, int], float] = {}
        for target in targets:
            terms, vectors = self.langs[target]
            sims = vecs @ vectors.T
            for row in sims:
                top = np.argpartition(-row, min(self.per_item, len(row) - 1))[: self.per_item]
                for j in top:
                    key = (target, int(j))
                    if row[j] >= self.threshold and row[j] > best.get(key, 0.0):
                        best[key] = float(row[j])
        chosen = sorted(best, key=lambda k: (-best[k], k))[: self.max_terms]
        numbers = [w for w in tokens if w.isdigit()]
        return " ".join([self.langs[t][0][j] for t, j in chosen] + numbers)


class TermCache:
    """Term vectors cached on disk by term, so re-ingest embeds only the new terms; loaded once, then kept.

    On disk: segments ``<time>-<pid>.npy`` (vectors) and ``.json`` (their terms, written last), each new set of
    terms appended as a segment rather than the whole matrix rewritten (hundreds of MB at 100k chunks); names are
    unique, so processes sharing a cache dir never write the same file. A segment whose terms file is missing or
    disagrees with its vectors is a torn write: ignored, its terms embedded again. The single ``terms.json`` /
    ``vectors.npy`` pair of earlier versions is read as the first segment.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._known: dict[str, int] | None = None
        self._parts: list[np.ndarray] = []
        self._mat: np.ndarray | None = None

    def vectors(self, terms: list[str], embedder) -> np.ndarray:
        with self._lock:
            if self._known is None:
                self._known, self._parts = self._load()
                self._mat = np.vstack(self._parts) if self._parts else None
            known = self._known
            missing = list(dict.fromkeys(t for t in terms if t not in known))
            if missing:
                new = np.asarray(embedder.encode_queries(missing), dtype=np.float32)
                self._append(missing, new)
                for t in missing:
                    known[t] = len(known)
                self._mat = new if self._mat is None else np.vstack([self._mat, new])
            if not terms:
                return np.zeros((0, getattr(embedder, "dim", 384)), dtype=np.float32)
            return self._mat[[known[t] for t in terms]]

    def _load(self) -> tuple[dict[str, int], list[np.ndarray]]:
        known: dict[str, int] = {}
        parts: list[np.ndarray] = []
        legacy = [self.folder / "terms.json"] if (self.folder / "vectors.npy").exists() else []
        for names in legacy + sorted(self.folder.glob("[0-9]*-*.json")):
            vecs = self.folder / "vectors.npy" if names.name == "terms.json" else names.with_suffix(".npy")
            if not vecs.exists():
                continue
            seg_terms = json.loads(names.read_text(encoding="utf-8"))
            mat = np.load(vecs)
            if len(seg_terms) != len(mat):  # torn write: leave it out; its terms are embedded again
                continue
            fresh = [i for i, t in enumerate(seg_terms) if t not in known]
            for i in fresh:
                known[seg_terms[i]] = len(known)
            parts.append(mat[fresh])
        return known, parts

    def _append(self, terms: list[str], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}"
        np.save(self.folder / f"{name}.npy", vectors)
        tmp = self.folder / f"{name}.tmp"
        tmp.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.folder / f"{name}.json")  # last: the segment counts only once its terms are in


def pair_allowed(pairs, q: str, d: str) -> bool:
    """Is the question language ``q`` translated into the document language ``d`` ("*": some question language)?"""
    parsed = parse_pairs(pairs) if isinstance(pairs, str) else pairs
    ok = False
    for keep, pq, pd in parsed:
        if pq in ("*", q) and pd in ("*", d):
            ok = keep
        elif q == "*" and keep and pd in ("*", d):
            ok = True
    return ok


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
