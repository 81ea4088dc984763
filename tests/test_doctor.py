"""``verbatim doctor`` and ``verbatim delete`` on a real embedded Chroma in a temp dir.

A healthy index is reported healthy; a deliberately corrupted one (chunk rows deleted, an orphan inserted, a
chunk's text changed, a duplicated chunk, a stale BM25 index) gets one line per problem and exit 1, and
``--repair`` fixes all of it, leaving an index that passes test_store's ``assert_consistent`` and whose BM25
lists exactly Chroma's chunks. Missing or changed source files are warnings only.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from helpers import write
from test_store import assert_consistent
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
DOCS = {
    "a.md": "# Rivers\n\nThe Amu Darya feeds the Aral Sea. Its delta is shrinking fast. Cotton fields drink most "
            "of its water.\n\n## Dams\n\nThe Rogun dam is being built in Tajikistan. It will be the tallest dam.\n",
    "b.txt": "Silk Road\n\nCaravans carried silk and paper west. Samarkand grew rich on the trade. Merchants "
             "crossed the Pamir mountains in summer.\n",
    "c.txt": "Steppe\n\nThe Kazakh steppe is vast and dry. Nomads moved their herds with the seasons. Winters "
             "there are long and cold.\n",
    "d.txt": "Lakes\n\nIssyk-Kul never freezes. It lies in Kyrgyzstan. Tourists swim there in July.\n",
    "e.txt": "Mountains\n\nThe Tian Shan runs east to west. Its glaciers feed many rivers. Climbers visit in August.\n",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("VERBATIM_"):
            monkeypatch.delenv(name)


@pytest.fixture
def cli(tmp_path):
    home = tmp_path / "home"

    def run(*args: str, **env: str) -> tuple[int, str, str]:
        env = {"VERBATIM_HOME": str(home), "VERBATIM_EMBEDDER": MINILM, "VERBATIM_CHUNK_CHARS": "120", **env}
        result = CliRunner().invoke(app, [str(a) for a in args], env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    run.home = home
    run.store = lambda: Store(Settings(home=home, embedder=MINILM, chunk_chars=120))
    return run


@pytest.fixture
def ingested(cli, tmp_path):
    folder = tmp_path / "docs"
    for name, text in DOCS.items():
        write(folder, name, text)
    code, out, err = cli("ingest", folder, "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == len(DOCS)
    return folder


def by_source(store: Store) -> dict:
    return {r.source: r for r in store.documents()}


def lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


def assert_bm25_agrees(store: Store) -> None:
    assert set(LexicalIndex.for_store(store).chunk_ids) == set(store.chunks.get()["ids"])


@pytest.mark.integration
def test_healthy_index(cli, ingested):
    code, out, err = cli("doctor")
    assert code == 0, out + err
    assert lines(out) == [f"healthy: {len(DOCS)} documents, {cli.store().chunks.count()} chunks, "
                          f"{cli.store().sentences.count()} sentences"]
    code, out, _ = cli("doctor", "--json")
    report = json.loads(out)
    assert code == 0 and report["healthy"] is True and report["problems"] == report["warnings"] == []
    assert report["documents"] == len(DOCS)


def tamper(store: Store, doc_id: str, text: str) -> None:
    """Change the stored text of one chunk of a document (keeping its vector)."""
    got = store.chunks.get(where={"doc_id": doc_id}, limit=1, include=["embeddings"])
    store.chunks.update(ids=got["ids"], embeddings=got["embeddings"], documents=[text])


def corrupt(store: Store, folder) -> dict[str, str]:
    """Damage the index in five ways (and the files in two); returns doc ids by source."""
    docs = {s: r.doc_id for s, r in by_source(store).items()}
    LexicalIndex.for_store(store)  # a BM25 index for this version exists before the damage: it goes stale
    a_chunks = store.chunks.get(where={"doc_id": docs["a.md"]})["ids"]
    assert len(a_chunks) >= 2
    store.chunks.delete(ids=a_chunks[:1])  # a lost write: the record says more chunks than there are
    tamper(store, docs["b.txt"], "Tampered text that is not in the document.")
    c = store.chunks.get(where={"doc_id": docs["c.txt"]}, limit=1, include=["embeddings", "documents", "metadatas"])
    store.chunks.add(ids=["dup-" + c["ids"][0]], embeddings=c["embeddings"], documents=c["documents"],
                     metadatas=c["metadatas"])  # the same span twice
    dim = len(c["embeddings"][0])
    ghost = {"doc_id": "feedfacefeedface", "doc_sha": "ab" * 32, "source": "ghost.txt"}
    store.chunks.add(ids=["ghost-chunk"], embeddings=[np.ones(dim).tolist()], documents=["Ghost text."],
                     metadatas=[{**ghost, "title": "Ghost", "section": "", "page": -1, "char_start": 0,
                                 "char_end": 11, "lang": "en", "sentences": "[[0, 11]]"}])
    store.sentences.add(ids=["ghost-chunk:0"], embeddings=[np.ones(dim).tolist()], documents=["Ghost text."],
                        metadatas=[{**ghost, "chunk_id": "ghost-chunk", "char_start": 0, "char_end": 11,
                                    "lang": "en"}])
    tamper(store, docs["e.txt"], "Also tampered.")
    write(folder, "d.txt", DOCS["d.txt"] + "A new line about the lake.\n")  # changed on disk: a warning
    (folder / "e.txt").unlink()  # broken and gone: repair can only drop it
    return docs


@pytest.mark.integration
def test_corrupted_index_is_reported_then_repaired(cli, ingested):
    docs = corrupt(cli.store(), ingested)

    code, out, err = cli("doctor")
    assert code == 1 and not err.strip()
    got = lines(out)
    assert got[-1].startswith("9 problems found (`verbatim doctor --repair` fixes what it can)")
    found = got[:-1]
    assert "orphans: ghost.txt: 1 chunks and 1 sentences of version abababababab have no commit record" in found
    assert "counts: a.md: 1 chunks and 7 sentences stored, the commit record says 2 and 7" in found
    assert "sentences: a.md: 0 sentences missing, 4 unexpected, 4 outside their chunk" in found
    assert "counts: c.txt: 2 chunks and 4 sentences stored, the commit record says 1 and 4" in found
    assert any(x.startswith("offsets: b.txt: 1 chunks or sentences whose text") for x in found)
    assert any(x.startswith("ids: c.txt: 1 chunks whose id does not match their span, 1 duplicate") for x in found)
    assert any(x.startswith("offsets: e.txt: ") for x in found)
    assert any(x.startswith("bm25: the BM25 index lists 1 chunks Chroma does not have") for x in found)
    assert any(x.startswith("warning: changed-file: d.txt: ") for x in found)
    assert any(x.startswith("warning: missing-file: e.txt: ") for x in found)

    code, out, _ = cli("doctor", "--json")
    report = json.loads(out)
    assert code == 1 and report["healthy"] is False
    kinds = sorted((p["kind"], p["source"]) for p in report["problems"])
    assert ("orphans", "ghost.txt") in kinds and ("bm25", "") in kinds
    assert {p["doc_id"] for p in report["problems"] if p["source"] in {"a.md", "b.txt", "c.txt", "e.txt"}} == {
        docs[s] for s in ("a.md", "b.txt", "c.txt", "e.txt")}
    assert sorted(w["kind"] for w in report["warnings"]) == ["changed-file", "missing-file"]

    code, out, err = cli("doctor", "--repair")
    assert code == 0, out + err
    repaired = [x for x in lines(out) if x.startswith("repaired: ")]
    assert "repaired: swept 2 orphan chunks and sentences" in repaired
    for source in ("a.md", "b.txt", "c.txt"):
        assert f"repaired: dropped {source} and re-ingested {ingested.resolve() / source}" in repaired
    assert any(x.startswith("repaired: dropped e.txt: its file ") and x.endswith("is gone, nothing to re-ingest")
               for x in repaired)
    assert any(x.startswith("repaired: rebuilt the BM25 index (") for x in repaired)
    assert lines(out)[-1].startswith("healthy: 4 documents") and "problems repaired" in lines(out)[-1]

    store = cli.store()
    assert_consistent(store)
    assert_bm25_agrees(store)
    assert set(by_source(store)) == {"a.md", "b.txt", "c.txt", "d.txt"}
    assert store.document_text(docs["d.txt"]) == DOCS["d.txt"], "a changed file is reported, never re-ingested"
    code, out, _ = cli("doctor")
    assert code == 0 and lines(out)[0].startswith("warning: changed-file: d.txt: ")
    assert lines(out)[-1].startswith("healthy: 4 documents")


@pytest.mark.integration
def test_embedder_mismatch_is_a_problem_repair_cannot_fix(cli, ingested):
    code, out, _ = cli("doctor", VERBATIM_EMBEDDER="e5")
    assert code == 1
    first = lines(out)[0]
    assert first.startswith("embedder: the index at ") and f"built with embedder '{MINILM}', not 'e5'" in first
    assert lines(out)[-1].startswith("1 problems found")  # and the rest was still examined: nothing else
    code, out, _ = cli("doctor", "--repair", "--json", VERBATIM_EMBEDDER="e5")
    report = json.loads(out)
    assert code == 1 and [p["kind"] for p in report["remaining"]] == ["embedder"] and report["repaired"] == []


def test_doctor_usage_errors_exit_2(cli):
    assert cli("doctor", "--bogus")[0] == 2
    code, _, err = cli("doctor", VERBATIM_EMBEDDER="word2vec")
    assert code == 2 and "unknown embedder" in err


@pytest.mark.integration
def test_delete_by_source_id_or_path(cli, ingested, tmp_path):
    write(tmp_path / "other", "b.txt", "Another b. It has the same file name.\n")
    assert cli("ingest", tmp_path / "other", "--json")[0] == 0
    store = cli.store()
    ids = {r.doc_id: r for r in store.documents()}

    code, _, err = cli("delete", "b.txt")  # two documents are called b.txt
    assert code == 2 and "2 documents are named 'b.txt'" in err and "give the id" in err
    code, _, err = cli("delete", "nope.txt")
    assert code == 2 and "no document 'nope.txt'" in err

    code, out, _ = cli("delete", str(tmp_path / "other" / "b.txt"), "--json")
    gone = json.loads(out)
    assert code == 0 and gone["source"] == "b.txt" and ids[gone["deleted"]].path.startswith(str(tmp_path / "other"))
    a = by_source(store)["a.md"]
    code, out, _ = cli("delete", a.doc_id)
    assert code == 0 and out.strip() == f"deleted a.md ({a.doc_id})"
    code, out, _ = cli("delete", "c.txt")
    assert code == 0 and out.startswith("deleted c.txt")
    assert set(by_source(store)) == {"b.txt", "d.txt", "e.txt"}
    assert (ingested / "a.md").exists(), "delete never touches the file"
    assert_consistent(store)
    assert cli("doctor")[0] == 0
