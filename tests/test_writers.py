"""One writer per home (vectorstore/writer.py), on a real embedded Chroma and the real console script.

Two ``verbatim ingest`` processes racing on different folders both finish and leave every row readable (without
the lock, Chroma lost vectors: "Error getting embedding"); a writer that cannot get the lock in time stops with
one line naming the holder; a sweep never deletes rows another writer has in flight; ``doctor`` reads every
committed vector and repairs a document whose vectors were lost; a running ``Service`` answers about a document
the CLI ingested after it started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import NOTE, NOTE_Q, write

from verbatim_qa.ingest.doctor import examine, repair
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store
from verbatim_qa.vectorstore.writer import HomeLock, WriterBusy

pytestmark = pytest.mark.integration

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
VERBATIM = Path(sys.executable).with_name("verbatim")
WATER = "Water notes\n\nThe Amu Darya and the Syr Darya feed the Aral Sea basin. Irrigation drained the sea.\n"


LEDGER_SENTENCES = 350  # seconds of embedding each, far longer than a process start: the two ingests overlap


def ledger(topic: str, n: int = LEDGER_SENTENCES) -> str:
    """A document of ``n`` sentences, one of them unique."""
    lines = [f"Entry {i} of the {topic} ledger records {i * 7 % 113} crates moved on day {i % 28 + 1}."
             for i in range(n)]
    lines[n // 2] = f"The zyx{topic} gauge at Termez was recalibrated in 1987 by the basin authority."
    return f"# The {topic} ledger\n\n" + " ".join(lines) + "\n"


def cli(home: Path, *args: str, **env: str) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    full.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=MINILM, VERBATIM_USE_CROSSLINGUAL="false",
                OMP_NUM_THREADS="1", **env)
    return subprocess.Popen([str(VERBATIM), *args], env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8")


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=900)
    return proc.returncode, out, err


def vectors_unreadable(store: Store) -> int:
    """Committed rows whose vector Chroma cannot return, read one page at a time then one id at a time."""
    committed = store.committed()
    bad = 0
    for col in (store.chunks, store.sentences):
        ids = [i for i, _, m in store.scan(col, ["metadatas"]) if committed.get(m["doc_id"]) == m["doc_sha"]]
        for i in range(0, len(ids), 100):
            try:
                col.get(ids=ids[i : i + 100], include=["embeddings"])
            except Exception:
                bad += 1
    return bad


def test_two_ingests_racing_leave_every_row_readable(tmp_path):
    home = tmp_path / "home"
    for topic in ("river", "desert"):
        write(tmp_path / topic, f"{topic}.md", ledger(topic))
    racers = [cli(home, "ingest", str(tmp_path / topic), "--json") for topic in ("river", "desert")]
    results = [finish(p) for p in racers]
    for code, out, err in results:
        assert code == 0, err
        assert json.loads(out)["added"] == 1
    code, out, err = finish(cli(home, "doctor", "--json"))
    assert code == 0 and json.loads(out)["healthy"], out + err
    assert json.loads(out)["documents"] == 2
    store = Store(Settings(home=home, embedder=MINILM))
    assert vectors_unreadable(store) == 0
    assert sum(r.sentences for r in store.documents()) >= 2 * LEDGER_SENTENCES
    store.client.close()
    for topic in ("river", "desert"):
        code, out, err = finish(cli(home, "ask", f"When was the zyx{topic} gauge at Termez recalibrated?", "--json"))
        assert code == 0, err
        answer = json.loads(out)
        assert not answer["refused"] and "1987" in answer["citations"][0]["quote"]


def test_a_writer_that_cannot_get_the_lock_names_the_holder(tmp_path):
    home = tmp_path / "home"
    write(tmp_path / "docs", "water.txt", WATER)
    with HomeLock(home).hold(0):  # this process writes; the command waits half a second, then stops
        code, out, err = finish(cli(home, "ingest", str(tmp_path / "docs"), "--json", VERBATIM_WRITER_WAIT="0.5"))
    assert code == 1 and not out.strip()
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 2, err
    assert lines[0].startswith(f"waiting for pid {os.getpid()} (")
    assert lines[1].startswith(f"error: {home} is being written by pid {os.getpid()} (")
    assert "waited 0.5 s (VERBATIM_WRITER_WAIT)" in lines[1]
    code, out, err = finish(cli(home, "ingest", str(tmp_path / "docs"), "--json"))  # once free, it goes in
    assert code == 0 and json.loads(out)["added"] == 1, err


def test_a_sweep_waits_for_the_writer_in_flight(tmp_path, minilm):
    """Rows written but not yet committed by another writer are not orphans: the sweep cannot run meanwhile."""
    settings = Settings(home=tmp_path / "home", embedder=MINILM, writer_wait=0.3)
    write(tmp_path / "docs", "water.txt", WATER)
    writer, sweeper = Store(settings, embedder=minilm), Store(settings, embedder=minilm)
    ingest_paths(writer, [tmp_path / "docs"])
    row = writer.chunks.get(limit=1, include=["embeddings", "documents", "metadatas"])
    in_flight, release = threading.Event(), threading.Event()

    def write_without_commit() -> None:
        with writer.writing():
            writer.chunks.add(ids=["in-flight"], embeddings=row["embeddings"], documents=row["documents"],
                              metadatas=[{**row["metadatas"][0], "doc_sha": "cd" * 32}])
            in_flight.set()
            release.wait(30)
            writer.chunks.delete(ids=["in-flight"])  # this writer's own business: it never commits

    thread = threading.Thread(target=write_without_commit)
    thread.start()
    try:
        assert in_flight.wait(30)
        with pytest.raises(WriterBusy, match=f"pid {os.getpid()}"):
            sweeper.sweep()
        assert writer.chunks.get(ids=["in-flight"])["ids"] == ["in-flight"]
    finally:
        release.set()
        thread.join()
    assert sweeper.sweep() == 0


def test_doctor_reads_every_vector_and_repairs_lost_ones(tmp_path, minilm):
    """An older copy of the HNSW files over newer ones is what a stale writer leaves: ids listed, vectors gone."""
    home = tmp_path / "home"
    settings = Settings(home=home, embedder=MINILM)
    write(tmp_path / "a", "alpha.md", ledger("alpha", 40))
    write(tmp_path / "b", "beta.md", ledger("beta", 40))
    store = Store(settings, embedder=minilm)
    for col in (store.chunks, store.sentences):  # save the HNSW files every 10 rows (Chroma: every 1000)
        col.modify(configuration={"hnsw": {"sync_threshold": 10, "batch_size": 10}})
    ingest_paths(store, [tmp_path / "a"])
    store.client.close()
    segments = [p for p in (home / "chroma").iterdir() if p.is_dir()]
    for p in segments:
        shutil.copytree(p, tmp_path / "old" / p.name)
    store = Store(settings, embedder=minilm)
    ingest_paths(store, [tmp_path / "b"])
    store.client.close()
    for p in segments:
        shutil.rmtree(p)
        shutil.copytree(tmp_path / "old" / p.name, p)

    store = Store(settings, embedder=minilm)
    findings = examine(store)
    assert {f.kind for f in findings} == {"vectors"} and "beta.md" in {f.source for f in findings}, findings
    assert all("cannot be read" in f.detail for f in findings)  # (alpha's last rows may be lost too)
    done = repair(store, findings)
    assert any(line.startswith("dropped beta.md and re-ingested") for line in done), done
    assert examine(store) == [] and vectors_unreadable(store) == 0


def test_a_running_service_answers_about_a_cli_ingest(tmp_path, minilm):
    from verbatim_qa.ui.service import Service

    settings = Settings(home=tmp_path / "home", embedder=MINILM, use_crosslingual=False)
    write(tmp_path / "a", "water.txt", WATER)
    store = Store(settings, embedder=minilm)
    ingest_paths(store, [tmp_path / "a"])
    service = Service(settings, store=store, warm=False)
    assert service.ask(NOTE_Q, answerer="extractive").refused

    write(tmp_path / "b", "note.txt", NOTE)
    code, out, err = finish(cli(settings.deployment.home, "ingest", str(tmp_path / "b"), "--json"))  # another process
    assert code == 0 and json.loads(out)["added"] == 1, err
    answer = service.ask(NOTE_Q, answerer="extractive")
    assert not answer.refused and answer.citations[0].source == "note.txt"
    assert "2003" in answer.citations[0].quote
    assert not store.stale()
