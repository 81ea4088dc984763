"""Store + incremental pipeline on real Chroma (temp dirs) and the real bundled MiniLM model.

Every test ends with ``assert_consistent``: the chunks and sentences in Chroma are exactly those vouched for by
the docs records (the commit), their counts match the records, and every stored span slices the stored text.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import integration_selected
from helpers import write

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.types import Chunk, Sentence
from verbatim_qa.vectorstore import store as store_module
from verbatim_qa.vectorstore.embedder import get_embedder
from verbatim_qa.vectorstore.embeddings import VerbatimEmbeddings
from verbatim_qa.vectorstore.store import EmbedderMismatch, Store, chunk_metadata, embed_text

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py

EN_A = (
    "# Silk Road Notes\n\n"
    "The old Silk Road linked China with Central Asia. Caravans carried silk, paper and ideas west.\n\n"
    "## Cities\n\n"
    "Samarkand and Bukhara grew rich on the trade. Dr. Smith calls them the hinges of Eurasia. "
    "Their markets sold goods from many lands.\n"
)
EN_B = (
    "Water in Central Asia\n\n"
    "The Amu Darya and the Syr Darya feed the Aral Sea basin. Irrigation for cotton drained the sea. "
    "Regional cooperation on water is still difficult.\n"
)
FA_C = (
    "# همکاری منطقه‌ای\n\n"
    "چین با کشورهای آسیای مرکزی در حوزه انرژی همکاری می‌کند. این همکاری در سال‌های اخیر گسترش یافته است؟ "
    "بله، و کارشناسان آن را مهم می‌دانند.\n"
)



def good_folder(root: Path) -> Path:
    folder = root / "docs"
    write(folder, "a.md", EN_A)
    write(folder, "b.txt", EN_B)
    write(folder, "c.md", FA_C)
    return folder


def rows(col, where: dict | None = None) -> list[tuple[str, str, dict]]:
    got = col.get(where=where, include=["documents", "metadatas"])
    return list(zip(got["ids"], got["documents"], got["metadatas"]))


def chunk_ids(store: Store, doc_id: str) -> set[str]:
    return set(store.chunks.get(where={"doc_id": doc_id})["ids"])


def by_source(store: Store) -> dict:
    return {r.source: r for r in store.documents()}


def assert_consistent(store: Store) -> None:
    """No orphan, counts match the commit records, and every span is an exact slice of the document."""
    records = {r.doc_id: r for r in store.documents()}
    committed = {(r.doc_id, r.sha) for r in records.values()}
    texts = {doc_id: store.document_text(doc_id) for doc_id in records}
    chunks = store.all_chunks()
    assert len(chunks) == store.chunks.count()
    sentence_rows = rows(store.sentences)
    for doc_id, rec in records.items():
        assert sum(c.doc_id == doc_id for c in chunks) == rec.chunks > 0, rec.source
        assert sum(m["doc_id"] == doc_id for _, _, m in sentence_rows) == rec.sentences > 0, rec.source
    by_id = {}
    for c in chunks:
        assert (c.doc_id, c.doc_sha) in committed, f"orphan chunk {c.chunk_id}"
        text = texts[c.doc_id]
        assert text[c.char_start : c.char_end] == c.text, (c.source, c.char_start, c.char_end)
        assert c.sentences and c.sentences[0].char_start == c.char_start and c.sentences[-1].char_end == c.char_end
        for s in c.sentences:
            assert c.char_start <= s.char_start < s.char_end <= c.char_end
            assert text[s.char_start : s.char_end] == s.text and s.text.strip() == s.text
        assert c.source == records[c.doc_id].source
        by_id[c.chunk_id] = c
    for sid, stext, m in sentence_rows:
        assert (m["doc_id"], m["doc_sha"]) in committed, f"orphan sentence {sid}"
        assert texts[m["doc_id"]][m["char_start"] : m["char_end"]] == stext
        chunk = by_id[m["chunk_id"]]
        assert chunk.char_start <= m["char_start"] < m["char_end"] <= chunk.char_end
        assert Sentence(m["char_start"], m["char_end"], stext) in chunk.sentences
    # every sentence listed in a chunk's metadata has its own embedded row
    assert len(sentence_rows) == sum(len(c.sentences) for c in chunks)


class CountingEmbedder(VerbatimEmbeddings):
    """The real MiniLM, counting the texts it is asked to embed (to prove what was *not* re-embedded)."""

    def __init__(self, inner: VerbatimEmbeddings) -> None:
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.passages = 0
        self.texts: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        self.texts += texts
        return self.inner.encode_passages(texts)


@pytest.fixture(scope="module")
def minilm() -> VerbatimEmbeddings:
    return get_embedder(MINILM)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread(request):
    """On 2 cores torch's intra-op threads fight Chroma's own threads: one thread halves these tests' time."""
    if not integration_selected(request):  # a unit run loads no model: no torch to import
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------- 1. idempotent, incremental, honest counts
@pytest.mark.integration
def test_incremental_ingest_counts(make_settings, tmp_path, minilm):
    folder = good_folder(tmp_path)
    embedder = CountingEmbedder(minilm)
    store = Store(make_settings(chunk_chars=120), embedder=embedder)

    first = ingest_paths(store, [folder])
    assert (first.added, first.updated, first.skipped, first.deleted, first.failed, first.swept) == (3, 0, 0, 0, [], 0)
    assert first.exit_code == 0
    assert_consistent(store)
    docs = by_source(store)
    assert set(docs) == {"a.md", "b.txt", "c.md"}
    assert docs["a.md"].chunks >= 2, "small chunk_chars should give several chunks"
    assert docs["c.md"].langs == ("fa",)
    before_ids = {s: chunk_ids(store, r.doc_id) for s, r in docs.items()}
    embedded = embedder.passages
    assert embedded == sum(r.chunks + r.sentences for r in docs.values())

    again = ingest_paths(store, [folder])
    assert (again.added, again.updated, again.skipped, again.deleted, again.failed) == (0, 0, 3, 0, [])
    assert embedder.passages == embedded, "an unchanged document was re-embedded"
    assert {s: chunk_ids(store, r.doc_id) for s, r in by_source(store).items()} == before_ids
    assert by_source(store) == docs  # records (ingested_at too) untouched

    # modify one file: only it is re-indexed, its old chunks and sentences are gone
    old_b = docs["b.txt"]
    write(folder, "b.txt", EN_B + "\nA new closing sentence about dams and canals.\n")
    changed = ingest_paths(store, [folder])
    assert (changed.added, changed.updated, changed.skipped, changed.deleted, changed.failed) == (0, 1, 2, 0, [])
    new_b = by_source(store)["b.txt"]
    assert new_b.doc_id == old_b.doc_id and new_b.sha != old_b.sha
    for col in (store.chunks, store.sentences):
        assert not col.get(where={"doc_sha": old_b.sha})["ids"]
        assert col.get(where={"doc_sha": new_b.sha})["ids"]
    assert len(chunk_ids(store, new_b.doc_id)) == new_b.chunks
    assert not chunk_ids(store, new_b.doc_id) & before_ids["b.txt"]
    assert "dams and canals" in store.document_text(new_b.doc_id)
    assert embedder.passages == embedded + new_b.chunks + new_b.sentences
    for other in ("a.md", "c.md"):
        assert chunk_ids(store, docs[other].doc_id) == before_ids[other]
    assert_consistent(store)

    # a deleted file stays indexed without prune, and is deleted (record, chunks, sentences) with it
    (folder / "a.md").unlink()
    kept = ingest_paths(store, [folder])
    assert (kept.added, kept.updated, kept.skipped, kept.deleted, kept.failed) == (0, 0, 2, 0, [])
    assert "a.md" in by_source(store)
    pruned = ingest_paths(store, [folder], prune=True)
    assert (pruned.added, pruned.updated, pruned.skipped, pruned.deleted, pruned.failed) == (0, 0, 2, 1, [])
    a_id = docs["a.md"].doc_id
    assert store.document(a_id) is None and set(by_source(store)) == {"b.txt", "c.md"}
    for col in (store.chunks, store.sentences):
        assert not col.get(where={"doc_id": a_id})["ids"]
    assert_consistent(store)

    # a new file is added, the rest skipped
    write(folder, "sub/d.txt", "Kazakhstan exports grain and oil. Its capital moved to Astana in 1997.\n")
    added = ingest_paths(store, [folder], prune=True)
    assert (added.added, added.updated, added.skipped, added.deleted, added.failed) == (1, 0, 2, 0, [])
    assert set(by_source(store)) == {"b.txt", "c.md", "d.txt"}
    assert_consistent(store)


