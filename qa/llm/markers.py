"""The answer text around the verified quotes: citations numbered, markers rewritten, uncited claims left out.

A marker ``[n]`` in the model's answer stands for the quotes it declared with that ``n``. Citations are
numbered 1..m in order of first mention, then the verified quotes the text never mentions; markers are
rewritten to those numbers, or to ``[unsupported]`` when none of their quotes survived. Sentences without a
marker are left out. Text none of whose markers is backed (or ``quotes_only``) gives way to the quotes alone.
"""

from __future__ import annotations

import re

from verbatim_qa.text.segment import sentences
from verbatim_qa.types import Citation

from ..answer import citation_for
from .verify import Key, VerifiedQuotes

UNSUPPORTED = "[unsupported]"

_MARKER_RE = re.compile(r"\[\s*(?:sources?\s*)?(\d+(?:\s*[,;]\s*(?:sources?\s*)?\d+)*)\s*\]", re.I)
_LEADING_MARKERS_RE = re.compile(rf"(?:\s*(?:{_MARKER_RE.pattern})[.,;:!?؟،؛]*)+", re.I)


def cited_text(answer: str, found: VerifiedQuotes, quotes_only: bool) -> tuple[str, list[Citation], list[str]]:
    """The text shown for the model's ``answer`` and its ``found`` quotes, its citations, and notes on what
    was left out or marked unsupported."""
    notes: list[str] = []
    # Number citations in order of first mention in the answer text, then the unmentioned ones.
    prose, dropped = _cited_sentences(answer)
    order: list[Key] = []
    for m in _MARKER_RE.finditer(prose):
        for n in _numbers(m.group(1)):
            order += [k for k in found.by_n.get(n, []) if k not in order]
    supported_prose = bool(order) and not quotes_only
    mentioned = len(order)
    order += [k for k in found.spans if k not in order]
    number = {key: i for i, key in enumerate(order, 1)}
    citations = [citation_for(number[key], found.spans[key].chunk, found.spans[key].start, found.spans[key].end)
                 for key in order]

    if supported_prose:
        unsupported: list[int] = []

        def rewrite(m: re.Match) -> str:
            out: list[str] = []
            for n in _numbers(m.group(1)):
                got = [f"[{number[k]}]" for k in found.by_n.get(n, [])]
                if not got and n not in unsupported:
                    unsupported.append(n)
                for tag in got or [UNSUPPORTED]:
                    if tag not in out:
                        out.append(tag)
            return "".join(out)

        text = _MARKER_RE.sub(rewrite, prose)
        if dropped:
            notes.append(f"{dropped} sentence(s) of the model's answer cited no source and were left out.")
        for n in unsupported:
            notes.append(f"The claim marked [{n}] had no verified quote: marked {UNSUPPORTED}.")
        if citations[mentioned:]:  # verified quotes the text never points to: shown as quotes
            text += "\n\n" + "\n\n".join(_quote_line(c) for c in citations[mentioned:])
    else:
        if answer.strip() and not quotes_only:
            notes.append("No citation marker of the model's answer text was backed by a verified quote: "
                         "its text is not shown, only its verified quotes.")
        text = "\n\n".join(_quote_line(c) for c in citations)
    return text, citations, notes


def _cited_sentences(prose: str) -> tuple[str, int]:
    """``prose`` without its sentences that carry no citation marker (uncited claims), and how many went.

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
    out, prev_end, dropped = "", 0, 0
    for start, end, has_marker in groups:
        if not has_marker:
            dropped += 1
            continue
        if out:
            gap = prose[prev_end:start]
            out += "\n\n" if "\n\n" in gap else "\n" if "\n" in gap else " "
        out += prose[start:end]
        prev_end = end
    return out, dropped


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", group)]


def _quote_line(c: Citation) -> str:
    return f"“{c.quote}” [{c.n}]"
