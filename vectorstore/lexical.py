"""BM25 (bm25s) over the search form of every chunk, persisted beside Chroma.

The index is derived from the store's committed chunks, keyed by ``Store.version()`` of the same snapshot:
any add/update/delete makes a new key, so the BM25 side never disagrees with Chroma. In server mode each app
instance keeps its own copy under its own cache dir and rebuilds it from the shared store when the version
changes; instances that do share a cache dir only ever write a complete folder under a version's name.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import threading
import time
from pathlib import Path

import bm25s
import numpy as np

from verbatim_qa.text.normalize import tokenize
from verbatim_qa.types import Chunk

from .store import embed_text

# bm25s sets its own logger to DEBUG on import; with any root handler, each index build was logged
logging.getLogger("bm25s").setLevel(logging.WARNING)

_BUILD_LOCK = threading.Lock()


class LexicalIndex:
    def __init__(self, bm25: bm25s.BM25 | None, chunk_ids: list[str], version: str = "") -> None:
        self._bm25 = bm25
        self.chunk_ids = chunk_ids
        self.version = version  # the store version it was built for ("" when built from a bare chunk list)
        self._vocab = bm25.vocab_dict if bm25 is not None else {}

    @classmethod
    def build(cls, chunks: list[Chunk]) -> LexicalIndex:
        """In one order whatever the store's scan order (by document, then position), so BM25's ties break alike
        in every process and for a reader that keeps its tokens (qa/corpus.py)."""
        chunks = sorted(chunks, key=lambda c: (c.doc_id, c.char_start))
        return cls.from_tokens([c.chunk_id for c in chunks], [tokenize(embed_text(c)) for c in chunks])

    @classmethod
    def from_tokens(cls, chunk_ids: list[str], token_lists: list[list[str]]) -> LexicalIndex:
        """From each chunk's tokens of ``embed_text`` (a reader that keeps them rebuilds without re-reading)."""
        if not chunk_ids:
            return cls(None, [])
        bm25 = bm25s.BM25()
        bm25.index(token_lists, show_progress=False)
        return cls(bm25, list(chunk_ids))

    @staticmethod
    def folder_for(store, version: str) -> Path:
        return store.settings.cache_dir / "lexical" / f"{store.settings.deployment.collection}-{version}"

    @classmethod
    def for_store(cls, store, committed: dict[str, str] | None = None,
                  tokens: tuple[list[str], list[list[str]]] | None = None) -> LexicalIndex:
        """Load the index for the store's version (of the ``committed`` snapshot when given), building and
        persisting it if missing: from ``tokens`` (chunk ids and their tokens, of that snapshot) when the caller
        keeps them, else from the store's chunks."""
        committed = store.committed() if committed is None else committed  # one snapshot: version and chunks agree
        version = store.version(committed)
        folder = cls.folder_for(store, version)
        with _BUILD_LOCK:
            if (folder / "ids.json").exists():
                return cls.load(folder, version)
            index = cls.from_tokens(*tokens) if tokens is not None else cls.build(store.all_chunks(committed))
            index.version = version
            index.save(folder)
            for old in folder.parent.glob(f"{store.settings.deployment.collection}-*"):
                if old != folder and (not old.name.endswith(".tmp") or _age(old) > 3600):
                    shutil.rmtree(old, ignore_errors=True)  # other versions; temp folders of crashed saves
            return index

    def save(self, folder: Path) -> None:
        """Write to a private temp folder, then rename: readers see a complete index or none."""
        tmp = folder.with_name(f"{folder.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps(self.chunk_ids))
        shutil.rmtree(folder, ignore_errors=True)
        try:
            tmp.rename(folder)
        except OSError:  # another process sharing this cache dir saved the same version first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, version: str = "") -> LexicalIndex:
        ids = json.loads((folder / "ids.json").read_text())
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
        return cls(bm25, ids, version)

    def knows(self, token: str) -> bool:
        """Does any indexed chunk have this token?"""
        return token in self._vocab

    def idf(self, token: str) -> float:
        """BM25's (Lucene) idf of a search-form token: ln(1 + (N - df + 0.5) / (df + 0.5)). A token no chunk has
        is as rare as can be (df 0): an English word of a question over Persian text is still what it asks."""
        n = len(self.chunk_ids)
        if self._bm25 is None or not n:
            return 0.0
        tid = self._vocab.get(token)
        indptr = self._bm25.scores["indptr"]
        df = int(indptr[tid + 1] - indptr[tid]) if tid is not None else 0
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, tokens: list[str], n: int) -> list[tuple[str, float]]:
        known = [t for t in tokens if t in self._vocab]
        if not known or self._bm25 is None:
            return []
        scores = self._bm25.get_scores(known)
        top = np.argsort(-scores)[:n]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _age(path: Path) -> float:
    """Seconds since ``path`` changed (0 if it is already gone: another process removed it)."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
