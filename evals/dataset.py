"""Evaluation items (JSONL) and their gold spans in a corpus folder. Validation lives here, in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

KINDS = {"en-en", "en-fa", "fa-fa", "multi", "unanswerable"}
# The kinds of second turn of a follow-up set (evals/datasets/followup_dev.jsonl): a pronoun pointing back, an
# ellipsis ("What about Turkmenistan?"), "And ...?", a Persian follow-up, and a topic shift that must stand alone.
TURNS = {"pronoun", "ellipsis", "and", "persian", "shift"}


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
        if item.answerable != bool(item.gold_quotes):
            raise DatasetError(f"{path}:{n}: answerable must be true exactly when there are gold quotes")
        items.append(item)
    return items


def read_corpus(folder: Path) -> dict[str, str]:
    """File name -> text as the loader would give it (newlines normalized)."""
    from verbatim_qa.ingest.loaders import load_document

    return {p.name: load_document(p, 10**9).text for p in sorted(Path(folder).iterdir()) if p.is_file()}


def gold_spans(item: EvalItem, texts: dict[str, str]) -> list[list[tuple[str, int, int]]]:
    """For each gold quote, every (source, start, end) where it occurs verbatim."""
    out = []
    for quote, source in zip(item.gold_quotes, item.quote_docs):
        text = texts.get(source)
        if text is None:
            raise DatasetError(f"{item.id}: document {source!r} is not in the corpus")
        spans, at = [], text.find(quote)
        while at >= 0:
            spans.append((source, at, at + len(quote)))
            at = text.find(quote, at + 1)
        if not spans:
            raise DatasetError(f"{item.id}: gold quote is not verbatim in {source}: {quote[:60]!r}")
        out.append(spans)
    return out
