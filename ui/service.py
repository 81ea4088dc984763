"""What a server shares between its HTTP API and its web UI: its collections (a ``Library`` each: a store, its
answerers), who may read and write them (ui/access.py), one write lock.

Answerers are built once (the extractive one at start-up, the LLM one on first use) and rebuilt after every
ingest or delete, so BM25 and the Persian term vocabulary always cover what is stored. Other processes write
too (a CLI ``ingest``, other instances on a Chroma server), so the answerers are rebuilt when they did: embedded,
the home's write count is read on each question (a file read) and the index loaded again when it moved; with a
Chroma server the store's version is checked at most every ``FOLLOW_EVERY`` seconds. Readers take the current
answerer without locking (a dict swap is atomic); writers serialize on ``_write`` and on the home's writer lock.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from verbatim_qa.contract import MAX_K, MAX_QUESTION_CHARS
from verbatim_qa.ingest.loaders import document_id
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa import several
from verbatim_qa.qa.answer import Answer, Answerer
from verbatim_qa.qa.chain import answer_events, build_answerer
from verbatim_qa.qa.events import Done, Event, Retrieved
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.settings import Settings, check_collection
from verbatim_qa.types import DocRecord, ScoredChunk
from verbatim_qa.vectorstore.embedder import get_embedder
from verbatim_qa.vectorstore.store import Store
from verbatim_qa.vectorstore.writer import WriterBusy

from .access import ADMIN, READ, WRITE, Access, NoAccess
from .provenance import with_extraction, with_extractions
from .uploads import PREVIOUS, STAGING, PendingUpload, StagedFile, UploadError, pending_uploads

log = logging.getLogger(__name__)
FOLLOW_EVERY = 2.0  # seconds between version checks of a shared Chroma server


def check_question(question: str) -> str:
    """The question, or ValueError (a 4xx on every route) when it is over ``MAX_QUESTION_CHARS``: /api/ask and
    MCP check it in their schemas, /v1 and the web chat here (a 100 KB question used to hold the encoder 81 s)."""
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question):,} characters, over the {MAX_QUESTION_CHARS:,} limit")
    return question


def index_date(records: list[DocRecord]) -> str | None:
    """The newest ``ingested_at`` as a UTC date: the one date a briefing may carry (deterministic per index)."""
    if not records:
        return None
    newest = max(r.ingested_at for r in records)
    return datetime.fromtimestamp(newest, tz=UTC).date().isoformat()


def serving_store(settings: Settings) -> Store:
    """The store a server uses: the configured embedder, loaded now rather than on the first question."""
    return Store(settings, embedder=get_embedder(settings.deployment.embedder))


class Library:
    """One collection as a server serves it: its store, its answerers, following other writers."""

    def __init__(self, settings: Settings, store: Store, write: threading.Lock, warm: bool = True) -> None:
        self.settings = settings
        self.store = store
        self.collection = store.settings.deployment.collection
        self.uploads_dir = uploads_dir(settings, self.collection)
        self._write = write  # the service's one write lock: writes of all collections take turns in this process
        self._build = threading.Lock()
        self._answerers: dict[str, Answerer] = {}  # built on one retriever: BM25 and vocabulary prepared once
        self._version, self._checked, self._loads = self.store.version(), time.monotonic(), self.store.loads
        bot = self.answerer("extractive")
        if warm:  # load the embedding model now, not on the first user's question
            bot.retriever.retrieve(bot.analyze("warm-up"), 1)

    # ---- answering -------------------------------------------------------------------------------------
    def answerer(self, kind: str | None = None) -> Answerer:
        kind = self.settings.resolve_answerer(kind)
        self._follow()
        bot = self._answerers.get(kind)
        if bot is None:
            with self._build:
                bot = self._answerers.get(kind)
                if bot is None:
                    shared = next(iter(self._answerers.values()), None)
                    bot = build_answerer(self.settings, self.store, kind, shared.retriever if shared else None)
                    self._answerers = {**self._answerers, kind: bot}
        return bot

    def check_sources(self, sources: list[str] | None) -> list[str] | None:
        """The restriction as given (None = all documents), or ValueError naming unknown file names."""
        return known_sources(sources, [self])

    def prepare(self, k: int | None, sources: list[str] | None, answerer: str):
        """Validate a request before answering (ValueError -> 422), so a stream never starts in error."""
        check_k(k)
        return self.answerer(answerer), self.check_sources(sources)

    def events(self, question: str, k: int | None = None, sources: list[str] | None = None,
               answerer: str | None = None, history: Sequence = (), quotes_only: bool = False) -> Iterator[Event]:
        """The chain's events (qa/events.py: ``Retrieved``, the LLM's ``Token``..., ``Done``); the request is
        validated now (ValueError), answered as the events are read. The answer's citations say how their
        document's text was extracted (``with_extraction``). ``quotes_only``: no word of the model's own
        (qa/chain.py ``answer_events``)."""
        check_question(question)
        bot, sources = self.prepare(k, sources, answerer)
        return self._events(bot, question, k, sources, history, quotes_only)

    def _events(self, bot: Answerer, question: str, k: int | None, sources: list[str] | None,
                history: Sequence, quotes_only: bool) -> Iterator[Event]:
        for ev in answer_events(bot, question, k, sources, history, quotes_only):
            yield Done(with_extraction(ev.answer, self.store)) if isinstance(ev, Done) else ev

    # ---- the library -----------------------------------------------------------------------------------
    def records(self) -> list[DocRecord]:
        return self.store.documents()

    def documents(self) -> list[dict]:
        return [r.to_dict() for r in self.records()]

    def ingest_staged(self, staged: StagedFile) -> dict:
        """Validate a staged upload, move it to ``uploads_dir`` and ingest it; UploadError leaves all as it was."""
        try:
            chunks = staged.validate(self.settings)
            with self._write, self.store.writing():  # the file move and its ingest: one write of the home
                result = self._commit(staged)
        except WriterBusy as exc:
            raise UploadError(503, str(exc)) from exc
        finally:
            staged.discard()
        result["chunks"] = chunks
        return result

    def _commit(self, staged: StagedFile) -> dict:
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        final = self.uploads_dir / staged.name
        backup = staged.dir / PREVIOUS
        had_previous = final.exists()
        before = _record_for(final, self.store)
        staged.journal(final, self.collection, before.ingested_at if before else None)  # for a crash from here on
        if had_previous:
            os.replace(final, backup)
        os.replace(staged.path, final)
        try:
            report = ingest_paths(self.store, [final])
        except BaseException:  # any failure or interruption while ingesting: the previous file back, re-raised
            self._restore(final, backup, had_previous)
            raise
        if report.failed:
            self._restore(final, backup, had_previous)
            raise UploadError(400, report.failed[0]["reason"])
        self._refresh()
        record = _record_for(final, self.store)
        return {**report.to_dict(), "file": staged.name, "document": record.to_dict() if record else None}

    @staticmethod
    def _restore(final: Path, backup: Path, had_previous: bool) -> None:
        final.unlink(missing_ok=True)
        if had_previous:
            os.replace(backup, final)

    def delete(self, doc_id: str) -> dict | None:
        """Delete a document (and its stored upload, if it is one); None when there is no such document.
        WriterBusy when another process keeps the home's writer lock."""
        with self._write, self.store.writing():
            record = self.store.document(doc_id)
            if record is None:
                return None
            self.store.delete_document(doc_id)
            removed = self._remove_upload(Path(record.path))
            self._refresh()
        return {"deleted": doc_id, "source": record.source, "file_removed": removed}

    def _remove_upload(self, path: Path) -> bool:
        uploads = self.uploads_dir.resolve()
        try:
            resolved = path.resolve()
        except OSError:
            return False
        inside = resolved.is_relative_to(uploads) and STAGING not in resolved.relative_to(uploads).parts
        if inside and resolved.is_file():
            resolved.unlink()
            return True
        return False

    def _follow(self) -> None:
        """Rebuild when another process changed the store: embedded, once it loaded the index again."""
        if not self.settings.deployment.chroma_url:
            # this store loaded the index again, or a sibling's reload did (vectorstore/store.py ``_reload``)
            if self.store.follow() or self.store.loads != self._loads:
                self._refresh()
            return
        if time.monotonic() - self._checked < FOLLOW_EVERY:
            return
        self._checked = time.monotonic()
        if self.store.version() != self._version:
            self._refresh()

    def _refresh(self) -> None:
        """Every answerer built so far, on one retriever over the store as it is now (BM25, Persian vocabulary)."""
        self._version = self.store.version()  # before building: a write in between only costs one more rebuild
        self._loads = self.store.loads
        with self._build:
            kinds = list(self._answerers) or ["extractive"]
            current = next(iter(self._answerers.values()), None)
            # Only what changed is read and embedded again (qa/corpus.py); requests in flight keep the old one.
            retriever = current.retriever.refreshed() if current else HybridRetriever.from_store(self.store,
                                                                                                  self.settings)
            self._answerers = {kind: build_answerer(self.settings, self.store, kind, retriever) for kind in kinds}


