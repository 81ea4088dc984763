"""Answer text split for rendering: paragraphs of plain text, verbatim quotes and citation markers.

Quotes are located first, so a ``[3]`` that is part of a quoted document (a footnote mark in the source) is
never mistaken for a citation marker; markers are only recognized outside quotes and only for citation
numbers the answer has.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Segment:
    kind: str  # "text" | "quote" | "marker" (| "key": the answer_span, in briefings)
    text: str
    n: int | None = None  # citation number of a marker (or of the citation a quote belongs to)


def paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


def segments(paragraph: str, quotes: dict[int, str]) -> list[Segment]:
    """Split one paragraph; ``quotes`` maps citation number -> verbatim quote."""
    taken: list[tuple[int, int, int]] = []
    for n, quote in sorted(quotes.items(), key=lambda kv: -len(kv[1])):
        if not quote:
            continue
        start = paragraph.find(quote)
        while start >= 0:
            end = start + len(quote)
            if all(end <= a or start >= b for a, b, _ in taken):
                taken.append((start, end, n))
                break
            start = paragraph.find(quote, start + 1)
    taken.sort()
    out: list[Segment] = []
    pos = 0
    for start, end, n in taken:
        out += _plain(paragraph[pos:start], quotes)
        out.append(Segment("quote", paragraph[start:end], n))
        pos = end
    out += _plain(paragraph[pos:], quotes)
    return out


def _plain(text: str, quotes: dict[int, str]) -> list[Segment]:
    out: list[Segment] = []
    pos = 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in quotes:
            continue
        if m.start() > pos:
            out.append(Segment("text", text[pos : m.start()]))
        out.append(Segment("marker", m.group(0), n))
        pos = m.end()
    if pos < len(text):
        out.append(Segment("text", text[pos:]))
    return out


def direction(text: str) -> str | None:
    """"rtl" or "ltr" from the first strong character (what ``dir="auto"`` computes), None if there is none."""
    for ch in text:
        bidi = unicodedata.bidirectional(ch)
        if bidi in ("R", "AL"):
            return "rtl"
        if bidi == "L":
            return "ltr"
    return None


def is_rtl(text: str) -> bool:
    return direction(text) == "rtl"
