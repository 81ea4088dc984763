"""An embedder wrapper for growth benchmarks: times every call and, in cached mode, serves passage vectors
from a memo of real e5 vectors, so a 100k-chunk ingest measures the store and not hours of e5.

Cached mode: a text in the memo gets its memoized real vector; any other text (a chunk: heading plus
sentences) gets the normalized mean of the real vectors of its lines' sentences, embedding for real (and
memoizing) the few pieces not seen before. Queries always go to the real model, unmemoized.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np

from verbatim_qa.text.segment import sentences
from verbatim_qa.vectorstore.embeddings import VerbatimEmbeddings

_END = re.compile(r"(?<=[.!?؟…\"'”’»)\]])\s+")  # candidate sentence ends; a split is kept only if memoized


class VectorMemo:
    """Real passage vectors by text, persisted as texts.json + vectors.npy (written by rename)."""

    def __init__(self, folder: Path | None, dim: int) -> None:
        self.folder, self.dim = folder, dim
        self.index: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._saved = 0
        if folder and (folder / "texts.json").exists() and (folder / "vectors.npy").exists():
            texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
            mat = np.load(folder / "vectors.npy")
            if len(texts) == len(mat) and mat.shape[1:] == (dim,):
                self.index = {t: i for i, t in enumerate(texts)}
                self._rows = list(mat)
                self._saved = len(texts)

    def __contains__(self, text: str) -> bool:
        return text in self.index

    def get(self, text: str) -> np.ndarray:
        return self._rows[self.index[text]]

    def add(self, texts: list[str], vecs: np.ndarray) -> None:
        for t, v in zip(texts, vecs):
            if t not in self.index:
                self.index[t] = len(self._rows)
                self._rows.append(np.asarray(v, dtype=np.float32))

    def save(self) -> None:
        if self.folder is None or len(self._rows) == self._saved:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        np.save(self.folder / "vectors.tmp.npy", np.stack(self._rows))
        (self.folder / "texts.tmp.json").write_text(json.dumps(list(self.index), ensure_ascii=False), encoding="utf-8")
        (self.folder / "vectors.tmp.npy").replace(self.folder / "vectors.npy")
        (self.folder / "texts.tmp.json").replace(self.folder / "texts.json")
        self._saved = len(self._rows)


class BenchEmbeddings(VerbatimEmbeddings):
    """Same interface and name as the wrapped embedder (so the store accepts it); counts what it does."""

    def __init__(self, base: VerbatimEmbeddings, memo: VectorMemo, cached: bool) -> None:
        self.base, self.memo, self.cached = base, memo, cached
        self.name, self.model, self.dim = base.name, base.model, base.dim
        self.stats = dict.fromkeys(["passage_calls_s", "real_passages", "real_passage_s", "memo_hits",
                                    "composed", "query_items", "query_s"], 0.0)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        t = time.perf_counter()
        out = self.base.encode_queries(texts)
        self.stats["query_s"] += time.perf_counter() - t
        self.stats["query_items"] += len(texts)
        return out

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        t = time.perf_counter()
        out = self._passages(list(texts)) if self.cached else self.real(list(texts))
        self.stats["passage_calls_s"] += time.perf_counter() - t
        return out

    def real(self, texts: list[str]) -> np.ndarray:
        """Real e5 passage vectors (timed, memoized)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        t = time.perf_counter()
        vecs = self.base.encode_passages(texts)
        self.stats["real_passage_s"] += time.perf_counter() - t
        self.stats["real_passages"] += len(texts)
        self.memo.add(texts, vecs)
        return vecs

    def prime(self, texts: list[str]) -> int:
        """Embed for real, ahead of the timed ingest, every text not yet in the memo; returns how many."""
        missing = sorted({t for t in texts if t not in self.memo})
        for i in range(0, len(missing), 64):
            self.real(missing[i : i + 64])
        return len(missing)

    def _passages(self, texts: list[str]) -> np.ndarray:
        pieces = {t: ([t] if t in self.memo else self._pieces(t)) for t in texts}
        self.real(sorted({p for ps in pieces.values() for p in ps if p not in self.memo}))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            if t in self.memo:
                out[i] = self.memo.get(t)
                self.stats["memo_hits"] += 1
                continue
            mean = np.mean([self.memo.get(p) for p in pieces[t]], axis=0)
            out[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            self.stats["composed"] += 1
        return out

    def _pieces(self, text: str) -> list[str]:
        """The memoized sentences a chunk text is made of (line by line; the segmenter for the odd rest)."""
        out: list[str] = []
        for line in filter(None, (x.strip() for x in text.split("\n"))):
            if line in self.memo:
                out.append(line)
                continue
            parts, acc = _END.split(line), ""
            for part in parts:
                acc = f"{acc} {part}" if acc else part
                if acc in self.memo:
                    out.append(acc)
                    acc = ""
            if acc:
                out += [s.text for s in sentences(acc)]
        return out or [text]
