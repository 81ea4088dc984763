"""Offline query translation with the multilingual encoder standing in for a translation model.

The Persian term vocabulary (words and word pairs of the indexed Persian text) is embedded once and
cached by term; each content word and word pair of a non-Persian question maps to its nearest Persian
terms above a similarity threshold, and those terms form a Persian pseudo-query that is searched
alongside the original question.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from verbatim.text.lang import detect_lang
from verbatim.text.normalize import tokenize
from verbatim.text.stopwords import EN_STOP, FA_STOP

from .names import NameBridge


class TermTranslator:
    def __init__(self, embedder, terms: list[str], vectors: np.ndarray, threshold: float = 0.86,
                 per_item: int = 3, max_terms: int = 12, df: np.ndarray | None = None, max_df: float = 0.12) -> None:
        self.embedder = embedder
        # Terms in more than max_df of the Persian chunks ("China", "central") say nothing about where to look.
        keep = np.ones(len(terms), dtype=bool) if df is None else df <= max_df
        self.terms = [t for t, k in zip(terms, keep) if k]
        self.vectors = vectors[keep] if len(terms) else vectors
        self._word_vectors: dict[str, np.ndarray] = {}  # query words seen before: the main per-query cost
        self._lock = threading.Lock()
        self.threshold = threshold
        self.per_item = per_item
        self.max_terms = max_terms
        self.names = NameBridge([t for t in terms if " " not in t])  # all words: rare names are what it is for

    @classmethod
    def for_store(cls, store, chunks: list | None = None, settings=None) -> TermTranslator:
        """``chunks``: the store's committed chunks when the caller has read them already. The index's most
        frequent non-Persian words (``prewarm_words``) are embedded with the vocabulary (once, cached on disk), so
        most question words cost no encoder call (measured: 69 % of dev question words; ~11 ms per word otherwise).
        """
        s = settings or store.settings
        prewarm = s.prewarm_words
        chunks = store.all_chunks() if chunks is None else chunks
        tokens = [tokenize(c.text) for c in chunks]  # once: both vocabularies read the same tokens
        terms, df = persian_terms([t for t, c in zip(tokens, chunks) if c.lang == "fa"])
        words = frequent_words(tokens, prewarm)
        cache = TermCache(store.settings.cache_dir / "terms" / _safe(store.embedder.name))
        vectors = cache.vectors(terms + words, store.embedder)
        translator = cls(store.embedder, terms, vectors[: len(terms)], threshold=s.term_threshold,
                         per_item=s.term_per_word, max_terms=s.term_max, df=df, max_df=s.term_max_df)
        translator._word_vectors.update(zip(words, vectors[len(terms):]))
        return translator

    @staticmethod
    def query_items(tokens: Sequence[str]) -> list[str]:
        """Content words of the question (word pairs measured no better on the dev set, at twice the cost)."""
        return list(dict.fromkeys(w for w in tokens if w not in EN_STOP and not w.isdigit() and len(w) > 1))

    def _vectors_for(self, items: list[str]) -> np.ndarray:
        with self._lock:
            missing = [w for w in items if w not in self._word_vectors]
            if missing:
                if len(self._word_vectors) > 50_000:
                    self._word_vectors.clear()
                for w, v in zip(missing, self.embedder.encode_queries(missing)):
                    self._word_vectors[w] = v
            return np.stack([self._word_vectors[w] for w in items])

    def translate(self, tokens: Sequence[str]) -> str:
        """Persian terms for a non-Persian question's tokens (``tokenize`` output; '' when nothing maps)."""
        if not self.terms:
            return ""
        items = self.query_items(tokens)
        if not items:
            return ""
        sims = self._vectors_for(items) @ self.vectors.T
        best: dict[int, float] = {}
        for row in sims:
            top = np.argpartition(-row, min(self.per_item, len(row) - 1))[: self.per_item]
            for j in top:
                if row[j] >= self.threshold and row[j] > best.get(j, 0.0):
                    best[int(j)] = float(row[j])
        chosen = sorted(best, key=lambda j: (-best[j], j))[: self.max_terms]
        numbers = [w for w in tokens if w.isdigit()]
        return " ".join([self.terms[j] for j in chosen] + numbers)


def frequent_words(token_lists: list[list[str]], limit: int) -> list[str]:
    """The ``limit`` non-Persian content words found in most texts (given as ``tokenize`` output), as
    ``query_items`` would produce them."""
    df: Counter[str] = Counter()
    for tokens in token_lists:
        df.update({w for w in tokens if w not in EN_STOP and not w.isdigit() and len(w) > 1
                   and _token_lang(w) != "fa"})
    return sorted(sorted(df, key=lambda w: (-df[w], w))[:limit])  # ties by word: the same set in every process


def persian_terms(token_lists: list[list[str]], min_pair_count: int = 2) -> tuple[list[str], np.ndarray]:
    """Persian words and repeated word pairs of the search form (``tokenize`` output; stopwords and digits
    left out), with the share of texts each occurs in."""
    words: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    df: Counter[str] = Counter()
    for tokens in token_lists:
        toks = [t for t in tokens if _token_lang(t) == "fa"]
        ws = [t for t in toks if t not in FA_STOP and len(t) > 1]
        ps = [f"{a} {b}" for a, b in zip(toks, toks[1:]) if a not in FA_STOP and b not in FA_STOP]
        words.update(ws)
        pairs.update(ps)
        df.update(set(ws) | set(ps))
    terms = sorted(words) + sorted(p for p, n in pairs.items() if n >= min_pair_count)
    return terms, np.array([df[t] / max(len(token_lists), 1) for t in terms], dtype=np.float32)


class TermCache:
    """Term vectors cached on disk by term, so re-ingest embeds only the new terms."""

    _lock = threading.Lock()

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def vectors(self, terms: list[str], embedder) -> np.ndarray:
        with self._lock:
            known, mat = self._load()
            missing = [t for t in terms if t not in known]
            if missing:
                new = embedder.encode_queries(missing)
                mat = new if mat is None else np.vstack([mat, new])
                for t in missing:
                    known[t] = len(known)
                self._save(known, mat)
            if not terms:
                return np.zeros((0, getattr(embedder, "dim", 384)), dtype=np.float32)
            return mat[[known[t] for t in terms]]

    def _load(self) -> tuple[dict[str, int], np.ndarray | None]:
        names, vecs = self.folder / "terms.json", self.folder / "vectors.npy"
        if not (names.exists() and vecs.exists()):
            return {}, None
        terms = json.loads(names.read_text(encoding="utf-8"))
        mat = np.load(vecs)
        if len(terms) != len(mat):  # torn write: start over rather than trust it
            return {}, None
        return {t: i for i, t in enumerate(terms)}, mat

    def _save(self, known: dict[str, int], mat: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        order = sorted(known, key=known.get)
        tmp_v, tmp_t = self.folder / "vectors.tmp.npy", self.folder / "terms.tmp.json"
        np.save(tmp_v, mat)
        tmp_t.write_text(json.dumps(order, ensure_ascii=False), encoding="utf-8")
        tmp_v.replace(self.folder / "vectors.npy")
        tmp_t.replace(self.folder / "terms.json")


@lru_cache(maxsize=500_000)
def _token_lang(token: str) -> str:
    """detect_lang per distinct token: vocabulary building calls it for every token of the index."""
    return detect_lang(token)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
