"""Query latency of an index kept by ``verbatim bench --scale --keep``, measured again with the growth bench's own
function: ``python -m verbatim_qa.evals.scale_requery out/scale/size-100000/home``. Re-measures a query-side change at a
size whose ingest takes half an hour (the index is opened with the default embedder and settings)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

from .scale_size import _latencies, _questions

ROOT = Path(__file__).resolve().parents[1]


def requery(home: Path, questions: int = 50, rounds: int = 2) -> dict:
    store = Store(Settings().with_(home=home))
    t = time.perf_counter()
    retriever = HybridRetriever.from_store(store)
    prepare = time.perf_counter() - t
    load = os.getloadavg()[0]
    ms = _latencies(retriever, _questions(ROOT / "evals/datasets/dev.jsonl", questions), rounds)
    return {"chunks": store.counts()["chunks"], "prepare_s": prepare, "query_ms": ms,
            "load_avg": [load, os.getloadavg()[0]]}


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "chroma").is_dir():
        print("usage: python -m verbatim_qa.evals.scale_requery KEPT_HOME  (a folder with chroma/ in it)",
              file=sys.stderr)
        raise SystemExit(2)
    print(json.dumps(requery(Path(sys.argv[1])), indent=1))
