"""Crash safety: ``verbatim ingest`` is SIGKILLed at named points on a real embedded Chroma; then the index is
checked as readers see it, and again after the next run. The product has no crash hook: ``tests/kill_at.py`` runs
the real command with Chroma's collection writes patched to SIGKILL the process right after the n-th write of a
step (chunks, sentences, commit record written; commit record deleted).

After every kill: nothing of a half-written document is visible (readers and BM25 see committed rows only); a
changed document still reads as its old version until its new commit record is in, and then as the new one
(never a mix, never nothing). After the next run: no orphan, duplicate or missing row, counts equal the commit
records, every span slices its document, BM25 lists exactly Chroma's chunks, ``doctor`` finds nothing, and every
file is indexed at its current version.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write
from test_store import assert_consistent

from verbatim_qa.ingest.doctor import examine
from verbatim_qa.ingest.pipeline import ingest_paths, load_for_index
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
VERBATIM = Path(sys.executable).with_name("verbatim")
KILL_AT = Path(__file__).with_name("kill_at.py")
CHUNK_CHARS = 120
TOPICS = ["rivers", "deserts", "bridges", "markets"]


def text(topic: str, version: int = 1) -> str:
    body = " ".join(f"Fact {i} about {topic} is recorded in version {version} of these notes." for i in range(6))
    return f"# Notes on {topic}\n\n{body}\n\n## More\n\nThe last word on {topic} in version {version}.\n"


@pytest.fixture
def folder(tmp_path) -> Path:
    for topic in TOPICS:
        write(tmp_path / "docs", f"{topic}.md", text(topic))
    return tmp_path / "docs"


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def open_store(home: Path, embedder) -> Store:
    return Store(Settings(home=home, embedder=MINILM, chunk_chars=CHUNK_CHARS), embedder=embedder)


def killed_ingest(home: Path, point: str, *args: str) -> None:
    """Run the real command under tests/kill_at.py and assert it died by SIGKILL at ``point``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=MINILM, VERBATIM_CHUNK_CHARS=str(CHUNK_CHARS),
               OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(KILL_AT), point, "ingest", *args, "--json"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)
    assert not proc.stdout.strip()  # it never got to report


def raw_ids(store: Store) -> dict[str, list[str]]:
    return {col.name: col.get()["ids"] for col in (store.chunks, store.sentences)}


def committed_chunk_ids(store: Store) -> set[str]:
    return {c.chunk_id for c in store.all_chunks()}


def assert_readers_see_only_commits(store: Store) -> None:
    """Before any sweep: what a reader (retriever, BM25) gets is exactly the committed documents' rows."""
    live = committed_chunk_ids(store)
    every = set(store.chunks.get()["ids"])
    assert {c.chunk_id for c in store.get_chunks(sorted(every))} == live
    assert set(LexicalIndex.for_store(store).chunk_ids) == live
    for r in store.documents():
        assert sum(c.doc_id == r.doc_id for c in store.all_chunks()) == r.chunks


def assert_recovered(store: Store, folder: Path) -> None:
    assert_consistent(store)
    ids = raw_ids(store)
    for name, found in ids.items():
        assert len(found) == len(set(found)), f"duplicate ids in {name}"
    assert set(ids[store.chunks.name]) == committed_chunk_ids(store)
    assert set(LexicalIndex.for_store(store).chunk_ids) == committed_chunk_ids(store), "BM25 and Chroma disagree"
    assert examine(store) == []
    records = {r.source: r for r in store.documents()}
    on_disk = sorted(p.name for p in folder.iterdir())
    assert sorted(records) == on_disk
    for name in on_disk:
        assert records[name].sha == load_for_index(folder / name, store.settings).sha, f"{name} is stale"


@pytest.mark.integration
@pytest.mark.parametrize("point, committed_before", [("chunks-written:2", 1), ("sentences-written:3", 2)])
def test_kill_during_first_ingest(folder, home, minilm, point, committed_before):
    killed_ingest(home, point, str(folder))
    store = open_store(home, minilm)
    assert len(store.documents()) == committed_before  # the documents before the kill survived it
    orphans = store.orphans()
    assert orphans[store.chunks.name], "the killed document left uncommitted chunks"
    assert bool(orphans[store.sentences.name]) == point.startswith("sentences")
    assert_readers_see_only_commits(store)

    report = ingest_paths(store, [folder])  # the next run
    assert report.swept == sum(map(len, orphans.values()))
    assert (report.added, report.skipped, report.failed) == (len(TOPICS) - committed_before, committed_before, [])
    assert_recovered(store, folder)


