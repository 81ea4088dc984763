"""A soak on 127.0.0.1: 20 concurrent askers through every answering door (/api/ask, /api/ask/stream,
/v1/chat/completions, MCP ``ask``) while one document is uploaded, on a copy of the bundled e5 corpus index.

0 errors, each question answered (a valid answer object, quotes exact in the stored text, not refused), and the
uploaded document answers once it is in. Short questions keep it affordable; no timing is asserted.
"""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import EN_Q, NOTE, NOTE_Q

from verbatim_qa.evals.load import DocumentTexts, check_answer
from verbatim_qa.settings import Settings
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.server import BackgroundServer

pytestmark = pytest.mark.integration

ASKERS, ROUNDS = 20, 2
QUESTIONS = [EN_Q, "How many cameras are in Nur-Sultan?", "What share of Tajikistan's debt does China own?",
             "When did the Soviet Union collapse?", "How much did Tajikistan spend on safe cities?"]
DOORS = ("api", "stream", "openai", "mcp")
TIMEOUT = 600.0  # a hang fails the soak; a loaded machine is slow, not hung


@pytest.fixture(scope="module")
def served(corpus_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("soak") / "home"
    shutil.copytree(corpus_home, home)
    app = create_app(Settings(home=home, embedder="e5"), ui=False)
    with BackgroundServer(app) as url:
        yield url, app.state.service


def ask(url: str, door: str, question: str) -> dict:
    """The answer object from one door (raises on any HTTP or protocol error)."""
    body = {"question": question}
    if door == "api":
        r = httpx.post(url + "/api/ask", json=body, timeout=TIMEOUT)
        r.raise_for_status()
        return r.json()
    if door == "stream":
        with httpx.stream("POST", url + "/api/ask/stream", json=body, timeout=TIMEOUT) as r:
            r.raise_for_status()
            events = [json.loads(line) for line in r.iter_lines() if line]
        assert events[-1]["type"] == "answer", events[-1]
        return events[-1]["answer"]
    if door == "openai":
        r = httpx.post(url + "/v1/chat/completions", timeout=TIMEOUT,
                       json={"model": "verbatim", "messages": [{"role": "user", "content": question}]})
        r.raise_for_status()
        reply = r.json()
        answer = {k: v for k, v in reply.items() if k not in {"id", "object", "created", "model", "choices", "usage"}}
        content = reply["choices"][0]["message"]["content"]
        return {**answer, "question": question, "answer": content.split("\n\n[1] “")[0]}
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask", "arguments": body}}
    r = httpx.post(url + "/mcp", json=message, timeout=TIMEOUT,
                   headers={"accept": "application/json, text/event-stream"})
    r.raise_for_status()
    result = r.json()["result"]
    assert not result.get("isError"), result
    return result["structuredContent"]


def test_twenty_askers_and_an_upload(served):
    url, service = served
    texts = DocumentTexts(service.store)
    texts.remember_all()
    jobs = [(i, DOORS[(i + r) % len(DOORS)], QUESTIONS[(i + r) % len(QUESTIONS)])
            for r in range(ROUNDS) for i in range(ASKERS)]
    started = threading.Barrier(ASKERS + 1)
    uploaded: list[httpx.Response] = []

    def asker(i: int) -> list[tuple[str, str, list[str]]]:
        started.wait()
        out = []
        for _, door, q in (j for j in jobs if j[0] == i):
            try:
                ans = ask(url, door, q)
                problems = check_answer(ans, q, texts.get) + (["refused"] if ans["refused"] else [])
            except Exception as exc:  # every failure is reported, with its door and question
                problems = [f"{type(exc).__name__}: {exc}"]
            out.append((door, q, problems))
        return out

    def upload() -> None:
        started.wait()
        uploaded.append(httpx.post(url + "/api/ingest", timeout=TIMEOUT,
                                   files={"file": ("soak-glacier.txt", NOTE.encode(), "text/plain")}))

    with ThreadPoolExecutor(ASKERS + 1) as pool:
        writer = pool.submit(upload)
        results = [x for f in [pool.submit(asker, i) for i in range(ASKERS)] for x in f.result()]
        writer.result()

    failed = [r for r in results if r[2]]
    print(f"\nsoak: {len(results)} questions from {ASKERS} askers over {len(DOORS)} doors, 1 upload; "
          f"{len(failed)} failed")
    assert len(results) == ASKERS * ROUNDS and failed == []
    assert uploaded[0].status_code == 200, uploaded[0].text
    after = ask(url, "api", NOTE_Q)
    assert not after["refused"] and any(c["source"] == "soak-glacier.txt" for c in after["citations"])