@pytest.mark.integration
def test_derived_chunk_vectors_embed_each_sentence_once(make_settings, tmp_path, minilm):
    folder = good_folder(tmp_path)
    embedder = CountingEmbedder(minilm)
    store = Store(make_settings(chunk_chars=120, chunk_vectors="derived"), embedder=embedder)
    assert ingest_paths(store, [folder]).added == 3
    assert_consistent(store)
    chunks = store.all_chunks()
    assert any(len(c.sentences) > 1 for c in chunks) and any(c.section for c in chunks)
    # every sentence embedded exactly once, and nothing else (no chunk text, no section path)
    assert Counter(embedder.texts) == Counter(s.text for c in chunks for s in c.sentences)

    got = store.chunks.get(include=["embeddings"])
    stored = dict(zip(got["ids"], np.asarray(got["embeddings"])))
    got = store.sentences.get(include=["embeddings"])
    sentence_vecs = dict(zip(got["ids"], np.asarray(got["embeddings"])))
    for c in chunks:
        vecs = [sentence_vecs[f"{c.chunk_id}:{i}"] for i in range(len(c.sentences))]
        mean = np.average(vecs, axis=0, weights=[len(s.text) for s in c.sentences])
        assert np.allclose(stored[c.chunk_id], mean / np.linalg.norm(mean), atol=1e-6), c.chunk_id
    multi = next(c for c in chunks if len(c.sentences) > 1)  # and not what embedding the chunk would give
    assert not np.allclose(stored[multi.chunk_id], minilm.encode_passages([embed_text(multi)])[0], atol=1e-3)

    embedded = embedder.passages
    assert ingest_paths(store, [folder]).skipped == 3 and embedder.passages == embedded


