"""The model's quotes, verified: each becomes the exact span of a shown source, or is dropped with a note.

A quote is looked for in the source it names (``verify_quote``: a match after normalization is the exact
original span). A quote not in that source but verbatim in another shown source is *re-attributed* there (the
words are what is promised, the model's numbering is bookkeeping). Malformed items, quotes shorter than the
minimum, and quotes found nowhere are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from verbatim_qa.text.normalize import normalize
from verbatim_qa.types import Chunk

from ..answer import verify_quote
from .reply import QuoteItem

Key = tuple[str, int, int]  # (doc_id, start, end) of a verified span


@dataclass(frozen=True)
class Verified:
    chunk: Chunk
    start: int
    end: int

    @property
    def quote(self) -> str:
        return self.chunk.text[self.start - self.chunk.char_start : self.end - self.chunk.char_start]


@dataclass
class VerifiedQuotes:
    spans: dict[Key, Verified] = field(default_factory=dict)  # each distinct span once, in the model's order
    by_n: dict[int, list[Key]] = field(default_factory=dict)  # the spans a marker [n] of the model stands for
    notes: list[str] = field(default_factory=list)  # why quotes were dropped or re-attributed


def verify_quotes(quotes: list[Any], shown: list[Chunk], min_chars: int) -> VerifiedQuotes:
    """The quotes of a reply (raw items, validated one by one) located in the sources shown to the model."""
    out = VerifiedQuotes()
    for i, raw in enumerate(quotes, 1):
        try:
            item = QuoteItem.model_validate(raw)
        except ValidationError:
            out.notes.append(f"Quote #{i} of the model was malformed and was dropped.")
            continue
        found = locate(item, shown, min_chars, out.notes)
        if found is None:
            continue
        chunk, start, end = found
        key = (chunk.doc_id, start, end)
        out.spans.setdefault(key, Verified(chunk, start, end))
        keys = out.by_n.setdefault(item.n, [])
        if key not in keys:
            keys.append(key)
    return out


def locate(item: QuoteItem, shown: list[Chunk], min_chars: int,
           notes: list[str]) -> tuple[Chunk, int, int] | None:
    """The exact span of the quote in the source it names or, failing that, in another shown source."""
    if len(normalize(item.quote)) < min_chars:
        notes.append(f"A quote cited as [{item.n}] was too short to be evidence and was dropped.")
        return None
    named = shown[item.n - 1] if 1 <= item.n <= len(shown) else None
    if named is not None:
        span = verify_quote(named, item.quote)
        if span is not None:
            return named, span[0], span[1]
    for j, chunk in enumerate(shown, 1):
        if chunk is named:
            continue
        span = verify_quote(chunk, item.quote)
        if span is not None:
            where = "an unknown source" if named is None else "another source"
            notes.append(f"A quote cited as [{item.n}] (attributed to {where}) was found verbatim in source "
                         f"[{j}] ({chunk.source}) and is cited there.")
            return chunk, span[0], span[1]
    if named is not None:
        why = f"is in neither source [{item.n}] nor any other source shown"
    else:
        why = f"names no source shown (there are {len(shown)}) and is in none of them"
    notes.append(f"A quote cited as [{item.n}] {why}; it was dropped: {clip(item.quote)!r}")
    return None


def clip(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
