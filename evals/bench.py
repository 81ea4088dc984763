"""Benchmarks (not tests): ingest throughput, warm in-process retrieval latency and, through HTTP, time to the
first streamed token and to the full answer (extractive answerer)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

from .dataset import load_items, read_corpus
from .metrics import percentile
from .systems import LangChainRecipe


def run_bench(settings: Settings, corpus: Path, dataset: Path, rounds: int = 3, pdf: bool = True,
              pdf_dir: Path | None = None) -> dict:
    """``pdf``: also the PDF figures (evals/pdf_bench.py: text and scanned PDF ingest beside pdfium and pdftotext,
    page-image endpoint); ``pdf_dir``: and the load speed of each of its PDFs beside theirs."""
    home = Path(tempfile.mkdtemp(prefix="verbatim-bench-"))
    try:
        result = _run(settings.with_(home=home), home, corpus, dataset, rounds)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if pdf:
        from .pdf_bench import run_pdf_bench

        for key, values in run_pdf_bench(settings, corpus, pdf_dir=pdf_dir).items():
            result[f"pdf_{key}"] = values
    return result


def _run(settings: Settings, home: Path, corpus: Path, dataset: Path, rounds: int) -> dict:
    store = Store(settings)
    store.embedder.encode_queries(["warm-up"])  # model load is start-up cost, not ingest
    t = time.perf_counter()
    ingest_paths(store, [corpus])
    cold = time.perf_counter() - t
    counts = store.counts()
    n_chunks, n_sents = counts["chunks"], counts["sentences"]
    sentences = [sent.text for c in store.all_chunks() for sent in c.sentences]
    t = time.perf_counter()
    store.embedder.encode_passages(sentences)  # the floor under ingest: every sentence embedded once
    embed_once = time.perf_counter() - t
    t = time.perf_counter()
    again = ingest_paths(store, [corpus])
    unchanged = time.perf_counter() - t
    questions = [it.question for it in load_items(dataset)]
    t = time.perf_counter()
    retriever = HybridRetriever.from_store(store)  # BM25 + term vocabulary (first query after ingest)
    prepare = time.perf_counter() - t
    verbatim_ms = _latencies(lambda q: retriever.retrieve(retriever.analyzer.analyze(q), 5), questions, rounds)
    first_round = verbatim_ms[: len(questions)]  # each question's first asking: its new words are embedded
    repeat = verbatim_ms[len(questions):]  # asked before: what the encoding floor (the same texts again) compares to
    # The question's own encoding, alone: the floor under any dense retrieval with this model on this machine.
    encode_ms = _latencies(lambda q: store.embedder.encode_queries([q]), questions, rounds)
    recipe = LangChainRecipe(read_corpus(corpus), home / "langchain")
    recipe_ms = _latencies(lambda q: recipe.search(q, 5), questions, rounds)
    n_docs = len(store.documents())
    from verbatim_qa.evals.http_bench import run_http_bench

    http = run_http_bench(settings, questions, rounds=1)
    return {
        "ingest": {"documents": n_docs, "chunks": n_chunks, "sentences": n_sents,
                   "cold_s": cold, "chunks_per_s": n_chunks / cold, "sentences_per_s": n_sents / cold,
                   "sentences_embedded_once_s": embed_once, "cold_over_embedding_once": cold / embed_once,
                   "unchanged_reingest_s": unchanged, "unchanged_skipped": again.skipped,
                   "retriever_prepare_s": prepare},
        "retrieval_verbatim_ms": {"p50": percentile(verbatim_ms, 50), "p95": percentile(verbatim_ms, 95),
                                  "n": len(verbatim_ms)},
        "retrieval_verbatim_first_ask_ms": {"p50": percentile(first_round, 50), "p95": percentile(first_round, 95),
                                            "n": len(first_round)},
        "query_encoding_ms": {"p50": percentile(encode_ms, 50), "p95": percentile(encode_ms, 95), "n": len(encode_ms)},
        "retrieval_verbatim_repeat_ms": {"p50": percentile(repeat, 50), "p95": percentile(repeat, 95),
                                         "n": len(repeat)},
        "retrieval_over_encoding": {"p50": percentile(verbatim_ms, 50) / percentile(encode_ms, 50),
                                    "p95": percentile(verbatim_ms, 95) / percentile(encode_ms, 95),
                                    "repeat_p50": percentile(repeat, 50) / percentile(encode_ms, 50)},
        "retrieval_langchain_ms": {"p50": percentile(recipe_ms, 50), "p95": percentile(recipe_ms, 95),
                                   "n": len(recipe_ms)},
        "http_first_token_ms": http["first_token_ms"],
        "http_full_answer_ms": http["full_answer_ms"],
    }


def _latencies(fn, questions: list[str], rounds: int) -> list[float]:
    fn(questions[0])  # warm
    out = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
    return out