def test_unknown_chunk_vectors_is_a_value_error(make_settings):
    with pytest.raises(ValueError, match="VERBATIM_CHUNK_VECTORS: unknown chunk_vectors 'pooled'"):
        make_settings(chunk_vectors="pooled")


@pytest.mark.integration
def test_state_persists_across_store_instances(make_settings, tmp_path, minilm):
    folder = good_folder(tmp_path)
    report = ingest_paths(Store(make_settings(), embedder=minilm), [folder])
    assert report.added == 3
    reopened = Store(make_settings())  # no embedder given: a lazy one, never loaded for a skip-only run
    again = ingest_paths(reopened, [folder])
    assert (again.added, again.skipped) == (0, 3)
    assert reopened._embedder is None
    assert_consistent(reopened)


@pytest.mark.integration
def test_chunk_size_change_reindexes(make_settings, tmp_path, minilm):
    folder = good_folder(tmp_path)
    big = Store(make_settings(chunk_chars=2000), embedder=minilm)
    assert ingest_paths(big, [folder]).added == 3
    coarse = {s: r.chunks for s, r in by_source(big).items()}
    old_ids = {c.chunk_id for c in big.all_chunks()}

    small = Store(make_settings(chunk_chars=60), embedder=minilm)
    report = ingest_paths(small, [folder])
    assert (report.added, report.updated, report.skipped, report.failed) == (0, 3, 0, [])
    fine = {s: r.chunks for s, r in by_source(small).items()}
    assert all(fine[s] >= coarse[s] for s in coarse) and sum(fine.values()) > sum(coarse.values())
    assert not old_ids & {c.chunk_id for c in small.all_chunks()}
    assert_consistent(small)
    assert ingest_paths(small, [folder]).skipped == 3


