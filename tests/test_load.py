"""A bounded load test on 127.0.0.1: 20 concurrent ``POST /api/ask`` clients while uploads are ingested and one
document deleted through the API, on a copy of the e5 corpus index served with the web UI mounted (one Service
shared by the API and Gradio, as ``verbatim serve`` runs it).

Zero errors, every answer valid against the contract (each quote and retrieved passage is the stored document's
text at its offsets), and afterwards the store and the answerer's BM25 index agree with what was written.
Latency p50/p95 is printed, never asserted: this machine's load is not ours to control.
"""

from __future__ import annotations

import shutil

import httpx
import pytest

from verbatim_qa.evals.load import UPLOADS, DocumentTexts, dev_questions, run_load
from verbatim_qa.settings import Settings
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.server import BackgroundServer

pytestmark = pytest.mark.integration

CLIENTS, REQUESTS = 20, 60
WEB_CLIENTS, WEB_REQUESTS = 2, 3  # on top: the web chat's Gradio queue shares the same Service
CORPUS = {"why-china-leans-hard-on-central-asia.txt", "china-central-asia-ai-rezapour-2024.md"}


@pytest.fixture(scope="module")
def served(corpus_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("load") / "home"
    shutil.copytree(corpus_home, home)
    app = create_app(Settings(home=home, embedder="e5"))
    with BackgroundServer(app) as url:
        yield url, app.state.service


def test_concurrent_asks_while_ingesting_and_deleting(served):
    url, service = served
    texts = DocumentTexts(service.store)
    texts.remember_all()
    questions = dev_questions() + ["When was the Wakhan corridor bridge at Ishkashim rebuilt?"]
    report = run_load(url, questions, clients=CLIENTS, requests=REQUESTS, texts=texts, ui_clients=WEB_CLIENTS,
                      ui_requests=WEB_REQUESTS)
    print(f"\nload: {CLIENTS} clients, {REQUESTS} POST /api/ask (+{WEB_CLIENTS * WEB_REQUESTS} through the web chat), "
          f"{len(UPLOADS)} uploads and 1 delete\n" + report.table())
    assert report.problems == []
    summary = report.summary()
    assert summary["requests"] == REQUESTS and summary["web_chat"] == WEB_CLIENTS * WEB_REQUESTS
    assert summary["errors"] == 0
    assert [w.status for w in report.writes] == [200] * (len(UPLOADS) + 1)
    assert summary["during_writes"] > 0  # the asks really ran while the index was being written

    listed = {d["source"] for d in httpx.get(f"{url}/api/sources", timeout=60).json()}
    assert listed == CORPUS | {name for name, _ in UPLOADS[1:]}


def test_after_the_load_store_and_bm25_agree(served):
    """The last write's rebuild won: the answerer in use indexes exactly the stored chunks, no orphans."""
    _, service = served
    store = service.store
    records = store.documents()
    chunk_ids = {c.chunk_id for c in store.all_chunks()}
    assert len(chunk_ids) == store.chunks.count() == sum(r.chunks for r in records)
    assert store.sentences.count() == sum(r.sentences for r in records)
    lexical = service.answerer("extractive").retriever.lexical
    assert set(lexical.chunk_ids) == chunk_ids and len(lexical.chunk_ids) == len(chunk_ids)
    ans = service.ask("When did the Murghab customs post at Kulma Pass open to trucks?")
    assert not ans.refused and ans.citations[0].source == "load-customs.txt"
