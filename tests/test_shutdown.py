"""SIGTERM stops ``verbatim serve`` during a long encode (issue #26, low): the requests in flight get
``VERBATIM_SHUTDOWN_GRACE_S`` seconds, then the process ends with one line saying what it dropped. Before, it
waited for an upload's whole ingest (a worker thread nothing interrupts) and, for a 1 MB question, never stopped.
The dropped upload leaves nothing a reader sees, and the next write sweeps its rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from helpers import stop

from verbatim_qa.settings import Settings
from verbatim_qa.ui.server import free_port
from verbatim_qa.vectorstore.store import Store

pytestmark = pytest.mark.integration

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
VERBATIM = Path(sys.executable).with_name("verbatim")
SENTENCES = 20_000  # minutes of embedding on 2 shared cores: still encoding when the signal comes


def test_sigterm_stops_serve_while_an_upload_is_being_encoded(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=MINILM, VERBATIM_SHUTDOWN_GRACE_S="1",
               HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(VERBATIM), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):
            try:
                if httpx.get(url + "/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.1)
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
    finally:
        if server.poll() is None:
            stop(server)
    assert server.returncode == -signal.SIGTERM, err  # as after a clean stop: uvicorn raises the signal again
    assert [line for line in err.splitlines() if line.strip()] == [
        "stopped with 1 request(s) unfinished after 1 s (VERBATIM_SHUTDOWN_GRACE_S); an upload in flight is "
        "dropped"]
    assert not (isinstance(replies[0], httpx.Response) and replies[0].status_code == 200), replies
    store = Store(Settings(home=home, embedder=MINILM))
    assert store.documents() == []  # the dropped upload was never committed: readers see nothing of it
    store.sweep()
    assert store.counts() == {"documents": 0, "chunks": 0, "sentences": 0}