# ---------------------------------------------------------------- 2. offsets on the e5-ingested corpus
@pytest.mark.integration
def test_corpus_chunks_are_exact_slices(corpus_store):
    docs = corpus_store.documents()
    assert len(docs) == 2 and any("fa" in d.langs for d in docs)
    assert corpus_store.embedder_name == "e5"
    assert_consistent(corpus_store)
    for d in docs:
        text = corpus_store.document_text(d.doc_id)
        assert text == Path(d.path).read_text(encoding="utf-8").replace("\r\n", "\n")
        spans = sorted((c.char_start, c.char_end) for c in corpus_store.all_chunks() if c.doc_id == d.doc_id)
        assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:])), "chunks overlap"


# ---------------------------------------------------------------- 3. bad input next to good input
BAD = {
    "notes.xyz": (b"plain text, wrong extension", "unsupported file type .xyz"),
    "empty.txt": (b"", "empty file"),
    "blank.md": (b"  \n\n \t\n", "empty file"),
    "binary.txt": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00binary", "binary file"),
    "garbage.txt": (bytes(range(0x80, 0x100)) * 2, "cannot decode"),
    "damaged.md": ("سلام دنیا. این یک متن است.".encode()[:-3] + b"\xff" + "ادامه.".encode(), "invalid UTF-8"),
    "broken.pdf": (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n", "corrupt PDF"),
    "broken.docx": (b"PK\x03\x04 this is not really a zip", "not a valid .docx"),
    "huge.txt": (b"Too long for the limit. " * 100, "over the 1 KB limit"),
}


@pytest.mark.integration
def test_bad_files_are_reported_and_good_ones_ingested(make_settings, tmp_path, minilm):
    old = tmp_path / "old"
    write(old, "kept.txt", "An earlier document. It was ingested before the bad batch arrived.\n" * 30)
    write(old, "later-broken.txt", "This file is fine today. Tomorrow it will be overwritten with junk.\n")
    store = Store(make_settings(), embedder=minilm)
    assert ingest_paths(store, [old]).added == 2
    before = {s: (r, chunk_ids(store, r.doc_id)) for s, r in by_source(store).items()}
    assert before["kept.txt"][0].chunks > 1  # far over 1 KB: the new limit must not touch it

    mixed = tmp_path / "mixed"
    for name, (data, _) in BAD.items():
        write(mixed, name, data)
    write(mixed, "good-en.txt", EN_B)
    write(mixed, "good-fa.md", FA_C)
    write(mixed, "nested/good.md", "# Note\n\nA short, valid note. It should be indexed.\n")
    write(old, "later-broken.txt", b"now \x00 binary")  # a known document turns bad

    small = Store(make_settings(max_file_mb=0.001), embedder=minilm)
    report = ingest_paths(small, [mixed, old / "later-broken.txt"])
    reasons = {Path(f["path"]).name: f["reason"] for f in report.failed}
    assert all(set(f) == {"path", "reason"} for f in report.failed)
    assert len(report.failed) == len(reasons) == len(BAD) + 1
    for name, (_, expected) in BAD.items():
        assert expected in reasons[name], (name, reasons[name])
    assert "binary file" in reasons["later-broken.txt"]
    for reason in reasons.values():
        assert reason and "\n" not in reason and len(reason) < 200
    assert (report.added, report.updated, report.skipped, report.deleted) == (3, 0, 0, 0)
    assert report.exit_code == 1

    docs = by_source(small)
    assert set(docs) == {"kept.txt", "later-broken.txt", "good-en.txt", "good-fa.md", "good.md"}
    for source, (record, ids) in before.items():  # untouched: same version, same chunks
        assert docs[source] == record and chunk_ids(small, record.doc_id) == ids
    assert_consistent(small)

    # prune keeps documents whose files still exist, even when they currently fail to load
    pruned = ingest_paths(small, [mixed], prune=True)
    assert (pruned.added, pruned.skipped, pruned.deleted) == (0, 3, 0)
    assert "later-broken.txt" in by_source(small)


@pytest.mark.integration
def test_missing_explicit_path_is_a_failure(make_settings, tmp_path, minilm):
    store = Store(make_settings(), embedder=minilm)
    report = ingest_paths(store, [tmp_path / "nope.txt"])
    assert report.failed == [{"path": str(tmp_path / "nope.txt"), "reason": "file not found"}]
    assert report.added == 0 and store.documents() == []


# ---------------------------------------------------------------- 5. embedder mismatch
def refuse_to_load(spec, settings=None):
    raise AssertionError(f"embedder {spec!r} loaded: refusing a mismatched index must not load or call one")


@pytest.mark.integration
def test_embedder_mismatch_says_reingest(make_settings, tmp_path, minilm, monkeypatch):
    ingest_paths(Store(make_settings(), embedder=minilm), [good_folder(tmp_path)])
    monkeypatch.setattr(store_module, "get_embedder", refuse_to_load)  # refusing must not load a model
    with pytest.raises(EmbedderMismatch) as info:
        Store(make_settings(embedder="e5"))
    monkeypatch.undo()
    msg = str(info.value)
    assert "re-ingest" in msg and MINILM in msg and "'e5'" in msg and "\n" not in msg
    assert len(Store(make_settings()).documents()) == 3  # the index itself is untouched


@pytest.mark.integration
def test_empty_index_adopts_any_embedder(make_settings, minilm):
    assert Store(make_settings(embedder="e5")).documents() == []  # e.g. `verbatim sources` on a fresh home
    store = Store(make_settings(), embedder=minilm)
    assert store.embedder_name == MINILM
    assert all(col.metadata["embedder"] == MINILM for col in (store.chunks, store.sentences, store.docs))


def test_unknown_embedder_is_a_value_error(make_settings):
    with pytest.raises(ValueError, match="unknown embedder"):
        Store(make_settings(embedder="word2vec"))


# ---------------------------------------------------------------- 7. delete and sweep
@pytest.mark.integration
def test_delete_document(make_settings, tmp_path, minilm):
    store = Store(make_settings(), embedder=minilm)
    ingest_paths(store, [good_folder(tmp_path)])
    docs = by_source(store)
    version = store.version()
    target = docs["a.md"]
    assert store.delete_document(target.doc_id) is True
    assert store.document(target.doc_id) is None
    with pytest.raises(KeyError):
        store.document_text(target.doc_id)
    for col in (store.chunks, store.sentences):
        assert not col.get(where={"doc_id": target.doc_id})["ids"]
    assert set(by_source(store)) == {"b.txt", "c.md"}
    assert store.version() != version
    assert store.delete_document(target.doc_id) is False
    assert_consistent(store)


def _fake_chunk(store: Store, doc_id: str, doc_sha: str, text: str) -> tuple[Chunk, int]:
    """Write one chunk and its sentences as a crashed write would leave them: no commit record."""
    first, second = text.split(". ", 1)
    sents = (Sentence(0, len(first) + 1, first + "."), Sentence(len(first) + 2, len(text), second))
    chunk = Chunk(chunk_id=Chunk.make_id(doc_id, doc_sha, 0, len(text)), doc_id=doc_id, source="ghost.txt",
                  title="Ghost", section=None, page=None, char_start=0, char_end=len(text), text=text, lang="en",
                  sentences=sents, doc_sha=doc_sha)
    vecs = store.embedder.encode_passages([text, *(s.text for s in sents)]).tolist()
    store.chunks.upsert(ids=[chunk.chunk_id], embeddings=vecs[:1], documents=[text],
                        metadatas=[chunk_metadata(chunk)])
    store.sentences.upsert(
        ids=[f"{chunk.chunk_id}:{i}" for i in range(len(sents))], embeddings=vecs[1:],
        documents=[s.text for s in sents],
        metadatas=[{"doc_id": doc_id, "doc_sha": doc_sha, "chunk_id": chunk.chunk_id, "source": "ghost.txt",
                    "char_start": s.char_start, "char_end": s.char_end, "lang": "en"} for s in sents],
    )
    return chunk, 1 + len(sents)


@pytest.mark.integration
def test_sweep_removes_exactly_the_orphans(make_settings, tmp_path, minilm):
    folder = good_folder(tmp_path)
    store = Store(make_settings(), embedder=minilm)
    ingest_paths(store, [folder])
    assert store.sweep() == 0
    docs = by_source(store)
    committed = {c.chunk_id for c in store.all_chunks()}
    n_sentences = store.sentences.count()

    # crash while adding a new document, and crash while updating an existing one (new sha, no new record)
    _, n1 = _fake_chunk(store, "feedfacefeedface", "ab" * 32, "Ghost text. Nobody committed this.")
    _, n2 = _fake_chunk(store, docs["b.txt"].doc_id, "cd" * 32, "Half written. The update never finished.")
    assert store.chunks.count() == len(committed) + 2
    fast = store.orphans(exact=False)  # what ingest's sweep uses: the database filters, no full scan
    assert fast == store.orphans(exact=True) and len(fast[store.chunks.name]) == 2
    assert store.sweep() == n1 + n2
    assert {c.chunk_id for c in store.all_chunks()} == committed
    assert store.sentences.count() == n_sentences
    assert by_source(store) == docs
    assert_consistent(store)

    # a crash between deleting the commit record and the chunks: sweep finishes the delete
    a = docs["a.md"]
    store.docs.delete(ids=[a.doc_id])
    assert store.orphans(exact=False) == store.orphans(exact=True)
    assert store.sweep() == a.chunks + a.sentences
    assert not store.chunks.get(where={"doc_id": a.doc_id})["ids"]

    # ingest sweeps first and reports it
    _, n3 = _fake_chunk(store, "0123456789abcdef", "ef" * 32, "Left over. From a crash.")
    report = ingest_paths(store, [folder])
    assert report.swept == n3
    assert (report.added, report.updated, report.skipped, report.failed) == (1, 0, 2, [])  # a.md comes back
    assert_consistent(store)


@pytest.mark.integration
def test_write_document_commit_record(make_settings, tmp_path, minilm):
    store = Store(make_settings(), embedder=minilm)
    ingest_paths(store, [good_folder(tmp_path)])
    rec = by_source(store)["a.md"]
    meta = store.docs.get(ids=[rec.doc_id], include=["metadatas"])["metadatas"][0]
    assert meta["path"] == str((tmp_path / "docs" / "a.md").resolve())
    assert json.loads(meta["pages"]) == []
    assert rec.title == "Silk Road Notes" and rec.ingested_at <= time.time()
    hits = store.query_chunks(minilm.encode_queries(["Which cities grew rich on trade?"])[0], 3)
    assert hits and store.get_chunks([hits[0][0]])[0].source == "a.md"
    only_fa = store.query_sentences(minilm.encode_queries(["energy"])[0], 50, where={"source": "c.md"})
    assert only_fa and {c.source for c in store.get_chunks([sid.rsplit(":", 1)[0] for sid, _ in only_fa])} == {"c.md"}


def test_reopening_a_store_writes_nothing(make_settings, monkeypatch):
    """Opening applies the HNSW settings once; a second open must not modify collections (a write that made
    a read-only `doctor` hit 'database is locked' next to another open client)."""
    from chromadb.api.models.Collection import Collection

    first = Store(make_settings())
    assert first.chunks.configuration_json["hnsw"]["ef_search"] == 400
    assert first.docs.configuration_json["hnsw"]["sync_threshold"] == 100

    def refuse(self, *a, **kw):
        raise AssertionError(f"modified {self.name} on reopen")

    monkeypatch.setattr(Collection, "modify", refuse)
    Store(make_settings())


@pytest.mark.integration
def test_queries_never_count_the_collection(make_settings, tmp_path, minilm, monkeypatch):
    """``count()`` scans the collection (40 ms per query at 293k sentences, against 2.5 ms for the search):
    queries ask Chroma for n and take what it has, on an empty store too."""
    from chromadb.api.models.Collection import Collection

    store = Store(make_settings(), embedder=minilm)
    vec = minilm.encode_queries(["trade"])[0]

    def refuse(self, *a, **kw):
        raise AssertionError(f"counted {self.name} to answer a query")

    monkeypatch.setattr(Collection, "count", refuse)
    assert store.query_chunks(vec, 100) == [] and store.query_sentences(vec, 200) == []
    monkeypatch.undo()
    ingest_paths(store, [good_folder(tmp_path)])
    n_chunks, n_sents = store.chunks.count(), store.sentences.count()
    monkeypatch.setattr(Collection, "count", refuse)
    chunks, sents = store.query_chunks(vec, 100), store.query_sentences(vec, 500)
    assert len(chunks) == n_chunks < 100 and len(sents) == n_sents < 500  # all of them, none twice
    assert len({c for c, _ in chunks}) == n_chunks and all(-1.0 <= s <= 1.0001 for _, s in sents)


@pytest.mark.integration
def test_store_use_raises_no_deprecation_warning(make_settings, minilm, tmp_path):
    """Creating, reopening, writing, reading, querying and deleting: none of it may warn (Chroma's "legacy
    embedding function config" came from reading ``collection.configuration``)."""
    import warnings

    doc = write(tmp_path, "a.md", "# Trade\n\nCaravans carried silk and tea. The oasis towns grew rich on the trade.\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = Store(make_settings(), embedder=minilm)
        assert ingest_paths(store, [doc]).added == 1
        again = Store(make_settings(), embedder=minilm)
        assert again.all_chunks() and again.query_chunks(minilm.encode_queries(["silk"])[0], 2)
        assert again.delete_document(again.documents()[0].doc_id)


@pytest.mark.integration
def test_opening_to_read_writes_nothing(make_settings, minilm, tmp_path):
    """A reader (sources, search, ask, brief) creates no folder, database or collection, and leaves an
    existing index's files as they were; it refuses to write."""
    settings = make_settings()
    empty = Store(settings, embedder=minilm, read_only=True)
    assert empty.documents() == [] and empty.all_chunks() == [] and empty.committed() == {}
    assert empty.query_chunks(minilm.encode_queries(["trade"])[0], 3) == []
    assert not settings.deployment.home.exists()
    with pytest.raises(RuntimeError, match="read-only"):
        empty.sweep()
    doc = write(tmp_path, "a.md", "# Trade\n\nCaravans carried silk and tea. The oasis towns grew rich on the trade.\n")
    ingest_paths(Store(settings, embedder=minilm), [doc])

    def snapshot() -> dict:
        return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in settings.chroma_dir.rglob("*") if p.is_file()}

    before = snapshot()
    reader = Store(settings, embedder=minilm, read_only=True)
    assert [r.source for r in reader.documents()] == ["a.md"] and reader.all_chunks()
    assert reader.query_sentences(minilm.encode_queries(["silk"])[0], 2)
    assert snapshot() == before
    other = Store(settings.with_(collection="elsewhere"), embedder=minilm, read_only=True)
    assert other.documents() == [] and snapshot() == before


def test_the_kind_of_chunk_vector_is_part_of_a_documents_sha(make_settings, tmp_path):
    """Switching VERBATIM_CHUNK_VECTORS re-indexes on the next ingest; the default keeps existing shas."""
    from verbatim_qa.ingest.loaders import load_document
    from verbatim_qa.ingest.pipeline import CHUNKER_VERSION, load_for_index
    from verbatim_qa.types import content_hash

    doc = write(tmp_path, "a.md", "# Trade\n\nCaravans carried silk and tea.\n")
    embedded = load_for_index(doc, make_settings())
    assert embedded.sha == content_hash(load_document(doc, 10**6).sha, CHUNKER_VERSION, "600")
    assert load_for_index(doc, make_settings(chunk_vectors="derived")).sha != embedded.sha
