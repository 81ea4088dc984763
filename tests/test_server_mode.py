"""Server mode: a real ``chroma run`` on 127.0.0.1 (temp path), used through ``VERBATIM_CHROMA_URL``.

Proves: the commands ingest and answer verbatim (as real processes), list, delete and check (in this process)
through the server and write no Chroma file under VERBATIM_HOME; ``version()`` over HTTP is shared by every client,
so two instances with their own cache dirs (a CLI process and this process, or a long-running ``Service``) each
rebuild BM25 when the other one ingests; a row written moments ago without its commit record (an ingest in flight in
another instance) is hidden from readers but not swept; ``VERBATIM_CHROMA_TOKEN`` is sent as a bearer header;
collections and their tokens: the access cases of tests/test_collections.py hold against the server too.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import test_collections as access
from helpers import NOTE, NOTE_Q, stop, write
from test_store import assert_consistent

from verbatim_qa.ingest.doctor import examine
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import SERVER_SWEEP_GRACE, Store

pytestmark = pytest.mark.integration

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
BIN = Path(sys.executable).parent
WATER = ("Water notes\n\nThe Amu Darya and the Syr Darya feed the Aral Sea basin. Irrigation for cotton drained "
         "the sea.\n")
SILK = "Silk notes\n\nCaravans carried silk and paper from China to Samarkand. Merchants crossed the Pamir.\n"
QUARTZ = "Quartz notes\n\nThe zyxquartz mine near Khorog closed in 1991. Miners moved to Dushanbe.\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A real Chroma server on a free loopback port, stopped (and reaped) after the module."""
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    with open(root / "server.log", "wb") as log:
        proc = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(root / "data"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (root / "server.log").read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as r:
                    assert "heartbeat" in r.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "chroma did not answer its heartbeat in 60 s"
                time.sleep(0.2)
        yield url
    finally:
        stop(proc, 20)


@pytest.fixture
def collection(request) -> str:
    """One collection per test on the shared server."""
    return "t" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")[:40]


def verbatim(*args: str, home: Path, url: str, collection: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    full.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=MINILM, VERBATIM_CHROMA_URL=url,
                VERBATIM_COLLECTION=collection, VERBATIM_USE_CROSSLINGUAL="false", OMP_NUM_THREADS="1", **env)
    return subprocess.run([str(BIN / "verbatim"), *args], env=full, capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def verbatim_here(*args: str, home: Path, url: str, collection: str, **env: str):
    """``verbatim`` as ``verbatim`` runs it, in this process (typer's runner: no interpreter and chromadb start)."""
    from typer.testing import CliRunner

    from verbatim_qa.cli import app

    full: dict = {k: None for k in os.environ if k.startswith("VERBATIM_")}
    full.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=MINILM, VERBATIM_CHROMA_URL=url,
                VERBATIM_COLLECTION=collection, VERBATIM_USE_CROSSLINGUAL="false", **env)
    result = CliRunner().invoke(app, list(args), env=full)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def assert_no_local_chroma(home: Path) -> None:
    """Only derived caches live under VERBATIM_HOME in server mode: no chroma dir, no sqlite, no HNSW files."""
    files = [p for p in home.rglob("*") if p.is_file()] if home.exists() else []
    assert not (home / "chroma").exists()
    assert not [p for p in files if p.suffix in {".sqlite3", ".bin"} or p.name.startswith("chroma")]
    assert all(p.relative_to(home).parts[0] == "cache" for p in files), files


def server_store(url: str, home: Path, collection: str, embedder=None) -> Store:
    return Store(Settings(home=home, embedder=MINILM, chroma_url=url, collection=collection), embedder=embedder)


def test_commands_end_to_end_through_the_server(chroma_url, collection, tmp_path):
    folder = tmp_path / "docs"
    write(folder, "note.txt", NOTE)
    write(folder, "water.txt", WATER)
    write(folder, "silk.txt", SILK)
    home = tmp_path / "home"

    def run(*args: str) -> subprocess.CompletedProcess:
        return verbatim(*args, home=home, url=chroma_url, collection=collection)

    def here(*args: str):  # a command that loads no model: in this process (no interpreter, torch, chromadb start)
        return verbatim_here(*args, home=home, url=chroma_url, collection=collection)

    ingested = run("ingest", str(folder), "--json")
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout) == {"added": 3, "updated": 0, "skipped": 0, "deleted": 0, "failed": []}
    listed = here("sources", "--json")
    assert listed.exit_code == 0 and sorted(r["source"] for r in json.loads(listed.stdout)) == [
        "note.txt", "silk.txt", "water.txt"]

    asked = run("ask", NOTE_Q, "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert not answer["refused"] and "2003" in answer["answer"]
    assert answer["citations"][0]["source"] == "note.txt"
    for c in answer["citations"]:  # verbatim: every quote is the exact slice of its file
        assert (folder / c["source"]).read_text(encoding="utf-8")[c["char_start"] : c["char_end"]] == c["quote"]

    store = server_store(chroma_url, tmp_path / "probe", collection)
    note_id = next(r.doc_id for r in store.documents() if r.source == "note.txt")
    deleted = here("delete", "note.txt", "--json")
    assert deleted.exit_code == 0 and json.loads(deleted.stdout) == {"deleted": note_id, "source": "note.txt"}
    unknown = here("delete", "note.txt")
    assert unknown.exit_code == 2 and "no document 'note.txt'" in unknown.stderr
    assert sorted(r.source for r in store.documents()) == ["silk.txt", "water.txt"]
    assert not store.chunks.get(where={"doc_id": note_id})["ids"]
    assert not store.sentences.get(where={"doc_id": note_id})["ids"]
    assert_consistent(store)

    checked = here("doctor", "--json")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["healthy"] is True
    assert_no_local_chroma(home)
    assert (home / "cache" / "lexical").is_dir(), "BM25 lives in the instance's own cache dir"


def test_two_instances_see_each_others_ingests(chroma_url, collection, tmp_path, minilm):
    """Instance B is a CLI process with its own home; instance A is this process with another home."""
    folder = tmp_path / "docs"
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    write(folder, "water.txt", WATER)

    by_b = verbatim("ingest", str(folder / "water.txt"), "--json", home=home_b, url=chroma_url,
                    collection=collection)
    assert by_b.returncode == 0, by_b.stderr
    a = server_store(chroma_url, home_a, collection, minilm)
    assert [r.source for r in a.documents()] == ["water.txt"]
    v1 = a.version()
    bm25_a = LexicalIndex.for_store(a)
    assert bm25_a.version == v1 and set(bm25_a.chunk_ids) == set(a.chunks.get()["ids"])

    write(folder, "quartz.txt", QUARTZ)
    assert ingest_paths(a, [folder]).added == 1  # A ingests: B must see it, lexically too
    v2 = a.version()
    assert v2 != v1 and server_store(chroma_url, home_b, collection).version() == v2  # one version for all

    bm25_only = {"VERBATIM_USE_DENSE_CHUNKS": "false", "VERBATIM_USE_DENSE_SENTENCES": "false"}
    found = verbatim("search", "zyxquartz", "--json", home=home_b, url=chroma_url, collection=collection,
                     **bm25_only)
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert rows and rows[0]["source"] == "quartz.txt"  # found by BM25 alone: B rebuilt it from the store
    folders = sorted(p.name for p in (home_b / "cache" / "lexical").iterdir())
    assert folders == [f"{collection}-{v2}"]
    assert set(json.loads((home_b / "cache" / "lexical" / folders[0] / "ids.json").read_text())) == set(
        LexicalIndex.for_store(a).chunk_ids)
    assert_no_local_chroma(home_a)
    assert_no_local_chroma(home_b)


def test_a_running_service_follows_other_instances(chroma_url, collection, tmp_path, minilm, monkeypatch):
    from verbatim_qa.ui import service as service_module
    from verbatim_qa.ui.service import Service

    monkeypatch.setattr(service_module, "FOLLOW_EVERY", 0.0)
    folder = tmp_path / "docs"
    write(folder, "water.txt", WATER)
    settings = Settings(home=tmp_path / "serve", embedder=MINILM, chroma_url=chroma_url, collection=collection,
                        use_crosslingual=False)
    other = server_store(chroma_url, tmp_path / "other", collection, minilm)
    assert ingest_paths(other, [folder]).added == 1
    service = Service(settings, store=Store(settings, embedder=minilm), warm=False)
    before = service.answerer("extractive").retriever.lexical
    assert before.version == other.version()

    write(folder, "quartz.txt", QUARTZ)
    assert ingest_paths(other, [folder]).added == 1  # another instance writes
    after = service.answerer("extractive").retriever.lexical
    assert after is not before and after.version == other.version()
    assert set(after.chunk_ids) == set(other.chunks.get()["ids"])
    answer = service.ask("When did the zyxquartz mine near Khorog close?", answerer="extractive")
    assert not answer.refused and answer.citations[0].source == "quartz.txt"
    assert_no_local_chroma(tmp_path / "serve")


@pytest.fixture(scope="module")
def team(chroma_url, tmp_path_factory, minilm):
    """tests/test_collections.py's collections alpha and beta and their tokens, on this module's Chroma server."""
    with access.served_team(tmp_path_factory.mktemp("team"), minilm, chroma_url) as served:
        yield served


# The access cases of tests/test_collections.py against the Chroma server: a token that may read alpha gets nothing
# of beta by any route (/api, page images, /v1 with the openai client, MCP with the mcp client, the chat with
# gradio_client), asked alone or with alpha; each collection answers from its own documents, and both at once
# from both.
def test_the_api_gives_a_reader_of_alpha_nothing_of_beta_through_the_server(team):
    access.test_the_api_gives_a_reader_of_alpha_nothing_of_beta(team)
    assert_no_local_chroma(team.settings.deployment.home)


def test_page_images_of_beta_need_beta_through_the_server(team):
    access.test_page_images_of_beta_need_beta(team)


def test_openai_models_and_answers_are_per_collection_through_the_server(team):
    access.test_openai_models_and_answers_are_per_collection(team)


def test_mcp_gives_a_reader_of_alpha_nothing_of_beta_through_the_server(team):
    access.test_mcp_gives_a_reader_of_alpha_nothing_of_beta(team)


def test_the_chat_acts_as_the_signed_in_holder_through_the_server(team, monkeypatch):
    access.test_the_chat_acts_as_the_signed_in_holder(team, monkeypatch)


def test_one_question_of_two_collections_through_the_server(team):
    access.test_one_question_of_two_collections_answers_from_both(team)
    access.test_a_reader_of_alpha_asking_alpha_and_beta_gets_nothing_of_either(team)


def test_in_flight_rows_are_hidden_not_swept(chroma_url, collection, tmp_path, minilm):
    """Another instance mid-write looks like a crash: readers skip its rows, but only old orphans are swept."""
    folder = tmp_path / "docs"
    write(folder, "water.txt", WATER)
    store = server_store(chroma_url, tmp_path / "home", collection, minilm)
    assert store.sweep_grace == SERVER_SWEEP_GRACE > 0
    ingest_paths(store, [folder])
    committed = set(store.chunks.get()["ids"])
    rec = store.documents()[0]
    row = store.chunks.get(ids=[next(iter(committed))], include=["embeddings", "documents", "metadatas"])
    in_flight = {**row["metadatas"][0], "doc_sha": "cd" * 32, "written_at": time.time()}
    store.chunks.add(ids=["in-flight"], embeddings=row["embeddings"], documents=row["documents"],
                     metadatas=[in_flight])

    assert {c.chunk_id for c in store.all_chunks()} == committed
    assert {c.chunk_id for c in store.get_chunks(["in-flight", *committed])} == committed
    assert set(LexicalIndex.for_store(store).chunk_ids) == committed
    assert ingest_paths(store, [folder]).swept == 0  # the next ingest leaves the in-flight row alone
    findings = examine(store)
    assert [(f.kind, f.warning, f.repairable) for f in findings] == [("orphans", True, False)]
    assert "maybe an ingest in progress" in findings[0].detail
    assert store.document(rec.doc_id) == rec
    assert store.sweep(min_age=0) == 1  # once old enough (here: forced), it is swept
    assert examine(store) == []


class Recorder(http.server.BaseHTTPRequestHandler):
    """A forwarding proxy to the Chroma server that remembers each request's Authorization header."""

    upstream: tuple[str, int]
    seen: list

    def _forward(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        reply = conn.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in {"transfer-encoding", "connection", "content-length"}:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize("token", ["s3cret-token", ""])
def test_token_is_sent_as_a_bearer_header(chroma_url, collection, tmp_path, token):
    """Chroma 1.x's own server has no token auth: the token is for a proxy in front of it, as here."""
    host, port = chroma_url.removeprefix("http://").split(":")
    handler = type("Rec", (Recorder,), {"upstream": (host, int(port)), "seen": []})
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        ran = verbatim_here("sources", "--json", home=tmp_path / "home", collection=collection,
                            url=f"http://127.0.0.1:{proxy.server_address[1]}", VERBATIM_CHROMA_TOKEN=token)
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout) == []
    assert handler.seen and set(handler.seen) == {f"Bearer {token}" if token else None}
