"""Chroma-backed store of documents, chunks and sentences.

Three collections: ``<name>_docs`` (full text + metadata, the commit record), ``<name>_chunks`` and
``<name>_sentences`` (embedded). A document is written chunks and sentences first, then its docs record;
the docs record is the commit, and ``sweep`` deletes any chunk or sentence whose (doc_id, doc_sha) has no
commit record. Readers (``all_chunks``, ``get_chunks``) only ever return committed rows, so a crash mid-write
(or another instance's write in flight) is invisible even before a sweep removes its leftovers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from verbatim_qa.cache import LruCache
from verbatim_qa.settings import Settings, embedder_identity
from verbatim_qa.types import Chunk, DocRecord, Document, Sentence, content_hash, sentence_id

from .embedder import get_embedder
from .embeddings import EmbedderMismatch, VerbatimEmbeddings
from .view import Gate, GuardedCollection
from .writer import HomeLock

# In server mode another instance may be writing right now: its uncommitted rows look like orphans, so a sweep
# only removes orphans older than this. An embedded store sweeps at once: it sweeps holding the home's writer
# lock (vectorstore/writer.py), and every write commits before it lets go, so no other write is in flight.
SERVER_SWEEP_GRACE = 600.0
# Chroma's upsert gets slower with the bytes written since the collection's last index sync (every
# sync_threshold records, default 1000). Commit records carry whole documents (~14 KB), so with the default
# a write cost up to ~8x more by the 1000th document (measured: 50 -> 400 ms); syncing every 100 keeps it flat.
DOCS_HNSW = {"sync_threshold": 100}  # batch_size stays at its default, 100 (Chroma does not always echo it back)
# HNSW with the default ef_search (100) answered the 100- and 200-nearest queries approximately: the same index
# gave different candidate pools (and so different rankings) in different processes. 400 keeps them exact at
# this scale for ~1 ms.
SEARCH_HNSW = {"ef_search": 400}
# A tie at a pool's cut is widened up to this many times the pool: a book's running head repeated a few dozen
# times is found whole; thousands of copies of one vector are beyond what HNSW enumerates reliably (or cheaply).
TIE_WIDENING = 8
ROW_CACHE = 4096  # chunk rows kept in memory by get_chunks (~5 MB)
FILTER_LIMIT = 5000  # commit records up to which the sweep lets the database filter (query size stays modest)
KINDS = ("chunks", "sentences", "docs")


def make_client(settings: Settings):
    """Embedded PersistentClient under VERBATIM_HOME, or an HTTP client when VERBATIM_CHROMA_URL is set."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.deployment.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.deployment.chroma_url)
        headers = (
            {"Authorization": f"Bearer {settings.deployment.chroma_token}"}
            if settings.deployment.chroma_token
            else None
        )
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            headers=headers,
            settings=chroma_settings,
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def embed_text(chunk: Chunk) -> str:
    """What the dense index sees for a chunk: its section path gives short chunks their context."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


class Store:
    """The embedder is loaded on first use, so listing documents (or refusing a mismatched index) is fast."""

    def __init__(self, settings: Settings, embedder: VerbatimEmbeddings | None = None, client=None,
                 read_only: bool = False, sibling: Store | None = None) -> None:
        """``read_only``: opening never writes (no folder, database, collection or configuration is created or
        changed); an index that does not exist yet reads as empty, and the write methods refuse.
        ``sibling``: an open store of another collection of the same home or server: this one shares its writer
        lock and its reloads (``_reload``)."""
        self.settings = settings
        self.read_only = read_only
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        spec = settings.deployment.embedder  # validated there
        self.embedder_name, self.embedder_model = ((embedder.name, embedder.model) if embedder is not None
                                                   else embedder_identity(spec))
        # One writer per home (embedded only: a Chroma server keeps one index itself, see vectorstore/writer.py).
        self.lock = sibling.lock if sibling else (HomeLock(settings.deployment.home)
                                                  if not settings.deployment.chroma_url else None)
        # The stores of one home in this process share one Chroma system (chromadb keeps one per path): a reload
        # closes and opens all of them, or the reopened client would be the old one, still open for the others.
        self._family: list[Store] = sibling._family if sibling else []
        self._family.append(self)
        self.loads = 0  # how many times the index was loaded again (a sibling's reload counts)
        self.on_wait: Callable[[str], None] | None = None  # told once when a write waits for another writer
        self._seen = self.lock.writes() if self.lock else 0  # the writes this view has (read before opening)
        self._gate = Gate()
        self._following = threading.Lock()
        self.chunks, self.sentences, self.docs = (GuardedCollection(self._gate, lambda k=k: self._cols[k])
                                                  for k in KINDS)
        missing = not settings.deployment.chroma_url and not (settings.chroma_dir / "chroma.sqlite3").exists()
        self._reloadable = client is None and not settings.deployment.chroma_url and not (read_only and missing)
        if client is None and read_only and missing:
            client = _empty_client()  # nothing stored yet: read an empty in-memory index rather than create one
        self.client = client or make_client(settings)
        self._database = None  # the home's database when a read-only store reads this collection empty
        self._cols = dict(zip(KINDS, self._open_collections()))
        stored = {(col.metadata or {}).get("embedder") for col in (self.chunks, self.sentences, self.docs)}
        if stored != {self.embedder_name}:
            if any(col.count() for col in (self.chunks, self.sentences, self.docs)):
                other = sorted(str(x) for x in stored if x != self.embedder_name)[0]
                raise EmbedderMismatch(
                    f"the index at {self.where} was built with embedder {other!r}, not {self.embedder_name!r} "
                    f"({self._recorded()}; this: model {self.embedder_model}): re-ingest (delete the index and "
                    f"run `verbatim ingest` again) or set VERBATIM_EMBEDDER={other}",
                    stored=other,
                )
            # An empty index (e.g. created by an earlier version's `sources` under another embedder) adopts this
            # one: when writing; a reader just reads it (empty).
            for col in (self.chunks, self.sentences, self.docs) if not read_only else ():
                self.client.delete_collection(col.name)
            if not read_only:
                self._cols = dict(zip(KINDS, self._open_collections()))
        self.batch = max(1, min(self.client.get_max_batch_size(), 1000))  # rows per Chroma request
        self.sweep_grace = SERVER_SWEEP_GRACE if settings.deployment.chroma_url else 0.0
        self._rows: LruCache[str, Chunk] = LruCache(ROW_CACHE)  # chunk rows read, by id (see get_chunks)

    @property
    def where(self) -> str:
        return self.settings.deployment.chroma_url or str(self.settings.chroma_dir)

    def _recorded(self) -> str:
        """What the index records of the embedder that built it (indexes before the model and dimension were
        recorded have the name only)."""
        meta = self.chunks.metadata or {}
        return (f"index: model {meta.get('embedder_model', '?')}, "
                f"{meta.get('embedder_dim', '?')} dimensions")

    def _record_dim(self, dim: int) -> None:
        """The index records the dimension of the vectors written (an index of another dimension is refused with
        one line here, before Chroma refuses a row)."""
        stored = (self.chunks.metadata or {}).get("embedder_dim")
        if stored == dim:
            return
        if stored is not None:
            raise EmbedderMismatch(f"the index at {self.where} holds {stored}-dimensional vectors of embedder "
                                   f"{self.embedder_name!r}, but it now returns {dim}: re-ingest into a new index",
                                   stored=self.embedder_name)
        for col in (self.chunks, self.sentences, self.docs):
            col.modify(metadata={**(col.metadata or {}), "embedder_model": self.embedder_model, "embedder_dim": dim})

    def _open_collections(self):
        name = self.settings.deployment.collection
        meta = {"embedder": self.embedder_name, "embedder_model": self.embedder_model}
        if self.read_only:
            try:
                return tuple(self.client.get_collection(f"{name}_{suffix}", embedding_function=None)
                             for suffix in ("chunks", "sentences", "docs"))
            except NotFoundError:  # a database without this index (another VERBATIM_COLLECTION): read it empty
                self._database, self.client = self.client, _empty_client()  # (its other collections still listed)
        cols = []
        for suffix, hnsw in (("chunks", SEARCH_HNSW), ("sentences", SEARCH_HNSW), ("docs", DOCS_HNSW)):
            space = {"space": "cosine"} if suffix != "docs" else {}
            col = self.client.get_or_create_collection(f"{name}_{suffix}", embedding_function=None, metadata=meta,
                                                       configuration={"hnsw": {**space, **hnsw}})
            current = (col.configuration_json or {}).get("hnsw") or {}  # raw: `.configuration` warns "legacy EF"
            if any(current.get(k) != v for k, v in hnsw.items()):  # an index created before these settings
                col.modify(configuration={"hnsw": hnsw})
            cols.append(col)
        return tuple(cols)

    # ---- one writer per home, and following the others -----------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the home's writer lock (reentrant) for a write; the outermost hold first loads the index again
        when another process wrote since this store looked. WriterBusy (one line naming the holder) when the
        lock stays taken for ``writer_wait`` seconds."""
        self._writable()
        if self.lock is None:
            yield
            return
        with self.lock.hold(self.settings.limits.writer_wait, self.on_wait) as outer:
            if outer:
                if self._reloadable and self.lock.before != self._seen:  # another process wrote (or died writing)
                    self._reload()
                self._seen = self.lock.after  # the count as this write raised it: this view has every write
            yield

    def stale(self) -> bool:
        """Embedded: another process wrote since this store last loaded the index or wrote itself."""
        return self.lock is not None and self._reloadable and self.lock.writes() != self._seen

    def follow(self) -> bool:
        """Load the index again if another process wrote (not while one is writing: then the next call will);
        True when it did. A process's HNSW index in memory does not see another's writes (vectorstore/writer.py)."""
        if not self.stale() or not self._following.acquire(blocking=False):  # one thread reloads, others go on
            return False
        try:
            with self.lock.shared() as free:
                if not (free and self.stale()):
                    return False
                self._reload()
                return True
        finally:
            self._following.release()

    def _reload(self) -> None:
        """A new client on the same files, for this store and its siblings; calls in flight finish on the old one
        first (vectorstore/view.py)."""
        with ExitStack() as gates:
            for store in self._family:
                gates.enter_context(store._gate.swapping())
            seen = self.lock.writes()
            for store in self._family:
                for client in (store.client, store._database):
                    if client is not None:
                        client.close()
                store._database = None
            for store in self._family:
                store.client = make_client(store.settings)
                store._cols = dict(zip(KINDS, store._open_collections()))
                store._seen = seen
                store.loads += 1
                for kind in ("chunks", "sentences"):  # load the HNSW index now, while no writer is writing
                    store._cols[kind].get(limit=1, include=["embeddings"])

    def sibling(self, collection: str) -> Store:
        """The store of another collection of this home or server: the same embedder, writer lock and reloads."""
        if collection == self.settings.deployment.collection:
            return self
        return Store(self.settings.with_(collection=collection), embedder=self._embedder, sibling=self,
                     read_only=self.read_only)

    def collections(self) -> dict[str, int]:
        """Every collection of this home or server (the three Chroma collections of a name) and its documents."""
        client = self._database or self.client
        names = {c.name for c in client.list_collections()}
        found = sorted(n[: -len("_docs")] for n in names if n.endswith("_docs")
                       and {f"{n[: -len('_docs')]}_{k}" for k in ("chunks", "sentences")} <= names)
        return {name: client.get_collection(f"{name}_docs", embedding_function=None).count() for name in found}

    @property
    def embedder(self) -> VerbatimEmbeddings:
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    self._embedder = get_embedder(self.settings.deployment.embedder, self.settings)
        return self._embedder

    # ---- reading -------------------------------------------------------------------------------------
    def documents(self) -> list[DocRecord]:
        got = self.docs.get(include=["metadatas"])
        return sorted((_record(m) for m in got["metadatas"]), key=lambda r: r.source)

    def document(self, doc_id: str) -> DocRecord | None:
        got = self.docs.get(ids=[doc_id], include=["metadatas"])
        return _record(got["metadatas"][0]) if got["ids"] else None

    def document_text(self, doc_id: str) -> str:
        got = self.docs.get(ids=[doc_id], include=["documents"])
        if not got["ids"]:
            raise KeyError(f"no document {doc_id}")
        return got["documents"][0]

    def load(self, doc_id: str) -> Document | None:
        """A committed document as it was loaded (text, pages, how it was extracted), or None."""
        got = self.docs.get(ids=[doc_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        m = got["metadatas"][0]
        return Document(doc_id=m["doc_id"], source=m["source"], path=m["path"], title=m["title"],
                        text=got["documents"][0], langs=tuple(x for x in m["langs"].split(",") if x), sha=m["sha"],
                        pages=tuple(tuple(p) for p in json.loads(m.get("pages") or "[]")),
                        extracted_by=m.get("extracted_by", ""))

    def committed(self, doc_ids: list[str] | None = None) -> dict[str, str]:
        """doc_id -> sha of every committed document (or of those of ``doc_ids``): what readers may see."""
        if doc_ids is not None and not doc_ids:
            return {}
        got = self.docs.get(ids=doc_ids, include=["metadatas"])
        return {m["doc_id"]: m["sha"] for m in got["metadatas"]}

    def version(self, committed: dict[str, str] | None = None) -> str:
        """Changes whenever any document is added, changed or removed: keys derived caches (BM25)."""
        committed = self.committed() if committed is None else committed
        pairs = sorted(f"{doc_id}:{sha}" for doc_id, sha in committed.items())
        return content_hash(self.embedder_name, *pairs)[:16]

    def counts(self) -> dict[str, int]:
        """Rows per collection, committed or not (``count()`` scans: for reports, never on a question's path)."""
        return {"documents": self.docs.count(), "chunks": self.chunks.count(), "sentences": self.sentences.count()}

    def rows(self, kind: str, include: list[str]) -> Iterator[tuple[str, str | None, dict]]:
        """Every row of ``kind`` ("docs", "chunks" or "sentences"), committed or not: (id, document, metadata)."""
        col = {"docs": self.docs, "chunks": self.chunks, "sentences": self.sentences}[kind]
        return self.scan(col, include)

    def scan(self, col, include: list[str]) -> Iterator[tuple[str, str | None, dict]]:
        """Every row of a collection, committed or not, page by page: (id, document, metadata)."""
        for offset in range(0, col.count(), self.batch):
            got = col.get(include=include, limit=self.batch, offset=offset)
            docs = got["documents"] if "documents" in include else [None] * len(got["ids"])
            yield from zip(got["ids"], docs, got["metadatas"])

    def all_chunks(self, committed: dict[str, str] | None = None) -> list[Chunk]:
        """The committed chunks (of the ``committed`` snapshot when given, so they match its version)."""
        committed = self.committed() if committed is None else committed
        return [chunk_from_record(i, d, m) for i, d, m in self.scan(self.chunks, ["documents", "metadatas"])
                if committed.get(m["doc_id"]) == m["doc_sha"]]

    def chunks_of(self, docs: dict[str, str]) -> list[Chunk]:
        """The committed chunks of the documents ``docs`` (doc id -> the sha a commit record vouches for): what
        changed since a reader's last look, without scanning the collection."""
        out: list[Chunk] = []
        ids = sorted(docs)
        for i in range(0, len(ids), self.batch):
            part = ids[i : i + self.batch]
            got = self.chunks.get(where={"doc_id": {"$in": part}}, include=["documents", "metadatas"])
            out += [chunk_from_record(cid, d, m) for cid, d, m in zip(got["ids"], got["documents"], got["metadatas"])
                    if docs.get(m["doc_id"]) == m["doc_sha"]]
        return out

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        if not ids:  # Chroma rejects an empty id list, and repeated ids
            return []
        # A chunk id is a hash of its document's content and its span, so a row read once never changes: rows are
        # kept (bounded) and only the commit check is asked again (the winners' fetch: 4.0 -> 1.4 ms a question).
        rows = self._rows.get_many(ids)
        missing = [i for i in dict.fromkeys(ids) if i not in rows]
        if missing:
            got = self.chunks.get(ids=missing, include=["documents", "metadatas"])
            fetched = {i: chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
            rows.update(fetched)
            self._rows.update(fetched)
        live = self.committed(sorted({c.doc_id for c in rows.values()}))
        return [rows[i] for i in ids if i in rows and live.get(rows[i].doc_id) == rows[i].doc_sha]

    def query_chunks(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        return _query(self.chunks, vector, n, where)

    def query_sentences(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(sentence id, cosine) of the ``n`` nearest sentences; a sentence id is ``<chunk id>:<i>``. Ids only:
        fetching 200 rows' metadata costs ~10x the vector search itself (measured 17 vs 1.7 ms)."""
        return _query(self.sentences, vector, n, where)

    def sentence_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Sentence id -> stored vector, for committed sentences only (the extractive answerer scores them)."""
        if not ids:
            return {}
        got = self.sentences.get(ids=list(dict.fromkeys(ids)), include=["embeddings", "metadatas"])
        live = self.committed(sorted({m["doc_id"] for m in got["metadatas"]}))
        return {i: np.asarray(v, dtype=np.float32) for i, v, m in zip(got["ids"], got["embeddings"], got["metadatas"])
                if live.get(m["doc_id"]) == m["doc_sha"]}

    def sentence_texts(self, ids: list[str]) -> dict[str, str]:
        """Sentence id -> text, for the few queries that need to read the sentences (ordinal questions)."""
        if not ids:
            return {}
        got = self.sentences.get(ids=list(dict.fromkeys(ids)), include=["documents"])
        return dict(zip(got["ids"], got["documents"]))

    # ---- writing -------------------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise RuntimeError("this store was opened read-only")

    def write_document(self, doc: Document, chunks: list[Chunk]) -> None:
        """Chunks and sentences first, then the commit record, then the previous version's leftovers.

        Row ids include the document's sha, so a new version never overwrites the old one's rows: until the
        commit record is swapped, the old version stays complete and is what readers see.
        """
        self._writable()
        sents = [(c, i, s) for c in chunks for i, s in enumerate(c.sentences)]
        sent_vecs = self.embedder.encode_passages([s.text for _, _, s in sents])
        chunk_vecs = self._chunk_vectors(chunks, sent_vecs)
        with self.writing():  # embedding needs no lock: other writers go on meanwhile
            self._record_dim(sent_vecs.shape[1])
            self._write_rows(doc, chunks, sents, sent_vecs, chunk_vecs)

    def _write_rows(self, doc: Document, chunks: list[Chunk], sents: list, sent_vecs: np.ndarray,
                    chunk_vecs: np.ndarray) -> None:
        replacing = bool(self.docs.get(ids=[doc.doc_id], include=[])["ids"])
        now = time.time()
        self._upsert(
            self.chunks,
            [c.chunk_id for c in chunks],
            chunk_vecs,
            [c.text for c in chunks],
            [{**chunk_metadata(c), "written_at": now} for c in chunks],
        )
        self._upsert(
            self.sentences,
            [sentence_id(c.chunk_id, i) for c, i, _ in sents],
            sent_vecs,
            [s.text for _, _, s in sents],
            [{"doc_id": c.doc_id, "doc_sha": c.doc_sha, "chunk_id": c.chunk_id, "source": c.source,
              "char_start": s.char_start, "char_end": s.char_end, "lang": c.lang, "written_at": now}
             for c, _, s in sents],
        )
        record = {
            "doc_id": doc.doc_id, "source": doc.source, "path": doc.path, "title": doc.title,
            "langs": ",".join(doc.langs), "sha": doc.sha, "chunks": len(chunks), "sentences": len(sents),
            "ingested_at": time.time(), "pages": json.dumps(doc.pages), "extracted_by": doc.extracted_by,
        }
        self.docs.upsert(ids=[doc.doc_id], embeddings=[[1.0]], documents=[doc.text], metadatas=[record])
        # A metadata-filtered delete scans the collection (measured 100 ms per document at 100k chunks, 10 at
        # 10k: quadratic over a bulk ingest), so it runs only when a previous version exists. A new document
        # has no other rows but a crashed attempt's, which no record vouches for: ``sweep`` removes those.
        if replacing:
            self._delete_where({"$and": [{"doc_id": doc.doc_id}, {"doc_sha": {"$ne": doc.sha}}]})

    def _chunk_vectors(self, chunks: list[Chunk], sent_vecs: np.ndarray) -> np.ndarray:
        if self.settings.deployment.chunk_vectors == "derived":
            return derive_chunk_vectors(chunks, sent_vecs)
        return self.embedder.encode_passages([embed_text(c) for c in chunks])

    def delete_document(self, doc_id: str) -> bool:
        """Commit record first, so a crash leaves only orphans that ``sweep`` removes."""
        with self.writing():
            existed = bool(self.docs.get(ids=[doc_id])["ids"])
            self.docs.delete(ids=[doc_id])
            self._delete_where({"doc_id": doc_id})
        return existed

    def orphans(self, min_age: float = 0.0, exact: bool = True) -> dict[str, list[str]]:
        """Ids per collection name of rows no commit record vouches for, written at least ``min_age`` s ago.

        ``exact`` reads every row (``doctor``). Otherwise the database filters first: only rows whose doc_id
        or doc_sha no commit record has (a full scan took 5 minutes at 100k chunks, on every ingest). It misses
        one case: a crashed rewrite of document A whose new content equals another committed document's; those
        rows are overwritten by A's next ingest (same ids) and ``doctor`` finds them.
        """
        committed = self.committed()
        cutoff = time.time() - min_age
        found = {}
        for col in (self.chunks, self.sentences):
            if exact or not committed or len(committed) > FILTER_LIMIT:
                rows = ((i, m) for i, _, m in self.scan(col, ["metadatas"]))
            else:
                where = {"$or": [{"doc_id": {"$nin": sorted(committed)}},
                                 {"doc_sha": {"$nin": sorted(set(committed.values()))}}]}
                got = col.get(where=where, include=["metadatas"])
                rows = zip(got["ids"], got["metadatas"])
            found[col.name] = sorted(i for i, m in rows
                                     if committed.get(m["doc_id"]) != m["doc_sha"] and m.get("written_at", 0) <= cutoff)
        return found

    def sweep(self, min_age: float | None = None) -> int:
        """Delete orphan chunks and sentences (older than ``sweep_grace`` by default); returns how many went."""
        with self.writing():
            found = self.orphans(self.sweep_grace if min_age is None else min_age, exact=False)
            for col in (self.chunks, self.sentences):
                ids = found[col.name]
                for i in range(0, len(ids), self.batch):
                    col.delete(ids=ids[i : i + self.batch])
        return sum(map(len, found.values()))

    def _delete_where(self, where: dict) -> None:
        self.chunks.delete(where=where)
        self.sentences.delete(where=where)

    def _upsert(self, col, ids, vecs, docs, metas) -> None:
        for i in range(0, len(ids), self.batch):
            j = i + self.batch
            col.upsert(ids=ids[i:j], embeddings=vecs[i:j].tolist(), documents=docs[i:j], metadatas=metas[i:j])


def _empty_client():
    """An in-memory Chroma with nothing in it: what a read-only store reads when no index exists yet."""
    return chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))


def derive_chunk_vectors(chunks: list[Chunk], sent_vecs: np.ndarray) -> np.ndarray:
    """Each chunk's vector without a model call: the L2-normalized mean of its sentences' vectors, weighted by
    their lengths (``sent_vecs`` holds every chunk's sentences, in order). Measured against embedding the chunk
    (and against the plain and the section-path-including mean): see docs/measurements.md#chunk-vectors."""
    out = np.empty((len(chunks), sent_vecs.shape[1]), dtype=np.float32)
    start = 0
    for n, c in enumerate(chunks):
        end = start + len(c.sentences)
        mean = np.average(sent_vecs[start:end], axis=0, weights=[len(s.text) for s in c.sentences])
        out[n] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        start = end
    return out


def _query(col, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:
    """The ``n`` nearest rows, the same in every process: rows equally near (identical sentences: a book's running
    heads, repeated code lines, its table of contents) are ordered by id, and the cut at ``n`` takes the tied rows
    of smallest id. The index returns an arbitrary subset of a tie at its cut, one that differs per process (on
    three long documents: 7 of 17 rankings changed between two processes), so the search widens until the row
    after the cut is strictly farther than the ``n``-th, or the collection is exhausted.

    Chroma returns fewer than asked when the collection has fewer (none when empty), so no ``count()`` first:
    it scans the collection (measured 40 ms per query at 293k sentences; the search itself takes 2.5 ms)."""
    if n <= 0:
        return []
    want = n + 1
    got = _nearest(col, vector, want, where)
    while len(got) == want and got[-1][1] == got[n - 1][1] and want <= TIE_WIDENING * n:
        want *= 2
        got = _nearest(col, vector, want, where)
    return sorted(got, key=lambda hit: (-hit[1], hit[0]))[:n]


def _nearest(col, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:
    r = col.query(query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"])
    return [(i, 1.0 - d) for i, d in zip(r["ids"][0], r["distances"][0])]


def chunk_metadata(c: Chunk) -> dict:
    return {
        "doc_id": c.doc_id, "doc_sha": c.doc_sha, "source": c.source, "title": c.title,
        "section": c.section or "", "page": c.page if c.page is not None else -1,
        "char_start": c.char_start, "char_end": c.char_end, "lang": c.lang,
        # [start, end] for body text, [start, end, role] for the rest (verbatim_qa/text/roles.py)
        "sentences": json.dumps([[s.char_start, s.char_end] + ([s.role] if s.role != "body" else [])
                                 for s in c.sentences]),
    }


def chunk_from_record(chunk_id: str, text: str, m: dict) -> Chunk:
    start = m["char_start"]
    sents = tuple(Sentence(s, e, text[s - start : e - start], *role) for s, e, *role in json.loads(m["sentences"]))
    return Chunk(
        chunk_id=chunk_id, doc_id=m["doc_id"], source=m["source"], title=m["title"],
        section=m["section"] or None, page=None if m["page"] < 0 else m["page"],
        char_start=start, char_end=m["char_end"], text=text, lang=m["lang"], sentences=sents,
        doc_sha=m["doc_sha"],
    )


def _record(m: dict) -> DocRecord:
    return DocRecord(
        doc_id=m["doc_id"], source=m["source"], path=m["path"], title=m["title"],
        langs=tuple(x for x in m["langs"].split(",") if x), sha=m["sha"], chunks=m["chunks"],
        sentences=m["sentences"], ingested_at=m["ingested_at"], extracted_by=m.get("extracted_by", ""),
        pages=len(json.loads(m.get("pages") or "[]")),
    )