@pytest.mark.integration
@pytest.mark.parametrize("point", ["chunks-written:1", "sentences-written:1", "committed:1"])
def test_kill_while_replacing_a_changed_document(folder, home, minilm, point):
    store = open_store(home, minilm)
    assert ingest_paths(store, [folder]).added == len(TOPICS)
    old = {r.source: r for r in store.documents()}["bridges.md"]
    old_chunks = {c.chunk_id: c for c in store.all_chunks() if c.doc_id == old.doc_id}
    write(folder, "bridges.md", text("bridges", version=2))
    store.client.close()  # no second process on an embedded store while the command writes

    killed_ingest(home, point, str(folder))
    store = open_store(home, minilm)
    now = {r.source: r for r in store.documents()}["bridges.md"]
    visible = {c.chunk_id: c for c in store.all_chunks() if c.doc_id == old.doc_id}
    if point.startswith("committed"):  # the new commit record is in: the new version, complete
        assert now.sha != old.sha and "version 2" in store.document_text(old.doc_id)
        assert len(visible) == now.chunks and not set(visible) & set(old_chunks)
        assert all("version 2" in c.text for c in visible.values())
    else:  # the old version, intact
        assert now == old and "version 1" in store.document_text(old.doc_id)
        assert visible == old_chunks
    assert store.orphans()[store.chunks.name], "the other version's rows are still there, unswept"
    assert_readers_see_only_commits(store)

    report = ingest_paths(store, [folder])
    assert report.swept > 0 and report.failed == []
    assert (report.updated, report.skipped) == ((0, 4) if point.startswith("committed") else (1, 3))
    assert_recovered(store, folder)


@pytest.mark.integration
def test_kill_while_pruning(folder, home, minilm):
    store = open_store(home, minilm)
    assert ingest_paths(store, [folder]).added == len(TOPICS)
    gone = {r.source: r for r in store.documents()}["deserts.md"]
    (folder / "deserts.md").unlink()
    store.client.close()  # no second process on an embedded store while the command writes

    killed_ingest(home, "record-deleted:1", str(folder), "--prune")
    store = open_store(home, minilm)
    assert store.document(gone.doc_id) is None
    assert len(store.orphans()[store.chunks.name]) == gone.chunks
    assert_readers_see_only_commits(store)

    report = ingest_paths(store, [folder], prune=True)
    assert (report.swept, report.skipped, report.deleted) == (gone.chunks + gone.sentences, 3, 0)
    assert_recovered(store, folder)


@pytest.mark.integration
def test_next_run_as_a_process_recovers(folder, home, minilm):
    """The recovery above runs in-process for speed; here the next run is the real command too."""
    killed_ingest(home, "sentences-written:2", str(folder))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=MINILM, VERBATIM_CHUNK_CHARS=str(CHUNK_CHARS))
    proc = subprocess.run([str(VERBATIM), "ingest", str(folder), "--json"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"added": 3, "updated": 0, "skipped": 1, "deleted": 0, "failed": []}
    assert_recovered(open_store(home, minilm), folder)


@pytest.mark.integration
@pytest.mark.parametrize("point, stored", [("sentences-written:2", 1), ("committed:2", 2)])
def test_a_server_killed_while_replacing_an_upload_keeps_the_file_its_store_lists(tmp_path, minilm, point, stored):
    """A second upload of notes.md kills the server after its rows (its commit never lands: version 1 must be the
    stored file again) or after its commit record (version 2 is the document: it stays). The next service start
    undoes or keeps it; the stored file is then exactly what the store lists (ingesting it again changes nothing)."""
    import httpx
    from helpers import verbatim_serve

    from verbatim_qa.ui.service import Service
    from verbatim_qa.ui.uploads import JOURNAL, STAGING

    home = tmp_path / "home"
    env = dict(use_crosslingual="false", chunk_chars=str(CHUNK_CHARS))
    with verbatim_serve(home, MINILM, launcher=[sys.executable, str(KILL_AT), point], **env) as (proc, url):
        for version in (1, 2):
            upload = {"file": ("notes.md", text("rivers", version).encode(), "text/markdown")}
            try:
                reply = httpx.post(url + "/api/ingest", files=upload, timeout=300)
            except httpx.TransportError:  # the server died under this request
                assert version == 2
                continue
            assert version == 1 and reply.status_code == 200, reply.text
        assert proc.wait(timeout=60) == -signal.SIGKILL
    settings = Settings(home=home, embedder=MINILM, chunk_chars=CHUNK_CHARS, use_crosslingual=False)
    file = settings.uploads_dir / "notes.md"
    assert len(list((settings.uploads_dir / STAGING).glob(f"*/{JOURNAL}"))) == 1  # what the crash left

    service = Service(settings, Store(settings, embedder=minilm), warm=False)
    assert file.read_text(encoding="utf-8") == text("rivers", stored)
    assert not (settings.uploads_dir / STAGING).exists()
    assert [r.source for r in service.records()] == ["notes.md"]
    report = ingest_paths(service.store, [file])
    assert (report.added, report.updated, report.skipped) == (0, 0, 1)


def test_the_product_has_no_crash_hook():
    """The kills come from outside (tests/kill_at.py): no setting and no code path of the product is there for
    tests."""
    assert not any(f.startswith("test") for f in Settings().flat())
    assert "SIGKILL" not in Path(sys.modules[Store.__module__].__file__).read_text()


def test_kill_at_refuses_an_unknown_point(tmp_path):
    proc = subprocess.run([sys.executable, str(KILL_AT), "halfway:1", "sources"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "VERBATIM_HOME": str(tmp_path)})
    assert proc.returncode == 1 and "unknown point 'halfway'" in proc.stderr
