"""Re-check claims against the sources: the document's text hash, and that each quote is the text at its offsets.

Statuses: ``ok``; ``changed source`` (the document's text is no longer the one quoted: its SHA-256 differs);
``quote differs`` (same text, but what the file shows is not the text at the offsets, or its footnote is
gone); ``source missing`` (no such document in the index, or no such file under ``--corpus``). Sources come
from the index (the stored text, ``Store(read_only=True)``) or from a folder read with the ingest loaders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from verbatim_qa.ingest.loaders import LoadError, iter_files, load_document

from .claims import Claim
from .provenance import text_sha256

OK, CHANGED, DIFFERS, MISSING = "ok", "changed source", "quote differs", "source missing"
STATUSES = (OK, CHANGED, DIFFERS, MISSING)
SHOWN = 60  # characters of a quote shown in a detail


@dataclass(frozen=True)
class Result:
    claim: Claim
    status: str
    detail: str = ""

    def line(self) -> str:
        r = self.claim.record
        head = f"{self.status:<14} [{self.claim.label}] {r.source} chars {r.char_start}–{r.char_end}"
        return head + (f": {self.detail}" if self.detail else "")

    def to_dict(self) -> dict:
        return {"label": self.claim.label, "status": self.status, "detail": self.detail, **self.claim.record.to_dict()}


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    text: str


class IndexSources:
    """Documents as the index stores them: a quote that records its collection is looked up there (``open_other``:
    the store of another collection), unless ``pinned`` (``verify --collection``) names the one to read."""

    def __init__(self, store, open_other: Callable[[str], object] | None = None, pinned: bool = False) -> None:
        self.store = store
        self.open_other, self.pinned = open_other, pinned
        self._others: dict[str, IndexSources] = {}
        self._names: dict[str, list[str]] | None = None
        self._texts: dict[str, str] = {}

    def candidates(self, claim: Claim) -> tuple[list[Candidate], str]:
        other = claim.record.collection or self.store.settings.deployment.collection
        if not self.pinned and self.open_other is not None and other != self.store.settings.deployment.collection:
            if other not in self._others:
                self._others[other] = IndexSources(self.open_other(other))
            return self._others[other].candidates(claim)
        if self._names is None:
            self._names = {}
            for r in self.store.documents():
                self._names.setdefault(r.source, []).append(r.doc_id)
        r = claim.record
        ids = [i for i in self._names.get(r.source, []) if i != r.doc_id]
        if r.doc_id and self.store.document(r.doc_id) is not None:
            ids.insert(0, r.doc_id)  # the same document, re-ingested from a renamed file, keeps its id
        for i in ids:
            if i not in self._texts:
                self._texts[i] = self.store.document_text(i)
        return [Candidate(i, self._texts[i]) for i in ids], f"no document {r.source} in the index"


class CorpusSources:
    """Files under a folder, loaded as ingest loads them (the same text, so the same offsets and hash)."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._files: dict[str, list[Path]] | None = None
        self._loaded: dict[Path, Candidate | str] = {}  # a candidate, or why the file cannot be read

    def candidates(self, claim: Claim) -> tuple[list[Candidate], str]:
        if self._files is None:
            self._files = {}
            for p in iter_files([self.folder]):
                self._files.setdefault(p.name, []).append(p)
        name = claim.record.source
        out, why = [], f"no file {name} under {self.folder}"
        for p in self._files.get(name, []):
            if p not in self._loaded:
                try:
                    doc = load_document(p, self.max_bytes)
                    self._loaded[p] = Candidate(doc.doc_id, doc.text)
                except LoadError as exc:
                    self._loaded[p] = f"{p}: {exc.reason}"
            got = self._loaded[p]
            if isinstance(got, Candidate):
                out.append(got)
            else:
                why = got
        return out, why


def check(claim: Claim, sources) -> Result:
    found, why = sources.candidates(claim)
    if not found:
        return Result(claim, MISSING, why)
    r = claim.record
    if not 0 <= r.char_start <= r.char_end:  # Python would slice from the end: "ok" for a quote nowhere claimed
        return Result(claim, DIFFERS, f"chars {r.char_start}–{r.char_end} are not a span of a text")
    doc = _pick(claim, found)
    span = doc.text[r.char_start : r.char_end] if r.char_end <= len(doc.text) else None
    shows = claim.quote is not None and span is not None and _same(claim, span)
    if r.sha256 and text_sha256(doc.text) != r.sha256:
        still = "the quote is still at its offsets" if shows else "the quote is no longer at its offsets"
        return Result(claim, CHANGED, f"its text's sha256 is now {text_sha256(doc.text)[:12]}…, "
                                      f"was {r.sha256[:12]}… ({still})")
    if span is None:
        return Result(claim, DIFFERS, f"the document has only {len(doc.text)} characters")
    if claim.quote is None:
        if claim.context and f"“{_flat(span)}”" in claim.context:
            return Result(claim, OK, f"quoted in the text (footnote {r.n} is not where Verbatim put it)")
        return Result(claim, DIFFERS, f"footnote {r.n} is not in the file, nor “{_short(span)}”")
    if not shows:
        shown, source = _apart(_flat(claim.quote), _flat(span))
        return Result(claim, DIFFERS, f"the file shows “{shown}”, the source has “{source}”")
    return Result(claim, OK)


def _pick(claim: Claim, found: list[Candidate]) -> Candidate:
    """The document meant: the one with the recorded hash, else the recorded id, else one with the quote."""
    r = claim.record
    for test in (lambda c: r.sha256 and text_sha256(c.text) == r.sha256, lambda c: r.doc_id and c.doc_id == r.doc_id,
                 lambda c: claim.quote is not None and _same(claim, c.text[r.char_start : r.char_end])):
        for c in found:
            if test(c):
                return c
    return found[0]


def _same(claim: Claim, span: str) -> bool:
    if claim.exact:
        return span == claim.quote
    return _flat(span) == _flat(claim.quote or "")


def _flat(s: str) -> str:
    return " ".join(s.split())


def _apart(a: str, b: str) -> tuple[str, str]:
    """Both strings from a little before where they first differ, shortened alike."""
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, i - SHOWN // 3)
    lead = "…" if start else ""
    return lead + _short(a[start:]), lead + _short(b[start:])


def _short(s: str) -> str:
    s = _flat(s)
    return s if len(s) <= SHOWN else s[: SHOWN - 1] + "…"


def verify(claims: list[Claim], sources) -> list[Result]:
    return [check(c, sources) for c in claims]
