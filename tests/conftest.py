"""Shared fixtures: real Chroma in temp dirs, real bundled models, the real corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from verbatim_qa.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
MINILM = "st:all-MiniLM-L6-v2"  # English-only, fast: for store mechanics
E5 = "e5"  # the default multilingual embedder: for retrieval and answers


@pytest.fixture
def make_settings(tmp_path):
    """Settings with a fresh VERBATIM_HOME under tmp_path."""

    def make(embedder: str = MINILM, **kw) -> Settings:
        return Settings(home=tmp_path / "home", embedder=embedder, **kw)

    return make


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory) -> Path:
    """The bundled corpus ingested once with e5 (the expensive step); tests copy or read it."""
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.qa.retriever import HybridRetriever
    from verbatim_qa.vectorstore.store import Store

    home = tmp_path_factory.mktemp("corpus-home")
    store = Store(Settings(home=home, embedder=E5))
    report = ingest_paths(store, [CORPUS])
    assert report.added == 2 and not report.failed
    HybridRetriever.from_store(store)  # builds the BM25 index and term vectors under home/cache: copies reuse them
    return home


@pytest.fixture(scope="session")
def corpus_store(corpus_home):
    from verbatim_qa.vectorstore.store import Store

    return Store(Settings(home=corpus_home, embedder=E5))


@pytest.fixture(scope="module")
def bot(corpus_store):
    """The extractive answerer over the ingested corpus (no LLM)."""
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.qa.extractive import ExtractiveAnswerer

    answerer = build_answerer(corpus_store.settings.with_(llm_base_url=""), corpus_store, "extractive")
    assert isinstance(answerer, ExtractiveAnswerer)
    return answerer


@pytest.fixture
def corpus_copy(corpus_home, tmp_path) -> Path:
    """A private copy of the ingested corpus home, for tests that write."""
    dest = tmp_path / "home"
    shutil.copytree(corpus_home, dest)
    return dest


@pytest.fixture(scope="module")
def minilm():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 cores: torch threads fight Chroma's
    from verbatim_qa.vectorstore.embeddings import get_embedder

    yield get_embedder(MINILM)
    torch.set_num_threads(before)
