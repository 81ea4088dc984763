"""BM25 (bm25s) over the search form of every chunk, persisted beside Chroma.

The index is derived from the store, keyed by ``Store.version()``: any add/update/delete makes a new key,
so the BM25 side can never disagree with Chroma, and in server mode each app instance rebuilds it from
the shared store rather than sharing files.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import bm25s
import numpy as np

from ingest.normalize import tokenize
from verbatim.types import Chunk

from .store import embed_text

_BUILD_LOCK = threading.Lock()


class LexicalIndex:
    def __init__(self, bm25: bm25s.BM25 | None, chunk_ids: list[str]) -> None:
        self._bm25 = bm25
        self.chunk_ids = chunk_ids
        self._vocab = bm25.vocab_dict if bm25 is not None else {}

    @classmethod
    def build(cls, chunks: list[Chunk]) -> LexicalIndex:
        if not chunks:
            return cls(None, [])
        bm25 = bm25s.BM25()
        bm25.index([tokenize(embed_text(c)) for c in chunks], show_progress=False)
        return cls(bm25, [c.chunk_id for c in chunks])

    @classmethod
    def for_store(cls, store) -> LexicalIndex:
        """Load the index for the store's current version, building (and persisting) it if missing."""
        root = store.settings.cache_dir / "lexical"
        folder = root / f"{store.settings.collection}-{store.version()}"
        with _BUILD_LOCK:
            if (folder / "ids.json").exists():
                return cls.load(folder)
            index = cls.build(store.all_chunks())
            index.save(folder)
            for old in root.glob(f"{store.settings.collection}-*"):
                if old != folder:
                    shutil.rmtree(old, ignore_errors=True)
            return index

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps(self.chunk_ids))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)  # readers see a complete index or none

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        ids = json.loads((folder / "ids.json").read_text())
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
        return cls(bm25, ids)

    def search(self, tokens: list[str], n: int) -> list[tuple[str, float]]:
        known = [t for t in tokens if t in self._vocab]
        if not known or self._bm25 is None:
            return []
        scores = self._bm25.get_scores(known)
        top = np.argsort(-scores)[:n]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]
