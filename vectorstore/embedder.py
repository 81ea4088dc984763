"""Which embedder a spec names, loaded once per process: in-process e5 or sentence-transformers
(vectorstore/embeddings.py), or a remote OpenAI-compatible endpoint (vectorstore/remote.py). Above both, so neither
imports the other's module back."""

from __future__ import annotations

from functools import lru_cache

from verbatim_qa.settings import Settings, check_embedder, embedder_urls

from .embeddings import E5Embeddings, STEmbeddings, VerbatimEmbeddings
from .remote import RemoteEmbeddings, RemoteOptions


def get_embedder(spec: str, settings: Settings | None = None) -> VerbatimEmbeddings:
    """Process-wide instance per spec (and, for a remote one, its request settings): loading a model is the
    expensive part. ``settings`` defaults to the environment's."""
    check_embedder(spec)
    if not embedder_urls(spec):
        return _load(spec, None)
    d = (settings or Settings.from_env()).deployment
    return _load(spec, RemoteOptions(prefix=d.embedder_prefix, api_key=d.embedder_api_key, batch=d.embedder_batch,
                                     concurrency=d.embedder_concurrency, timeout=d.embedder_timeout,
                                     retries=d.embedder_retries))


@lru_cache(maxsize=4)
def _load(spec: str, options: RemoteOptions | None) -> VerbatimEmbeddings:
    if options is not None:
        return RemoteEmbeddings(spec, options)
    return E5Embeddings() if spec == "e5" else STEmbeddings(spec[3:])
