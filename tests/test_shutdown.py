"""SIGTERM stops ``verbatim serve`` during a long encode (issue #26, low): the requests in flight get
``VERBATIM_SHUTDOWN_GRACE_S`` seconds, then the process ends with one line saying what it dropped. Before, it
waited for an upload's whole ingest (a worker thread nothing interrupts) and, for a 1 MB question, never stopped.
The dropped upload leaves nothing a reader sees, and the next write sweeps its rows."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest
from helpers import verbatim_serve

from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

pytestmark = pytest.mark.integration

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
SENTENCES = 20_000  # minutes of embedding on 2 shared cores: still encoding when the signal comes


def test_sigterm_stops_serve_while_an_upload_is_being_encoded(tmp_path):
    home = tmp_path / "home"
    with verbatim_serve(home, MINILM, shutdown_grace_s="1") as (server, url):
        ledger = "\n".join(f"Entry {i} of the river ledger records {i * 7 % 113} crates moved on day {i % 28 + 1}."
                           for i in range(SENTENCES))
        replies: list[object] = []

        def upload() -> None:
            try:
                replies.append(httpx.post(url + "/api/ingest", timeout=600,
                                          files={"file": ("ledger.txt", ledger.encode(), "text/plain")}))
            except httpx.HTTPError as exc:  # the connection closed under it: what a stopped server does
                replies.append(exc)

        uploading = threading.Thread(target=upload)
        uploading.start()
        lock = home / "writer.lock"
        for _ in range(6000):  # the ingest holds the home's writer lock (holder written) while it encodes
            if lock.exists() and lock.read_text():
                break
            time.sleep(0.1)
        assert json.loads(lock.read_text())["pid"] == server.pid
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=300)  # a hang fails here
        uploading.join(300)
    assert server.returncode == -signal.SIGTERM, err  # as after a clean stop: uvicorn raises the signal again
    assert [line for line in err.splitlines() if line.strip()] == [
        "stopped with 1 request(s) unfinished after 1 s (VERBATIM_SHUTDOWN_GRACE_S); an upload in flight is "
        "dropped"]
    assert not (isinstance(replies[0], httpx.Response) and replies[0].status_code == 200), replies
    store = Store(Settings(home=home, embedder=MINILM))
    assert store.documents() == []  # the dropped upload was never committed: readers see nothing of it
    store.sweep()
    assert store.counts() == {"documents": 0, "chunks": 0, "sentences": 0}