class Service:
    """The collections of one server, each a ``Library`` opened on first use, for an asker with the right.

    Every read and write of a collection goes through ``library``, which asks the grant of the request being
    served (ui/access.py) first: no route reads a collection its asker may not read. ``store`` is the default
    collection's store for the process itself (warm-up, tests), never for a request.
    """

    def __init__(self, settings: Settings, store: Store | None = None, warm: bool = True,
                 access: Access | None = None) -> None:
        self.settings = settings
        self.default = settings.deployment.collection
        self.access = access or Access.from_settings(settings)  # who asks, when no app's token check said
        self._write = threading.Lock()
        self._opening = threading.Lock()
        first = Library(settings, store or serving_store(settings), self._write, warm)
        self.store = first.store
        self._libraries = {self.default: first}
        self.sweep_staging()

    @property
    def llm_configured(self) -> bool:
        return bool(self.settings.llm.llm_base_url)

    def resolve(self, kind: str | None) -> str:
        return self.settings.resolve_answerer(kind)

    # ---- collections and rights ------------------------------------------------------------------------
    def collections(self) -> dict[str, int]:
        """The collections the current grant may read, with their documents (only those: no name or count of
        another collection is given out)."""
        grant = self.access.current()
        return {name: n for name, n in self.store.collections().items() if grant.allows(name, READ)}

    def check(self, collection: str | None, need: str = READ) -> str:
        """The collection's name when the current grant has the right ``need`` on it; NoAccess (or ValueError for
        a name that cannot be a collection) otherwise. Opens nothing."""
        name = self.default if collection is None else check_collection(collection)
        grant = self.access.current()
        if not grant.allows(name, READ):
            raise NoAccess(404, f"no collection {name!r} readable with this token")
        if not grant.allows(name, need):
            raise NoAccess(403, f"this token may not {need} collection {name!r}")
        return name

    def library(self, collection: str | None = None, need: str = READ) -> Library:
        """The library of ``collection`` (None: the default) when the current grant has the right ``need`` on it;
        NoAccess otherwise (404 for a collection it may not read, exists or not; 403 for a missing write right).
        ValueError for a name that cannot be a collection. Creating one (the first upload into a new name) needs
        admin."""
        name = self.check(collection, need)
        grant = self.access.current()
        lib = self._libraries.get(name)
        if lib is not None:
            return lib
        with self._opening:
            lib = self._libraries.get(name)
            if lib is None:
                if name not in self.store.collections():
                    if need == READ:
                        raise NoAccess(404, f"no collection {name!r} readable with this token")
                    if not grant.allows(name, ADMIN):
                        raise NoAccess(403, f"no collection {name!r}: creating one needs admin")
                lib = Library(self.settings, self.store.sibling(name), self._write, warm=False)
                self._libraries = {**self._libraries, name: lib}
        return lib

    # ---- what a request does, in the collection it names ---------------------------------------------
    def answerer(self, kind: str | None = None, collection: str | None = None) -> Answerer:
        return self.library(collection).answerer(kind)

    def check_sources(self, sources: list[str] | None, collection: str | None = None) -> list[str] | None:
        return self.library(collection).check_sources(sources)

    def ask(self, question: str, k: int | None = None, sources: list[str] | None = None,
            answerer: str | None = None, history: Sequence = (), quotes_only: bool = False,
            collection: str | None = None, collections: Sequence[str] | None = None) -> Answer:
        *_, done = self.events(question, k, sources, answerer, history, quotes_only, collection, collections)
        return done.answer

    def events(self, question: str, k: int | None = None, sources: list[str] | None = None,
               answerer: str | None = None, history: Sequence = (), quotes_only: bool = False,
               collection: str | None = None, collections: Sequence[str] | None = None) -> Iterator[Event]:
        """``Library.events`` of the collection; of several (``collection`` and ``collections`` together), their
        fused extractive answer (qa/several.py), each citation naming its collection. Validated now (NoAccess,
        ValueError): every collection named is checked before any is read, so one the asker may not read is the
        same 404 as when it is asked alone, and nothing of the others is read."""
        libraries = [self.library(name) for name in self.named(collection, collections)]
        if len(libraries) == 1:
            return libraries[0].events(question, k, sources, answerer, history, quotes_only)
        check_question(question)
        check_k(k)
        if answerer not in (None, "auto", "extractive"):
            self.resolve(answerer)  # an unknown kind is named as such
            raise ValueError(several.LLM_ONE_COLLECTION)
        return self._several(libraries, question, k, known_sources(sources, libraries), history)

    def _several(self, libraries: list[Library], question: str, k: int | None, sources: list[str] | None,
                 history: Sequence) -> Iterator[Event]:
        bots = {lib.collection: lib.answerer("extractive") for lib in libraries}
        answer = several.answer(bots, question, k, sources, history, self.settings)
        yield Retrieved(answer.retrieved)
        yield Done(with_extractions(answer, {lib.collection: lib.store for lib in libraries}))

    def search(self, query: str, k: int, sources: list[str] | None = None, collection: str | None = None,
               collections: Sequence[str] | None = None) -> list[ScoredChunk]:
        """The ``k`` best passages of the collection, or the fused ranking of several (each naming its collection);
        every collection's right checked first, as ``events``."""
        check_question(query)
        libraries = [self.library(name) for name in self.named(collection, collections)]
        sources = known_sources(sources, libraries)
        if len(libraries) == 1:
            retriever = libraries[0].answerer("extractive").retriever
            return retriever.retrieve(retriever.analyzer.analyze(query), k, sources)
        return several.retrieve({lib.collection: lib.answerer("extractive") for lib in libraries}, query, k, sources)

    def named(self, collection: str | None = None, collections: Sequence[str] | None = None) -> list[str]:
        """The collections a request names, ``collection`` and ``collections`` together, each once (by name when
        several); the default collection when it names none."""
        names = list(dict.fromkeys([*([collection] if collection is not None else []), *(collections or ())]))
        return sorted(names) if len(names) > 1 else names or [self.default]

    def records(self, collection: str | None = None) -> list[DocRecord]:
        return self.library(collection).records()

    def documents(self, collection: str | None = None) -> list[dict]:
        return self.library(collection).documents()

    def ingest_staged(self, staged: StagedFile, collection: str | None = None) -> dict:
        try:
            lib = self.library(collection, WRITE)
        except (NoAccess, ValueError):
            staged.discard()
            raise
        return lib.ingest_staged(staged)

    def delete(self, doc_id: str, collection: str | None = None) -> dict | None:
        return self.library(collection, WRITE).delete(doc_id)

    def sweep_staging(self) -> None:
        """Undo what a crash (a killed server) left of an upload, then remove the staging folder (called once, when
        the service starts). An upload whose commit record landed stays; one whose did not leaves the stored files
        as they were before it: the file it replaced back in place, or none (the store never listed it)."""
        pending = pending_uploads(self.settings)
        if pending:
            with self._write, self.store.writing():
                for upload in pending:
                    self._undo(upload)
        shutil.rmtree(self.settings.uploads_dir / STAGING, ignore_errors=True)

    def _undo(self, upload: PendingUpload) -> None:
        store = self.store if upload.collection == self.default else self.store.sibling(upload.collection)
        now = _record_for(upload.final, store)
        if now is not None and now.ingested_at != upload.committed_at:
            return  # its commit landed: the stored file is the document the store lists
        if (upload.folder / upload.final.name).exists() and not upload.previous.exists():
            return  # cut before it moved anything: the stored files are as they were
        Library._restore(upload.final, upload.previous, upload.previous.exists())
        log.warning("%s: an upload cut short by a crash was undone", upload.final)


def check_k(k: int | None) -> None:
    if k is not None and not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}")


def known_sources(sources: list[str] | None, libraries: Sequence[Library]) -> list[str] | None:
    """The restriction as given (None = all documents), or ValueError naming the file names none of ``libraries``
    holds."""
    if not sources:
        return None
    known = {r.source for lib in libraries for r in lib.records()}
    unknown = sorted(set(sources) - known)
    if unknown:
        raise ValueError(f"unknown source(s): {', '.join(unknown)}")
    return list(dict.fromkeys(sources))


def uploads_dir(settings: Settings, collection: str) -> Path:
    """Where a collection's uploads are kept: the default's where they always were, another's apart (a file of one
    collection never replaces, nor is deleted with, a file of another)."""
    if collection == settings.deployment.collection:
        return settings.uploads_dir
    return settings.deployment.home / "collections" / collection / "uploads"


def _record_for(path: Path, store: Store) -> DocRecord | None:
    """The committed document of the file at ``path`` (one read by its id, not a listing of the library)."""
    return store.document(document_id(path))
