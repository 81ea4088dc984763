"""The model's answer around the verified quotes: citations numbered, markers pointed at them, uncited claims left out.

A marker ``[n]`` in the model's answer stands for the quotes it declared with that ``n``. Citations are
numbered 1..m in order of first mention, then the verified quotes the text never mentions; each marker becomes
a ``Marker`` of those numbers, or ``Marker(None)`` (``[unsupported]``) when none of its quotes survived. The
model's sentences are kept as typed parts (``ModelSentence``), never as text to parse again; sentences without
a marker are left out. Text none of whose markers is backed (or ``quotes_only``) gives way to the quotes alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from verbatim_qa.text.segment import sentences
from verbatim_qa.types import Citation

from ..answer import UNSUPPORTED, Marker, ModelSentence, citation_for
from .support import support
from .verify import Key, VerifiedQuotes, clip

_MARKER_RE = re.compile(r"\[\s*(?:sources?\s*)?(\d+(?:\s*[,;]\s*(?:sources?\s*)?\d+)*)\s*\]", re.I)
_LEADING_MARKERS_RE = re.compile(rf"(?:\s*(?:{_MARKER_RE.pattern})[.,;:!?؟،؛]*)+", re.I)


@dataclass
class Cited:
    """What an LLM answer shows: the model's sentences that cite, the citations, the citations shown as quote
    lines (those the sentences never point at, or all of them), and notes on what was left out or marked."""

    sentences: tuple[ModelSentence, ...] = ()
    citations: list[Citation] = field(default_factory=list)
    quoted: tuple[int, ...] = ()
    notes: list[str] = field(default_factory=list)


def cited_text(answer: str, found: VerifiedQuotes, quotes_only: bool, min_support: float = 0.0) -> Cited:
    """The model's ``answer`` and its ``found`` quotes as shown: its cited sentences, the citations, the quote lines
    and notes on what was left out or marked unsupported. A sentence whose verified quotes do not back it
    (``support`` under ``min_support``) is left out, noted."""
    notes: list[str] = []
    kept, dropped = _cited_sentences(answer)
    kept, unbacked = _backed(kept, found, min_support)
    notes += [f"A sentence of the model's was not backed by the quote it cites and was left out: {clip(text)!r}"
              for text in unbacked]
    # Number citations in order of first mention in the answer text, then the unmentioned ones.
    order: list[Key] = []
    for _, text in kept:
        for m in _MARKER_RE.finditer(text):
            for n in _numbers(m.group(1)):
                order += [k for k in found.by_n.get(n, []) if k not in order]
    supported_prose = bool(order) and not quotes_only
    mentioned = len(order)
    order += [k for k in found.spans if k not in order]
    number = {key: i for i, key in enumerate(order, 1)}
    citations = [citation_for(number[key], found.spans[key].chunk, found.spans[key].start, found.spans[key].end)
                 for key in order]

    if not supported_prose:
        if answer.strip() and not quotes_only:
            notes.append("No citation marker of the model's answer text was backed by a verified quote: "
                         "its text is not shown, only its verified quotes.")
        return Cited((), citations, tuple(c.n for c in citations), notes)
    unsupported: list[int] = []
    said = []
    for gap, text in kept:
        pieces: list[str | Marker] = []
        pos = 0
        for m in _MARKER_RE.finditer(text):
            if m.start() > pos:
                pieces.append(text[pos : m.start()])
            marks: list[Marker] = []
            for n in _numbers(m.group(1)):
                got = [Marker(number[k]) for k in found.by_n.get(n, [])]
                if not got and n not in unsupported:
                    unsupported.append(n)
                marks += [x for x in got or [Marker(None)] if x not in marks]
            pieces += marks
            pos = m.end()
        if pos < len(text):
            pieces.append(text[pos:])
        said.append(ModelSentence(tuple(pieces), gap))
    if dropped:
        notes.append(f"{dropped} sentence(s) of the model's answer cited no source and were left out.")
    for n in unsupported:
        notes.append(f"The claim marked [{n}] had no verified quote: marked {UNSUPPORTED}.")
    # verified quotes the text never points to are shown as quotes
    return Cited(tuple(said), citations, tuple(c.n for c in citations[mentioned:]), notes)


def without_markers(text: str) -> str:
    """``text`` without its citation markers (``[1]``, ``[2, 3]``, ``[source 1]``)."""
    return _MARKER_RE.sub("", text)


def _backed(kept: list[tuple[str, str]], found: VerifiedQuotes,
            min_support: float) -> tuple[list[tuple[str, str]], list[str]]:
    """The sentences whose verified quotes back them (qa/llm/support.py), and the text of those left out. A sentence
    none of whose markers has a verified quote stays (it is marked ``[unsupported]``); a paragraph break before a
    left-out sentence moves to the next one kept."""
    out: list[tuple[str, str]] = []
    unbacked: list[str] = []
    carry = ""
    for gap, text in kept:
        keys = [k for m in _MARKER_RE.finditer(text) for n in _numbers(m.group(1)) for k in found.by_n.get(n, [])]
        quotes = [found.spans[k].quote for k in dict.fromkeys(keys)]
        if quotes and support(without_markers(text), quotes) < min_support:
            unbacked.append(text)
            carry = max(carry, gap, key=len)
            continue
        gap = max(gap, carry, key=len)
        out.append(("" if not out else gap, text))
        carry = ""
    return out, unbacked


def _cited_sentences(prose: str) -> tuple[list[tuple[str, str]], int]:
    """The sentences of ``prose`` that carry a citation marker, each with the break before it ("" for the first,
    else " ", "\n" or "\n\n"), and how many sentences carried none (uncited claims, left out).

    Markers opening a sentence (``Claim. [1] Next claim [2].``) belong to the sentence before it."""
    groups: list[list[int]] = []  # [start, end, has_marker]
    for sent in sentences(prose):
        start = sent.char_start
        lead = _LEADING_MARKERS_RE.match(sent.text)
        if groups and lead:
            groups[-1][1], groups[-1][2] = start + lead.end(), 1
            start += lead.end()
            while start < sent.char_end and prose[start].isspace():
                start += 1
        if start < sent.char_end:
            groups.append([start, sent.char_end, int(bool(_MARKER_RE.search(prose[start : sent.char_end])))])
    out: list[tuple[str, str]] = []
    prev_end, dropped = 0, 0
    for start, end, has_marker in groups:
        if not has_marker:
            dropped += 1
            continue
        gap = prose[prev_end:start]
        out.append(("" if not out else "\n\n" if "\n\n" in gap else "\n" if "\n" in gap else " ", prose[start:end]))
        prev_end = end
    return out, dropped


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", group)]
