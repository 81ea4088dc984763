"""Files -> store, incrementally: unchanged documents are skipped, changed ones replaced, gone ones pruned.

Mirrors langchain's ``indexing.index()``: it returns honest counts of what it did.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from verbatim_qa.settings import Deployment, Settings
from verbatim_qa.text.lines import one_line
from verbatim_qa.types import Document, content_hash
from verbatim_qa.vectorstore.store import Store

from .chunking import chunk_document
from .loaders import LoadError, iter_files, load_document

CHUNKER_VERSION = "chunker-v2"  # v2: sentence roles (verbatim_qa/text/roles.py); credit lines do not run on


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: list[dict] = field(default_factory=list)
    swept: int = 0

    def to_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "skipped": self.skipped,
                "deleted": self.deleted, "failed": self.failed}

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def ingest_paths(
    store: Store,
    paths: list[Path],
    prune: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> IngestReport:
    settings = store.settings
    report = IngestReport(swept=store.sweep())
    known = {r.doc_id: r for r in store.documents()}
    for path in iter_files(paths):
        if on_file:
            on_file(path)
        try:
            doc = load_for_index(path, settings)
            previous = known.get(doc.doc_id)
            if previous is not None and previous.sha == doc.sha:
                report.skipped += 1
                continue
            chunks = chunk_document(doc, settings.deployment.chunk_chars, settings.deployment.max_sentence_chars)
        except LoadError as exc:
            report.failed.append({"path": str(path), "reason": exc.reason})
            continue
        except Exception as exc:  # a loader/segmenter bug on one odd file must not sink the whole batch
            why = one_line(exc, 160, kind=True)
            report.failed.append({"path": str(path), "reason": f"cannot read file ({why})"})
            continue
        if not chunks:
            report.failed.append({"path": str(path), "reason": "no text to index"})
            continue
        store.write_document(doc, chunks)
        if previous is None:
            report.added += 1
        else:
            report.updated += 1
    if prune:
        for record in store.documents():
            if not os.path.exists(record.path):
                store.delete_document(record.doc_id)
                report.deleted += 1
    return report


def load_for_index(path: Path, settings: Settings) -> Document:
    """The document as ingest would store it; its sha covers the chunker and the kind of chunk vector too, so a
    new chunk size (or ``chunk_vectors``) re-indexes."""
    doc = load_document(path, settings.max_file_bytes, settings)
    # Another kind of chunk vector (or sentence piece size) re-indexes too; the defaults add nothing, so existing
    # indexes keep their shas (a document with a sentence over max_sentence_chars gets its pieces when it changes).
    vectors = [] if settings.deployment.chunk_vectors == "embedded" else [settings.deployment.chunk_vectors]
    if settings.deployment.max_sentence_chars != Deployment.max_sentence_chars:
        vectors.append(f"pieces-{settings.deployment.max_sentence_chars}")
    return replace(doc, sha=content_hash(doc.sha, CHUNKER_VERSION, str(settings.deployment.chunk_chars), *vectors))


def count_files(paths: list[Path]) -> int:
    return len(iter_files(paths))
