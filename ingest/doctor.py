"""``verbatim doctor``: check the store against its commit records and documents, and repair what it can.

The write protocol (rows first, commit record last, sweep) keeps the index consistent through crashes; a bug,
a manual edit or a write Chroma lost is only found by looking. Problems are per document and kind; repair
sweeps orphans, drops an inconsistent document and re-ingests it from its file, and rebuilds BM25. Missing
or changed source files are warnings: the index is stale there, not broken, and `verbatim ingest` fixes it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chromadb.errors import ChromaError

from verbatim_qa.types import Chunk, sentence_id
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store

from .loaders import LoadError
from .pipeline import ingest_paths, load_for_index

DOC_KINDS = ("counts", "ids", "offsets", "sentences", "vectors")  # repaired by dropping and re-ingesting


@dataclass
class Finding:
    kind: str  # orphans | counts | ids | offsets | sentences | vectors | bm25 | embedder | missing-file | changed-file
    detail: str
    source: str = ""
    doc_id: str = ""
    repairable: bool = True
    warning: bool = False  # report only: the store is stale there, not broken

    def line(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{'warning: ' if self.warning else ''}{self.kind}: {where}{self.detail}"


@dataclass
class Checkup:
    findings: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.warning]

    @property
    def healthy(self) -> bool:
        return not self.remaining

    def to_dict(self) -> dict:
        return {"healthy": self.healthy, **self.counts, "problems": [asdict(f) for f in self.problems],
                "warnings": [asdict(f) for f in self.findings if f.warning], "repaired": self.repaired,
                "remaining": [asdict(f) for f in self.remaining]}


def examine(store: Store, files: bool = True) -> list[Finding]:
    """Every problem of the store, one Finding per document and kind (plus orphans, BM25 and files)."""
    records = {m["doc_id"]: (m, text) for _, text, m in store.rows("docs", ["documents", "metadatas"])}
    chunk_rows = list(store.rows("chunks", ["documents", "metadatas"]))
    sent_rows = list(store.rows("sentences", ["documents", "metadatas"]))
    out = _orphans(store, records, chunk_rows, sent_rows)
    live_chunks, live_sents = _committed_by_doc(records, chunk_rows), _committed_by_doc(records, sent_rows)
    for name, rows in (("chunk", chunk_rows), ("sentence", sent_rows)):
        dupes = [i for i, n in Counter(r[0] for r in rows).items() if n > 1]
        if dupes:
            out.append(Finding("ids", f"{len(dupes)} {name} ids listed twice by Chroma", repairable=False))
    unreadable = _unreadable_vectors(store, live_chunks, live_sents)
    for doc_id, (meta, text) in records.items():
        out += _check_document(meta, text, live_chunks[doc_id], live_sents[doc_id])
        if unreadable[doc_id]:
            out.append(Finding("vectors", f"{unreadable[doc_id]} chunk or sentence vectors cannot be read "
                                          "(Chroma lost them: two processes wrote this index at once?)",
                               meta["source"], doc_id))
    out += _check_bm25(store, {r[0] for rows in live_chunks.values() for r in rows})
    if files:
        out += [f for meta, _ in records.values() if (f := _check_file(store, meta))]
    return out


def _committed_by_doc(records: dict, rows: list) -> dict[str, list]:
    out = defaultdict(list)
    for row in rows:
        rec = records.get(row[2]["doc_id"])
        if rec is not None and rec[0]["sha"] == row[2]["doc_sha"]:
            out[row[2]["doc_id"]].append(row)
    return out


def _unreadable_vectors(store: Store, *by_doc: dict[str, list]) -> Counter:
    """Committed rows per document whose vector Chroma cannot return (its id is listed but its vector is gone).
    Ids are read in pages; a page that fails is read again one id at a time to find the lost ones."""
    bad: Counter = Counter()
    for col, rows in zip((store.chunks, store.sentences), by_doc):
        doc_of = {row[0]: doc_id for doc_id, doc_rows in rows.items() for row in doc_rows}
        ids = sorted(doc_of)
        for i in range(0, len(ids), store.batch):
            page = ids[i : i + store.batch]
            if _vectors_readable(col, page):
                continue
            bad.update(doc_of[x] for x in page if not _vectors_readable(col, [x]))
    return bad


def _vectors_readable(col, ids: list[str]) -> bool:
    try:
        got = col.get(ids=ids, include=["embeddings"])
    except ChromaError as exc:  # "Error getting embedding" / "Error finding id": the finding this looks for
        if "embedding" in str(exc) or "finding id" in str(exc):
            return False
        raise
    return len(got["ids"]) == len(ids) and all(v is not None and len(v) for v in got["embeddings"])


def _orphans(store: Store, records: dict, chunk_rows: list, sent_rows: list) -> list[Finding]:
    """One finding per uncommitted (document, version); rows younger than the sweep grace may be in flight."""
    groups: dict[tuple, list] = defaultdict(lambda: [0, 0, "", 0.0])
    for slot, rows in ((0, chunk_rows), (1, sent_rows)):
        for _, _, m in rows:
            rec = records.get(m["doc_id"])
            if rec is None or rec[0]["sha"] != m["doc_sha"]:
                g = groups[(m["doc_id"], m["doc_sha"])]
                g[slot] += 1
                g[2] = m.get("source", "")
                g[3] = max(g[3], m.get("written_at", 0.0))
    out = []
    for (doc_id, sha), (n_chunks, n_sents, source, written) in sorted(groups.items()):
        detail = f"{n_chunks} chunks and {n_sents} sentences of version {sha[:12]} have no commit record"
        young = time.time() - written < store.sweep_grace
        if young:
            detail += " (written moments ago: maybe an ingest in progress; left alone)"
        out.append(Finding("orphans", detail, source, doc_id, repairable=not young, warning=young))
    return out


def _check_document(meta: dict, text: str, chunks: list, sents: list) -> list[Finding]:
    doc_id, sha, source = meta["doc_id"], meta["sha"], meta["source"]
    out = []

    def add(kind: str, detail: str) -> None:
        out.append(Finding(kind, detail, source, doc_id))

    if (len(chunks), len(sents)) != (meta["chunks"], meta["sentences"]):
        add("counts", f"{len(chunks)} chunks and {len(sents)} sentences stored, "
                      f"the commit record says {meta['chunks']} and {meta['sentences']}")
    spans = Counter((m["char_start"], m["char_end"]) for _, _, m in chunks)
    bad_ids = sum(i != Chunk.make_id(doc_id, sha, m["char_start"], m["char_end"]) for i, _, m in chunks)
    if bad_ids or any(n > 1 for n in spans.values()):
        add("ids", f"{bad_ids} chunks whose id does not match their span, "
                   f"{sum(n - 1 for n in spans.values() if n > 1)} duplicate chunk spans")
    bad_text = sum(t != text[m["char_start"] : m["char_end"]] for _, t, m in chunks + sents)
    if bad_text:
        add("offsets", f"{bad_text} chunks or sentences whose text is not document[char_start:char_end]")
    expected = {sentence_id(i, n) for i, _, m in chunks for n in range(len(json.loads(m["sentences"])))}
    actual = {i for i, _, _ in sents}
    chunk_of = {i: m for i, _, m in chunks}
    outside = sum(not (m["chunk_id"] in chunk_of and chunk_of[m["chunk_id"]]["char_start"] <= m["char_start"]
                       and m["char_end"] <= chunk_of[m["chunk_id"]]["char_end"]) for _, _, m in sents)
    if expected != actual or outside:
        add("sentences", f"{len(expected - actual)} sentences missing, {len(actual - expected)} unexpected, "
                         f"{outside} outside their chunk")
    return out


def _check_bm25(store: Store, live_ids: set[str]) -> list[Finding]:
    """The cached BM25 index of the current version must list exactly the committed chunks (none yet is fine)."""
    folder = LexicalIndex.folder_for(store, store.version())
    if not (folder / "ids.json").exists():
        return []
    ids = set(LexicalIndex.load(folder).chunk_ids)
    if ids == live_ids:
        return []
    return [Finding("bm25", f"the BM25 index lists {len(ids - live_ids)} chunks Chroma does not have "
                            f"and misses {len(live_ids - ids)}")]


def _check_file(store: Store, meta: dict) -> Finding | None:
    path, source = Path(meta["path"]), meta["source"]
    if not path.exists():
        return Finding("missing-file", f"{path} is gone (its document stays until `verbatim ingest --prune`)",
                       source, meta["doc_id"], repairable=False, warning=True)
    try:
        sha = load_for_index(path, store.settings).sha
    except LoadError as exc:
        return Finding("changed-file", f"{path} can no longer be read ({exc.reason})", source, meta["doc_id"],
                       repairable=False, warning=True)
    if sha != meta["sha"]:
        return Finding("changed-file", f"{path} changed since it was ingested (run `verbatim ingest`)", source,
                       meta["doc_id"], repairable=False, warning=True)
    return None


def repair(store: Store, findings: list[Finding]) -> list[str]:
    """Fix what can be fixed; returns one line per action taken."""
    done = []
    if any(f.kind == "orphans" and f.repairable for f in findings):
        done.append(f"swept {store.sweep()} orphan chunks and sentences")
    broken = {f.doc_id: f for f in findings if f.kind in DOC_KINDS and f.doc_id}
    for doc_id, f in broken.items():
        record = store.document(doc_id)
        if record is None or not store.delete_document(doc_id):
            continue
        if Path(record.path).exists():
            report = ingest_paths(store, [Path(record.path)])
            why = f": {report.failed[0]['reason']}" if report.failed else ""
            done.append(f"dropped {f.source} and re-ingested {record.path}{why}")
        else:
            done.append(f"dropped {f.source}: its file {record.path} is gone, nothing to re-ingest")
    if broken or any(f.kind == "bm25" for f in findings):
        shutil.rmtree(LexicalIndex.folder_for(store, store.version()), ignore_errors=True)
        done.append(f"rebuilt the BM25 index ({len(LexicalIndex.for_store(store).chunk_ids)} chunks)")
    return done


def checkup(store: Store, fix: bool = False, extra: list[Finding] | None = None) -> Checkup:
    """Examine, and with ``fix`` repair and examine again; ``remaining`` are the problems left. A repair holds
    the home's writer lock throughout, so what it repairs is what it examined."""
    if fix:
        with store.writing():
            return _checkup(store, True, extra)
    return _checkup(store, False, extra)


def _checkup(store: Store, fix: bool, extra: list[Finding] | None) -> Checkup:
    result = Checkup(findings=[*(extra or []), *examine(store)])
    result.remaining = result.problems
    if fix:
        result.repaired = repair(store, result.findings)
        if result.repaired:
            again = [*(extra or []), *examine(store, files=False)]
            result.remaining = [f for f in again if not f.warning]
    result.counts = store.counts()
    return result
