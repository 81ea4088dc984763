"""One size of the growth benchmark, run in a process of its own so its peak RSS is its own.

Phases are timed apart so the numbers say what they are: generation and the e5 pre-pass are not ingest;
``embed_s`` is time spent inside the embedder during ingest, and ``write_s = ingest_s - embed_s`` is
ingest excluding embedding (loading, chunking, Chroma writes).
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

from verbatim_qa.ingest.chunking import chunk_document
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.corpus import CorpusView, DocPart
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.embedder import get_embedder
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store, embed_text

from .dataset import load_items
from .memo import BenchEmbeddings, VectorMemo
from .metrics import percentile
from .scale import child_settings
from .synth import build_pool, write_corpus


def measure_size(settings: Settings, n: int, mode: str, cfg: dict, work: Path, memo_dir: Path | None) -> dict:
    settings = settings.with_(home=work / "home")
    row: dict = {"requested": n, "embed_mode": mode}
    t = time.perf_counter()
    pool = build_pool(Path(cfg["corpus"]), cfg["pool"], cfg["seed"])
    gen = write_corpus(work / "corpus", n, pool, cfg["seed"], settings.deployment.chunk_chars)
    row.update(generate_s=time.perf_counter() - t, generated_chunks=gen.chunks, documents=gen.docs,
               corpus_mb=gen.chars / 1e6, pool_sentences=sum(map(len, pool.sentences.values())))
    base = get_embedder(settings.deployment.embedder)
    base.encode_queries(["warm-up"])
    emb = BenchEmbeddings(base, VectorMemo(memo_dir, base.dim), cached=mode == "cached")
    row["e5_probe"] = _probe(base, pool, work / "corpus", cfg["probe"], settings.deployment.chunk_chars)
    if mode == "cached":
        t = time.perf_counter()
        row["primed_texts"] = emb.prime(sorted(gen.used))
        row["prime_s"] = time.perf_counter() - t
    emb.stats = dict.fromkeys(emb.stats, 0.0)

    store = Store(settings, embedder=emb)
    starts: list[float] = []
    t = time.perf_counter()
    report = ingest_paths(store, [work / "corpus"], on_file=lambda _p: starts.append(time.perf_counter()))
    row["ingest_s"] = time.perf_counter() - t
    row["ingest_failed"] = report.failed
    row["embed_s"] = emb.stats["passage_calls_s"]
    row["write_s"] = row["ingest_s"] - row["embed_s"]
    row["ingest_embedding"] = {k: emb.stats[k] for k in ("real_passages", "real_passage_s", "memo_hits", "composed")}
    tenths = _tenths(starts + [t + row["ingest_s"]], gen.chunks_per_doc)
    row["ms_per_chunk_first_last_10pct"] = [tenths[0], tenths[-1]]
    row["ms_per_chunk_by_tenth"] = tenths
    counts = store.counts()
    row.update(chunks=counts["chunks"], sentences=counts["sentences"])

    q0, qs0 = emb.stats["query_items"], emb.stats["query_s"]
    t = time.perf_counter()
    retriever = HybridRetriever.from_store(store)
    row["prepare_s"] = time.perf_counter() - t
    row["terms_embedded"], row["terms_embed_s"] = emb.stats["query_items"] - q0, emb.stats["query_s"] - qs0
    row["terms"] = sum(len(t) for t, _ in retriever.translator.langs.values()) if retriever.translator else 0
    row["query_ms"] = _latencies(retriever, _questions(Path(cfg["dataset"]), cfg["questions"]), cfg["rounds"])
    row["components_s"] = _components(store)
    row["disk_mb"] = du(settings.deployment.home) / 1e6
    row["chroma_mb"] = du(settings.chroma_dir) / 1e6
    emb.memo.save()
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def _probe(base, pool, corpus: Path, n: int, chunk_chars: int) -> dict:
    """Real e5 passage throughput (items/s), sentences and whole chunk texts apart (chunks are longer)."""
    from verbatim_qa.ingest.loaders import load_document

    sents = [s for lang in sorted(pool.sentences) for s in pool.sentences[lang][: max(n // 2, 1)]]
    doc = load_document(sorted(corpus.iterdir())[0], 50 << 20)
    chunks = [embed_text(c) for c in chunk_document(doc, chunk_chars)][: max(n // 2, 1)]
    out = {}
    for name, texts in (("sentences", sents), ("chunks", chunks)):
        t = time.perf_counter()
        base.encode_passages(texts)
        out[f"{name}_per_s"] = len(texts) / (time.perf_counter() - t)
        out[f"{name}_n"] = len(texts)
    return out


def _tenths(times: list[float], chunks_per_doc: list[int]) -> list[float]:
    """ms per chunk over each tenth of the files, in ingest order: a rising cost per chunk shows superlinearity
    (a constant one, linear ingest; a log-shaped rise, an index whose inserts cost O(log n))."""
    per = list(zip([b - a for a, b in zip(times, times[1:])], chunks_per_doc))
    bounds = [round(i * len(per) / 10) for i in range(11)]
    parts = [per[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]
    return [1000 * sum(d for d, _ in part) / max(sum(c for _, c in part), 1) for part in parts]


def _questions(dataset: Path, n: int) -> list[str]:
    """English and Persian questions of the dev set, interleaved, ``n`` in all."""
    items = load_items(dataset)
    fa = [it.question for it in items if it.lang == "fa"]
    en = [it.question for it in items if it.lang != "fa"]
    mixed = [q for pair in zip(fa, en) for q in pair] + en[len(fa):] + fa[len(en):]
    return mixed[:n]


def _latencies(retriever, questions: list[str], rounds: int) -> dict:
    """Warm: every question is asked once (the translator's per-word cache fills; timed apart as ``cold``, what
    a new question costs), then timed ``rounds`` times."""
    cold = []
    for q in questions:
        t = time.perf_counter()
        retriever.retrieve(retriever.analyzer.analyze(q), 5)
        cold.append((time.perf_counter() - t) * 1000)
    ms = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            retriever.retrieve(retriever.analyzer.analyze(q), 5)
            ms.append((time.perf_counter() - t) * 1000)
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "max": max(ms), "n": len(ms),
            "cold": {"p50": percentile(cold, 50), "p95": percentile(cold, 95), "n": len(cold)}}


def _components(store: Store) -> dict:
    """The parts of retriever preparation and upkeep that scan the whole store, timed one at a time."""
    out = {}
    t = time.perf_counter()
    chunks = store.all_chunks()
    out["all_chunks"] = time.perf_counter() - t
    t = time.perf_counter()
    LexicalIndex.build(chunks)
    out["bm25_build"] = time.perf_counter() - t
    t = time.perf_counter()
    by_doc: dict[str, list] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    CorpusView({d: DocPart.of(cs[0].doc_sha, cs) for d, cs in by_doc.items()}).persian_terms()  # tokens + counts
    out["persian_terms"] = time.perf_counter() - t
    t = time.perf_counter()
    store.version()
    out["version"] = time.perf_counter() - t
    t = time.perf_counter()
    store.sweep()
    out["sweep"] = time.perf_counter() - t
    return out


def du(path: Path) -> int:
    """Bytes on disk (allocated blocks, like ``du``)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except FileNotFoundError:
                continue  # a temp file renamed away while walking
    return total


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), from /proc or, elsewhere, getrusage."""
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.exists() else []
    hwm = [int(line.split()[1]) for line in lines if line.startswith("VmHWM:")]
    return (hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def main(args_file: str) -> None:
    args = json.loads(Path(args_file).read_text())
    row = measure_size(child_settings(args["settings"], os.environ), args["n"], args["mode"], args["cfg"],
                       Path(args["work"]), Path(args["memo"]) if args["memo"] else None)
    Path(args["result"]).write_text(json.dumps(row, indent=1))


if __name__ == "__main__":
    import sys

    main(sys.argv[1])
