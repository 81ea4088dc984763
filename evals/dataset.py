"""Evaluation items (JSONL) and their gold spans in a corpus folder. Validation lives here, in one place.

A set over real documents (PDFs whose extraction changes as the loaders improve) says where each gold quote was
copied from (``quote_from``: "verbatim", Verbatim's extraction; "pdftotext", pdftotext's text when Verbatim's was
broken). Its quotes are then located by their letters and digits alone (``locate``), so a quote still counts after
the extraction changes its spaces, hyphenation, punctuation order or letter forms; one no longer there is reported
as missing instead of stopping the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from verbatim_qa.text.normalize import normalize_map

KINDS = {"en-en", "en-fa", "fa-fa", "multi", "unanswerable"}
# The kinds of second turn of a follow-up set (evals/datasets/followup_dev.jsonl): a pronoun pointing back, an
# ellipsis ("What about Turkmenistan?"), "And ...?", a Persian follow-up, and a topic shift that must stand alone.
TURNS = {"pronoun", "ellipsis", "and", "persian", "shift"}
QUOTE_SOURCES = {"verbatim", "pdftotext"}


@dataclass
class EvalItem:
    id: str
    question: str
    lang: str
    kind: str
    answerable: bool
    gold_quotes: list[str] = field(default_factory=list)
    quote_docs: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # SQuAD answer texts, when known
    history: list[str] = field(default_factory=list)  # earlier questions of the conversation (follow-up sets)
    turn: str = ""  # a follow-up's kind of turn (TURNS); '' in a set of single questions
    quote_from: list[str] = field(default_factory=list)  # per gold quote, QUOTE_SOURCES; [] = exact in the corpus


class DatasetError(ValueError):
    pass


def load_items(path: Path) -> list[EvalItem]:
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = EvalItem(**{k: raw[k] for k in raw if k in EvalItem.__dataclass_fields__})
        except (json.JSONDecodeError, TypeError) as exc:
            raise DatasetError(f"{path}:{n}: {exc}") from exc
        if item.kind not in KINDS:
            raise DatasetError(f"{path}:{n}: kind {item.kind!r} is not one of {sorted(KINDS)}")
        if item.turn and item.turn not in TURNS:
            raise DatasetError(f"{path}:{n}: turn {item.turn!r} is not one of {sorted(TURNS)}")
        if item.turn and not item.history:
            raise DatasetError(f"{path}:{n}: a follow-up turn needs its history")
        if not all(isinstance(h, str) and h.strip() for h in item.history):
            raise DatasetError(f"{path}:{n}: history holds the earlier questions, as non-empty strings")
        if len(item.gold_quotes) != len(item.quote_docs):
            raise DatasetError(f"{path}:{n}: gold_quotes and quote_docs differ in length")
        if item.quote_from and (len(item.quote_from) != len(item.gold_quotes)
                                or not set(item.quote_from) <= QUOTE_SOURCES):
            raise DatasetError(f"{path}:{n}: quote_from names one of {sorted(QUOTE_SOURCES)} per gold quote")
        if item.answerable != bool(item.gold_quotes):
            raise DatasetError(f"{path}:{n}: answerable must be true exactly when there are gold quotes")
        items.append(item)
    return items


def read_corpus(folder: Path) -> dict[str, str]:
    """File name -> text as the loader would give it (newlines normalized)."""
    from verbatim_qa.ingest.loaders import load_document

    return {p.name: load_document(p, 10**9).text for p in sorted(Path(folder).iterdir()) if p.is_file()}


def stored_texts(store) -> dict[str, str]:
    """File name -> text of every document in ``store``, as it was indexed (a PDF is not extracted again)."""
    return {r.source: store.document_text(r.doc_id) for r in store.documents()}


def resolve_doc(name: str, texts: dict[str, str]) -> str | None:
    """The corpus file a quote_doc names: the same name, else the one file with its stem (a set written over
    ``book.pdf`` also runs over its text version ``book.txt``)."""
    if name in texts:
        return name
    same_stem = [n for n in texts if Path(n).stem == Path(name).stem]
    return same_stem[0] if len(same_stem) == 1 else None


def locate(quote: str, text: str) -> list[tuple[int, int]]:
    """Every exact (start, end) of ``quote`` in ``text``; failing that, where its letters and digits occur in order
    (search form: case, Arabic/Persian letters and digits folded, presentation forms undone), with whatever
    spaces, punctuation, hyphens or joiners between them."""
    spans = _exact(quote, text)
    if spans:
        return spans
    needle, _ = _letters(quote)
    hay, origin = _letters(text)
    return [(origin[a], origin[b - 1] + 1) for a, b in _exact(needle, hay)] if needle else []


def _exact(needle: str, hay: str) -> list[tuple[int, int]]:
    spans, at = [], hay.find(needle)
    while at >= 0:
        spans.append((at, at + len(needle)))
        at = hay.find(needle, at + 1)
    return spans


@lru_cache(maxsize=16)  # a book's letters are read once for all its quotes
def _letters(text: str) -> tuple[str, list[int]]:
    form, origin = normalize_map(text)
    keep = [i for i, ch in enumerate(form) if ch.isalnum()]
    return "".join(form[i] for i in keep), [origin[i] for i in keep]


def gold_spans(item: EvalItem, texts: dict[str, str]) -> list[list[tuple[str, int, int]]]:
    """For each gold quote, every (source, start, end) where it occurs: verbatim, or for a set that names its
    quotes' origin (``quote_from``), located by ``locate`` and [] when the text no longer holds it."""
    out = []
    for quote, name in zip(item.gold_quotes, item.quote_docs):
        source = resolve_doc(name, texts) if item.quote_from else name
        if item.quote_from:
            out.append([(source, a, b) for a, b in locate(quote, texts[source])] if source else [])
            continue
        if source not in texts:
            raise DatasetError(f"{item.id}: document {name!r} is not in the corpus")
        spans = [(source, a, b) for a, b in _exact(quote, texts[source])]
        if not spans:
            raise DatasetError(f"{item.id}: gold quote is not verbatim in {source}: {quote[:60]!r}")
        out.append(spans)
    return out
